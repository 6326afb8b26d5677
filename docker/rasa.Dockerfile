# The Rasa server. Pins: requirements/rasa.lock.txt (same file as scripts/setup_env.sh).
FROM python:3.10.13-slim
WORKDIR /app
# HOME=/tmp: Rasa's global config, Keras and matplotlib write their caches under $HOME, and
# /tmp is the only writable place at run time (a tmpfs; docker-compose.yml).
ENV PYTHONPATH=/app RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=3 PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp MPLCONFIGDIR=/tmp/matplotlib
COPY requirements/rasa.lock.txt requirements/rasa.lock.txt
RUN pip install --no-cache-dir --no-deps -r requirements/rasa.lock.txt && pip check
# nlu/channel.py cleans typed text with contract/typed_text.py, the gateway's own code.
COPY contract contract
COPY nlu nlu
COPY bot bot
WORKDIR /app/bot
# The model is trained into the image (as root, at build time), as scripts/train.sh does on one machine.
RUN rasa train --domain domain --data data --config config.yml --out models --fixed-model-name prescreener \
    && python -m compileall -q /app/nlu
# A fixed unprivileged user; the code and the model stay root's and read-only to it.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app
USER 10001:10001
EXPOSE 5005
CMD ["rasa", "run", "--model", "models/prescreener.tar.gz", "--endpoints", "endpoints.yml", "--credentials", "credentials.yml", "--interface", "0.0.0.0", "--port", "5005"]
