"""Referral intake for the action server (service credential, idempotent).

A body refused for a reason a retry cannot fix (it fails validation, its key
is not its referral id, or the key was used with another body) is kept as a
dead letter (api/services/dead_letters.py) when it can be: the service
credential is right, the Idempotency-Key is a referral id, and the body is
JSON within MAX_BODY_BYTES. The answer is then 422 with `"kept": true`, and
the delivery worker stops sending it and clears its own copy. Otherwise the
answer is 422 (or 413) without `kept`, and the worker keeps its copy as
refused (actions/delivery.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.types import Message, Receive

from api.core.config import get_settings
from api.core.security import same
from api.db import get_sessionmaker
from api.deps import SessionDep, require_service
from api.schemas import ReferralAccepted, ReferralIn
from api.schemas_coordinator import ErrorOut
from api.schemas_dead_letters import ReferralRefusedOut
from api.services import dead_letters
from api.services.intake import IdempotencyConflict, store_referral

# The largest referral body accepted (and so the largest dead letter kept). A
# real record is a few kilobytes; 256 KiB leaves room for the longest answers.
MAX_BODY_BYTES = 256 * 1024
REFERRAL_KEY = re.compile(r"^[A-Za-z0-9-]{8,64}$")


class Refused(Exception):
    """The body is valid JSON of the right shape, but a retry cannot make it acceptable."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(rule)
        self.rule, self.detail = rule, detail


def _invalid(fields: list[str], *, kept: bool, detail: str = "Invalid request.") -> JSONResponse:
    # Never echo the input back: it may hold health information (like api/main.py's handler).
    return JSONResponse({"detail": detail, "fields": fields, "kept": kept}, status_code=422)


def _keepable(request: Request) -> str | None:
    """The dead letter's id when this refused delivery may be kept: the right service credential and a referral key."""
    expected = f"Bearer {get_settings().service_token}"
    if not same(request.headers.get("authorization") or "", expected):
        return None
    key = request.headers.get("idempotency-key") or ""
    return key if REFERRAL_KEY.fullmatch(key) else None


async def _refuse(
    request: Request, rules: list[str], detail: str = "Invalid request."
) -> JSONResponse:
    """Keep the refused body when it can be kept, and say whether it was."""
    key = _keepable(request)
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
        parsed = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        parsed = None
    if key is None or not isinstance(parsed, dict):
        return _invalid(rules, kept=False, detail=detail)

    def keep() -> None:
        with get_sessionmaker()() as session:
            dead_letters.keep(session, referral_id=key, rules=rules, body=text)

    await run_in_threadpool(keep)
    return _invalid(rules, kept=True, detail=detail)


def _replay(body: bytes) -> Receive:
    """The body already read, handed to the route as if it came from the client."""

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


class IntakeRoute(APIRoute):
    """Bounds the body, and turns a refusal a retry cannot fix into a kept dead letter."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def intake(request: Request) -> Response:
            too_large = JSONResponse({"detail": "Body too large.", "kept": False}, status_code=413)
            declared = request.headers.get("content-length") or ""
            if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                return too_large
            # No or a wrong Content-Length: read at most the cap as it streams,
            # never the whole body first (security review, finding 4).
            chunks: list[bytes] = []
            size = 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    return too_large
                chunks.append(chunk)
            request = Request(request.scope, receive=_replay(b"".join(chunks)))
            try:
                return await handler(request)
            except RequestValidationError as error:
                return await _refuse(request, dead_letters.failed_rules(error.errors()))
            except Refused as refusal:
                return await _refuse(request, [refusal.rule], refusal.detail)

        return intake


router = APIRouter(tags=["referrals"], route_class=IntakeRoute)


@router.post(
    "/referrals",
    response_model=ReferralAccepted,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_service)],
    responses={
        200: {"model": ReferralAccepted, "description": "Already received (same key, same body)."},
        401: {"model": ErrorOut, "description": "Missing or wrong service credential."},
        413: {
            "model": ReferralRefusedOut,
            "description": "Body larger than the intake accepts; not kept.",
        },
        422: {
            "model": ReferralRefusedOut,
            "description": "Invalid body, or the key was used with another body; `kept` says whether it was kept "
            "as a dead letter for an admin.",
        },
    },
)
def receive_referral(
    body: ReferralIn,
    session: SessionDep,
    response: Response,
    idempotency_key: Annotated[str, Header(min_length=8, max_length=64)],
) -> ReferralAccepted:
    """Store a consented referral once; the same key and body again is a no-op."""
    if idempotency_key != body.referral_id:
        raise Refused(
            "referral_id: must_equal_idempotency_key", "Idempotency-Key must equal referral_id."
        )
    try:
        created = store_referral(session, body)
    except IdempotencyConflict:
        raise Refused(
            "body: differs_from_the_referral_received_with_this_key",
            "This Idempotency-Key was used with a different body.",
        ) from None
    if not created:
        response.status_code = status.HTTP_200_OK
    return ReferralAccepted(referral_id=body.referral_id, created=created)
