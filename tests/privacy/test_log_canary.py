"""P2: no patient data in any log of any service.

A referral with marker values (a unique name, phone, email and free-text
answers) goes through every service: the public gateway, Rasa, the action
server, the outbox, the delivery worker, the API's intake, and the
coordinators' list, search, detail, status change, note, CSV export, stats and
staff pages. The services are then stopped (so every buffer is flushed) and
every log they wrote is searched: Servers' data_dir/logs/*.log, every other
file under the data dir except the databases, and any file changed under the
repository meanwhile. Zero hits allowed.

A second case forces a database error in the middle of the intake (a trigger
refuses the INSERT) while the marker values are in the body: the API's
traceback names the statement but never its parameters (`hide_parameters`,
api/db.py).

The API runs as scripts/start.sh and docker/api.Dockerfile run it
(`--no-access-log`): an access log holds request URLs, and the coordinators'
search puts what they search for (a name, a phone number) in the URL.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("pydantic_settings", reason="API environment only (.venv/api)")

from tests.api.factories import referral_body  # noqa: E402
from tests.gateway_client import Patient, coordinator, wait_for_referrals  # noqa: E402
from tests.personas import LIKELY_FIT, contact  # noqa: E402
from tests.servers import ROOT, SERVICE_TOKEN, Servers, running_system  # noqa: E402

pytestmark = pytest.mark.e2e

NAME = "Xanthippe Canarywhistle"
PHONE = "587-555-0193"
EMAIL = "xanthippe.canarywhistle@example.net"
FREE_SCREENING = "7/10 since the Quokkamarker fall"  # a typed screening answer: gateway, Rasa, actions
FREE_CONTACT = "after the Zanzibarmarker tea"  # a typed contact answer: also outbox, API, views, CSV
CANARY = {**LIKELY_FIT, "pain_score": FREE_SCREENING, **contact(NAME, f"{PHONE} or {EMAIL}", FREE_CONTACT)}
# Every form the values may take in a log line.
MARKERS = (
    NAME, "Xanthippe", "Canarywhistle", PHONE, "5875550193", "587 555 0193", "555-0193", EMAIL,
    "Quokkamarker", "Zanzibarmarker",
)
DATABASE_SUFFIXES = (".sqlite", ".sqlite-wal", ".sqlite-shm", ".sqlite-journal", ".db")
SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__"}


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    # Servers starts the API with the flags of scripts/start.sh (tests/servers.py API_COMMAND).
    with running_system(tmp_path_factory.mktemp("canary"), env={"SESSION_MESSAGES_PER_MINUTE": "1000"}) as running:
        yield running


def _files_to_search(data_dir: Path, since: float) -> list[Path]:
    """Everything the services wrote except their databases, and whatever changed in the repository."""
    found = [p for p in data_dir.rglob("*") if p.is_file() and not p.name.endswith(DATABASE_SUFFIXES)]
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in files:
            path = Path(folder) / name
            try:
                if path.stat().st_mtime >= since and not name.endswith(DATABASE_SUFFIXES):
                    found.append(path)
            except OSError:
                continue  # removed meanwhile
    return sorted(set(found))


def test_no_marker_value_in_any_log_of_any_service(system: Servers) -> None:
    started = time.time() - 1
    patient = Patient(system.api_url)
    assert patient.complete(CANARY) == "likely_eligible"

    staff = coordinator(system.api_url)
    [item] = wait_for_referrals(staff, 1)
    rid = item["id"]
    assert item["contact_name"] == NAME
    # Every coordinator view of it.
    for query in (NAME, "Canarywhistle", "5875550193", EMAIL):
        assert [i["id"] for i in staff.post("/coordinator/referrals/search", json={"q": query}).json()["items"]] == [rid]
    detail = staff.get(f"/coordinator/referrals/{rid}").json()
    assert detail["contact"] == {
        "name": NAME, "phone": PHONE, "email": EMAIL, "best_time": FREE_CONTACT, "language": "English",
    }
    assert staff.post(f"/coordinator/referrals/{rid}/status", json={"status": "contacting", "reason": "called"}).status_code == 200
    assert staff.post(f"/coordinator/referrals/{rid}/notes", json={"text": "left a voicemail"}).status_code == 201
    export = staff.get("/coordinator/referrals.csv")
    assert export.status_code == 200 and NAME in export.text and FREE_CONTACT in export.text
    assert staff.get("/coordinator/stats").status_code == 200
    assert staff.get("/admin/audit").status_code == 200
    for page in ("/staff/referrals", f"/staff/referrals/{rid}", "/staff/stats"):
        response = staff.get(page)
        assert response.status_code in (200, 404), (page, response.status_code)  # 404: page not built yet
    # The queue page's search, the way the page sends it (the text in the body, a handle in the address).
    searched = staff.post("/staff/referrals/search", json={"q": NAME})
    assert searched.status_code == 200 and NAME not in searched.json()["next"]
    assert staff.get(searched.json()["next"]).status_code == 200

    # Stop everything, so every buffered line reaches its file.
    system.stop()
    files = _files_to_search(system.data_dir, started)
    logs = sorted((system.data_dir / "logs").glob("*.log"))
    assert {p.stem for p in logs} >= {"api", "rasa", "actions", "delivery"}, logs
    lines = hits = 0
    found: list[str] = []
    for path in files:
        try:
            content = path.read_bytes().decode("utf-8", errors="replace")
        except OSError:
            continue
        for number, line in enumerate(content.splitlines(), start=1):
            lines += 1
            for marker in MARKERS:
                if marker.lower() in line.lower():
                    hits += 1
                    found.append(f"{path}:{number}: {marker}")
    print(f"\nlog canary: {len(files)} files, {lines} log lines searched, {hits} hits")
    for path in files:
        print(f"  searched {path}")
    assert lines > 0 and all(p in files for p in logs)
    assert hits == 0, "\n".join(found)


@pytest.fixture
def api_with_a_broken_table(tmp_path: Path) -> Iterator[Servers]:
    """The API alone (no Rasa: no model needed), its referrals table refusing every INSERT."""
    running = Servers(tmp_path / "db-error", with_api=True)
    try:
        running.migrate()
        with closing(sqlite3.connect(running.data_dir / "api.sqlite")) as db, db:
            db.execute(
                "CREATE TRIGGER forced_failure BEFORE INSERT ON referrals "
                "BEGIN SELECT RAISE(ABORT, 'forced failure for the log canary'); END"
            )
        running.start_api(migrate=False)
        yield running
    finally:
        running.stop()


def test_a_database_error_during_intake_logs_no_marker_value(api_with_a_broken_table: Servers) -> None:
    system = api_with_a_broken_table
    started = time.time() - 1
    body = referral_body(name=NAME, phone=PHONE, email=EMAIL, best_time=FREE_CONTACT)
    response = httpx.post(
        f"{system.api_url}/referrals", json=body, timeout=30,
        headers={"Authorization": f"Bearer {SERVICE_TOKEN}", "Idempotency-Key": body["referral_id"]},
    )
    assert response.status_code == 500
    system.stop()
    log = (system.data_dir / "logs" / "api.log").read_text(errors="replace")
    # The error really happened and was logged with its kind and statement,
    # not with the driver's message (which can quote a row on PostgreSQL).
    assert "database error (" in log and "INSERT INTO referrals" in log, log[-2000:]
    assert "forced failure for the log canary" not in log
    found = [
        f"{path}: {marker}"
        for path in _files_to_search(system.data_dir, started)
        for marker in MARKERS
        if marker.lower() in path.read_bytes().decode("utf-8", errors="replace").lower()
    ]
    assert found == []
