"""docker-compose.yml cannot run here (no Docker engine): keep it honest by reading it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
START = (ROOT / "scripts" / "start.sh").read_text()
LOCK = (ROOT / "requirements" / "rasa.lock.txt").read_text()
API_LOCK = (ROOT / "requirements" / "api.lock.txt").read_text()


def pinned(package: str, text: str) -> str:
    match = re.search(rf"^{re.escape(package)}(?:\[[^\]]+\])?==(\S+)", text, re.M)
    assert match, f"{package} is not pinned"
    return match.group(1)


def test_lock_matches_the_declared_pins() -> None:
    declared = (ROOT / "requirements" / "rasa.in").read_text()
    for package in ("rasa", "rasa-sdk", "pytest", "textstat"):
        assert pinned(package, LOCK) == pinned(package, declared)


def test_images_install_the_same_lock_as_the_start_script() -> None:
    assert "requirements/rasa.lock.txt" in (ROOT / "scripts" / "setup_env.sh").read_text()
    for service in ("rasa", "actions"):
        dockerfile = (ROOT / COMPOSE["services"][service]["build"]["dockerfile"]).read_text()
        assert "pip install --no-cache-dir --no-deps -r requirements/rasa.lock.txt" in dockerfile
        assert dockerfile.startswith("# ") and "FROM python:3.10" in dockerfile


def test_rasa_runs_with_the_same_channel_and_options_as_the_start_script() -> None:
    command = COMPOSE["services"]["rasa"]["command"]
    for option in ("--credentials", "--endpoints", "--port", "--model"):
        assert option in command and option in START
    assert command[command.index("--credentials") + 1] == "credentials.yml"
    assert "credentials.yml" in START
    endpoints = command[command.index("--endpoints") + 1]
    assert (ROOT / "bot" / endpoints).exists()


def test_every_endpoint_variable_is_set_by_compose() -> None:
    endpoints = (ROOT / "bot" / "endpoints.replicas.yml").read_text()
    needed = set(re.findall(r"\$\{(\w+)\}", endpoints))
    given = set(COMPOSE["services"]["rasa"]["environment"])
    assert needed <= given, f"compose does not set {needed - given}"


def test_action_server_is_started_the_same_way() -> None:
    dockerfile = (ROOT / "docker" / "actions.Dockerfile").read_text()
    assert "rasa_sdk" in dockerfile and "--actions\", \"actions\"" in dockerfile
    assert "-m rasa_sdk --actions actions" in START
    url = COMPOSE["services"]["rasa"]["environment"]["ACTION_ENDPOINT_URL"]
    assert url.endswith(":5055/webhook")


def test_production_shape_has_postgres_and_redis() -> None:
    services = COMPOSE["services"]
    assert {"rasa", "actions", "postgres", "redis"} <= set(services)
    assert services["rasa"]["environment"]["TRACKER_DB_URL"].startswith("postgresql://")
    assert "lock_store" in (ROOT / "bot" / "endpoints.replicas.yml").read_text()


def test_api_image_installs_the_api_lock_and_migrates_before_serving() -> None:
    # Finding 6: the image installs the runtime part of the lock; migrating is the one-shot
    # `migrate` service (the owner role), which the API waits for.
    dockerfile = (ROOT / COMPOSE["services"]["api"]["build"]["dockerfile"]).read_text()
    assert "pip install --no-cache-dir --no-deps -r requirements/api.runtime.lock.txt" in dockerfile
    assert "api.main:app" in dockerfile
    assert COMPOSE["services"]["migrate"]["command"][-2:] == ["api.cli", "migrate"]
    start = START
    assert "api.cli migrate" in start and "api.main:app" in start
    assert (ROOT / "requirements" / "api.lock.txt").read_text().count("fastapi==") == 1


def test_only_the_api_is_published_and_secrets_are_required() -> None:
    services = COMPOSE["services"]
    published = [name for name, service in services.items() if service.get("ports")]
    assert published == ["api"]
    env = services["api"]["environment"]
    for secret in ("SERVICE_TOKEN", "SECRET_KEY"):
        assert ":?" in env[secret], f"{secret} must be required, not defaulted"
    assert services["delivery"]["environment"]["SERVICE_TOKEN"] == env["SERVICE_TOKEN"]
    assert services["delivery"]["command"][-1] == "actions.delivery"
    assert "actions.delivery" in START


def test_every_image_carries_the_contract() -> None:
    # actions/ and api/ import contract/ (the referral schema and names), and the Rasa
    # server's channel (nlu/channel.py) its typed-text cleaning; without it none starts.
    for image in ("actions", "api", "rasa"):
        assert "COPY contract contract" in (ROOT / "docker" / f"{image}.Dockerfile").read_text(), image


def test_the_action_image_holds_every_data_file_the_actions_read_outside_their_folder() -> None:
    from actions.understanding import RED_FLAG_PATTERNS

    copied = [line.split()[1] for line in (ROOT / "docker" / "actions.Dockerfile").read_text().splitlines()
              if line.startswith("COPY ")]
    wanted = RED_FLAG_PATTERNS.relative_to(ROOT).as_posix()
    assert any(wanted == path or wanted.startswith(path.rstrip("/") + "/") for path in copied), copied


# --- security review, finding 6: least privilege in the deployment ---------------------------

OURS = ("api", "migrate", "rasa", "actions", "delivery")  # built here; postgres and redis are images
PASSWORDS = {
    "api": {"API_DB_PASSWORD"},
    "migrate": {"MIGRATE_DB_PASSWORD"},
    "rasa": {"RASA_DB_PASSWORD"},
    "postgres": {"POSTGRES_PASSWORD", "API_DB_PASSWORD", "MIGRATE_DB_PASSWORD", "RASA_DB_PASSWORD"},
}
ROLES_SQL = ROOT / "docker" / "postgres-roles.sql"
INIT_SH = ROOT / "docker" / "postgres-init.sh"
TEST_ONLY = {
    "pytest", "pytest-asyncio", "playwright", "schemathesis", "hypothesis", "hypothesis-graphql",
    "harfile", "pluggy", "iniconfig", "pyrate-limiter", "graphql-core", "jsonschema-rs", "werkzeug",
}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(text: str) -> dict[str, str]:
    return {canonical(n): v for n, v in re.findall(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]+\])?==(\S+)", text, re.M)}


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text.split("+")[0])[:3])


def dockerfile(service: str) -> str:
    return (ROOT / COMPOSE["services"][service]["build"]["dockerfile"]).read_text()


def sql() -> str:
    assert ROLES_SQL.exists() and INIT_SH.exists(), "docker/postgres-init.sh and docker/postgres-roles.sql"
    # Comments out: only statements count.
    return "\n".join(line.split("--", 1)[0] for line in ROLES_SQL.read_text().splitlines())


def role_defaults() -> dict[str, str]:
    return dict(re.findall(r"\\set (\w+) (\w+)", sql()))


def url_user_and_database(url: str) -> tuple[str, str]:
    match = re.fullmatch(r"postgresql://([^:@]+):\$\{(\w+):\?[^}]+\}@postgres:5432/(\w+)", url)
    assert match, url
    return match.group(1), match.group(3)


def test_finding_6_each_service_gets_only_its_own_database_password() -> None:
    services = COMPOSE["services"]
    for name, service in services.items():
        text = yaml.safe_dump(service.get("environment", {}))
        given = set(re.findall(r"\$\{(\w*PASSWORD\w*)", text))
        assert given == PASSWORDS.get(name, set()), f"{name} gets {given}"
        for variable in given:
            assert re.search(rf"\$\{{{variable}:\?", text), f"{name}: {variable} must be required"
    roles = role_defaults()
    expected = {
        ("api", "DATABASE_URL"): (roles["api_role"], roles["app_db"]),
        ("api", "TRACKER_DB_URL"): (roles["api_role"], roles["rasa_db"]),
        ("migrate", "DATABASE_URL"): (roles["migrate_role"], roles["app_db"]),
        ("rasa", "TRACKER_DB_URL"): (roles["rasa_role"], roles["rasa_db"]),
    }
    for (service, variable), user_and_database in expected.items():
        assert url_user_and_database(services[service]["environment"][variable]) == user_and_database
    assert len({roles["api_role"], roles["migrate_role"], roles["rasa_role"], "postgres"}) == 4
    assert "POSTGRES_USER" not in services["postgres"]["environment"]  # the superuser is postgres


def test_finding_6_init_script_reads_one_password_per_role() -> None:
    assert not (ROOT / "docker" / "postgres-init.sql").exists()
    mounts = COMPOSE["services"]["postgres"]["volumes"]
    assert any(m.startswith("./docker/postgres-init.sh:/docker-entrypoint-initdb.d/") for m in mounts)
    sql_mount = next(m for m in mounts if m.startswith("./docker/postgres-roles.sql:"))
    assert "/docker-entrypoint-initdb.d/" not in sql_mount  # run by the script, with its variables
    script = INIT_SH.read_text()
    assert sql_mount.split(":")[1] in script
    text = sql()
    for role, variable in (("rasa", "RASA_DB_PASSWORD"), ("migrate", "MIGRATE_DB_PASSWORD"), ("api", "API_DB_PASSWORD")):
        assert f"${{{variable}:?" in script
        assert re.search(rf"\\getenv {role}_password {variable}\b", text)
        assert re.search(rf"CREATE ROLE :\"{role}_role\"[^;]*PASSWORD :'{role}_password'", text)
    assert "PASSWORD '" not in text  # no literal password


def test_finding_6_rasa_role_cannot_read_referrals() -> None:
    text = sql()
    # Each database has one owner; PUBLIC loses CONNECT and TEMP; only the API role is let in.
    assert re.search(r'CREATE DATABASE :"rasa_db" OWNER :"rasa_role";', text)
    assert re.search(r'CREATE DATABASE :"app_db" OWNER :"migrate_role";', text)
    for database in ("rasa_db", "app_db"):
        assert re.search(rf'REVOKE ALL ON DATABASE :"{database}" FROM PUBLIC;', text)
        grants = re.findall(rf'GRANT CONNECT ON DATABASE :"{database}" TO :"(\w+)";', text)
        assert grants == ["api_role"], grants
    assert not re.search(r'GRANT[^;]*TO :"rasa_role"', text)
    assert len(re.findall(r'REVOKE ALL ON SCHEMA public FROM PUBLIC;', text)) == 2


def test_finding_6_api_runtime_role_has_dml_only() -> None:
    text = " ".join(sql().split())
    grants = re.findall(r'ALTER DEFAULT PRIVILEGES FOR ROLE :"(\w+)" IN SCHEMA public GRANT ([A-Z, ]+) ON (\w+) TO :"(\w+)";', text)
    assert sorted(grants) == sorted([
        ("migrate_role", "SELECT, INSERT, UPDATE, DELETE", "TABLES", "api_role"),
        ("migrate_role", "USAGE, SELECT", "SEQUENCES", "api_role"),
        ("rasa_role", "SELECT, DELETE", "TABLES", "api_role"),
    ])
    assert 'OWNER :"api_role"' not in text and 'OWNER TO :"api_role"' not in text
    for forbidden in ("ALL PRIVILEGES", "TRUNCATE", "TRIGGER ON", "CREATE ON", "SUPERUSER LOGIN", " INHERIT"):
        assert forbidden not in text.replace("NOSUPERUSER", ""), forbidden
    assert not re.search(r'GRANT :"\w+" TO', text)  # no role is a member of another


def test_finding_6_migrations_run_in_a_one_shot_service_before_the_api() -> None:
    services = COMPOSE["services"]
    migrate = services["migrate"]
    assert migrate["command"] == ["python", "-m", "api.cli", "migrate"]
    assert migrate["build"] == services["api"]["build"]
    assert migrate.get("restart", "no") == "no" and "ports" not in migrate
    assert services["api"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}
    cmd = json_cmd(dockerfile("api"))
    assert "migrate" not in " ".join(cmd) and "sh" not in cmd[:1]
    # Migrating reads DATABASE_URL only (api/cli.py): no API secret reaches this job.
    assert set(migrate["environment"]) == {"ENVIRONMENT", "DATABASE_URL"}


def json_cmd(text: str) -> list[str]:
    import json

    lines = [line for line in text.splitlines() if line.startswith("CMD ")]
    assert len(lines) == 1
    return json.loads(lines[0][4:])


def test_finding_6_images_run_as_non_root() -> None:
    for service in ("api", "rasa", "actions"):
        lines = [line for line in dockerfile(service).splitlines() if line and not line.startswith("#")]
        users = [line for line in lines if line.startswith("USER ")]
        assert len(users) == 1, service
        uid, _, gid = users[0].split()[1].partition(":")
        assert uid.isdigit() and int(uid) >= 1000 and gid.isdigit() and int(gid) >= 1000, users[0]
        after = lines[lines.index(users[0]) + 1:]
        assert all(line.split()[0] in ("EXPOSE", "CMD", "ENV") for line in after), service  # nothing built as it
        assert not any("--chown" in line for line in lines), service  # the code stays root's
        assert f"--uid {uid}" in "\n".join(lines)
    # The only directory handed to the user: the outbox volume's mount point.
    assert re.findall(r"chown (\S+) (\S+)", dockerfile("actions")) == [("10001:10001", "/data")]
    assert "chown" not in dockerfile("api") and "chown" not in dockerfile("rasa")
    for service in ("postgres", "redis"):  # images run as their own non-root user, not via root
        user = str(COMPOSE["services"][service]["user"])
        assert user.split(":")[0] != "0" and user.split(":")[0].isdigit(), service


def test_finding_6_file_systems_are_read_only_with_a_tmpfs_tmp() -> None:
    for name, service in COMPOSE["services"].items():
        assert service.get("read_only") is True, name
        assert "/tmp" in service.get("tmpfs", []), name
        for volume in service.get("volumes", []):
            source, target, *mode = volume.split(":")
            assert mode == ["ro"] or (source, target) in {("outbox", "/data"), ("pgdata", "/var/lib/postgresql/data")}, volume
    assert "HOME=/tmp" in dockerfile("rasa")  # Rasa's, Keras' and matplotlib's caches


def test_finding_6_no_port_on_all_interfaces() -> None:
    services = COMPOSE["services"]
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"
    networks = COMPOSE["networks"]
    assert networks["internal"]["internal"] is True
    assert not networks["edge"].get("internal")
    for name, service in services.items():
        wanted = ["edge", "internal"] if name == "api" else ["internal"]
        assert sorted(service["networks"]) == wanted, name


def test_finding_6_no_new_privileges_and_no_capabilities() -> None:
    for name in (*OURS, "postgres", "redis"):
        service = COMPOSE["services"][name]
        assert service.get("cap_drop") == ["ALL"], name
        assert "cap_add" not in service, name
        assert "no-new-privileges:true" in service.get("security_opt", []), name
        assert not service.get("privileged"), name


def test_finding_6_api_trusts_forwarded_headers_only_from_the_edge_proxy() -> None:
    cmd = json_cmd(dockerfile("api"))
    assert "--no-proxy-headers" in cmd and "--proxy-headers" not in cmd
    assert not any(part.startswith("--forwarded-allow-ips") for part in cmd)
    api = COMPOSE["services"]["api"]["environment"]
    assert api["ENVIRONMENT"] == "production"
    subnets = [c["subnet"] for c in COMPOSE["networks"]["edge"]["ipam"]["config"]]
    assert api["TRUSTED_PROXIES"] == ",".join(subnets)


def test_finding_6_runtime_lock_has_no_test_tools() -> None:
    runtime_file = ROOT / "requirements" / "api.runtime.lock.txt"
    assert runtime_file.exists()
    runtime, full = pins(runtime_file.read_text()), pins(API_LOCK)
    assert runtime and all(full.get(name) == pin for name, pin in runtime.items()), "not a subset of api.lock.txt"
    assert not runtime.keys() & (TEST_ONLY | {"pip", "setuptools", "wheel"})
    assert TEST_ONLY <= full.keys()  # the full lock still has them, for .venv/api
    assert {"fastapi", "uvicorn", "sqlalchemy", "alembic", "psycopg", "psycopg-binary", "argon2-cffi"} <= runtime.keys()
    assert "requirements/api.lock.txt" in (ROOT / "scripts" / "setup_env.sh").read_text()
    image = "\n".join(line for line in dockerfile("api").splitlines() if not line.startswith("#"))
    assert "requirements/api.runtime.lock.txt" in image and "requirements/api.lock.txt" not in image
    assert "COPY requirements/api.runtime.lock.txt " in image


def test_finding_6_api_image_upgrades_pip_and_setuptools_in_the_install_step() -> None:
    steps = re.findall(r"^RUN (.*?)(?<!\\)$", dockerfile("api").replace("\\\n", " "), re.M | re.S)
    install = next(step for step in steps if "api.runtime.lock.txt" in step)
    upgraded = dict(re.findall(r"\b(pip|setuptools|wheel)==(\S+)", install))
    assert set(upgraded) == {"pip", "setuptools", "wheel"}
    assert install.index("pip==") < install.index("api.runtime.lock.txt")
    # At least the fixed versions of the audit (docs/dependency-audit.md) and the full lock's pins.
    for tool in ("pip", "setuptools"):
        assert version(upgraded[tool]) >= version(pins(API_LOCK)[tool]), tool


def test_finding_6_deployment_security_is_documented() -> None:
    doc = (ROOT / "docs" / "deployment-security.md").read_text()
    for word in (*role_defaults().values(), "edge", "internal", "127.0.0.1", "TRUSTED_PROXIES", "read_only",
                 "tmpfs", "10001", "no-new-privileges", "API_DB_PASSWORD", "MIGRATE_DB_PASSWORD",
                 "RASA_DB_PASSWORD", "POSTGRES_PASSWORD", "api.runtime.lock.txt"):
        assert word in doc, word
    subnet = COMPOSE["networks"]["edge"]["ipam"]["config"][0]["subnet"]
    assert subnet in doc


# --- security review, finding 8: the dependency audit stays consistent with the locks --------


def test_finding_8_dependency_audit_recorded() -> None:
    doc = (ROOT / "docs" / "dependency-audit.md").read_text()
    assert "2026-12-03" in doc and "pip-audit" in doc
    locks = {"rasa.lock.txt": pins(LOCK), "api.lock.txt": pins(API_LOCK),
             "api.runtime.lock.txt": pins((ROOT / "requirements" / "api.runtime.lock.txt").read_text())}
    # Every row of the findings tables: | lock | package | audited | advisory | fixed in | pinned now | action |
    rows = re.findall(r"^\| *(\w[\w.]*\.lock\.txt) *\| *([\w.\-]+) *\| *([\w.]+) *\| *([^|]+?) *\| *([^|]+?) *\| *([\w.]+|absent) *\|",
                      doc, re.M)
    assert rows, "no findings table"
    for lock, package, _audited, advisory, _fixed, now in rows:
        pinned = locks[lock].get(canonical(package), "absent")
        assert now == pinned, f"{package} is pinned {pinned} in {lock}, the audit record says {now}"
        assert advisory.strip(), package
    # The flagged packages of the API side were moved to a fixed version (or left the lock).
    for lock, package, _audited, _advisory, fixed, now in rows:
        if lock.startswith("api") and now != "absent" and re.fullmatch(r"[\d.]+", fixed):
            assert version(now) >= version(fixed), f"{package} {now} is below the fixed {fixed}"
