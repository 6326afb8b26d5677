"""R1: no referral is lost or doubled when the API is down, the action server
dies mid-hand-off, or the API answers slowly (docs/safety-security.md, pitfall 4).

One `Servers` with the API and the delivery worker for the module. The
figures (referrals sent and received, timings) are printed and appended to
results/reliability.txt.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

import pytest

pytest.importorskip("httpx")

from tests.chat_client import Chat  # noqa: E402
from tests.gateway_client import Patient, coordinator  # noqa: E402
from tests.personas import CONTACT_ORDER, LIKELY_FIT_ORDER, SENT, likely_fit  # noqa: E402
from tests.reliability.conftest import (  # noqa: E402
    api_referrals,
    outbox_rows,
    received_audit_count,
    unreachable,
    wait_until,
)
from tests.servers import Servers, SlowProxy, running_system  # noqa: E402

pytestmark = pytest.mark.e2e

OUTAGE_CONVERSATIONS = 20
PARALLEL_PATIENTS = 4
# The opt-in test hook of actions/referral.py (that module needs rasa_sdk, not here).
FAULT_SLEEP_AFTER_OUTBOX_ENV = "PRESCREENER_FAULT_SLEEP_AFTER_OUTBOX_S"
# The delivery worker's timeout is 5 s (actions/delivery.py): 7 s is "too slow".
SLOW_API_DELAY_S = 7.0


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory, model: str) -> Iterator[Servers]:
    # Every gateway patient talks from 127.0.0.1: lift the per-address limit for this run.
    with running_system(tmp_path_factory.mktemp("chaos"), env={"CLIENT_MESSAGES_PER_MINUTE": "1000"}, model=model) as running:
        yield running


def seconds_until(iso_moment: str) -> float:
    """Seconds until an outbox row's next attempt; a row the worker has not
    tried yet has no moment ('') and is due now (actions/outbox.py)."""
    if not iso_moment:
        return 0.0
    return (datetime.fromisoformat(iso_moment) - datetime.now(timezone.utc)).total_seconds()


def test_referrals_made_while_the_api_is_down_all_arrive_once(system: Servers, report: Callable[[str, str], None]) -> None:
    test = "R1a api-down"
    known = {row["referral_id"] for row in outbox_rows(system)}
    system.stop("api")
    assert unreachable(system.api_url), "the API still answers after stop"
    down_at = time.monotonic()

    def one_patient(number: int) -> Chat:
        chat = Chat(system.url)
        chat.say("hi")
        asked = chat.converse(likely_fit(f"Pat Outage-{number:02d}", f"outage{number:02d}@example.com"))
        assert asked == LIKELY_FIT_ORDER + CONTACT_ORDER, asked
        assert any(SENT in text for text in chat.texts()), chat.texts()
        return chat

    with ThreadPoolExecutor(PARALLEL_PATIENTS) as pool:
        chats = list(pool.map(one_patient, range(OUTAGE_CONVERSATIONS)))
    chatted_s = time.monotonic() - down_at
    senders = {chat.sender for chat in chats}
    latencies = sorted(latency for chat in chats for latency in chat.latencies)

    pending = [row for row in outbox_rows(system) if row["referral_id"] not in known]
    attempts_while_down = sum(row["attempts"] for row in pending)
    report(test, (
        f"{OUTAGE_CONVERSATIONS} conversations ({len(latencies)} turns, {PARALLEL_PATIENTS} at a time) finished through "
        f"Rasa in {chatted_s:.1f}s with the API down; turn latency median {statistics.median(latencies):.2f}s, "
        f"max {latencies[-1]:.2f}s; outbox: {len(pending)} new, "
        f"{sum(1 for row in pending if row['delivered_at'] is None)} pending, {attempts_while_down} failed delivery attempts"
    ))
    assert len(pending) == OUTAGE_CONVERSATIONS
    assert all(row["delivered_at"] is None for row in pending), "delivered while the API was down?"
    assert {row["payload"]["conversation_id"] for row in pending} == senders
    outbox_ids = {row["referral_id"] for row in pending}
    assert len(outbox_ids) == OUTAGE_CONVERSATIONS

    # The API comes back with the same environment and database.
    outage_s = time.monotonic() - down_at
    system.restart("api")
    back_at = time.monotonic()
    # The worker's backoff (2, 4, 8 ... s) decides when each is tried again.
    latest_retry_s = max(seconds_until(row["next_attempt_at"]) for row in outbox_rows(system) if row["referral_id"] in outbox_ids)

    def all_delivered() -> bool:
        return all(row["delivered_at"] for row in outbox_rows(system) if row["referral_id"] in outbox_ids)

    assert wait_until(all_delivered, max(latest_retry_s, 0) + 20, poll_s=0.5), "not every referral was delivered"
    drained_s = time.monotonic() - back_at
    time.sleep(3)  # a repeated delivery would show by now

    received = [row for row in api_referrals(system) if row["conversation_id"] in senders]
    per_conversation = Counter(row["conversation_id"] for row in received)
    audited = received_audit_count(system, outbox_ids)
    staff = coordinator(system.api_url)
    listed = staff.get("/coordinator/referrals", params={"page_size": 100}).json()["items"]
    listed_outage = [item for item in listed if item["contact_name"].startswith("Pat Outage-")]
    report(test, (
        f"API down {outage_s:.1f}s; back, ready, and all {len(outbox_ids)} delivered {drained_s:.1f}s later "
        f"(latest backoff retry was due {latest_retry_s:.1f}s after the restart); sent {len(outbox_ids)}, "
        f"received {len(received)} (distinct conversations {len(per_conversation)}, "
        f"duplicates {sum(n - 1 for n in per_conversation.values())}), 'received' audit rows {audited}, "
        f"coordinator queue shows {len(listed_outage)}"
    ))
    assert len(received) == OUTAGE_CONVERSATIONS
    assert max(per_conversation.values()) == 1, per_conversation
    assert {row["id"] for row in received} == outbox_ids
    assert audited == OUTAGE_CONVERSATIONS
    assert len({item["id"] for item in listed_outage}) == len(listed_outage) == OUTAGE_CONVERSATIONS


def test_action_server_killed_between_outbox_and_reply(
    system: Servers, report: Callable[[str, str], None], cleanup: list[Callable[[], None]]
) -> None:
    test = "R1b kill-9 actions"
    name = "Kim Crash-Test"
    cleanup.append(lambda: system.restart("actions"))  # whatever happens, leave a plain action server
    # The opt-in fault hook of actions/referral.py: a pause after the outbox write.
    system.restart("actions", env={FAULT_SLEEP_AFTER_OUTBOX_ENV: "60"})
    patient = Patient(system.api_url)
    patient.start()
    patient.converse(likely_fit(name, "kim.crash@example.com"), until="contact_confirmed")
    assert patient.reply["asks"] == "contact_confirmed", patient.reply

    def mine() -> list[dict[str, Any]]:
        return [row for row in outbox_rows(system) if row["payload"]["contact"]["name"] == name]

    yes = {"payload": patient.buttons()["Yes, send it"]}
    failure: list[BaseException] = []

    def press_yes() -> None:
        try:
            patient.post(yes)
        except BaseException as error:  # reported below, not lost in the thread
            failure.append(error)

    confirm = threading.Thread(target=press_yes, daemon=True)
    clicked_at = time.monotonic()
    confirm.start()
    assert wait_until(lambda: bool(mine()), 20, poll_s=0.02), "the hand-off never wrote the outbox"
    written_s = time.monotonic() - clicked_at
    system.stop("actions", hard=True)
    killed_at = time.monotonic()
    confirm.join(30)
    assert not confirm.is_alive(), "the gateway never answered the confirmation"
    assert not failure, f"the confirmation request failed: {failure[0]!r}"
    crash_status, crash_texts = patient.status, patient.texts()
    crash_answer_s = time.monotonic() - killed_at

    system.restart("actions")
    # The patient sends the confirmation again: the button if it is offered again, else typed.
    if "Yes, send it" in patient.buttons():
        patient.answer(("Yes, send it",))
    else:
        patient.answer("yes, send it")
    resend_texts = patient.texts()

    def settled() -> bool:
        rows = mine()
        return bool(rows) and all(row["delivered_at"] for row in rows) and any(
            row["contact_name"] == name for row in api_referrals(system)
        )

    wait_until(settled, 30)
    time.sleep(3)  # a second hand-off or a repeated delivery would show by now
    rows = mine()
    received = [row for row in api_referrals(system) if row["contact_name"] == name]
    report(test, (
        f"outbox written {written_s:.2f}s after the click; kill -9; the gateway answered {crash_answer_s:.2f}s later "
        f"with {crash_status} {crash_texts!r}; after the restart the resent confirmation got {resend_texts!r}; "
        f"outbox rows {len(rows)} (delivered {sum(1 for r in rows if r['delivered_at'])}), API referrals {len(received)}, "
        f"'received' audit rows {received_audit_count(system, {r['referral_id'] for r in rows})}"
    ))
    assert len(rows) == 1, rows
    assert rows[0]["delivered_at"], "the referral was never delivered"
    assert len(received) == 1 and received[0]["id"] == rows[0]["referral_id"]
    assert received_audit_count(system, {rows[0]["referral_id"]}) == 1

    problems = []
    if crash_status == 200 and not crash_texts:
        problems.append("the patient got an empty answer when the action server died (pitfall 4: always answer)")
    if not any(SENT in text for text in resend_texts):
        problems.append(f"the resent confirmation was not handled as a hand-off: the bot said {resend_texts!r}")
    assert not problems, "; ".join(problems)


def test_a_slow_api_delays_the_referral_not_the_patient(
    system: Servers, report: Callable[[str, str], None], cleanup: list[Callable[[], None]]
) -> None:
    test = "R1c slow API"
    name = "Lee Slow-Api"
    proxy = SlowProxy(system.api_url, delay_s=SLOW_API_DELAY_S, slow_count=1).__enter__()
    cleanup.append(lambda: proxy.__exit__(None, None, None))
    cleanup.append(lambda: system.restart("delivery"))  # back to the API itself (runs first)
    system.restart("delivery", env={"API_URL": proxy.url})

    patient = Patient(system.api_url)
    patient.start()
    outcome = patient.converse(likely_fit(name, "lee.slow@example.com"), until="contact_confirmed")
    assert outcome == "likely_eligible"
    patient.answer(("Yes, send it",))
    confirmed_at = time.monotonic()
    confirm_s = patient.latencies[-1]
    assert any(SENT in text for text in patient.texts()), patient.texts()

    def arrived() -> bool:
        return any(row["contact_name"] == name for row in api_referrals(system))

    assert wait_until(arrived, 40), "the referral never reached the API"
    arrived_s = time.monotonic() - confirmed_at
    rows = [row for row in outbox_rows(system) if row["payload"]["contact"]["name"] == name]
    assert len(rows) == 1
    referral_id = rows[0]["referral_id"]
    assert wait_until(lambda: all(r["delivered_at"] for r in outbox_rows(system) if r["referral_id"] == referral_id), 30)
    acknowledged_s = time.monotonic() - confirmed_at
    time.sleep(3)
    received = [row for row in api_referrals(system) if row["contact_name"] == name]
    sends = [r for r in proxy.requests if r["key"] == referral_id]
    attempts = next(r["attempts"] for r in outbox_rows(system) if r["referral_id"] == referral_id)
    report(test, (
        f"API delayed {SLOW_API_DELAY_S:.0f}s for the first request (worker timeout 5s): the patient's confirmation "
        f"took {confirm_s:.2f}s (slowest turn {max(patient.latencies):.2f}s); referral stored in the API "
        f"{arrived_s:.1f}s and acknowledged in the outbox {acknowledged_s:.1f}s after the confirmation; deliveries "
        f"sent {len(sends)} (delayed {sum(1 for r in sends if r['delayed'])}, statuses "
        f"{[r.get('status') for r in sends]}), failed attempts counted {attempts}; API referrals {len(received)}"
    ))
    assert confirm_s < 4.0 and max(patient.latencies) < 4.0, "the patient waited for the API"
    assert sends and sends[0]["delayed"], "the slow request never reached the proxy"
    assert len(received) == 1 and received[0]["id"] == referral_id
    assert received_audit_count(system, {referral_id}) == 1
