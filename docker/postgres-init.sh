#!/usr/bin/env bash
# Run once by the postgres image (from /docker-entrypoint-initdb.d) on an empty volume: the
# roles and databases of docker-compose.yml, from docker/postgres-roles.sql, with one password
# per role from the environment (RASA_DB_PASSWORD, MIGRATE_DB_PASSWORD, API_DB_PASSWORD). The
# passwords reach psql through the environment, never its command line. A subshell, so that the
# entrypoint's own shell options stay as they are if it sources this file.
(
  set -euo pipefail
  : "${RASA_DB_PASSWORD:?set RASA_DB_PASSWORD}"
  : "${MIGRATE_DB_PASSWORD:?set MIGRATE_DB_PASSWORD}"
  : "${API_DB_PASSWORD:?set API_DB_PASSWORD}"
  psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password \
    --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    --file "${PRESCREENER_ROLES_SQL:-/etc/prescreener/postgres-roles.sql}"
)
