-- The database roles of docker-compose.yml (security review, finding 6; docs/deployment-security.md).
-- Run once, as the superuser, by docker/postgres-init.sh on an empty volume.
-- tests/api/test_deployment_roles.py runs it against this machine's PostgreSQL under other names.
--
--   rasa                 owns database rasa (Rasa creates its events table there at start)
--   prescreener_migrate  owns database prescreener: the migrations (the `migrate` service)
--   prescreener_api      the API at run time: SELECT/INSERT/UPDATE/DELETE on prescreener's
--                        tables, SELECT + DELETE on Rasa's tables; no DDL, owner of nothing
--
-- Passwords come from the environment (psql's \getenv, never a command line): RASA_DB_PASSWORD,
-- MIGRATE_DB_PASSWORD, API_DB_PASSWORD. The names can be changed the same way (PRESCREENER_*
-- below), which only the test does. Needs psql 15 or newer (\getenv).
\set ON_ERROR_STOP on

\getenv rasa_role PRESCREENER_RASA_ROLE
\if :{?rasa_role}
\else
  \set rasa_role rasa
\endif
\getenv rasa_db PRESCREENER_RASA_DB
\if :{?rasa_db}
\else
  \set rasa_db rasa
\endif
\getenv migrate_role PRESCREENER_MIGRATE_ROLE
\if :{?migrate_role}
\else
  \set migrate_role prescreener_migrate
\endif
\getenv api_role PRESCREENER_API_ROLE
\if :{?api_role}
\else
  \set api_role prescreener_api
\endif
\getenv app_db PRESCREENER_APP_DB
\if :{?app_db}
\else
  \set app_db prescreener
\endif

\getenv rasa_password RASA_DB_PASSWORD
\getenv migrate_password MIGRATE_DB_PASSWORD
\getenv api_password API_DB_PASSWORD
\if :{?rasa_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'RASA_DB_PASSWORD is not set'; END $$;
\endif
\if :{?migrate_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'MIGRATE_DB_PASSWORD is not set'; END $$;
\endif
\if :{?api_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'API_DB_PASSWORD is not set'; END $$;
\endif

-- Login roles with no attribute beyond LOGIN (the defaults, said out loud).
CREATE ROLE :"rasa_role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'rasa_password';
CREATE ROLE :"migrate_role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'migrate_password';
CREATE ROLE :"api_role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'api_password';

-- One database per owner; nobody else may connect (or make temporary tables) unless granted.
CREATE DATABASE :"rasa_db" OWNER :"rasa_role";
CREATE DATABASE :"app_db" OWNER :"migrate_role";
REVOKE ALL ON DATABASE :"rasa_db" FROM PUBLIC;
REVOKE ALL ON DATABASE :"app_db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"rasa_db" TO :"api_role";
GRANT CONNECT ON DATABASE :"app_db" TO :"api_role";

-- Rasa's tracker store: the API deletes conversations there (withdrawal, retention:
-- api/services/tracker.py, api/services/retention.py) and may read, nothing more.
\connect :"rasa_db"
ALTER SCHEMA public OWNER TO :"rasa_role";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"api_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"rasa_role" IN SCHEMA public
  GRANT SELECT, DELETE ON TABLES TO :"api_role";

-- The API's database: every table the migrations create (as the owner) is open to the runtime
-- role for DML only. Not the owner, it cannot ALTER, DROP, TRUNCATE or disable the audit trigger.
\connect :"app_db"
ALTER SCHEMA public OWNER TO :"migrate_role";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"api_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"migrate_role" IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"api_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"migrate_role" IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO :"api_role";
