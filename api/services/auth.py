"""Coordinator accounts and server-side login sessions (S1)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.core.config import Settings
from api.core.security import DUMMY_HASH, hash_password, new_token, token_hash, verify_password
from api.models import Coordinator, CoordinatorSession
from api.services import audit, login_limit

MIN_PASSWORD_CHARS = 12
ROLES = ("coordinator", "admin")


class LoginLocked(Exception):
    """Too many failed attempts for this e-mail from this address, or from this address: wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class LoginBusy(Exception):
    """Every password-check slot stayed taken: try again in a moment (nothing was counted)."""


class LoginFailed(Exception):
    """Wrong e-mail or password (deliberately not saying which)."""


# How long a login waits for a password-check slot before it is told to try again.
PASSWORD_SLOT_WAIT_S = 2.0
_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def _password_slot(size: int) -> threading.BoundedSemaphore:
    # One semaphore per configured size (tests change the setting); argon2 takes
    # ~50 ms and 64 MiB per check, so a burst of logins must queue, not pile up.
    with _slots_lock:
        return _slots.setdefault(size, threading.BoundedSemaphore(max(1, size)))


@dataclass(frozen=True)
class StartedSession:
    token: str
    csrf_token: str
    coordinator: Coordinator


def find_coordinator(session: Session, email: str) -> Coordinator | None:
    return session.scalar(
        select(Coordinator).where(Coordinator.email == login_limit.normalise_email(email))
    )


def log_in(
    session: Session, settings: Settings, *, email: str, password: str, address: str
) -> StartedSession:
    """Check the password and open a session; raises LoginLocked, LoginBusy or LoginFailed."""
    try:
        attempt = login_limit.begin(session, settings, email=email, address=address)
    except login_limit.MustWait as wait:
        raise LoginLocked(wait.retry_after) from None
    coordinator = find_coordinator(session, email)
    slot = _password_slot(settings.password_checks_at_once)
    if not slot.acquire(timeout=PASSWORD_SLOT_WAIT_S):
        login_limit.abandon(session, attempt)
        raise LoginBusy()
    try:
        # An unknown e-mail costs one hash verification too, so timing does not tell accounts apart.
        valid = verify_password(coordinator.password_hash if coordinator else DUMMY_HASH, password)
    finally:
        slot.release()
    if coordinator is None or not valid or not coordinator.active:
        login_limit.failed(session, attempt, actor_id=coordinator.id if coordinator else None)
        session.commit()
        raise LoginFailed()
    login_limit.succeeded(session, attempt)
    token, csrf = new_token(), new_token()
    session.add(
        CoordinatorSession(
            token_hash=token_hash(token), coordinator_id=coordinator.id, csrf_token=csrf
        )
    )
    audit.record(session, action="login", actor_id=coordinator.id)
    session.commit()
    return StartedSession(token=token, csrf_token=csrf, coordinator=coordinator)


def log_out(session: Session, *, token: str | None, actor_id: int) -> int | None:
    """Revoke the session behind this cookie token, server-side; returns its id."""
    found = None
    if token:
        found = session.scalar(
            select(CoordinatorSession).where(CoordinatorSession.token_hash == token_hash(token))
        )
        if found is not None and found.revoked_at is None:
            found.revoked_at = datetime.now(timezone.utc)
    audit.record(session, action="logout", actor_id=actor_id)
    session.commit()
    return found.id if found is not None else None


def create_account(
    session: Session, *, email: str, password: str, role: Literal["coordinator", "admin"]
) -> tuple[Coordinator, bool]:
    """(account, created); an existing account is left as it is. Raises ValueError on a weak password."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    email = login_limit.normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise ValueError("email_invalid")
    existing = find_coordinator(session, email)
    if existing is not None:
        return existing, False
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError("password_too_short")
    coordinator = Coordinator(
        email=email, password_hash=hash_password(password), role=role, active=True
    )
    session.add(coordinator)
    session.commit()
    return coordinator, True
