"""Jinja2 rendering for the web pages: autoescaping everywhere, security headers, times for people."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

WEB = Path(__file__).resolve().parent
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"

# Pages load scripts, styles and data only from this server.
_CSP_SOURCES = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'"
)


def content_security_policy(frame_ancestors: Sequence[str] = ()) -> str:
    """The pages' policy; `frame_ancestors` are the origins that may frame the page ('none' if empty).

    The origins come from api/web/cors.py embed_origins(), which accepts only
    scheme://host[:port], so nothing can add a directive here.
    """
    ancestors = " ".join(frame_ancestors) if frame_ancestors else "'none'"
    return f"{_CSP_SOURCES}; frame-ancestors {ancestors}"


# Every page but /embed: nothing may frame it.
CONTENT_SECURITY_POLICY = content_security_policy()
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    # The middleware in api/main.py sets this too; pages must never be cached (S7).
    "Cache-Control": "no-store",
}


def framed_page_headers(frame_ancestors: Sequence[str]) -> dict[str, str]:
    """The headers of the one page that may be framed (/embed, by the EMBED_ORIGINS websites).

    The same policy as every page except frame-ancestors, and no X-Frame-Options:
    it cannot list origins, and CSP frame-ancestors supersedes it in browsers.
    """
    return {
        "Content-Security-Policy": content_security_policy(frame_ancestors),
        "Cache-Control": "no-store",
    }


DISPLAY_TIMEZONE_ENV = "DISPLAY_TIMEZONE"
DEFAULT_TIMEZONE = "America/Edmonton"


def _zone() -> Any:
    try:
        return ZoneInfo(os.environ.get(DISPLAY_TIMEZONE_ENV, DEFAULT_TIMEZONE))
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def local_time(moment: datetime | None) -> str:
    """'2025-11-27 16:51 MST': stored times are UTC (SQLite hands them back naive)."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    shown = moment.astimezone(_zone())
    return f"{shown:%Y-%m-%d %H:%M} {shown.tzname() or ''}".strip()


def iso_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat()


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        # Every template, whatever its name: patient text is escaped wherever it lands (S4).
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local_time"] = local_time
    env.filters["iso_time"] = iso_time
    return env


environment = _environment()


def render_html(
    template: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    *,
    page_headers: dict[str, str] = PAGE_HEADERS,
    **context: Any,
) -> HTMLResponse:
    """A page: PAGE_HEADERS (not framable), or `page_headers=framed_page_headers(...)` for /embed."""
    body = environment.get_template(template).render(**context)
    return HTMLResponse(body, status_code=status_code, headers={**page_headers, **(headers or {})})
