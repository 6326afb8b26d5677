#!/usr/bin/env bash
# Run the testers' conversation stories (tests/stories/*.yml) against the
# trained model and print which turn of which story failed, and why.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

"$ROOT/scripts/setup_env.sh"
model="$("$ROOT/scripts/train.sh" | tail -n 1)"
exec "$PY" "$ROOT/tests/stories_report.py" --model "$model" "$@"
