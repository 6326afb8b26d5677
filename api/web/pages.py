"""The patient page (/), the chat alone for embedding (/embed), and static files.

Patient-facing words live in the templates, never here. The chat itself talks
to the public gateway (api/routes/chat.py) from static/chat.js, always on this
server's own origin.

/embed is the one page another website may frame: static/embed.js on a trial
website adds an <iframe> of it. Its Content-Security-Policy is every page's,
except that frame-ancestors lists EMBED_ORIGINS ('none' when unset), and it
sends no X-Frame-Options. The website's own scripts cannot read into the frame
(another origin), so they never see the patient's answers or the session token.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, status
from fastapi.responses import FileResponse, HTMLResponse

from api.core.config import Settings
from api.deps import SettingsDep, public
from api.schemas_coordinator import ErrorOut
from api.web.cors import embed_origins
from api.web.render import STATIC, framed_page_headers, render_html

router = APIRouter(tags=["web"])


def privacy_notice(settings: Settings) -> dict[str, Any]:
    """What the privacy notice (templates/_privacy_notice.html) states, from the settings that decide it.

    The notice states RETENTION_DAYS because api/services/retention.py deletes
    conversations after exactly that many days; STUDY_CONTACT is shown only
    when set (the template then names no number at all).
    """
    return {
        "retention_days": settings.retention_days,
        "study_contact": settings.study_contact.strip(),
    }


HTML: dict[str, Any] = {"content": {"text/html": {}}}
STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
# Static assets may be cached briefly (the middleware leaves /static/ alone).
STATIC_CACHE = "public, max-age=300"
StaticName = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*\.(css|js|svg|png|ico)$")
]


@router.get(
    "/",
    response_class=HTMLResponse,
    dependencies=[Depends(public)],
    responses={200: {**HTML, "description": "The patient page."}},
)
def patient_page(settings: SettingsDep) -> HTMLResponse:
    """The patient page: the study in plain words, the privacy notice and the chat."""
    return render_html("index.html", **privacy_notice(settings))


@router.get(
    "/embed",
    response_class=HTMLResponse,
    dependencies=[Depends(public)],
    responses={200: {**HTML, "description": "The chat alone, for an <iframe> on a trial website."}},
)
def embed_page(settings: SettingsDep) -> HTMLResponse:
    """The chat alone (with the privacy notice), framed by static/embed.js on the EMBED_ORIGINS websites."""
    # EMBED_ORIGINS is read on each request: a few string operations.
    return render_html(
        "embed.html", page_headers=framed_page_headers(embed_origins()), **privacy_notice(settings)
    )


@router.get(
    "/static/{name}",
    response_class=FileResponse,
    dependencies=[Depends(public)],
    responses={
        200: {
            "description": "A stylesheet, script or image of the web pages.",
            "content": {media.split(";")[0]: {} for media in STATIC_TYPES.values()},
        },
        404: {"model": ErrorOut, "description": "No such file."},
        422: {"model": ErrorOut, "description": "Not a file name of the web pages."},
    },
)
def static_file(name: StaticName) -> FileResponse:
    """A static file of the web pages (chat widget, embed script, styles)."""
    path = STATIC / name
    media_type = STATIC_TYPES.get(path.suffix)
    # The pattern above allows no separators, so `path` cannot leave STATIC.
    if media_type is None or path.parent != STATIC or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not found.")
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": STATIC_CACHE})
