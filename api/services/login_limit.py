"""Login rate limiting (S1): failed attempts per e-mail and per client address in 15 minutes.

Failures are counted from the audit log's `login_failed` rows, so the limit
holds across API workers and restarts. The rows keep only keyed hashes of the
e-mail and the address, never the values.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.core.config import Settings
from api.models import AuditEvent
from api.services import audit

WINDOW = timedelta(minutes=15)


def _key(settings: Settings, kind: str, value: str) -> str:
    digest = hmac.new(settings.secret_key.encode(), f"{kind}:{value}".encode(), hashlib.sha256)
    return f"{kind}={digest.hexdigest()[:24]}"


def _now() -> datetime:
    # One place to read the clock, so tests can move it.
    return datetime.now(timezone.utc)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _failures(session: Session, key: str, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action == "login_failed",
                AuditEvent.at >= since,
                AuditEvent.detail.contains(key),
            )
        )
        or 0
    )


def is_locked(
    session: Session,
    settings: Settings,
    *,
    email: str,
    address: str,
    now: datetime | None = None,
) -> bool:
    """True when this e-mail or this address has used up its failed attempts."""
    since = (now or _now()) - WINDOW
    limit = settings.logins_per_15_minutes
    email_key = _key(settings, "e", normalise_email(email))
    address_key = _key(settings, "a", address)
    return (
        _failures(session, email_key, since) >= limit
        or _failures(session, address_key, since) >= limit
    )


def record_failure(
    session: Session, settings: Settings, *, email: str, address: str, actor_id: int | None
) -> None:
    """Count one failed attempt (commits with the caller)."""
    detail = f"{_key(settings, 'e', normalise_email(email))} {_key(settings, 'a', address)}"
    audit.record(session, action="login_failed", actor_id=actor_id, detail=detail)
