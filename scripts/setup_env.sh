#!/usr/bin/env bash
# Create the Python environments when missing or when their lock changed:
#   .venv/rasa  Python 3.10, Rasa 3.6 + rasa-sdk (requirements/rasa.lock.txt)
#   .venv/api   Python 3.11, FastAPI + SQLAlchemy 2 + pydantic 2 (requirements/api.lock.txt)
#   .venv/lint  Python 3.11, ruff + mypy, no runtime code (requirements/lint.lock.txt),
#               only with --with-lint (make test), since make start never needs it
# Rasa pins pydantic 1 and SQLAlchemy 1.4, hence two runtime environments; the
# checkers get their own so that adding them can never move a runtime pin.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ensure_venv() {
  local venv="$1" python="$2" lock="$3"
  local stamp="$venv/.lock-$(sha256sum "$lock" | cut -c1-16)"
  [ -f "$stamp" ] && return 0
  echo "Installing $(basename "$venv") environment in $venv (a few minutes, once)..."
  rm -rf "$venv"
  "$python" -m venv "$venv"
  # One pip call with every version pinned, so nothing can lift another's pins.
  "$venv/bin/pip" install --quiet --no-deps -r "$lock"
  "$venv/bin/pip" check
  touch "$stamp"
}

ensure_venv "$VENV" "$(find_python 3.10)" "$ROOT/requirements/rasa.lock.txt"
ensure_venv "$API_VENV" "$(find_python 3.11)" "$ROOT/requirements/api.lock.txt"
if [ "${1:-}" = "--with-lint" ]; then
  ensure_venv "$LINT_VENV" "$(find_python 3.11)" "$ROOT/requirements/lint.lock.txt"
fi
