"""The FastAPI application: the only public service."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.exc import DBAPIError

from api.core.config import get_settings
from api.core.request_limits import RequestLimits
from api.core.security_headers import SecurityHeaders
from api.deps import public
from api.retention_task import retention_lifespan
from api.routes import admin, auth, chat, coordinators, referrals
from api.schemas import ContractBroken
from api.services.rasa_client import close_rasa_connections
from api.web import EmbedCORS, dead_letter_pages, embed_origins, pages, staff

logger = logging.getLogger("api.errors")


def _add_docs(app: FastAPI) -> None:
    """/openapi.json, /docs and /redoc, for local runs only (security review, finding 3).

    FastAPI's own doc pages load their scripts from a CDN with no CSP, on the
    origin where a coordinator's session cookie and CSRF token live, so a
    deployment never serves them. Declared here as ordinary public routes so
    the role matrix (tests/api/test_role_matrix.py) sees them like any other.
    """

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(public)])
    def openapi_schema() -> JSONResponse:
        """The OpenAPI schema of this API (local runs only)."""
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(public)])
    def swagger_ui() -> HTMLResponse:
        """Swagger UI for this API (local runs only)."""
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} (local run)")

    @app.get("/redoc", include_in_schema=False, dependencies=[Depends(public)])
    def redoc() -> HTMLResponse:
        """ReDoc for this API (local runs only)."""
        return get_redoc_html(openapi_url="/openapi.json", title=f"{app.title} (local run)")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The retention schedule while the app serves; the kept-alive connections to Rasa closed after."""
    async with retention_lifespan(app):
        try:
            yield
        finally:
            await close_rasa_connections(app)


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(
        title="NCT04242589 pre-screener API",
        version="1.0.0",
        description="Chat gateway, referral intake and the coordinators' referral queue.",
        # Deletes old conversations on a schedule (RETENTION_DAYS, api/services/retention.py).
        lifespan=lifespan,
        # FastAPI's own /docs, /redoc and /openapi.json are off; _add_docs serves them locally.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    if settings.is_local:
        _add_docs(app)
    app.include_router(chat.router)
    app.include_router(referrals.router)
    app.include_router(coordinators.router)
    app.include_router(auth.router)
    app.include_router(admin.router)
    # Web pages; static files are a public route in pages.py, not a Mount (the role matrix checks every route).
    app.include_router(pages.router)
    app.include_router(staff.router)
    app.include_router(dead_letter_pages.router)

    @app.get("/health", dependencies=[Depends(public)], tags=["health"])
    def health() -> dict[str, str]:
        """Liveness check."""
        return {"status": "ok"}

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        # Never echo the input back: it may hold health information.
        fields = sorted({".".join(str(p) for p in e["loc"][1:]) or "body" for e in error.errors()})
        # A referral off the contract: name where (JSON paths and rules, never values).
        for e in error.errors():
            broken = (e.get("ctx") or {}).get("error")
            if isinstance(broken, ContractBroken):
                fields = sorted(set(fields) - {"body"} | set(broken.problems))
        return JSONResponse({"detail": "Invalid request.", "fields": fields}, status_code=422)

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, error: DBAPIError) -> JSONResponse:
        # The engines hide bound parameters (api/db.py), but the driver's own
        # message can still quote a row (PostgreSQL "DETAIL: Failing row
        # contains ..."): log the kind of error and the statement only.
        logger.error(
            "database error (%s) in %s %s; statement: %s",
            type(error.orig).__name__,
            request.method,
            request.url.path,
            error.statement,
        )
        return JSONResponse({"detail": "Internal error."}, status_code=500)

    # No-store (but static assets), nosniff, no referrer: on every answer of the routes.
    app.add_middleware(SecurityHeaders)
    # Trial websites (EMBED_ORIGINS, default none) may load /static/embed.js with SRI: CORS on that file only.
    app.add_middleware(EmbedCORS, origins=embed_origins())
    # Added last, so it runs first: no body or cookie header past the caps reaches any parser.
    app.add_middleware(RequestLimits, limits=_request_limits)

    return app


def _request_limits() -> tuple[int, int]:
    settings = get_settings()
    return settings.max_body_bytes, settings.max_cookie_bytes


app = create_app()
