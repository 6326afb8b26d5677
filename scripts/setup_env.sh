#!/usr/bin/env bash
# Create the Rasa environment (Python 3.10) when it is missing or the lock changed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

stamp="$VENV/.lock-$(sha256sum "$ROOT/requirements/rasa.lock.txt" | cut -c1-16)"
if [ -f "$stamp" ]; then
  exit 0
fi
python310="$(find_python310)"
echo "Installing the Rasa environment in $VENV (a few minutes, once)..."
rm -rf "$VENV"
"$python310" -m venv "$VENV"
# One pip call with every version pinned, so nothing can lift Rasa's pins.
"$VENV/bin/pip" install --quiet --no-deps -r "$ROOT/requirements/rasa.lock.txt"
"$VENV/bin/pip" check
touch "$stamp"
