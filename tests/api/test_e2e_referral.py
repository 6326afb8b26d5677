"""The whole system, started like scripts/start.sh: Rasa, the action server, the
delivery worker and the API. A patient chats through the public gateway; a
coordinator then sees (or does not see) the referral through the queue API.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from typing import Any, Union

import httpx
import pytest

from tests.servers import API_PY, ROOT, Servers, trained_model

pytestmark = pytest.mark.e2e

ADMIN_EMAIL, ADMIN_PASSWORD = "admin@example.org", "correct horse battery staple"
Answer = Union[str, tuple[str]]
LIKELY_FIT: dict[str, Answer] = {
    "respondent": ("For myself",),
    "red_flags": "no",
    "age": "I'm 61",
    "spine_mets_confirmed": "yes",
    "spine_region": "T8",
    "pain_score": "7/10",
    "cord_compression_told": "no",
    "primary_cancer": "prostate",
    "pregnancy": ("Not possible",),
    "prior_spine_radiation": "no",
    "performance_status": ("Does all usual activities, with no limits",),
    "visceral_metastases": "no",
    "able_to_attend": "yes",
    "consent_contact": ("Yes",),
    "contact_name": "Pat E2E-Canary",
    "contact_reach": "pat.canary@example.com",
    "contact_time": ("Evening",),
    "contact_language": ("English",),
    "contact_confirmed": ("Yes, send it",),
}


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    running = Servers(tmp_path_factory.mktemp("system"), with_api=True)
    try:
        running.start(trained_model())
        subprocess.run(
            [str(API_PY), "-m", "api.cli", "create-admin", "--email", ADMIN_EMAIL],
            cwd=ROOT, env={**running.env, "ADMIN_PASSWORD": ADMIN_PASSWORD}, check=True, capture_output=True,
        )
        yield running
    finally:
        running.stop()


class Patient:
    """A browser-like client of the public gateway (cookie session)."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.reply: dict[str, Any] = {}

    def start(self) -> None:
        response = self.http.post("/chat/sessions")
        assert response.status_code == 201, response.text
        self.reply = response.json()

    def answer(self, reply: Answer) -> None:
        if isinstance(reply, tuple):
            payload = next(
                b["payload"] for m in self.reply["messages"] for b in m.get("buttons") or [] if b["title"] == reply[0]
            )
            response = self.http.post("/chat/messages", json={"payload": payload})
        else:
            response = self.http.post("/chat/messages", json={"text": reply})
        assert response.status_code == 200, response.text
        self.reply = response.json()

    def complete(self, answers: dict[str, Answer], max_turns: int = 40) -> str | None:
        """Answer every question until the bot stops asking; the outcome seen."""
        self.start()
        outcome = None
        for _ in range(max_turns):
            outcome = self.reply.get("outcome") or outcome
            asks = self.reply.get("asks")
            if asks is None:
                return outcome
            self.answer(answers[asks])
        raise AssertionError("the conversation did not end")


def coordinator(base_url: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=30)
    response = client.post("/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def wait_for_referrals(client: httpx.Client, count: int, timeout_s: float = 20) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while True:
        items = client.get("/coordinator/referrals").json()["items"]
        if len(items) >= count or time.monotonic() > deadline:
            return items
        time.sleep(0.5)


def test_a_likely_fit_reaches_the_queue_once_with_every_criterion(system: Servers) -> None:
    patient = Patient(system.api_url)
    assert patient.complete(LIKELY_FIT) == "likely_eligible"
    staff = coordinator(system.api_url)
    items = wait_for_referrals(staff, 1)
    assert [item["contact_name"] for item in items] == ["Pat E2E-Canary"]
    detail = staff.get(f"/coordinator/referrals/{items[0]['id']}").json()
    screened = {row["question_id"]: row for row in detail["criteria"]}
    assert set(LIKELY_FIT) - {"consent_contact"} - {q for q in LIKELY_FIT if q.startswith("contact_")} <= set(screened)
    assert screened["age"]["answer"] == 61 and screened["spine_region"]["answer"] == ["thoracic"]
    assert all(row["status"] in ("pass", "unknown") for q, row in screened.items() if q != "linden")
    assert detail["contact"]["email"] == "pat.canary@example.com" and detail["consent"]["text_version"]
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
    for marker in ("Pat E2E-Canary", "pat.canary@example.com"):
        assert marker not in logs
