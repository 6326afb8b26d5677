#!/usr/bin/env bash
# Lint (ruff, mypy), then run every test: the Rasa side (unit tests, domain checks, Rasa data
# validation, conversation stories, end-to-end against real servers) in the
# Rasa environment, then the API side (SQLite and PostgreSQL, schemathesis,
# the whole system through the gateway, browser tests in Chromium,
# reliability and privacy tests) in the API environment. Extra arguments go
# to both pytest runs, e.g. `make test ARGS="-k red_flag"`.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

"$ROOT/scripts/setup_env.sh" --with-lint || exit 1
cd "$ROOT"

# Lint first, fail fast: the pure-Python parts (settings in pyproject.toml).
echo "ruff format --check: contract/, actions/criteria/, api/"
"$LINT_BIN/ruff" format --check || exit 1
echo "ruff check: contract/, actions/criteria/, api/"
"$LINT_BIN/ruff" check || exit 1
echo "mypy: actions/criteria/, contract/ as Python 3.10 (standard library and PyYAML only)"
"$LINT_BIN/mypy" --python-version 3.10 actions/criteria contract || exit 1
echo "mypy: api/, contract/ against the API environment"
"$LINT_BIN/mypy" --python-executable "$API_PY" api contract || exit 1

"$ROOT/scripts/setup_browser.sh" || exit 1
"$PY" "$ROOT/scripts/render_questions.py" --check || exit 1
"$PY" "$ROOT/scripts/render_trial_form.py" --check || exit 1
MODEL="$("$ROOT/scripts/train.sh" | tail -n 1)" || exit 1
export MODEL
cd "$ROOT"
results="$ROOT/results/junit"
mkdir -p "$results"

# Which environment runs which folder: Rasa pins pydantic 1 and SQLAlchemy 1.4.
RASA_SIDE=(tests/unit tests/e2e tests/test_rasa_project.py tests/test_sealed_sets.py)
API_SIDE=(tests/api tests/browser tests/reliability tests/privacy tests/conversations)
existing() { for path in "$@"; do [ -e "$path" ] && echo "$path"; done; }

"$PY" -m pytest $(existing "${RASA_SIDE[@]}") --junitxml="$results/rasa.xml" "$@"
rasa_status=$?
"$API_PY" -m pytest $(existing "${API_SIDE[@]}") --junitxml="$results/api.xml" "$@"
api_status=$?

# One closing line for both runs.
"$API_PY" "$ROOT/scripts/junit_total.py" "$results/rasa.xml" "$results/api.xml"
[ "$rasa_status" -eq 0 ] && [ "$api_status" -eq 0 ]
