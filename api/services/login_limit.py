"""Login limits (S1; security review, finding 2): slow a guesser down, never lock an account.

Two counts over the last 15 minutes, from the `login_attempts` table:

- per e-mail *and* address pair: the first LOGINS_PER_15_MINUTES failures are
  free, then each further try must wait, doubling from 1 s up to 15 minutes
  after the pair's last failure. A guesser elsewhere never slows the account's
  owner, who logs in from another address: nobody can lock a coordinator out.
- per address, whatever the e-mail: LOGIN_FAILURES_PER_ADDRESS failures, then
  refused until old ones leave the window (one address trying many accounts).

The attempt is written *before* the password is checked and counts every other
attempt it can see, pending ones included: of N concurrent tries at most the
limits' allowance get a password check (check and count are one step). A
success clears its pair's failures. Rows keep keyed hashes (SECRET_KEY) of the
pair and the address, never the values, and are deleted once out of the window.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from api.core.config import Settings
from api.models import LoginAttempt
from api.services import audit

WINDOW = timedelta(minutes=15)
FIRST_WAIT_S = 1.0


class MustWait(Exception):
    """The limits refuse this attempt for `retry_after` seconds (nothing was checked or counted)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Attempt:
    id: int
    pair_key: str
    address_key: str


def _key(settings: Settings, kind: str, value: str) -> str:
    digest = hmac.new(settings.secret_key.encode(), f"{kind}:{value}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def _now() -> datetime:
    # One place to read the clock, so tests can move it.
    return datetime.now(timezone.utc)


def _aware(moment: datetime) -> datetime:
    # SQLite hands datetimes back naive (they are stored in UTC).
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _pair_wait(settings: Settings, failures: list[datetime], now: datetime) -> float:
    free = settings.logins_per_15_minutes
    if free <= 0 or len(failures) < free:
        return 0.0
    delay = min(FIRST_WAIT_S * 2 ** (len(failures) - free), WINDOW.total_seconds())
    return (max(failures) + timedelta(seconds=delay) - now).total_seconds()


def _address_wait(settings: Settings, failures: list[datetime], now: datetime) -> float:
    limit = settings.login_failures_per_address
    if limit <= 0 or len(failures) < limit:
        return 0.0
    # Allowed again when enough of the oldest failures have left the window.
    leaving = sorted(failures)[len(failures) - limit]
    return (leaving + WINDOW - now).total_seconds()


def begin(
    session: Session,
    settings: Settings,
    *,
    email: str,
    address: str,
    now: datetime | None = None,
) -> Attempt:
    """Count one attempt before its password is checked (committed); raises MustWait instead."""
    now = now or _now()
    since = now - WINDOW
    pair_key = _key(settings, "p", f"{normalise_email(email)}\n{address}")
    address_key = _key(settings, "a", address)
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < since))
    attempt = LoginAttempt(at=now, pair_key=pair_key, address_key=address_key, outcome="pending")
    session.add(attempt)
    session.commit()
    # Every other attempt this one can see counts, even one still being checked
    # (a pending attempt may well fail). Not "id < mine": PostgreSQL hands out
    # ids before commit, so a lower id can still be invisible. Each attempt
    # commits before it counts, so of any N+1 attempts the last to count sees
    # the other N: never more than the limit allows get a password check.
    earlier = (LoginAttempt.id != attempt.id) & (LoginAttempt.at >= since)
    earlier = earlier & (LoginAttempt.outcome != "ok")
    pair = session.scalars(
        select(LoginAttempt.at).where(earlier, LoginAttempt.pair_key == pair_key)
    ).all()
    by_address = session.scalars(
        select(LoginAttempt.at).where(earlier, LoginAttempt.address_key == address_key)
    ).all()
    wait = max(
        _pair_wait(settings, [_aware(at) for at in pair], now),
        _address_wait(settings, [_aware(at) for at in by_address], now),
    )
    if wait > 0:
        # A refused try is not a failure: hammering does not make the wait grow.
        session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt.id))
        session.commit()
        raise MustWait(max(1, math.ceil(wait)))
    return Attempt(id=attempt.id, pair_key=pair_key, address_key=address_key)


def abandon(session: Session, attempt: Attempt) -> None:
    """The password was never checked (the server was busy): the attempt does not count."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt.id))
    session.commit()


def failed(session: Session, attempt: Attempt, *, actor_id: int | None) -> None:
    """The password was wrong (commits with the caller); the audit log gets a row too."""
    session.execute(
        update(LoginAttempt).where(LoginAttempt.id == attempt.id).values(outcome="failed")
    )
    audit.record(
        session,
        action="login_failed",
        actor_id=actor_id,
        detail=f"p={attempt.pair_key[:24]} a={attempt.address_key[:24]}",
    )


def succeeded(session: Session, attempt: Attempt) -> None:
    """The password was right: the pair starts afresh (commits with the caller)."""
    session.execute(
        delete(LoginAttempt).where(
            LoginAttempt.pair_key == attempt.pair_key, LoginAttempt.id != attempt.id
        )
    )
    session.execute(update(LoginAttempt).where(LoginAttempt.id == attempt.id).values(outcome="ok"))
