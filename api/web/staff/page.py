"""What every staff page needs: who is viewing, the page around the content, flashes, paging."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from api.core.security import token_hash
from api.deps import COORDINATOR_COOKIE, SessionDep
from api.models import Coordinator, CoordinatorSession
from api.web.render import render_html


@dataclass(frozen=True)
class Viewer:
    email: str
    role: str
    csrf: str
    # The server-side session's id: what searches kept for this login are bound to.
    session_id: int

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def viewer_for(request: Request, session: SessionDep, coordinator: Coordinator) -> Viewer:
    """The signed-in account and its server-side session's CSRF token (rendered into each page)."""
    token = request.cookies.get(COORDINATOR_COOKIE) or ""
    found = session.execute(
        select(CoordinatorSession.id, CoordinatorSession.csrf_token).where(
            CoordinatorSession.token_hash == token_hash(token)
        )
    ).first()
    return Viewer(
        email=coordinator.email,
        role=coordinator.role,
        csrf=found.csrf_token if found else "",
        session_id=found.id if found else 0,
    )


def signed_in_page(template: str, viewer: Viewer, nav: str, **context: Any) -> HTMLResponse:
    return render_html(template, user=viewer, csrf=viewer.csrf, nav=nav, **context)


FLASHES = ("status", "note", "screening", "deleted", "logged_out")


def flash(done: str | None) -> str | None:
    return done if done in FLASHES else None


def page_number(value: str | None) -> int:
    """A page number from the address; anything else is page 1 (the pages are lenient)."""
    return int(value) if value and value.isdigit() and 0 < int(value) <= 100_000 else 1
