"""Request dependencies: the database session and who is calling.

Every route declares exactly one access dependency from ACCESS below
(`public` included); tests/api/test_role_matrix.py walks the route table and
fails when a route has none, so a new route cannot skip authorisation.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.core.config import Settings, get_settings
from api.core.security import same, token_hash
from api.db import get_session
from api.models import Coordinator, CoordinatorSession


async def request_settings() -> Settings:
    """The settings as a request dependency. Async on purpose: FastAPI runs a
    plain `def` dependency in a worker thread, a hop that costs more than
    reading a cached object (issue 14). Tests override this one."""
    return get_settings()


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(request_settings)]

COORDINATOR_COOKIE = "coordinator_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def require_service(
    settings: SettingsDep, authorization: Annotated[str | None, Header()] = None
) -> None:
    """The action server's delivery worker, with the shared service credential."""
    expected = f"Bearer {settings.service_token}"
    if not authorization or not same(authorization, expected):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Service credential required.")


def _active_session(request: Request, session: Session, settings: Settings) -> CoordinatorSession:
    token = request.cookies.get(COORDINATOR_COOKIE)
    if not token:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Please log in.")
    found = session.scalar(
        select(CoordinatorSession).where(CoordinatorSession.token_hash == token_hash(token))
    )
    now = datetime.now(timezone.utc)
    idle = timedelta(minutes=settings.coordinator_idle_minutes)
    # An absolute lifetime from login (created_at), however active the session is (finding 7).
    lifetime = timedelta(hours=settings.coordinator_max_hours)
    if found is None or found.revoked_at is not None or not found.coordinator.active:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Please log in.")
    if _aware(found.last_seen_at) + idle < now or _aware(found.created_at) + lifetime <= now:
        found.revoked_at = now
        session.commit()
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "Your session expired. Please log in again."
        )
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER) or ""
        if not same(sent, found.csrf_token):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "Missing or wrong CSRF token.")
    found.last_seen_at = now
    session.commit()
    return found


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes even for timezone-aware columns.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def require_coordinator(
    request: Request, session: SessionDep, settings: SettingsDep
) -> Coordinator:
    """Any logged-in coordinator (role coordinator or admin)."""
    return _active_session(request, session, settings).coordinator


def require_admin(request: Request, session: SessionDep, settings: SettingsDep) -> Coordinator:
    coordinator = _active_session(request, session, settings).coordinator
    if coordinator.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Admins only.")
    return coordinator


async def public() -> None:
    """Marks a route as open to anyone (chat, health, login). Async: no worker-thread hop."""


CurrentCoordinator = Annotated[Coordinator, Depends(require_coordinator)]
CurrentAdmin = Annotated[Coordinator, Depends(require_admin)]

# The access levels a route can declare, by the dependency that enforces it.
ACCESS = {
    public: "public",
    require_service: "service",
    require_coordinator: "coordinator",
    require_admin: "admin",
}
