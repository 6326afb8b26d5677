#!/usr/bin/env bash
# Benchmark and evaluation report (reports, never fails on slowness):
#   make bench                 # the full run (~35 min): writes docs/benchmarks.md,
#                              # docs/benchmarks.json and docs/benchmarks/*.png
#   ./scripts/bench.sh --quick # a few minutes: the harness itself, small loads,
#                              # no trainings, no first-run timing
# Parts (each writes results/*.json, the report reads them all):
#   bench.run      (Rasa env)  trainings (cold, cached, unchanged, `rasa init`
#                              baseline), held-out intents/entities/answer values
#   bench.gateway  (API env)   simulated patients: outcomes, load at 1/10/50 at
#                              once with and without pauses, the baseline bot,
#                              memory, a py-spy profile under load; then
#                              --cost: CPU per message, ours and the baseline
#                              taking turns (five rounds a level)
#   bench.cost                 installed sizes; `make start` on a fresh clone
#   bench.report   (Rasa env)  the page, its plots and the merged JSON
set -euo pipefail
source "$(dirname "$0")/lib.sh"

quick=false
[ "${1:-}" = "--quick" ] && quick=true

"$ROOT/scripts/setup_env.sh"
# py-spy (the profile under load) lives in its own small environment so the
# Rasa and API environments stay exactly as their locks say.
if [ ! -x "$ROOT/.venv/tools/bin/py-spy" ]; then
  python3 -m venv "$ROOT/.venv/tools"
  "$ROOT/.venv/tools/bin/pip" install --quiet -r "$ROOT/requirements/bench.txt"
fi
# Library deprecation warnings (TensorFlow, SQLAlchemy, matplotlib) bury the output.
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}" SQLALCHEMY_SILENCE_UBER_WARNING=1
cd "$ROOT"
model="$("$ROOT/scripts/train.sh" | tail -n 1)"
rm -f results/bench.json results/bench_gateway.json results/bench_cost.json results/bench_cost_per_message.json
if $quick; then
  "$PY" -m bench.run --model "$model" || true
  "$API_PY" -m bench.gateway --model "$model" --quick
  "$PY" -m bench.cost
else
  "$PY" -m bench.run || true   # a failed part is recorded in its JSON and shown in the report
  "$API_PY" -m bench.gateway --model "$model"
  "$API_PY" -m bench.gateway --model "$model" --cost  # CPU per message, both stacks taking turns
  "$PY" -m bench.cost --first-run
fi
"$PY" -m bench.report
