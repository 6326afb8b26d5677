#!/usr/bin/env bash
# Train the Rasa model only when the domain, data, config or NLU code changed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# One training at a time (tests and benchmarks may ask concurrently).
mkdir -p "$MODELS_DIR"
exec 9>"$MODELS_DIR/.train.lock"
flock 9

"$PY" "$ROOT/scripts/render_questions.py"
fingerprint="$(model_fingerprint)"
model="$MODELS_DIR/prescreener-$fingerprint.tar.gz"
if [ -f "$model" ]; then
  echo "Model is up to date ($model)."
else
  echo "Training the model (data changed)..."
  (cd "$ROOT/bot" && "$VENV/bin/rasa" train --quiet --domain domain --data data --config config.yml \
      --out "$MODELS_DIR" --fixed-model-name "prescreener-$fingerprint")
  # Keep only the current model: old ones are large and never used.
  find "$MODELS_DIR" -name 'prescreener-*.tar.gz' ! -name "prescreener-$fingerprint.tar.gz" -delete
fi
echo "$model"
