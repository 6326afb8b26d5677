"""POST /referrals: service credential, consent fields, idempotency under concurrent deliveries, no-store."""

from __future__ import annotations

import threading
from collections import Counter

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.models import AuditEvent, Referral
from tests.api.factories import db, logged_in, post_referral, referral_body

DELIVERIES = 50


def _count(model) -> int:  # type: ignore[no-untyped-def]
    with db() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _received_events() -> int:
    with db() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "received")) or 0


def test_a_new_referral_is_stored_once_and_a_redelivery_is_a_no_op(client: TestClient) -> None:
    body = referral_body()
    first = post_referral(client, body)
    assert first.status_code == 201, first.text
    assert first.json() == {"referral_id": body["referral_id"], "created": True}
    again = post_referral(client, body)
    assert again.status_code == 200 and again.json() == {"referral_id": body["referral_id"], "created": False}
    assert _count(Referral) == 1
    assert _received_events() == 1
    with db() as session:
        stored = session.get(Referral, body["referral_id"])
        assert stored.status == "new" and stored.contact_name == body["contact"]["name"]
        assert stored.consent_version == body["consent"]["text_version"] and stored.consent_given_at is not None


def test_fifty_concurrent_deliveries_store_exactly_one_referral(client: TestClient) -> None:
    body = referral_body()
    barrier = threading.Barrier(DELIVERIES)
    codes: list[int] = []
    created: list[bool] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def deliver() -> None:
        try:
            own = TestClient(client.app)  # its own client, like a separate worker retrying
            barrier.wait(timeout=30)
            response = post_referral(own, body)
            with lock:
                codes.append(response.status_code)
                if response.status_code in (200, 201):
                    created.append(response.json()["created"])
        except BaseException as error:  # noqa: BLE001 - reported below
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=deliver) for _ in range(DELIVERIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert Counter(codes) == {201: 1, 200: DELIVERIES - 1}, Counter(codes)
    assert created.count(True) == 1
    assert _count(Referral) == 1
    assert _received_events() == 1


def test_reusing_a_key_with_another_body_is_refused(client: TestClient) -> None:
    body = referral_body(name="Original Name")
    assert post_referral(client, body).status_code == 201
    changed = {**body, "contact": {**body["contact"], "name": "Someone Else"}}
    response = post_referral(client, changed)
    assert response.status_code == 422
    assert "Someone Else" not in response.text, "errors never echo patient data"
    with db() as session:
        assert session.get(Referral, body["referral_id"]).contact_name == "Original Name"
    assert _count(Referral) == 1


def test_the_idempotency_key_must_be_the_referral_id(client: TestClient) -> None:
    body = referral_body()
    assert post_referral(client, body, **{"Idempotency-Key": "another-key-123"}).status_code == 422
    missing = client.post("/referrals", json=body, headers={"Authorization": "Bearer test-service-token"})
    assert missing.status_code == 422
    assert _count(Referral) == 0


def test_wrong_or_missing_service_credential_is_401(client: TestClient) -> None:
    body = referral_body()
    for headers in (
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "test-service-token"},
        {"Authorization": ""},
    ):
        assert post_referral(client, body, **headers).status_code == 401, headers
    bare = client.post("/referrals", json=body, headers={"Idempotency-Key": body["referral_id"]})
    assert bare.status_code == 401
    coordinator = logged_in(client.app)
    as_coordinator = coordinator.client.post(
        "/referrals", json=body, headers={"Idempotency-Key": body["referral_id"], **coordinator.headers()}
    )
    assert as_coordinator.status_code == 401, "a coordinator session is not the service credential"
    assert _count(Referral) == 0


def test_a_referral_without_consent_or_contact_is_refused(client: TestClient) -> None:
    body = referral_body(name="Consentless Person")
    for broken in (
        {k: v for k, v in body.items() if k != "consent"},
        {**body, "consent": {"text_version": "2025.1"}},
        {**body, "consent": {"given_at": body["consent"]["given_at"]}},
        {**body, "consent": {"text_version": "", "given_at": body["consent"]["given_at"]}},
        {k: v for k, v in body.items() if k != "contact"},
        {**body, "contact": {**body["contact"], "name": ""}},
        {**body, "outcome": "not_eligible"},
        {**body, "criteria": []},
    ):
        response = post_referral(client, broken)
        assert response.status_code == 422, broken
        assert "Consentless" not in response.text
    assert _count(Referral) == 0


def test_intake_answers_are_not_cached(client: TestClient) -> None:
    body = referral_body()
    for sent in (body, body, {**body, "outcome": "x"}):
        response = post_referral(client, sent)
        assert response.headers["cache-control"] == "no-store"
