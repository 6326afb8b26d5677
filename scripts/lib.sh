# Shared by the scripts: paths, the Python 3.10 interpreter, defaults.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv/rasa"
PY="$VENV/bin/python"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL=3
export SANIC_HOST="${SANIC_HOST:-127.0.0.1}"
export DATA_DIR="${DATA_DIR:-$ROOT/data}"
export RASA_PORT="${RASA_PORT:-5005}"
export ACTIONS_PORT="${ACTIONS_PORT:-5055}"
export ACTION_ENDPOINT_URL="${ACTION_ENDPOINT_URL:-http://127.0.0.1:$ACTIONS_PORT/webhook}"
export TRACKER_DB_URL="${TRACKER_DB_URL:-sqlite:///$DATA_DIR/tracker.sqlite}"
export OUTBOX_PATH="${OUTBOX_PATH:-$DATA_DIR/outbox.sqlite}"
MODELS_DIR="$ROOT/bot/models"

find_python310() {
  if command -v pyenv >/dev/null 2>&1 && [ -x "$(pyenv root)/versions/3.10.13/bin/python3.10" ]; then
    echo "$(pyenv root)/versions/3.10.13/bin/python3.10"
  elif command -v python3.10 >/dev/null 2>&1; then
    command -v python3.10
  else
    echo "Python 3.10 is needed for Rasa 3.6 (pyenv install 3.10.13)." >&2
    return 1
  fi
}

# Hash of everything that shapes the trained model: retrain only when it changes.
model_fingerprint() {
  (cd "$ROOT" && find bot/config.yml bot/domain bot/data nlu -type f \( -name '*.yml' -o -name '*.py' -o -name '*.json' \) \
     -not -path '*/__pycache__/*' | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
}
