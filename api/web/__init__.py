"""The web pages: the patient page with the chat widget (pages.py), the
embeddable widget (static/embed.js), and the coordinators' server-rendered
pages (staff/, dead_letter_pages.py).

- Templates are Jinja2 with autoescaping on for every template (render.py);
  patient-entered text is never marked safe.
- Static files are served by a public route, not a Starlette Mount, so the
  role matrix (tests/api/test_role_matrix.py) can check it like every route.
- The chat may be embedded on other origins listed in EMBED_ORIGINS
  (comma-separated, default none); CORS is then allowed on /chat/ and /static/ only,
  without credentials (the widget sends the session in X-Chat-Session).
"""

from __future__ import annotations

from api.web.cors import EmbedCORS, embed_origins

__all__ = ["EmbedCORS", "embed_origins"]
