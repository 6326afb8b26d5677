#!/usr/bin/env bash
# Start the whole system on this machine: install what is missing, train when
# the model's inputs changed, apply the API's migrations, run the action
# server, the referral delivery worker, the Rasa server and the API, print
# where to go, and stop everything cleanly on Ctrl-C.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

"$ROOT/scripts/setup_env.sh"
model="$("$ROOT/scripts/train.sh" | tail -n 1)"
load_local_secrets
mkdir -p "$DATA_DIR/logs"
(cd "$ROOT" && "$API_PY" -m api.cli migrate)

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo "Stopping..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all INT TERM EXIT

start() {  # start NAME COMMAND...: run in the background, log to data/logs/NAME.log
  local name="$1"; shift
  (cd "$ROOT" && exec "$@") >>"$DATA_DIR/logs/$name.log" 2>&1 &
  pids+=($!)
}

start actions "$PY" -m rasa_sdk --actions actions --port "$ACTIONS_PORT"
start delivery "$PY" -m actions.delivery
start rasa "$VENV/bin/rasa" run --model "$model" --endpoints bot/endpoints.yml \
  --credentials bot/credentials.yml --interface 127.0.0.1 --port "$RASA_PORT" --response-timeout 30
start api "$API_PY" -m uvicorn api.main:app --host 127.0.0.1 --port "$API_PORT" --no-access-log

"$PY" "$ROOT/scripts/wait_ready.py" "http://127.0.0.1:$ACTIONS_PORT/health" \
  "http://127.0.0.1:$RASA_PORT/webhooks/prescreen/" "$API_URL/health"
cat <<MSG

The pre-screener is running.
  Public API (chat gateway, referral queue):  $API_URL   (OpenAPI: $API_URL/docs)
  Rasa server (private):    http://127.0.0.1:$RASA_PORT/webhooks/prescreen/webhook
  Action server (private):  http://127.0.0.1:$ACTIONS_PORT
  Logs:                     $DATA_DIR/logs/
  First coordinator:        $API_PY -m api.cli create-admin --email you@example.org
Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
echo "A service stopped unexpectedly; see $DATA_DIR/logs/." >&2
exit 1
