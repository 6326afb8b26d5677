"""Issue 15, item 2: the validity figures on a seeded queue with known answers, worked out by hand below.

The queue is written straight into the tables (referrals, screening results,
and the audit rows the intake and the status changes write), so every time is
known. The figures come back through GET /coordinator/stats, the CSV and the
statistics page. On SQLite and PostgreSQL (the `client` fixture).
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, time, timedelta, timezone
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.models import AuditEvent, Referral, ScreeningResult
from api.services.stats import week_label
from tests.api.factories import Actor, create_coordinator, db, logged_in, new_client

NAME = "Zebulon Quartermaine"
NOW = datetime.now(timezone.utc)
MONDAY = datetime.combine(NOW.date() - timedelta(days=NOW.weekday()), time(10), tzinfo=timezone.utc)
# Week A is last ISO week, week B this one; each referral is received on its week's Monday at 10:00.
WEEK_A, WEEK_B = MONDAY - timedelta(weeks=1), MONDAY
LONG_AGO = MONDAY - timedelta(weeks=10)

# (name, received, outcome, determination or None, {criterion: agreement},
#  hours to first contact or None, enrolled, still in the queue)
QUEUE: list[tuple[str, datetime, str, str | None, dict[str, str], float | None, bool, bool]] = [
    ("a1", WEEK_A, "likely_eligible", "eligible", {"age": "agree", "pain_score": "agree", "linden": "disagree"}, 2, True, True),
    ("a2", WEEK_A, "likely_eligible", "not_eligible", {"age": "agree", "pain_score": "disagree", "linden": "disagree"}, 4, False, True),
    ("a3", WEEK_A, "needs_review", "eligible", {"age": "not_checked", "pain_score": "agree", "linden": "agree"}, 10, True, True),
    ("a4", WEEK_A, "needs_review", None, {}, None, False, True),
    ("b1", WEEK_B, "likely_eligible", "eligible", {"age": "agree", "pain_score": "disagree"}, 1, False, True),
    ("b2", WEEK_B, "likely_eligible", "undetermined", {"pain_score": "not_checked"}, 3, False, True),
    ("b3", WEEK_B, "needs_review", "not_eligible", {"age": "disagree", "linden": "not_checked"}, 6, False, True),
    # Withdrawn and deleted after enrolment: only its audit rows are left.
    ("gone", WEEK_B, "likely_eligible", None, {}, 9, True, False),
    # Received before the two weeks asked for (contacted inside them): never counted.
    ("old", LONG_AGO, "likely_eligible", "eligible", {"age": "disagree"}, 24 * 70, True, True),
]

# --- the figures, by hand ----------------------------------------------------------------
# Week A. PPV of likely_eligible: a1 eligible, a2 not           -> 1 of 2 = 0.5
#         PPV of needs_review: a3 eligible (a4 has no result)    -> 1 of 1 = 1.0
#         agreement: a1 agree 2 disagree 1, a2 agree 1 disagree 2, a3 agree 2 (not checked 1)
#                    -> agree 5, disagree 3                       -> 5 of 8 = 0.625
#         enrolment: a1, a3 of a1..a4                            -> 2 of 4 = 0.5
#         first contact: 2, 4, 10 hours                          -> median 4.0 (3 contacted)
# Week B. PPV of likely_eligible: b1 eligible (b2 undetermined: left out) -> 1 of 1 = 1.0
#         PPV of needs_review: b3 not eligible                   -> 0 of 1 = 0.0
#         agreement: b1 agree 1 disagree 1, b3 disagree 1        -> 1 of 3 = 0.3333
#         enrolment: "gone" of b1, b2, b3, gone                  -> 1 of 4 = 0.25
#         first contact: 1, 3, 6, 9 hours                        -> median (3 + 6) / 2 = 4.5 (4 contacted)
# Overall. PPV of likely_eligible: a1, b1 of a1, a2, b1          -> 2 of 3 = 0.6667
#          PPV of needs_review: a3 of a3, b3                     -> 1 of 2 = 0.5
#          agreement: agree 5 + 1, disagree 3 + 2                -> 6 of 11 = 0.5455
#          enrolment: a1, a3, gone of 8                          -> 3 of 8 = 0.375
#          first contact: 1, 2, 3, 4, 6, 9, 10 hours             -> median 4.0 (7 contacted)
# Per criterion. age: agree a1 a2 b1 = 3, disagree b3 = 1, not checked a3 = 1 -> 3 of 4 = 0.75
#                pain_score: agree a1 a3 = 2, disagree a2 b1 = 2, not checked b2 = 1 -> 2 of 4 = 0.5
#                linden: agree a3 = 1, disagree a1 a2 = 2, not checked b3 = 1 -> 1 of 3 = 0.3333
# Most disagreements: linden 2 (of 3) and pain_score 2 (of 4), a tie in name order; then age 1 (of 4).


def share(count: int, n: int, value: float | None) -> dict[str, Any]:
    return {"count": count, "n": n, "value": value}


WEEK_A_FIGURES = {
    "screening_results": 3,
    "determinations": {"eligible": 2, "not_eligible": 1, "undetermined": 0},
    "ppv_likely_eligible": share(1, 2, 0.5),
    "ppv_needs_review": share(1, 1, 1.0),
    "agreement": share(5, 8, 0.625),
    "enrolment": share(2, 4, 0.5),
    "first_contact": {"n": 3, "median_hours": 4.0},
}
WEEK_B_FIGURES = {
    "screening_results": 3,
    "determinations": {"eligible": 1, "not_eligible": 1, "undetermined": 1},
    "ppv_likely_eligible": share(1, 1, 1.0),
    "ppv_needs_review": share(0, 1, 0.0),
    "agreement": share(1, 3, 0.3333),
    "enrolment": share(1, 4, 0.25),
    "first_contact": {"n": 4, "median_hours": 4.5},
}
OVERALL = {
    "screening_results": 6,
    "determinations": {"eligible": 3, "not_eligible": 2, "undetermined": 1},
    "ppv_likely_eligible": share(2, 3, 0.6667),
    "ppv_needs_review": share(1, 2, 0.5),
    "agreement": share(6, 11, 0.5455),
    "enrolment": share(3, 8, 0.375),
    "first_contact": {"n": 7, "median_hours": 4.0},
}
CRITERIA = [
    {"criterion": "age", "agree": 3, "disagree": 1, "not_checked": 1, "agreement": share(3, 4, 0.75)},
    {"criterion": "linden", "agree": 1, "disagree": 2, "not_checked": 1, "agreement": share(1, 3, 0.3333)},
    {"criterion": "pain_score", "agree": 2, "disagree": 2, "not_checked": 1, "agreement": share(2, 4, 0.5)},
]
MOST_DISAGREED = [
    {"criterion": "linden", "disagree": 2, "n": 3},
    {"criterion": "pain_score", "disagree": 2, "n": 4},
    {"criterion": "age", "disagree": 1, "n": 4},
]


def _seed() -> dict[str, str]:
    """Write the queue above; returns referral ids by name."""
    recorder = create_coordinator(f"recorder-{uuid.uuid4().hex[:6]}@study.example")
    ids = {name: f"{name}-{uuid.uuid4()}" for name, *_ in QUEUE}
    with db() as session:
        for name, received, outcome, determination, agreement, contact, enrolled, kept in QUEUE:
            rid = ids[name]
            session.add(AuditEvent(action="received", referral_id=rid, detail=outcome, at=received))
            moves = []
            if contact is not None:
                contacted = received + timedelta(hours=contact)
                moves += [("new->contacting", contacted), ("contacting->screened", contacted + timedelta(days=1))]
                if enrolled:
                    moves.append(("screened->enrolled", contacted + timedelta(days=2)))
            for detail, at in moves:
                session.add(AuditEvent(action="status_change", actor_id=recorder, referral_id=rid, detail=detail, at=at))
            if not kept:
                continue
            session.add(
                Referral(
                    id=rid, body_sha256="0" * 64, received_at=received, outcome=outcome, status="screened",
                    trial_id="NCT04242589", trial_version="1.2.0", consent_version="2025.1",
                    consent_given_at=received, contact_name=f"{NAME} {name}", criteria=[], linden={}, spine_levels=[],
                )
            )
            session.flush()
            if determination:
                session.add(
                    ScreeningResult(
                        referral_id=rid, determination=determination, recorded_by=recorder,
                        criteria=[{"question_id": q, "agreement": a, "reason": None} for q, a in agreement.items()],
                    )
                )
        session.commit()
    return ids


@pytest.fixture
def actor(client: TestClient) -> Actor:
    return logged_in(client.app)


def test_the_validity_figures_match_the_hand_worked_ones(client: TestClient, actor: Actor) -> None:
    _seed()
    response = actor.get("/coordinator/stats", params={"weeks": 2})
    assert response.status_code == 200, response.text
    validity = response.json()["validity"]
    week_a, week_b = validity["weeks"]
    assert (week_a["week"], week_b["week"]) == (week_label(WEEK_A.date()), week_label(WEEK_B.date()))
    assert {k: v for k, v in week_a.items() if k not in ("week", "starts_on")} == WEEK_A_FIGURES
    assert {k: v for k, v in week_b.items() if k not in ("week", "starts_on")} == WEEK_B_FIGURES
    assert validity["overall"] == OVERALL
    assert validity["criteria"] == CRITERIA
    assert validity["most_disagreed"] == MOST_DISAGREED
    assert NAME not in response.text

    # A longer period takes in the old referral too: its cohort is ten weeks back.
    wide = actor.get("/coordinator/stats", params={"weeks": 12}).json()["validity"]
    assert wide["overall"]["ppv_likely_eligible"] == share(3, 4, 0.75)  # a1, b1, old of a1, a2, b1, old
    assert wide["overall"]["first_contact"] == {"n": 8, "median_hours": 5.0}  # 1 2 3 4 | 6 9 10 1680 -> (4 + 6) / 2
    assert [w["enrolment"]["n"] for w in wide["weeks"]].count(1) == 1


def test_an_empty_queue_has_no_made_up_figures(client: TestClient, actor: Actor) -> None:
    validity = actor.get("/coordinator/stats", params={"weeks": 1}).json()["validity"]
    assert validity["overall"]["ppv_likely_eligible"] == share(0, 0, None)
    assert validity["overall"]["first_contact"] == {"n": 0, "median_hours": None}
    assert validity["criteria"] == [] and validity["most_disagreed"] == []
    page = actor.get("/staff/stats", params={"weeks": 4}).text
    assert "No data (0 counted)" in page and "No screening results recorded in this period." in page


def _csv(text: str) -> dict[tuple[str, str, str], dict[str, str]]:
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    return {(r["period"], r["measure"], r["criterion"]): r for r in rows}


def test_the_csv_has_the_same_figures_with_their_counts(client: TestClient, actor: Actor) -> None:
    _seed()
    response = actor.get("/coordinator/stats.csv", params={"weeks": 2})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"].startswith('attachment; filename="statistics-2w-')
    rows = _csv(response.text)
    a, b = week_label(WEEK_A.date()), week_label(WEEK_B.date())

    def figure(period: str, measure: str, criterion: str = "") -> tuple[str, str, str]:
        row = rows[(period, measure, criterion)]
        return row["count"], row["n"], row["value"]

    assert figure("overall", "ppv_likely_eligible") == ("2", "3", "0.6667")
    assert figure("overall", "ppv_needs_review") == ("1", "2", "0.5")
    assert figure("overall", "agreement_all_criteria") == ("6", "11", "0.5455")
    assert figure("overall", "referral_to_enrolment") == ("3", "8", "0.375")
    assert figure("overall", "first_contact_median_hours") == ("", "7", "4.0")
    assert figure("overall", "determination_undetermined") == ("1", "", "")
    assert figure(a, "ppv_likely_eligible") == ("1", "2", "0.5")
    assert figure(a, "agreement_all_criteria") == ("5", "8", "0.625")
    assert figure(b, "ppv_needs_review") == ("0", "1", "0.0")
    assert figure(b, "first_contact_median_hours") == ("", "4", "4.5")
    assert figure("overall", "criterion_agreement", "linden") == ("1", "3", "0.3333")
    assert figure("overall", "criterion_disagree", "pain_score") == ("2", "", "")
    assert figure("overall", "most_disagreed_1", "linden") == ("2", "3", "")
    assert figure("overall", "most_disagreed_3", "age") == ("1", "4", "")
    # The funnel is there too (from the audit log: 4 referrals received in each week).
    assert figure(a, "referrals_received") == ("4", "", "") and figure(b, "referrals_received") == ("4", "", "")
    assert NAME not in response.text and "Zebulon" not in response.text
    # Audited as an export, without patient data; only for the signed in.
    with db() as session:
        exports = [e.detail for e in session.query(AuditEvent).filter(AuditEvent.action == "export")]
    assert exports == ["stats weeks=2"]
    assert new_client(client.app).get("/coordinator/stats.csv").status_code == 401
    assert actor.get("/coordinator/stats.csv", params={"weeks": 0}).status_code == 422


def test_the_page_shows_the_figures_their_counts_and_what_cannot_be_known(client: TestClient, actor: Actor) -> None:
    _seed()
    page = actor.get("/staff/stats", params={"weeks": 4})
    assert page.status_code == 200
    html = unescape(page.text)
    # Four weeks take in the same referrals as two (the old one is ten weeks back).
    for words in (
        '"Likely a fit" confirmed eligible (positive predictive value)</th><td class="num">67% (2 of 3) <span class="hint">few</span>',
        '"Team needs to check" confirmed eligible</th><td class="num">50% (1 of 2)',
        "Criteria where the records agreed with the pre-screener</th><td class=\"num\">55% (6 of 11)",
        'Referrals enrolled</th><td class="num">38% (3 of 8)',
        "4.0 hours (7 contacted)",
        "4.5 hours (4 contacted)",
        "2 of 3</td>",  # linden: the most disagreements
        "(eligible 3, not eligible 2, could not be determined 1)",
    ):
        assert words in html, words
    # The limits, in plain words.
    for words in (
        "People told they are not a fit never reach the study team",
        "sensitivity and its",
        "negative predictive value cannot be measured from the queue",
        "a referral without a result, or marked \"could not be determined\", is left out",
        "one more or one less moves a percentage a lot",
    ):
        assert words in " ".join(html.split()), words
    assert 'href="/coordinator/stats.csv?weeks=4"' in page.text
    assert NAME not in html and "Zebulon" not in html
