# The action server. Pins: requirements/rasa.lock.txt (same file as scripts/setup_env.sh).
FROM python:3.10.13-slim
WORKDIR /app
ENV PYTHONPATH=/app SANIC_HOST=0.0.0.0 PYTHONDONTWRITEBYTECODE=1
COPY requirements/rasa.lock.txt requirements/rasa.lock.txt
RUN pip install --no-cache-dir --no-deps -r requirements/rasa.lock.txt && pip check
COPY trial trial
COPY contract contract
COPY actions actions
# The symptom words beside the red-flag rules (actions/understanding.py reads them).
COPY nlu/patterns/red_flags.yml nlu/patterns/red_flags.yml
# Byte-code compiled now: at run time the files are root's and the file system is read-only.
RUN python -m compileall -q actions contract
# A fixed unprivileged user. Everything above stays root's; the only place it writes is /data,
# the outbox volume (docker-compose.yml), which a new volume takes over from this directory.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app \
    && mkdir /data && chown 10001:10001 /data && chmod 0700 /data
USER 10001:10001
EXPOSE 5055
CMD ["python", "-m", "rasa_sdk", "--actions", "actions", "--port", "5055"]
