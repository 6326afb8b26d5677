#!/usr/bin/env bash
# Start the whole system on this machine: install what is missing, train when
# the model's inputs changed, run the action server and the Rasa server, print
# where to talk to the bot, and stop everything cleanly on Ctrl-C.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

"$ROOT/scripts/setup_env.sh"
model="$("$ROOT/scripts/train.sh" | tail -n 1)"
mkdir -p "$DATA_DIR/logs"

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo "Stopping..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all INT TERM EXIT

"$PY" -m rasa_sdk --actions actions --port "$ACTIONS_PORT" >>"$DATA_DIR/logs/actions.log" 2>&1 &
pids+=($!)
(cd "$ROOT/bot" && exec "$VENV/bin/rasa" run --model "$model" --endpoints endpoints.yml \
    --credentials credentials.yml --interface 127.0.0.1 --port "$RASA_PORT" \
    --response-timeout 30) >>"$DATA_DIR/logs/rasa.log" 2>&1 &
pids+=($!)

"$PY" "$ROOT/scripts/wait_ready.py" "http://127.0.0.1:$ACTIONS_PORT/health" "http://127.0.0.1:$RASA_PORT/webhooks/prescreen/"
cat <<MSG

The pre-screener is running.
  Talk to the bot:  POST http://127.0.0.1:$RASA_PORT/webhooks/prescreen/webhook
                    body {"sender": "<any id>", "message": "hi"}
  Action server:    http://127.0.0.1:$ACTIONS_PORT (private)
  Logs:             $DATA_DIR/logs/
Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
echo "A service stopped unexpectedly; see $DATA_DIR/logs/." >&2
exit 1
