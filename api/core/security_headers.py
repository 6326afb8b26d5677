"""Headers every answer of the API carries (safety-security S7).

- `Cache-Control: no-store` on everything but static assets: any other answer
  can hold patient data, and no browser or proxy may keep it.
- `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`.

A plain ASGI middleware that edits the response's first message. It replaces
an `@app.middleware("http")` function: Starlette's BaseHTTPMiddleware runs
each request through an extra task and memory streams, a measurable share of
the gateway's CPU per chat message (issue 14's profile).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Static assets may be cached; everything else can hold patient data.
CACHEABLE_PREFIXES = ("/static/",)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = scope["path"].startswith(CACHEABLE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if not cacheable:
                    headers["Cache-Control"] = "no-store"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
            await send(message)

        await self.app(scope, receive, send_with_headers)
