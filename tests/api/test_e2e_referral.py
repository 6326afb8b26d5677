"""The whole system, started like scripts/start.sh: Rasa, the action server, the
delivery worker and the API. A patient chats through the public gateway; a
coordinator then sees (or does not see) the referral through the queue API.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.gateway_client import Patient, coordinator, wait_for_referrals
from tests.personas import HELPER_CONTACT_ORDER, LIKELY_FIT_READ, likely_fit
from tests.servers import Servers, running_system

pytestmark = pytest.mark.e2e

NAME, EMAIL = "Pat E2E-Canary", "pat.canary@example.com"
LIKELY_FIT = likely_fit(NAME, EMAIL)


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with running_system(tmp_path_factory.mktemp("system")) as running:
        yield running


def test_a_likely_fit_reaches_the_queue_once_with_every_criterion(system: Servers) -> None:
    patient = Patient(system.api_url)
    assert patient.complete(LIKELY_FIT) == "likely_eligible"
    staff = coordinator(system.api_url)
    items = wait_for_referrals(staff, 1)
    assert [item["contact_name"] for item in items] == [NAME]
    detail = staff.get(f"/coordinator/referrals/{items[0]['id']}").json()
    screened = {row["question_id"]: row for row in detail["criteria"]}
    # Every screening answer is a criterion; the contact questions (a helper's too) are not.
    assert set(LIKELY_FIT) - set(HELPER_CONTACT_ORDER) <= set(screened)
    assert not set(HELPER_CONTACT_ORDER) & set(screened)
    assert {question: screened[question]["answer"] for question in LIKELY_FIT_READ} == LIKELY_FIT_READ
    assert all(row["status"] in ("pass", "unknown") for q, row in screened.items() if q != "linden")
    assert detail["contact"]["email"] == EMAIL and detail["consent"]["text_version"]
    moved = staff.post(f"/coordinator/referrals/{items[0]['id']}/status", json={"status": "contacting", "reason": "called"})
    assert moved.status_code == 200, moved.text
    # Delivered once, whatever the retries.
    time.sleep(2)
    assert len(wait_for_referrals(staff, 2, timeout_s=1)) == 1


def test_a_not_eligible_conversation_leaves_no_referral(system: Servers) -> None:
    staff = coordinator(system.api_url)
    before = len(staff.get("/coordinator/referrals").json()["items"])
    patient = Patient(system.api_url)
    # A typed exclusion is read back once before it counts (issue 10): "Yes".
    assert patient.complete({**LIKELY_FIT, "age": "I'm 17", "answer_check": ("Yes",)}) == "not_eligible"
    time.sleep(2)
    assert len(staff.get("/coordinator/referrals").json()["items"]) == before


def test_no_patient_detail_in_any_log(system: Servers) -> None:
    logs = system.logs()
    assert logs, "the services wrote no logs at all"
    for marker in (NAME, EMAIL):
        assert marker not in logs
