"""The coordinators' login page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from fastapi.responses import HTMLResponse

from api.deps import public
from api.web.render import render_html
from api.web.staff.html_errors import page_router, safe_next
from api.web.staff.page import flash
from api.web.staff.responses import HTML

router = page_router()


@router.get(
    "/login",
    response_class=HTMLResponse,
    dependencies=[Depends(public)],
    responses={200: {**HTML, "description": "The login form."}},
)
def login_page(
    next_: Annotated[str | None, Query(alias="next", max_length=500)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """The coordinators' login form (it posts to POST /auth/login from static/staff.js)."""
    return render_html(
        "staff/login.html",
        message=None,
        next_path=safe_next(next_),
        flash=flash(done),
        user=None,
        csrf=None,
        nav=None,
    )
