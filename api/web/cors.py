"""CORS for the embedded chat widget: /chat/ and /static/ only, listed origins only, no credentials."""

from __future__ import annotations

import os
from collections.abc import Sequence

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

EMBED_ORIGINS_ENV = "EMBED_ORIGINS"
# The chat gateway, and the public static files (so a trial website may load them with
# crossorigin + integrity, and tools may read the stylesheet).
CORS_PREFIXES = ("/chat/", "/static/")


def embed_origins(raw: str | None = None) -> list[str]:
    """Origins allowed to embed the chat, from EMBED_ORIGINS ("https://a.example,https://b.example").

    "*" is refused on purpose: list the trial websites by name.
    """
    value = os.environ.get(EMBED_ORIGINS_ENV, "") if raw is None else raw
    origins = []
    for item in value.split(","):
        origin = item.strip().rstrip("/")
        if origin and origin != "*" and origin.startswith(("https://", "http://")):
            origins.append(origin)
    return origins


class EmbedCORS:
    """Starlette's CORSMiddleware, applied only to the chat gateway and the static files.

    The coordinators' pages and API never answer cross-origin reads; the chat
    needs no cookies across origins (allow_credentials stays off), because the
    widget sends the session token from the response body in X-Chat-Session.
    """

    def __init__(self, app: ASGIApp, origins: Sequence[str] = ()) -> None:
        self.app = app
        self.origins = list(origins)
        self.cors = CORSMiddleware(
            app,
            allow_origins=self.origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-Chat-Session"],
            allow_credentials=False,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.origins and scope["type"] == "http" and scope["path"].startswith(CORS_PREFIXES):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
