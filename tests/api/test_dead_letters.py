"""Issue 11: a referral the intake refuses for good is kept as a dead letter, shown to admins, resolved by hand.

The worker's side (which answers stop the retries) is tests/unit/test_delivery.py;
the real worker against the real API is test_dead_letter_e2e.py.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.models import AuditEvent, Referral, ReferralDeadLetter
from api.routes.referrals import MAX_BODY_BYTES
from tests.api.factories import SERVICE_HEADERS, add_referral, db, logged_in, post_referral, referral_body

# A record the API refuses for good: one written by an older action server,
# with a field the contract does not have (the action side bounds what a
# patient types, so a conversation itself no longer makes one).
REFUSED_REASON = "$.channel: additionalProperties"


def refused_body(**overrides):  # type: ignore[no-untyped-def]
    body = referral_body(**overrides)
    body["channel"] = "web"
    return body
CANARY_NAME = "Octavia Deadlettermarker"


def _letters() -> dict[str, ReferralDeadLetter]:
    with db() as session:
        return {d.id: d for d in session.scalars(select(ReferralDeadLetter))}


def _audit(action: str) -> list[tuple[str | None, str | None]]:
    with db() as session:
        return [(e.referral_id, e.detail) for e in session.scalars(select(AuditEvent).where(AuditEvent.action == action))]


def _refused(client: TestClient, **overrides: Any) -> dict[str, Any]:
    body = refused_body(name=CANARY_NAME, **overrides)
    response = post_referral(client, body)
    assert response.status_code == 422, response.text
    assert response.json()["kept"] is True
    return body


def test_a_body_refused_by_validation_is_kept_with_paths_and_rules_never_values(client: TestClient) -> None:
    body = refused_body(name=CANARY_NAME)
    response = post_referral(client, body)
    assert response.status_code == 422
    assert response.json() == {"detail": "Invalid request.", "fields": [REFUSED_REASON], "kept": True}
    assert CANARY_NAME not in response.text
    [letter] = _letters().values()
    assert letter.id == body["referral_id"] and letter.reason == REFUSED_REASON
    assert json.loads(letter.body) == body, "the body exactly as received"
    assert letter.resolved_at is None and letter.received_at is not None
    assert _audit("refused") == [(body["referral_id"], REFUSED_REASON)]
    # The same delivery again (a lost answer): one dead letter, one audit row, still "kept".
    again = post_referral(client, body)
    assert again.status_code == 422 and again.json()["kept"] is True
    assert len(_letters()) == 1 and len(_audit("refused")) == 1
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Referral)) == 0


def test_the_reason_names_each_failed_rule_without_the_patients_words(client: TestClient) -> None:
    body = referral_body(name=CANARY_NAME * 10, outcome="not_eligible")
    del body["consent"]
    response = post_referral(client, body)
    assert response.status_code == 422 and response.json()["kept"] is True
    letter = _letters()[body["referral_id"]]
    assert letter.reason == "$.consent: required; $.contact.name: maxLength; $.outcome: enum"
    assert "Deadlettermarker" not in letter.reason and "Deadlettermarker" not in response.text


def test_a_key_that_is_not_the_referral_id_or_a_reused_key_is_kept_too(client: TestClient) -> None:
    body = referral_body()
    response = post_referral(client, body, **{"Idempotency-Key": "another-key-123"})
    assert response.status_code == 422 and response.json()["kept"] is True
    assert _letters()["another-key-123"].reason == "referral_id: must_equal_idempotency_key"
    assert post_referral(client, body).status_code == 201
    changed = {**body, "contact": {**body["contact"], "name": "Someone Else"}}
    conflict = post_referral(client, changed)
    assert conflict.status_code == 422 and conflict.json()["kept"] is True and "Someone Else" not in conflict.text
    assert _letters()[body["referral_id"]].reason == "body: differs_from_the_referral_received_with_this_key"
    with db() as session:
        assert session.get(Referral, body["referral_id"]).contact_name == body["contact"]["name"]


def test_what_the_api_cannot_keep_is_said_so(client: TestClient) -> None:
    body = refused_body()
    headers = {**SERVICE_HEADERS, "Idempotency-Key": body["referral_id"], "Content-Type": "application/json"}
    not_json = client.post("/referrals", content=b"{not json", headers=headers)
    assert not_json.status_code == 422 and not_json.json()["kept"] is False
    no_key = client.post("/referrals", json=body, headers=SERVICE_HEADERS)
    assert no_key.status_code == 422 and no_key.json()["kept"] is False
    a_list = client.post("/referrals", json=[body], headers=headers)
    assert a_list.status_code == 422 and a_list.json()["kept"] is False
    huge = referral_body(best_time="x" * (MAX_BODY_BYTES + 1))
    too_large = post_referral(client, huge)
    assert too_large.status_code == 413 and too_large.json()["kept"] is False
    wrong_token = post_referral(client, body, Authorization="Bearer wrong")
    assert wrong_token.status_code == 401
    wrong_token_bad_json = client.post("/referrals", content=b"{", headers={**headers, "Authorization": "Bearer wrong"})
    assert wrong_token_bad_json.status_code == 422 and wrong_token_bad_json.json()["kept"] is False
    assert _letters() == {}


def test_admins_list_view_and_resolve_through_the_json_api(client: TestClient) -> None:
    body = _refused(client)
    coordinator, admin = logged_in(client.app), logged_in(client.app, role="admin")
    assert coordinator.get("/admin/dead-letters").status_code == 403
    assert coordinator.get(f"/admin/dead-letters/{body['referral_id']}").status_code == 403
    listed = admin.get("/admin/dead-letters").json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == body["referral_id"]
    assert CANARY_NAME not in json.dumps(listed), "the list holds no patient data"
    detail = admin.get(f"/admin/dead-letters/{body['referral_id']}").json()
    assert json.loads(detail["body"]) == body
    assert (body["referral_id"], "dead_letter") in [(r, d) for r, d in _audit("view")]
    assert admin.get("/admin/dead-letters/no-such-id").status_code == 404

    assert coordinator.post(f"/admin/dead-letters/{body['referral_id']}/resolve", json={"note": "x"}).status_code == 403
    resolved = admin.post(f"/admin/dead-letters/{body['referral_id']}/resolve", json={"note": "entered by hand"})
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["resolved_by"] == admin.id and resolved.json()["resolution_note"] == "entered by hand"
    letter = _letters()[body["referral_id"]]
    assert letter.body is None and letter.reason == REFUSED_REASON and letter.resolved_at is not None
    assert admin.post(f"/admin/dead-letters/{body['referral_id']}/resolve", json={"note": "again"}).status_code == 409
    assert _audit("resolve") == [(body["referral_id"], None)]
    assert admin.get("/admin/dead-letters").json()["total"] == 0
    assert admin.get("/admin/dead-letters", params={"resolved": True}).json()["total"] == 1


def test_the_admin_pages_render_list_view_and_resolve_form(client: TestClient) -> None:
    body = _refused(client, email="<script>alert(1)</script>@x.example")
    admin, coordinator = logged_in(client.app, role="admin"), logged_in(client.app)
    listing = admin.get("/staff/dead-letters")
    assert listing.status_code == 200 and "text/html" in listing.headers["content-type"]
    assert body["referral_id"] in listing.text and REFUSED_REASON in listing.text
    assert CANARY_NAME not in listing.text and "<strong>1</strong> waiting" in listing.text
    assert coordinator.get("/staff/dead-letters").status_code == 403
    assert coordinator.get(f"/staff/dead-letters/{body['referral_id']}").status_code == 403

    views_before = len(_audit("view"))
    page = admin.get(f"/staff/dead-letters/{body['referral_id']}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert CANARY_NAME in page.text, "the body is shown to the admin"
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text
    assert f'data-url="/admin/dead-letters/{body["referral_id"]}/resolve"' in page.text
    assert len(_audit("view")) == views_before + 1, "opening it is audited"
    assert admin.get("/staff/dead-letters/unknown-id").status_code == 404

    admin.post(f"/admin/dead-letters/{body['referral_id']}/resolve", json={"note": "patient called back"})
    after = admin.get(f"/staff/dead-letters/{body['referral_id']}")
    assert CANARY_NAME not in after.text and "patient called back" in after.text and admin.email in after.text
    assert "data-api-form" not in after.text.split("<main", 1)[1], "nothing left to resolve"
    resolved_list = admin.get("/staff/dead-letters?show=resolved")
    assert body["referral_id"] in resolved_list.text and "patient called back" in resolved_list.text


def test_the_queue_page_counts_waiting_dead_letters_for_admins_only(client: TestClient) -> None:
    admin, coordinator = logged_in(client.app, role="admin"), logged_in(client.app)
    add_referral(client)
    assert "data-dead-letters" not in admin.get("/staff/referrals").text
    first, second = _refused(client), _refused(client)
    queue_page = admin.get("/staff/referrals").text
    assert "<strong>2</strong> consented referrals were" in queue_page and 'href="/staff/dead-letters"' in queue_page
    assert "data-dead-letters" not in coordinator.get("/staff/referrals").text
    admin.post(f"/admin/dead-letters/{first['referral_id']}/resolve", json={"note": "done"})
    assert "<strong>1</strong> consented referral was" in admin.get("/staff/referrals").text
    admin.post(f"/admin/dead-letters/{second['referral_id']}/resolve", json={"note": "done"})
    assert "data-dead-letters" not in admin.get("/staff/referrals").text
