#!/usr/bin/env bash
# Run every test: unit tests, domain checks, Rasa data validation, the
# conversation stories and the end-to-end tests against real servers.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

"$ROOT/scripts/setup_env.sh"
"$PY" "$ROOT/scripts/render_questions.py" --check
MODEL="$("$ROOT/scripts/train.sh" | tail -n 1)"
export MODEL
cd "$ROOT"
exec "$PY" -m pytest "$@"
