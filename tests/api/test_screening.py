"""Issue 15, item 1: the study team's screening result (determination, per-criterion agreement).

The service, the JSON route, who may call it (anonymous, no CSRF token,
coordinator, admin), the audit rows, and the referral page's form posting the
way static/staff.js does. On SQLite and PostgreSQL (the `client` fixture).
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.models import AuditEvent, Referral, ScreeningResult
from api.services import screening
from contract.names import AGREEMENT_REASONS, AGREEMENTS, DETERMINATIONS
from tests.api.factories import Actor, add_referral, db, logged_in, new_client, referral_body

NAME = "Zebulon Quartermaine"
JUDGED = ["age", "spine_mets_confirmed", "pain_score", "prior_spine_radiation", "linden"]
NOT_ASKED = {
    "question_id": "able_to_attend",
    "question": "Could you come to visits at the cancer centre?",
    "protocol": ["I5", "I13"],
    "answer": None,
    "answer_label": None,
    "status": "unknown",
    "reason": "Not asked yet.",
}


@pytest.fixture
def actor(client: TestClient) -> Actor:
    return logged_in(client.app)


def _referral(client: TestClient, *statuses: str, actor: Actor, **fields: Any) -> str:
    body = referral_body(name=NAME, **fields)
    body["criteria"].insert(3, dict(NOT_ASKED))
    rid = add_referral(client, **{**fields, "name": NAME, "criteria": body["criteria"]})["referral_id"]
    for status in statuses:
        moved = actor.post(f"/coordinator/referrals/{rid}/status", json={"status": status, "reason": "x"})
        assert moved.status_code == 200, moved.text
    return rid


def _record(actor: Actor, rid: str, **body: Any) -> Any:
    return actor.post(f"/coordinator/referrals/{rid}/screening", json=body)


def _audit(rid: str) -> list[tuple[str, str | None]]:
    with db() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.referral_id == rid).order_by(AuditEvent.id)
        )
        return [(r.action, r.detail) for r in rows]


# --- the service ---------------------------------------------------------------------------


def test_the_criteria_judged_are_read_from_the_referral_record(client: TestClient, actor: Actor) -> None:
    rid = _referral(client, actor=actor)
    with db() as session:
        referral = session.get(Referral, rid)
        # Rows with an answer ("unknown" included: the bot read "not sure" and a rule judged it)
        # and the Linden row; the row not asked (answer null) is left out.
        assert screening.judged_criteria(referral) == JUDGED
        assert [r["question_id"] for r in referral.criteria if r["answer"] is None] == ["able_to_attend", "linden"]


def test_the_codes_are_spelt_once() -> None:
    assert DETERMINATIONS == ("eligible", "not_eligible", "undetermined")
    assert AGREEMENTS == ("agree", "disagree", "not_checked")
    assert len(AGREEMENT_REASONS) == len(set(AGREEMENT_REASONS)) and "other" in AGREEMENT_REASONS
    assert screening.SCREENED_STATUSES == ("screened", "enrolled", "not_enrolled")


# --- the route -----------------------------------------------------------------------------


def test_marking_screened_records_the_result_in_one_step(client: TestClient, actor: Actor) -> None:
    rid = _referral(client, "contacting", actor=actor)
    body = {
        "determination": "eligible",
        "agreement": {"age": "agree", "pain_score": "disagree", "prior_spine_radiation": "not_checked"},
        "reason": {"pain_score": "question_misunderstood", "prior_spine_radiation": "records_unavailable", "age": ""},
        "status_reason": "Screened from records",
    }
    response = _record(actor, rid, **body)
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["status"] == "screened" and out["allowed_transitions"] == ["enrolled", "not_enrolled", "withdrawn"]
    assert out["determination"] == "eligible" and out["recorded_by"] == actor.id
    assert out["recorded_by_email"] == actor.email
    # Every judged criterion, in the record's order; the ones not given are "not checked".
    assert out["criteria"] == [
        {"question_id": "age", "agreement": "agree", "reason": None},
        {"question_id": "spine_mets_confirmed", "agreement": "not_checked", "reason": None},
        {"question_id": "pain_score", "agreement": "disagree", "reason": "question_misunderstood"},
        {"question_id": "prior_spine_radiation", "agreement": "not_checked", "reason": "records_unavailable"},
        {"question_id": "linden", "agreement": "not_checked", "reason": None},
    ]
    detail = actor.get(f"/coordinator/referrals/{rid}").json()
    assert detail["status"] == "screened" and detail["screening_criteria"] == JUDGED
    assert detail["screening"]["criteria"] == out["criteria"]
    assert [(h["from_status"], h["to_status"], h["reason"]) for h in detail["status_history"]][-1] == (
        "contacting", "screened", "Screened from records")
    # Audited like every other write: the status change and the result, codes only.
    assert [a for a in _audit(rid) if a[0] in ("status_change", "screening")] == [
        ("status_change", "new->contacting"),
        ("status_change", "contacting->screened"),
        ("screening", "recorded"),
    ]


def test_a_screened_referral_gets_or_corrects_its_result(client: TestClient, actor: Actor) -> None:
    rid = _referral(client, "contacting", "screened", actor=actor)
    first = _record(actor, rid, determination="undetermined", agreement={"age": "agree"})
    assert first.status_code == 200, first.text
    other = logged_in(client.app, role="admin")
    second = _record(other, rid, determination="not_eligible", agreement={"linden": "disagree"},
                     reason={"linden": "rule_differs"}, status_reason="ignored once screened")
    assert second.status_code == 200, second.text
    assert second.json()["determination"] == "not_eligible" and second.json()["recorded_by"] == other.id
    assert {c["question_id"]: c["agreement"] for c in second.json()["criteria"]}["age"] == "not_checked"
    assert actor.get(f"/coordinator/referrals/{rid}").json()["status"] == "screened"
    assert [a for a in _audit(rid) if a[0] == "screening"] == [("screening", "recorded"), ("screening", "corrected")]
    with db() as session:
        assert session.scalar(select(func.count()).select_from(ScreeningResult)) == 1
    # Enrolled or not enrolled: still correctable.
    assert actor.post(f"/coordinator/referrals/{rid}/status", json={"status": "enrolled", "reason": "x"}).status_code == 200
    assert _record(actor, rid, determination="eligible").status_code == 200


@pytest.mark.parametrize("path", [[], ["withdrawn"], ["contacting", "withdrawn"], ["contacting", "screened", "withdrawn"]])
def test_only_while_marked_screened_or_after(client: TestClient, actor: Actor, path: list[str]) -> None:
    rid = _referral(client, *path, actor=actor)
    response = _record(actor, rid, determination="eligible", status_reason="x")
    assert response.status_code == 409, response.text
    assert response.json()["detail"].startswith("A screening result can be recorded when")
    with db() as session:
        assert session.get(ScreeningResult, rid) is None
        assert session.get(Referral, rid).status == (path[-1] if path else "new")


@pytest.mark.parametrize(
    "body, detail",
    [
        ({"agreement": {"able_to_attend": "agree"}}, "That criterion was not judged"),
        ({"agreement": {"respondent": "agree"}}, "That criterion was not judged"),
        ({"reason": {"able_to_attend": "other"}}, "That criterion was not judged"),
        ({"agreement": {"age": "agree"}, "reason": {"age": "other"}}, "A reason is only for"),
        ({"status_reason": None}, "Please give a reason for marking"),
        ({"status_reason": "   "}, "Please give a reason for marking"),
    ],
)
def test_refusals_name_the_problem_and_change_nothing(client: TestClient, actor: Actor, body: dict[str, Any], detail: str) -> None:
    rid = _referral(client, "contacting", actor=actor)
    response = _record(actor, rid, **{"determination": "eligible", "status_reason": "x", **body})
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(detail)
    with db() as session:
        assert session.get(ScreeningResult, rid) is None
        assert session.get(Referral, rid).status == "contacting", "the status change is undone too"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"determination": "maybe"},
        {"determination": "eligible", "agreement": {"age": "yes"}},
        {"determination": "eligible", "reason": {"age": "free text about the patient"}},
        {"determination": "eligible", "agreement": {"Bad Id!": "agree"}},
        {"determination": "eligible", "status_reason": "x" * 2001},
        {"determination": "eligible", "agreement": "agree"},
    ],
)
def test_codes_only(client: TestClient, actor: Actor, body: dict[str, Any]) -> None:
    rid = _referral(client, "contacting", "screened", actor=actor)
    response = _record(actor, rid, **body)
    assert response.status_code == 422 and response.json()["detail"] == "Invalid request.", response.text


def test_who_may_record(client: TestClient, actor: Actor) -> None:
    rid = _referral(client, "contacting", "screened", actor=actor)
    url = f"/coordinator/referrals/{rid}/screening"
    assert new_client(client.app).post(url, json={"determination": "eligible"}).status_code == 401
    no_csrf = actor.client.post(url, json={"determination": "eligible"})
    assert no_csrf.status_code == 403 and no_csrf.json()["detail"] == "Missing or wrong CSRF token."
    wrong = actor.client.post(url, json={"determination": "eligible"}, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    with db() as session:
        assert session.get(ScreeningResult, rid) is None
    assert _record(actor, rid, determination="eligible").status_code == 200
    assert _record(logged_in(client.app, role="admin"), rid, determination="eligible").status_code == 200
    assert _record(actor, "no-such-referral", determination="eligible").status_code == 404


def test_the_result_goes_with_a_deleted_referral_and_the_audit_holds_no_phi(client: TestClient, actor: Actor) -> None:
    rid = _referral(client, "contacting", actor=actor)
    assert _record(actor, rid, determination="eligible", status_reason="x").status_code == 200
    assert actor.delete(f"/coordinator/referrals/{rid}", json={"reason": "patient_withdrawal"}).status_code == 200
    with db() as session:
        assert session.get(ScreeningResult, rid) is None
        details = " ".join(r.detail or "" for r in session.scalars(select(AuditEvent)))
    assert "Zebulon" not in details and "Quartermaine" not in details


# --- the referral page's form ----------------------------------------------------------------


def _form(html: str) -> str:
    found = re.search(r'<form data-api-form data-url="(/coordinator/referrals/[^"]+/screening)"[^>]*>(.*?)</form>', html, re.S)
    assert found, "the screening form"
    return found.group(0)


def _post_as_staff_js(actor: Actor, form: str, **fields: str) -> Any:
    """Post the form the way static/staff.js does: "group[key]" names become an object."""
    url = re.search(r'data-url="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    body: dict[str, Any] = {}
    for name, value in fields.items():
        nested = re.fullmatch(r"([a-z_]+)\[([a-z0-9_]+)\]", name)
        if nested:
            body.setdefault(nested.group(1), {})[nested.group(2)] = value
        else:
            body[name] = value
    return actor.post(url, json=body)


def test_the_page_form_marks_screened_and_shows_the_result(client: TestClient, actor: Actor) -> None:
    rid = _referral(client, "contacting", actor=actor)
    page = actor.get(f"/staff/referrals/{rid}")
    assert page.status_code == 200
    form = _form(page.text)
    assert 'data-done="screening"' in form
    names = set(re.findall(r'name="([^"]+)"', form))
    assert names == {"determination", "status_reason"} | {f"agreement[{q}]" for q in JUDGED} | {
        f"reason[{q}]" for q in JUDGED}, "one agreement and one reason per judged criterion, nothing typed but the status reason"
    assert "agreement[able_to_attend]" not in form
    assert set(re.findall(r'name="determination" value="([^"]+)"', form)) == set(DETERMINATIONS)
    assert "Mark screened and save the result" in form
    # Every code has its words on the page (never the bare code as a label).
    for label in ("Could not be determined", "Records disagree", "Not checked", "The records needed were not available"):
        assert label in unescape(form), label
    # Every select has a name a screen reader reads (the column and the criterion).
    assert len(re.findall(r'<select [^>]*aria-labelledby="(?:agreement|reason)-col screening-[a-z_]+"', form)) == 2 * len(JUDGED)

    fields = {
        "determination": "not_eligible",
        "status_reason": "Checked the records",
        **{f"agreement[{q}]": "not_checked" for q in JUDGED},
        **{f"reason[{q}]": "" for q in JUDGED},
        "agreement[pain_score]": "disagree",
        "reason[pain_score]": "changed_since",
        "agreement[age]": "agree",
    }
    # The session's CSRF token is what lets the form through (api/deps.py), as for the status form.
    assert new_client(client.app).post(f"/coordinator/referrals/{rid}/screening", json={}).status_code == 401
    assert actor.client.post(f"/coordinator/referrals/{rid}/screening", json={"determination": "eligible"}).status_code == 403
    assert f'<meta name="csrf-token" content="{actor.csrf}">' in page.text
    response = _post_as_staff_js(actor, form, **fields)
    assert response.status_code == 200, response.text

    after = actor.get(f"/staff/referrals/{rid}", params={"done": "screening"})
    html = unescape(after.text)
    assert "The screening result was saved." in html
    assert "Recorded: <strong>Not eligible</strong>" in html and actor.email in html
    form = _form(after.text)
    assert "status_reason" not in form and "Save the screening result" in form
    assert re.search(r'name="agreement\[pain_score\]"[^>]*>.*?<option value="disagree" selected>', form, re.S)
    assert re.search(r'name="reason\[pain_score\]"[^>]*>.*?<option value="changed_since" selected>', form, re.S)
    assert re.search(r'name="agreement\[age\]"[^>]*>.*?<option value="agree" selected>', form, re.S)
    assert 'id="determination-not_eligible" name="determination" value="not_eligible" required checked' in form


def test_no_form_before_contact_or_after_a_withdrawal(client: TestClient, actor: Actor) -> None:
    for path in ([], ["withdrawn"]):
        rid = _referral(client, *path, actor=actor)
        html = actor.get(f"/staff/referrals/{rid}").text
        assert "/screening" not in html and "Screening result" in html
