#!/usr/bin/env bash
# Start the whole system on this machine: install what is missing, train when
# the model's inputs changed, apply the API's migrations, run the action
# server, the referral delivery worker, the Rasa server and the API, print
# where to go, and stop everything cleanly on Ctrl-C ("Stopped.", exit 0).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

"$ROOT/scripts/setup_env.sh"
# train.sh tells how far training is on stderr, so it shows; stdout is the model's path.
model="$("$ROOT/scripts/train.sh")"
load_local_secrets
mkdir -p "$DATA_DIR/logs"
chmod 700 "$DATA_DIR"  # an older data folder may still be open to others (contract/private_files.py)
echo "Preparing the API database..."
(cd "$ROOT" && "$API_PY" -m api.cli migrate)

pids=()
stop_all() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
stopped() { stop_all; echo "Stopped."; exit 0; }
trap stopped INT TERM
trap stop_all EXIT

# Each service in a process group of its own: what a service signals to its
# group on shutdown (Rasa's Sanic does) never reaches make or this script.
set -m
start() {  # start NAME COMMAND...: run in the background, log to data/logs/NAME.log
  local name="$1"; shift
  (cd "$ROOT" && exec "$@") >>"$DATA_DIR/logs/$name.log" 2>&1 &
  pids+=($!)
}

echo "Starting the action server, the delivery worker, Rasa and the API (logs in $DATA_DIR/logs/)..."
start actions "$PY" -m rasa_sdk --actions actions --port "$ACTIONS_PORT"
start delivery "$PY" -m actions.delivery
start rasa "$VENV/bin/rasa" run --model "$model" --endpoints bot/endpoints.yml \
  --credentials bot/credentials.yml --interface 127.0.0.1 --port "$RASA_PORT" --response-timeout 30
start api "$API_PY" -m uvicorn api.main:app --host 127.0.0.1 --port "$API_PORT" --no-access-log --no-proxy-headers

"$PY" "$ROOT/scripts/wait_ready.py" "http://127.0.0.1:$ACTIONS_PORT/health" \
  "http://127.0.0.1:$RASA_PORT/webhooks/prescreen/" "$API_URL/health"
cat <<MSG

The pre-screener is running.
  Public API (chat gateway, referral queue):  $API_URL   (OpenAPI: $API_URL/docs)
  Rasa server (private):    http://127.0.0.1:$RASA_PORT/webhooks/prescreen/webhook
  Action server (private):  http://127.0.0.1:$ACTIONS_PORT
  Logs:                     $DATA_DIR/logs/
  First coordinator:        $API_PY -m api.cli create-admin --email you@example.org
MSG
# Holds the terminal so that Ctrl-C reaches it alone, not make (scripts/hold_terminal.py).
held=0; "$PY" "$ROOT/scripts/hold_terminal.py" --ready "Press Ctrl-C to stop." "${pids[@]}" || held=$?
if [ "$held" -eq 130 ]; then
  stopped
fi
echo "A service stopped unexpectedly; see $DATA_DIR/logs/." >&2
exit 1
