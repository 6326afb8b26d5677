"""Coordinator accounts and server-side login sessions (S1)."""

from __future__ import annotations

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
    """Too many failed attempts for this e-mail or address."""


class LoginFailed(Exception):
    """Wrong e-mail or password (deliberately not saying which)."""


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
    """Check the password and open a session; raises LoginLocked or LoginFailed."""
    if login_limit.is_locked(session, settings, email=email, address=address):
        raise LoginLocked()
    coordinator = find_coordinator(session, email)
    # An unknown e-mail costs one hash verification too, so timing does not tell accounts apart.
    valid = verify_password(coordinator.password_hash if coordinator else DUMMY_HASH, password)
    if coordinator is None or not valid or not coordinator.active:
        login_limit.record_failure(
            session,
            settings,
            email=email,
            address=address,
            actor_id=coordinator.id if coordinator else None,
        )
        session.commit()
        raise LoginFailed()
    token, csrf = new_token(), new_token()
    session.add(
        CoordinatorSession(
            token_hash=token_hash(token), coordinator_id=coordinator.id, csrf_token=csrf
        )
    )
    audit.record(session, action="login", actor_id=coordinator.id)
    session.commit()
    return StartedSession(token=token, csrf_token=csrf, coordinator=coordinator)


def log_out(session: Session, *, token: str | None, actor_id: int) -> None:
    """Revoke the session behind this cookie token, server-side."""
    if token:
        found = session.scalar(
            select(CoordinatorSession).where(CoordinatorSession.token_hash == token_hash(token))
        )
        if found is not None and found.revoked_at is None:
            found.revoked_at = datetime.now(timezone.utc)
    audit.record(session, action="logout", actor_id=actor_id)
    session.commit()


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
