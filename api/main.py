"""The FastAPI application: the only public service."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from api.deps import public
from api.retention_task import retention_lifespan
from api.routes import admin, auth, chat, coordinators, referrals
from api.schemas import ContractBroken
from api.web import EmbedCORS, dead_letter_pages, embed_origins, pages, staff

logger = logging.getLogger("api.errors")

# Static assets may be cached; everything else can hold patient data (S7).
CACHEABLE_PREFIXES = ("/static/",)


def create_app() -> FastAPI:
    app = FastAPI(
        title="NCT04242589 pre-screener API",
        version="1.0.0",
        description="Chat gateway, referral intake and the coordinators' referral queue.",
        # Deletes old conversations on a schedule (RETENTION_DAYS, api/services/retention.py).
        lifespan=retention_lifespan,
    )
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

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response: Response = await call_next(request)
        if not request.url.path.startswith(CACHEABLE_PREFIXES):
            response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

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

    # The embedded chat on the trial website: CORS on /chat/ and /static/ only, for EMBED_ORIGINS (default none).
    app.add_middleware(EmbedCORS, origins=embed_origins())

    return app


app = create_app()
