"""Size caps applied to every request before anything parses it (security review, finding 4).

FastAPI reads and parses a JSON body before a route's authentication runs,
so without a cap an anonymous client could make the API buffer hundreds of
megabytes on /referrals or /auth/login. This ASGI middleware, outermost,
reads at most MAX_BODY_BYTES of a body (declared Content-Length or streamed,
whichever comes first) and refuses the rest with 413; a Cookie header above
MAX_COOKIE_BYTES gets 431. The answers are fixed JSON, never an echo.
Two routes cap their bodies themselves, as a stream, and answer in their own
shapes, so they are left to do so: the chat gateway (/chat/, far lower, in
the chat's reply shape the widget shows kindly: api/routes/chat.py
`_read_message`) and the referral intake (/referrals, 256 KiB, with the
`kept` flag the delivery worker reads: api/routes/referrals.py `IntakeRoute`).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.texts import text

# Routes that read and cap their own bodies as a stream (see above).
OWN_CAP_PREFIXES = ("/chat/",)
OWN_CAP_PATHS = frozenset({"/referrals"})


async def _refuse(send: Send, status: int, key: str) -> None:
    body = json.dumps({"detail": text(key)}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestLimits:
    """Refuse oversized bodies (413) and cookie headers (431) before the app sees them."""

    def __init__(self, app: ASGIApp, limits: Callable[[], tuple[int, int]]) -> None:
        # (max body bytes, max cookie bytes), read per request so tests can change the settings.
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_body, max_cookie = self.limits()
        declared = None
        cookie_bytes = 0
        for name, value in scope["headers"]:
            if name == b"cookie":
                cookie_bytes += len(value)
            elif name == b"content-length":
                declared = value
        if cookie_bytes > max_cookie:
            await _refuse(send, 431, "cookie_too_large")
            return
        if scope["path"] in OWN_CAP_PATHS or scope["path"].startswith(OWN_CAP_PREFIXES):
            await self.app(scope, receive, send)
            return
        if declared is not None and (not declared.isdigit() or int(declared) > max_body):
            await _refuse(send, 413, "body_too_large")
            return
        # Read the whole body here, at most the cap, then hand it on as one message.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away: let the app see it as it would have.
                await self.app(scope, _replay(message, receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > max_body:
                await _refuse(send, 413, "body_too_large")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay(body, receive), send)


def _replay(first: Message, receive: Receive) -> Receive:
    # The body already read, then the real channel (for a disconnect).
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return first
        return await receive()

    return replay
