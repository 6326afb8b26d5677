"""S6: the append-only audit log (counted per action, no PHI) and the funnel statistics."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from api.models import AuditEvent, ChatSession
from api.services.stats import week_label
from tests.api.factories import PASSWORD, add_referral, db, logged_in, new_client

NAME, EMAIL, PHONE = "Zebulon Quartermaine", "zeb.q@patient.example", "+1 587 555 0177"
NOTE = "Zebulon's daughter answers the phone"
REASON = "Spoke with Zebulon Quartermaine at home"


def _audit_rows() -> list[AuditEvent]:
    with db() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_every_access_is_audited_once_without_phi(client: TestClient) -> None:
    referral = add_referral(client, name=NAME, email=EMAIL, phone=PHONE)
    other = add_referral(client, name="Second Patient", email="second@patient.example")
    rid = referral["referral_id"]
    coordinator = logged_in(client.app)
    admin = logged_in(client.app, role="admin")
    assert new_client(client.app).post(
        "/auth/login", json={"email": coordinator.email, "password": "wrong " + PASSWORD}
    ).status_code == 401

    assert coordinator.post("/coordinator/referrals/search", json={"q": NAME}).status_code == 200
    assert coordinator.get("/coordinator/referrals").status_code == 200
    for _ in range(2):
        assert coordinator.get(f"/coordinator/referrals/{rid}").status_code == 200
    assert admin.get(f"/coordinator/referrals/{other['referral_id']}").status_code == 200
    assert coordinator.get("/coordinator/referrals.csv").status_code == 200
    status_url = f"/coordinator/referrals/{rid}/status"
    assert coordinator.post(status_url, json={"status": "contacting", "reason": REASON}).status_code == 200
    assert coordinator.post(status_url, json={"status": "screened", "reason": REASON}).status_code == 200
    assert coordinator.post(status_url, json={"status": "new", "reason": REASON}).status_code == 409
    assert coordinator.post(f"/coordinator/referrals/{rid}/notes", json={"text": NOTE}).status_code == 201
    assert admin.delete(f"/coordinator/referrals/{rid}", json={"reason": "patient_withdrawal"}).status_code == 200
    assert coordinator.post("/auth/logout").status_code == 200
    assert coordinator.get("/coordinator/referrals").status_code == 401, "refused requests are not accesses"

    rows = _audit_rows()
    assert Counter(r.action for r in rows) == {
        "received": 2,
        "login": 2,
        "login_failed": 1,
        "list": 2,
        "view": 3,
        "export": 1,
        "status_change": 2,
        "note": 1,
        "delete": 1,
        "logout": 1,
    }
    by_action = {(r.action, r.actor_id, r.referral_id, r.detail) for r in rows}
    assert ("view", coordinator.id, rid, None) in by_action
    assert ("view", admin.id, other["referral_id"], None) in by_action
    assert ("status_change", coordinator.id, rid, "new->contacting") in by_action
    assert ("note", coordinator.id, rid, None) in by_action
    assert ("delete", admin.id, rid, "patient_withdrawal") in by_action
    # List views and exports name the referrals they showed, by id (finding 7), in their order.
    oid = other["referral_id"]
    assert ("list", coordinator.id, None, f"rows=1 ids={rid}") in by_action
    assert ("list", coordinator.id, None, f"rows=2 ids={oid},{rid}") in by_action
    assert ("export", coordinator.id, None, f"rows=2 ids={rid},{oid}") in by_action
    for row in rows:
        assert row.at is not None and row.action

    # No patient data in any column of any row, nor in what the admin page shows.
    dumped = json.dumps([[r.id, str(r.at), r.actor_id, r.action, r.referral_id, r.detail] for r in rows]).lower()
    page = admin.get("/admin/audit", params={"page_size": 200}).text.lower()
    for phi in (NAME, "Zebulon", "Quartermaine", EMAIL, PHONE, "5870177", "555 0177", NOTE, REASON, "Second Patient"):
        assert phi.lower() not in dumped, phi
        assert phi.lower() not in page, phi


def test_admin_reads_the_audit_log_paged_and_filtered(client: TestClient) -> None:
    admin = logged_in(client.app, role="admin")
    coordinator = logged_in(client.app)
    for _ in range(3):
        add_referral(client)
    first = admin.get("/admin/audit", params={"page_size": 2}).json()
    assert first["total"] == 5 and len(first["items"]) == 2 and first["page"] == 1
    assert first["items"][0]["id"] > first["items"][1]["id"], "newest first"
    received = admin.get("/admin/audit", params={"action": "received"}).json()
    assert received["total"] == 3 and {i["action"] for i in received["items"]} == {"received"}
    mine = admin.get("/admin/audit", params={"actor_id": coordinator.id}).json()
    assert [i["action"] for i in mine["items"]] == ["login"]
    assert coordinator.get("/admin/audit").status_code == 403
    assert new_client(client.app).get("/admin/audit").status_code == 401


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET action = 'edited'", "DELETE FROM audit_events"])
def test_the_audit_table_refuses_update_and_delete(client: TestClient, statement: str) -> None:
    logged_in(client.app)
    before = [(r.id, r.action) for r in _audit_rows()]
    assert before
    with db() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
            session.commit()
        session.rollback()
    assert [(r.id, r.action) for r in _audit_rows()] == before


# --- statistics -----------------------------------------------------------------------


def _chat(
    created: datetime, finished: datetime | None, outcome: str | None, reasons: list[str], conversation_id: str = ""
) -> ChatSession:
    return ChatSession(
        token_hash=uuid.uuid4().hex * 2,
        conversation_id=conversation_id or f"stats-{uuid.uuid4().hex}",
        created_at=created,
        finished_at=finished,
        outcome=outcome,
        outcome_reasons=reasons,
    )


def test_funnel_statistics_by_iso_week(client: TestClient) -> None:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    last_week = now - timedelta(weeks=1)
    long_ago = now - timedelta(weeks=10)
    sessions = [
        _chat(now, now, "not_eligible", ["age", "pregnancy"]),
        _chat(now, now, "not_eligible", ["age"]),
        _chat(now, now, "needs_review", ["prior_spine_radiation", "pain_score"]),
        _chat(now, None, None, []),  # started, never finished
        _chat(last_week, last_week, "likely_eligible", []),
        _chat(last_week, last_week, "needs_review", ["prior_spine_radiation"]),
        _chat(last_week, now, "urgent_care", ["red_flags"]),  # started last week, finished this week
        _chat(long_ago, long_ago, "not_eligible", ["spine_mets_confirmed"]),  # outside the window
    ]
    with db() as session:
        session.add_all(sessions)
        session.commit()
    coordinator = logged_in(client.app)
    referrals = [add_referral(client, name=f"Stats Person {i}")["referral_id"] for i in range(3)]
    for status in ("contacting", "screened", "enrolled"):
        coordinator.post(f"/coordinator/referrals/{referrals[0]}/status", json={"status": status, "reason": "x"})
    for status in ("contacting", "screened", "not_enrolled"):
        coordinator.post(f"/coordinator/referrals/{referrals[1]}/status", json={"status": status, "reason": "x"})

    response = coordinator.get("/coordinator/stats", params={"weeks": 2})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    stats = response.json()
    assert [w["week"] for w in stats["weeks"]] == [week_label(last_week.date()), week_label(now.date())]
    previous, current = stats["weeks"]
    assert datetime.fromisoformat(current["starts_on"]).weekday() == 0
    assert previous == {
        "week": week_label(last_week.date()),
        "starts_on": previous["starts_on"],
        "conversations_started": 3,
        "conversations_finished": 2,
        "outcomes": {"likely_eligible": 1, "needs_review": 1},
        "referrals_received": 0,
        "enrolled": 0,
    }
    assert current["conversations_started"] == 4
    assert current["conversations_finished"] == 4
    assert current["outcomes"] == {"not_eligible": 2, "needs_review": 1, "urgent_care": 1}
    assert current["referrals_received"] == 3
    assert current["enrolled"] == 1
    assert stats["top_reasons"] == {
        "not_eligible": [{"criterion": "age", "count": 2}, {"criterion": "pregnancy", "count": 1}],
        "needs_review": [
            {"criterion": "prior_spine_radiation", "count": 2},
            {"criterion": "pain_score", "count": 1},
        ],
    }
    assert "Stats Person" not in response.text

    wide = coordinator.get("/coordinator/stats", params={"weeks": 12}).json()
    assert len(wide["weeks"]) == 12
    assert sum(w["conversations_started"] for w in wide["weeks"]) == 8
    assert {"criterion": "spine_mets_confirmed", "count": 1} in wide["top_reasons"]["not_eligible"]
    for bad in (0, 105, "x"):
        assert coordinator.get("/coordinator/stats", params={"weeks": bad}).status_code == 422


def test_statistics_survive_a_withdrawal(client: TestClient) -> None:
    coordinator = logged_in(client.app)
    rid = add_referral(client, conversation_id="conv-gone")["referral_id"]
    with db() as session:
        now = datetime.now(timezone.utc)
        session.add(_chat(now, now, "likely_eligible", [], conversation_id="conv-gone"))
        session.commit()
    before = coordinator.get("/coordinator/stats", params={"weeks": 1}).json()["weeks"]
    assert coordinator.delete(f"/coordinator/referrals/{rid}", json={"reason": "patient_withdrawal"}).status_code == 200
    after = coordinator.get("/coordinator/stats", params={"weeks": 1}).json()["weeks"]
    assert after == before and after[0]["referrals_received"] == 1 and after[0]["conversations_finished"] == 1
