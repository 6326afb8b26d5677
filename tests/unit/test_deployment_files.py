"""docker-compose.yml cannot run here (no Docker engine): keep it honest by reading it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
START = (ROOT / "scripts" / "start.sh").read_text()
LOCK = (ROOT / "requirements" / "rasa.lock.txt").read_text()


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
    dockerfile = (ROOT / COMPOSE["services"]["api"]["build"]["dockerfile"]).read_text()
    assert "pip install --no-cache-dir --no-deps -r requirements/api.lock.txt" in dockerfile
    assert "api.cli migrate" in dockerfile and "api.main:app" in dockerfile
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


def test_both_images_that_handle_referrals_carry_the_contract() -> None:
    # actions/ and api/ import contract/ (the referral schema and names); without it neither starts.
    for image in ("actions", "api"):
        assert "COPY contract contract" in (ROOT / "docker" / f"{image}.Dockerfile").read_text(), image


def test_the_action_image_holds_every_data_file_the_actions_read_outside_their_folder() -> None:
    from actions.understanding import RED_FLAG_PATTERNS

    copied = [line.split()[1] for line in (ROOT / "docker" / "actions.Dockerfile").read_text().splitlines()
              if line.startswith("COPY ")]
    wanted = RED_FLAG_PATTERNS.relative_to(ROOT).as_posix()
    assert any(wanted == path or wanted.startswith(path.rstrip("/") + "/") for path in copied), copied
