"""Issue 11 end to end with real processes: the real API (uvicorn, migrated) and the real delivery worker.

No Rasa here: the record is put in the outbox directly, as the action server's
hand-off does. A record the API refuses (one from an older action server, with a field the contract does not have)
lands in the admins' dead-letter list and is not sent again; a valid one is
delivered and leaves only its id and times in the outbox.
"""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing

import pytest

from actions.outbox import Outbox
from tests.api.factories import referral_body
from tests.api.test_dead_letters import REFUSED_REASON, refused_body
from tests.gateway_client import coordinator
from tests.servers import ADMIN, RASA_PY, ROOT, Servers

NAME = "Ulrike Endtoendmarker"


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The API alone; each test starts the delivery worker when its outbox is ready."""
    running = Servers(tmp_path_factory.mktemp("dead-letter-e2e"), with_api=True)
    try:
        running.start_api()
        running.add_account(*ADMIN)
        yield running
    finally:
        running.stop()


def _attempts(outbox: Outbox, referral_id: str) -> int:
    with closing(sqlite3.connect(outbox.path)) as db:
        return db.execute("SELECT attempts FROM referral_outbox WHERE referral_id = ?", (referral_id,)).fetchone()[0]


def _wait(condition, timeout_s: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_a_refused_record_lands_in_the_dead_letters_and_is_not_retried(system: Servers) -> None:
    outbox = Outbox(system.data_dir / "outbox.sqlite")
    refused = refused_body(name=NAME)
    valid = referral_body(name="Valid Endtoend")
    outbox.put(refused["referral_id"], refused)
    outbox.put(valid["referral_id"], valid)
    system.launch("delivery", [str(RASA_PY), "-m", "actions.delivery"])

    assert _wait(lambda: outbox.state(refused["referral_id"]) == "refused", 30), "never marked refused"
    assert _wait(lambda: outbox.state(valid["referral_id"]) == "delivered", 30), "the valid one was not delivered"
    [row] = outbox.refused()
    assert row.referral_id == refused["referral_id"] and not row.holds_payload
    assert row.refusal == f"kept by the API as a dead letter: {REFUSED_REASON}"

    admin = coordinator(system.api_url)
    listed = admin.get("/admin/dead-letters").json()
    assert [(i["id"], i["reason"]) for i in listed["items"]] == [(refused["referral_id"], REFUSED_REASON)]
    page = admin.get("/staff/dead-letters")
    assert page.status_code == 200 and refused["referral_id"] in page.text
    assert "<strong>1</strong> consented referral was" in admin.get("/staff/referrals").text
    assert NAME in admin.get(f"/staff/dead-letters/{refused['referral_id']}").text
    queue = admin.get("/coordinator/referrals").json()["items"]
    assert [i["id"] for i in queue] == [valid["referral_id"]]

    # Not retried: the worker polls every second and would have tried again after 2 s.
    attempts = _attempts(outbox, refused["referral_id"])
    time.sleep(6)
    assert _attempts(outbox, refused["referral_id"]) == attempts == 1
    audit = admin.get("/admin/audit", params={"action": "refused"}).json()
    assert audit["total"] == 1, "the API saw the refused record once"

    # Only ids and times are left on the action side, and the count says so.
    assert NAME.encode() not in outbox.path.read_bytes() and b"Valid Endtoend" not in outbox.path.read_bytes()
    status = subprocess.run(
        [str(RASA_PY), "-m", "actions.delivery", "--status"], cwd=ROOT, env=system.env,
        capture_output=True, text=True, check=True,
    ).stdout
    assert "0 pending, 1 delivered, 1 refused (0 with the referral still here)" in status
    assert refused["referral_id"] in status and NAME not in status

    # Resolved by hand: the API's copy goes too.
    done = admin.post(f"/admin/dead-letters/{refused['referral_id']}/resolve", json={"note": "entered by hand"})
    assert done.status_code == 200
    assert NAME not in admin.get(f"/staff/dead-letters/{refused['referral_id']}").text

    system.stop("delivery")
    log = (system.data_dir / "logs" / "delivery.log").read_text()
    assert refused["referral_id"] in log and "refused by the API (status 422" in log
    assert NAME not in system.logs()
