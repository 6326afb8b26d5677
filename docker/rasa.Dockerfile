# The Rasa server. Pins: requirements/rasa.lock.txt (same file as scripts/setup_env.sh).
FROM python:3.10.13-slim
WORKDIR /app
ENV PYTHONPATH=/app RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=3
COPY requirements/rasa.lock.txt requirements/rasa.lock.txt
RUN pip install --no-cache-dir --no-deps -r requirements/rasa.lock.txt && pip check
COPY nlu nlu
COPY bot bot
WORKDIR /app/bot
# The model is trained into the image, as scripts/train.sh does on one machine.
RUN rasa train --domain domain --data data --config config.yml --out models --fixed-model-name prescreener
EXPOSE 5005
CMD ["rasa", "run", "--model", "models/prescreener.tar.gz", "--endpoints", "endpoints.yml", "--credentials", "credentials.yml", "--interface", "0.0.0.0", "--port", "5005"]
