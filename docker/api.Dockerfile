# The public API (chat gateway, referral queue, coordinator pages).
# Pins: requirements/api.runtime.lock.txt, the runtime part of requirements/api.lock.txt (the
# file scripts/setup_env.sh installs, test tools included); the same pins, no test tools.
FROM python:3.11.7-slim
WORKDIR /app
ENV PYTHONPATH=/app PYTHONDONTWRITEBYTECODE=1
# Times on the coordinator pages are shown in Alberta time (zoneinfo needs tzdata).
RUN apt-get update && apt-get install -y --no-install-recommends tzdata && rm -rf /var/lib/apt/lists/*
COPY requirements/api.runtime.lock.txt requirements/api.runtime.lock.txt
# The base image's pip and setuptools have known advisories (docs/dependency-audit.md): current
# pinned versions first, then the runtime pins, in one step.
RUN pip install --no-cache-dir --upgrade pip==26.3 setuptools==84.2.1 wheel==0.48.0 \
    && pip install --no-cache-dir --no-deps -r requirements/api.runtime.lock.txt && pip check
COPY alembic.ini alembic.ini
COPY contract contract
COPY api api
# Byte-code compiled now: at run time the files are root's and the file system is read-only.
RUN python -m compileall -q api contract
# No trial file: a referral carries its own question wording and answer labels (contract/).
# A fixed unprivileged user; every file above stays root's and read-only to it.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app
USER 10001:10001
EXPOSE 8000
# Migrations are not run here: the one-shot `migrate` service of docker-compose.yml runs
# `python -m api.cli migrate` as the owner role; this process has DML rights only.
# --no-proxy-headers: the API itself believes X-Forwarded-For only from TRUSTED_PROXIES.
CMD ["python", "-m", "uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000", "--no-access-log", "--no-proxy-headers"]
