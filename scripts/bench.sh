#!/usr/bin/env bash
# Benchmark (reports, never fails on slowness): cold training time and model
# size, held-out NLU intent and entity scores, per-turn latency over whole
# conversations, and server memory (results/bench.json); then chat-turn
# latency through the public gateway at 1 and 20 concurrent conversations
# next to Rasa directly (results/bench_gateway.json).
#   ./scripts/bench.sh [--model PATH]   # --model skips the cold training
set -euo pipefail
source "$(dirname "$0")/lib.sh"

"$ROOT/scripts/setup_env.sh"
# Warn (do not rewrite) if the generated questions are stale: the benchmark
# should describe the committed data, not change it.
"$PY" "$ROOT/scripts/render_questions.py" --check || echo "warning: bot/domain/questions.yml is out of date (run make train)" >&2
# Library deprecation warnings (TensorFlow, SQLAlchemy, matplotlib) bury the report.
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}" SQLALCHEMY_SILENCE_UBER_WARNING=1
cd "$ROOT"
"$PY" -m bench.run "$@"
model="$("$ROOT/scripts/train.sh" | tail -n 1)"
exec "$API_PY" -m bench.gateway --model "$model"
