"""Helpers for the API tests: accounts, logged-in clients, and referrals through the real intake."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.deps import CSRF_HEADER
from api.models import Referral

PASSWORD = "correct horse battery staple"
SERVICE_TOKEN = "test-service-token"  # the value conftest puts in SERVICE_TOKEN
SERVICE_HEADERS = {"Authorization": f"Bearer {SERVICE_TOKEN}"}

# Self-describing rows, as actions/referral.py builds them (tests/api/test_referral_contract.py
# checks records built by the real builder; these are for tests that only need a referral).
_CRITERIA = [
    {"question_id": "age", "question": "How old are you?", "protocol": ["I1"], "answer": 64, "answer_label": "64",
     "status": "pass", "reason": ""},
    {"question_id": "spine_mets_confirmed", "question": "Has a doctor told you the cancer has spread to your spine?",
     "protocol": ["I2"], "answer": "yes", "answer_label": "Yes", "status": "pass", "reason": ""},
    {"question_id": "pain_score", "question": "From 0 to 10, how bad has your pain been?", "protocol": ["I3"],
     "answer": 6, "answer_label": "6", "status": "pass", "reason": ""},
    {
        "question_id": "prior_spine_radiation",
        "question": "Have you had radiation to your spine before?",
        "protocol": ["E4"],
        "answer": "unknown",
        "answer_label": "Not sure",
        "status": "unknown",
        "reason": "Prior radiation to the spine not known; check records.",
    },
    {
        "question_id": "linden",
        "question": "Linden prognostic hint (from the answers above)",
        "protocol": ["I5"],
        "answer": None,
        "answer_label": "9-11 points; possible group(s): A, B",
        "status": "needs_review",
        "reason": "Linden group depends on missing answers.",
    },
]


@contextmanager
def db() -> Iterator[Session]:
    """A session on the test's database (the app's own settings)."""
    from api.db import get_sessionmaker

    with get_sessionmaker()() as session:
        yield session


def referral_body(
    *,
    referral_id: Optional[str] = None,
    conversation_id: Optional[str] = None,
    name: str = "Pat Example",
    phone: Optional[str] = "+1 403 555 0101",
    email: Optional[str] = "pat@example.org",
    best_time: Optional[str] = "mornings",
    outcome: str = "likely_eligible",
    **overrides: Any,
) -> dict[str, Any]:
    """A referral as actions/referral.py builds it."""
    referral_id = referral_id or str(uuid.uuid4())
    body: dict[str, Any] = {
        "referral_id": referral_id,
        "conversation_id": conversation_id or f"conv-{uuid.uuid4().hex}",
        "trial_id": "NCT04242589",
        "trial_version": "2025.1",
        "trial_checksum": "0" * 64,
        "outcome": outcome,
        "criteria": copy.deepcopy(_CRITERIA),
        "linden": {"points_min": 9, "points_max": 11, "groups": ["A", "B"], "may_be_group_a": True, "complete": False},
        "respondent": "self",
        "spine_levels": ["T7", "T11-L2"],
        "warning_signs": [],
        "consent": {"text_version": "2025.1", "given_at": datetime.now(timezone.utc).isoformat()},
        "contact": {"name": name, "phone": phone, "email": email, "best_time": best_time, "language": "English"},
    }
    body.update(overrides)
    return body


def post_referral(client: TestClient | httpx.Client, body: dict[str, Any], **headers: str) -> httpx.Response:
    """Deliver a referral the way the action server's outbox does."""
    sent = {**SERVICE_HEADERS, "Idempotency-Key": body["referral_id"], **headers}
    return client.post("/referrals", json=body, headers=sent)


def add_referral(client: TestClient, **fields: Any) -> dict[str, Any]:
    """Post a referral through the real intake endpoint; returns the body sent."""
    body = referral_body(**fields)
    response = post_referral(client, body)
    # 201 is the right answer for a new referral; test_referral_intake.py pins that down, so a
    # wrong status code there does not also break every test that merely needs a referral.
    assert response.status_code in (200, 201), response.text
    with db() as session:
        assert session.get(Referral, body["referral_id"]) is not None
    return body


def create_coordinator(email: str, *, role: str = "coordinator", password: str = PASSWORD) -> int:
    from api.services.auth import create_account

    with db() as session:
        account, created = create_account(session, email=email, password=password, role=role)  # type: ignore[arg-type]
        assert created
        return account.id


@dataclass
class Actor:
    """A logged-in coordinator or admin with its own cookie jar."""

    client: TestClient
    csrf: str
    id: int
    email: str

    def headers(self) -> dict[str, str]:
        return {CSRF_HEADER: self.csrf}

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(url, headers={**self.headers(), **kwargs.pop("headers", {})}, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.request("DELETE", url, headers={**self.headers(), **kwargs.pop("headers", {})}, **kwargs)


def login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Log in through the real endpoint; returns the CSRF token."""
    response = client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["csrf_token"]


def new_client(app: FastAPI, address: str = "testclient") -> TestClient:
    return TestClient(app, client=(address, 50000))


def logged_in(app: FastAPI, *, role: str = "coordinator", email: Optional[str] = None) -> Actor:
    """A new account of this role, logged in on its own client."""
    email = email or f"{role}-{uuid.uuid4().hex[:8]}@study.example"
    coordinator_id = create_coordinator(email, role=role)
    client = new_client(app)
    return Actor(client=client, csrf=login(client, email), id=coordinator_id, email=email)
