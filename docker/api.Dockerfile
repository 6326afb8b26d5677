# The public API (chat gateway, referral queue, coordinator pages).
# Pins: requirements/api.lock.txt (same file as scripts/setup_env.sh).
FROM python:3.11.7-slim
WORKDIR /app
ENV PYTHONPATH=/app
# Times on the coordinator pages are shown in Alberta time (zoneinfo needs tzdata).
RUN apt-get update && apt-get install -y --no-install-recommends tzdata && rm -rf /var/lib/apt/lists/*
COPY requirements/api.lock.txt requirements/api.lock.txt
RUN pip install --no-cache-dir --no-deps -r requirements/api.lock.txt && pip check
COPY alembic.ini alembic.ini
COPY contract contract
COPY api api
# No trial file: a referral carries its own question wording and answer labels (contract/).
EXPOSE 8000
# Migrations first (the prestart step), then the server.
CMD ["sh", "-c", "python -m api.cli migrate && exec python -m uvicorn api.main:app --host 0.0.0.0 --port 8000 --no-access-log --proxy-headers"]
