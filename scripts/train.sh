#!/usr/bin/env bash
# Train the Rasa model only when the domain, data, config or NLU code changed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# One training at a time (tests and benchmarks may ask concurrently).
mkdir -p "$MODELS_DIR"
exec 9>"$MODELS_DIR/.train.lock"
flock 9

"$PY" "$ROOT/scripts/render_questions.py" >&2
"$PY" "$ROOT/scripts/render_trial_form.py" >&2
fingerprint="$(model_fingerprint)"
model="$MODELS_DIR/prescreener-$fingerprint.tar.gz"
# Messages go to stderr, the model's path alone to stdout: callers write
# model="$(scripts/train.sh)" and still see how far training is.
if [ -f "$model" ]; then
  echo "Model is up to date ($model)." >&2
else
  mkdir -p "$DATA_DIR/logs"
  log="$DATA_DIR/logs/train.log"
  echo "Training the model (its inputs changed; up to about 5 minutes on 2 cores; details in $log)..." >&2
  (cd "$ROOT/bot" && exec "$VENV/bin/rasa" train --quiet --domain domain --data data --config config.yml \
      --out "$MODELS_DIR" --fixed-model-name "prescreener-$fingerprint") >"$log" 2>&1 &
  trainer=$!
  started=$SECONDS
  while kill -0 "$trainer" 2>/dev/null; do
    sleep 5
    if kill -0 "$trainer" 2>/dev/null && (( (SECONDS - started) % 30 < 5 )); then
      echo "  still training ($(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s)" >&2
    fi
  done
  if ! wait "$trainer" || [ ! -f "$model" ]; then
    echo "Training failed; the end of $log:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  echo "Model trained in $(( SECONDS - started )) s ($model)." >&2
  # Keep only the current model: old ones are large and never used.
  find "$MODELS_DIR" -name 'prescreener-*.tar.gz' ! -name "prescreener-$fingerprint.tar.gz" -delete
fi
echo "$model"
