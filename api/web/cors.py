"""EMBED_ORIGINS: the trial websites that may embed the chat, and the one cross-origin read they need.

The chat is embedded as an <iframe> of /embed (api/web/pages.py,
static/embed.js): inside the frame it talks to the API on the API's own
origin, so the chat gateway needs no CORS at all. What the list is used for:

- /embed sends `Content-Security-Policy: frame-ancestors <EMBED_ORIGINS>`
  ('none' when the list is empty): browsers show the frame only on those sites.
- EmbedCORS lets those sites load /static/embed.js with Subresource Integrity
  (`integrity="sha384-..." crossorigin="anonymous"`), which needs a CORS answer.
  It answers for that one file only, for GET only, without credentials.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

EMBED_ORIGINS_ENV = "EMBED_ORIGINS"
# The only path a trial website reads across origins: the one-tag embed script.
CORS_PATHS = frozenset({"/static/embed.js"})


def _origin(item: str) -> str | None:
    """An origin as browsers write it ("https://Trial.Example/" -> "https://trial.example"), or None."""
    try:
        parts = urlsplit(item.strip().rstrip("/"))
        port = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        return None
    host = parts.hostname
    if parts.scheme not in ("https", "http") or not host:
        return None
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        return None
    # Nothing but letters, digits, dots, hyphens and IPv6 brackets may reach a CSP header.
    if any(not (char.isascii() and (char.isalnum() or char in ".-:[]")) for char in parts.netloc):
        return None
    netloc = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{netloc}" + (f":{port}" if port is not None else "")


def embed_origins(raw: str | None = None) -> list[str]:
    """Origins allowed to embed the chat, from EMBED_ORIGINS ("https://a.example,https://b.example").

    Only scheme://host[:port] items count (others are ignored), because they go
    into the /embed page's Content-Security-Policy. "*" is refused on purpose:
    list the trial websites by name.
    """
    value = os.environ.get(EMBED_ORIGINS_ENV, "") if raw is None else raw
    origins: list[str] = []
    for item in value.split(","):
        origin = _origin(item)
        if origin and origin not in origins:
            origins.append(origin)
    return origins


class EmbedCORS:
    """Starlette's CORSMiddleware, applied to /static/embed.js only (for Subresource Integrity).

    Every other path, the chat gateway included, never answers cross-origin
    reads: the embedded chat runs in a frame on the API's own origin.
    """

    def __init__(self, app: ASGIApp, origins: Sequence[str] = ()) -> None:
        self.app = app
        self.origins = list(origins)
        self.cors = CORSMiddleware(
            app,
            allow_origins=self.origins,
            allow_methods=["GET"],
            allow_headers=[],
            allow_credentials=False,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.origins and scope["type"] == "http" and scope["path"] in CORS_PATHS:
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
