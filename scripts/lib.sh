# Shared by the scripts: paths, the Python 3.10 interpreter, defaults.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv/rasa"
PY="$VENV/bin/python"
API_VENV="$ROOT/.venv/api"
API_PY="$API_VENV/bin/python"
LINT_VENV="$ROOT/.venv/lint"
LINT_BIN="$LINT_VENV/bin"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export RASA_TELEMETRY_ENABLED=false
# Patient data (SQLite databases, logs, the outbox) readable by this account only;
# the code makes its own database files 0600 too (contract/private_files.py).
umask 077
# This machine is a local run (placeholder secrets allowed, /docs served); a deployment sets its own.
export ENVIRONMENT="${ENVIRONMENT:-local}"
export TF_CPP_MIN_LOG_LEVEL=3
export SANIC_HOST="${SANIC_HOST:-127.0.0.1}"
export DATA_DIR="${DATA_DIR:-$ROOT/data}"
export RASA_PORT="${RASA_PORT:-5005}"
export ACTIONS_PORT="${ACTIONS_PORT:-5055}"
export ACTION_ENDPOINT_URL="${ACTION_ENDPOINT_URL:-http://127.0.0.1:$ACTIONS_PORT/webhook}"
export TRACKER_DB_URL="${TRACKER_DB_URL:-sqlite:///$DATA_DIR/tracker.sqlite}"
export OUTBOX_PATH="${OUTBOX_PATH:-$DATA_DIR/outbox.sqlite}"
export API_PORT="${API_PORT:-8000}"
export API_URL="${API_URL:-http://127.0.0.1:$API_PORT}"
export RASA_URL="${RASA_URL:-http://127.0.0.1:$RASA_PORT}"
MODELS_DIR="$ROOT/bot/models"

# find_python 3.10 -> a python3.10 executable (pyenv's first, then PATH).
find_python() {
  local version="$1" candidate
  if command -v pyenv >/dev/null 2>&1; then
    for candidate in "$(pyenv root)"/versions/"$version".*/bin/python"$version"; do
      [ -x "$candidate" ] && { echo "$candidate"; return 0; }
    done
  fi
  if command -v "python$version" >/dev/null 2>&1; then
    command -v "python$version"
    return 0
  fi
  echo "Python $version is needed (pyenv install $version)." >&2
  return 1
}

# Local secrets (service token between action server and API, signing key),
# made once per data folder and never committed. Production sets them itself.
load_local_secrets() {
  local file="$DATA_DIR/secrets.env"
  if [ ! -f "$file" ]; then
    mkdir -p "$DATA_DIR"
    (umask 077; printf 'SERVICE_TOKEN=%s\nSECRET_KEY=%s\n' \
      "$(head -c 32 /dev/urandom | base64 | tr -d '/+=')" "$(head -c 32 /dev/urandom | base64 | tr -d '/+=')" > "$file")
  fi
  set -a; source "$file"; set +a
}

# Hash of everything that shapes the trained model: retrain only when it changes.
model_fingerprint() {
  (cd "$ROOT" && find bot/config.yml bot/domain bot/data nlu -type f \( -name '*.yml' -o -name '*.py' -o -name '*.json' \) \
     -not -path '*/__pycache__/*' | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
}
