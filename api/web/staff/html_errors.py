"""HTML refusal pages for the staff pages, and the router class they share."""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute

from api.web.render import render_html


class HTMLErrorRoute(APIRoute):
    """Refusals of these pages as HTML pages with the same status code (the JSON API keeps JSON)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def html_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as refusal:
                return _refusal_page(request, refusal.status_code, str(refusal.detail))
            except RequestValidationError:
                return _refusal_page(request, 422, None)

        return html_errors


def page_router() -> APIRouter:
    """A router for pages under /staff whose refusals are HTML pages."""
    return APIRouter(prefix="/staff", tags=["coordinator pages"], route_class=HTMLErrorRoute)


def _refusal_page(request: Request, code: int, detail: str | None) -> HTMLResponse:
    if code == status.HTTP_401_UNAUTHORIZED:
        return render_html(
            "staff/login.html",
            status_code=code,
            message=detail,
            # The path only: a query string (filters, a search's handle) never rides along.
            next_path=safe_next(request.url.path),
            flash=None,
            user=None,
            csrf=None,
            nav=None,
        )
    return render_html(
        "staff/error.html",
        status_code=code,
        code=code,
        detail=detail,
        user=None,
        csrf=None,
        nav=None,
    )


AFTER_LOGIN = "/staff/referrals"
# A path of our own pages: letters, digits, "-", "_" and "/" only (no "..", backslashes, "%",
# ":", spaces or control characters that a browser might read as another host).
_OWN_PAGE = re.compile(r"/staff/[A-Za-z0-9_/-]*")


def safe_next(path: str | None) -> str:
    """Where to go after login: only the path of one of our own pages (no open redirect).

    A query string or fragment is dropped (finding 7): the login page's address
    must not carry filters or anything a coordinator typed.
    """
    if path:
        path = path.split("?", 1)[0].split("#", 1)[0]
        if _OWN_PAGE.fullmatch(path) and "//" not in path and len(path) < 500:
            return path
    return AFTER_LOGIN
