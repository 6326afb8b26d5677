"""Coordinator login, logout and who-am-I (JSON; S1, S3)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status

from api.core.client_address import client_address
from api.core.openapi import Responses
from api.core.texts import text
from api.deps import COORDINATOR_COOKIE, CurrentCoordinator, SessionDep, SettingsDep, public
from api.schemas_coordinator import ErrorOut, LoggedOut, LoginIn, LoginOut, MeOut
from api.services import auth
from api.web.staff import searches

router = APIRouter(prefix="/auth", tags=["auth"])

CSRF_COOKIE = "csrf_token"
SIGNED_IN: Responses = {
    401: {"model": ErrorOut, "description": "Not logged in, or the session expired."},
    403: {"model": ErrorOut, "description": "Missing or wrong CSRF token."},
}


@router.post(
    "/login",
    response_model=LoginOut,
    dependencies=[Depends(public)],
    responses={
        401: {"model": ErrorOut, "description": "Wrong email or password."},
        422: {"model": ErrorOut, "description": "Invalid request."},
        429: {
            "model": ErrorOut,
            "description": "Too many failed attempts for this email from this address, or from "
            "this address: wait Retry-After seconds.",
        },
        503: {
            "model": ErrorOut,
            "description": "Busy checking other logins: try again in a moment.",
        },
    },
)
def login(
    body: LoginIn, request: Request, response: Response, session: SessionDep, settings: SettingsDep
) -> LoginOut:
    """Log in and receive the session cookie and the CSRF token."""
    try:
        started = auth.log_in(
            session,
            settings,
            email=body.email,
            password=body.password,
            address=client_address(request, settings.trusted_proxies),
        )
    except auth.LoginLocked as locked:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            text("login_locked"),
            headers={"Retry-After": str(locked.retry_after)},
        ) from None
    except auth.LoginBusy:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, text("login_busy"), headers={"Retry-After": "1"}
        ) from None
    except auth.LoginFailed:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, text("login_failed")) from None
    # The session token never reaches JavaScript; the CSRF token must (it goes back in a header).
    for name, value, httponly in (
        (COORDINATOR_COOKIE, started.token, True),
        (CSRF_COOKIE, started.csrf_token, False),
    ):
        response.set_cookie(
            name,
            value,
            httponly=httponly,
            samesite="strict",
            secure=settings.cookie_secure,
            path="/",
        )
    account = started.coordinator
    return LoginOut(csrf_token=started.csrf_token, role=account.role, email=account.email)  # type: ignore[arg-type]  # role: a str column, checked by pydantic


@router.post("/logout", response_model=LoggedOut, responses=SIGNED_IN)
def logout(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    coordinator: CurrentCoordinator,
) -> LoggedOut:
    """End this session on the server and clear its cookies."""
    ended = auth.log_out(
        session, token=request.cookies.get(COORDINATOR_COOKIE), actor_id=coordinator.id
    )
    if ended is not None:
        searches.forget(ended)  # the queue's kept search texts go with the session
    for name, http_only in ((COORDINATOR_COOKIE, True), (CSRF_COOKIE, False)):
        response.delete_cookie(
            name, path="/", secure=settings.cookie_secure, httponly=http_only, samesite="strict"
        )
    return LoggedOut()


@router.get("/me", response_model=MeOut, responses={401: SIGNED_IN[401]})
def me(coordinator: CurrentCoordinator) -> MeOut:
    """The logged-in coordinator."""
    return MeOut(id=coordinator.id, email=coordinator.email, role=coordinator.role)  # type: ignore[arg-type]  # role: a str column, checked by pydantic
