"""The web pages: the patient page with the chat widget and the chat alone
for embedding (pages.py), and the coordinators' server-rendered pages (staff/,
dead_letter_pages.py).

- Templates are Jinja2 with autoescaping on for every template (render.py);
  patient-entered text is never marked safe.
- Static files are served by a public route, not a Starlette Mount, so the
  role matrix (tests/api/test_role_matrix.py) can check it like every route.
- The chat may be embedded on the websites listed in EMBED_ORIGINS
  (comma-separated, default none), as an <iframe> of /embed that
  static/embed.js adds (docs/embedding.md). Only /embed may be framed, and
  only by those origins (CSP frame-ancestors); every other page sends
  frame-ancestors 'none' and X-Frame-Options: DENY. The chat inside the frame
  talks to the API on its own origin, so no CORS is needed for it; EmbedCORS
  (cors.py) answers cross-origin reads of /static/embed.js only, for
  Subresource Integrity on the websites.
"""

from __future__ import annotations

from api.web.cors import EmbedCORS, embed_origins

__all__ = ["EmbedCORS", "embed_origins"]
