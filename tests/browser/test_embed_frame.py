"""The chat embedded on a trial website with one tag, in Chromium, against the real bot.

Security review finding 5 (issue 12): static/embed.js used to put the widget
into the trial website's own page, where every script of that website could
read the patient's answers and the chat session token, and its data-api
attribute could point the chat at any server. Now embed.js adds an <iframe>
of the API's /embed page (docs/embedding.md). The tests named
test_finding_5_* failed on the code before that change.

The trial websites are tiny servers on http://localhost:<port>; the API is
http://127.0.0.1:<port>, another origin and another site. The first website's
origin is in the API's EMBED_ORIGINS (tests/browser/conftest.py); the second
one's is not.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import urlsplit

import pytest

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect  # noqa: E402

from tests.browser.helpers import (  # noqa: E402
    PatientChat,
    assert_accessible,
    browser_storage,
)
from tests.servers import Servers, free_port  # noqa: E402

pytestmark = pytest.mark.e2e

# What embed.js must give the frame (api/web/static/embed.js says why each is there).
SANDBOX = {"allow-scripts", "allow-same-origin", "allow-forms", "allow-top-navigation-to-custom-protocols"}
# Words only a patient would type: they must never reach the trial website's page.
MARKER = "periwinkle giraffe 4711"
NO_STORAGE = {"localStorage": [], "sessionStorage": [], "indexedDB": [], "cacheStorage": [], "documentCookie": ""}


@dataclass
class Website:
    """A trial website: http://localhost:<port>, serving the pages a test gives it."""

    port: int
    pages: dict[str, bytes] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://localhost:{self.port}"

    def serve(self, path: str, body: str) -> str:
        self.pages[path] = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Trial website</title></head>'
            f"<body><main><h1>Our research study</h1>{body}</main></body></html>"
        ).encode()
        return self.origin + path


def _start(site: Website) -> ThreadingHTTPServer:
    pages = site.pages

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body = pages.get(urlsplit(self.path).path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", site.port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def websites(system: Servers) -> Iterator[tuple[Website, Website]]:
    """(the listed trial website, an unlisted one)."""
    listed, unlisted = Website(system.embed_port), Website(free_port())  # type: ignore[attr-defined]
    servers = [_start(listed), _start(unlisted)]
    try:
        yield listed, unlisted
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def one_tag(system: Servers, **attributes: str) -> str:
    extra = "".join(f' {name.replace("_", "-")}="{value}"' for name, value in attributes.items())
    return f'<script src="{system.api_url}/static/embed.js"{extra} async></script>'


# tests/browser/helpers.py browser_storage, for a third-party frame: there Chromium may refuse a
# store altogether ("blocked"), which is as good as empty.
_FRAME_STORAGE = """async () => {
  const read = async (get) => { try { return await get(); } catch (error) { return 'blocked'; } };
  return {
    localStorage: await read(() => Object.keys(window.localStorage)),
    sessionStorage: await read(() => Object.keys(window.sessionStorage)),
    indexedDB: await read(async () => (await indexedDB.databases()).map(d => d.name)),
    cacheStorage: await read(async () => ('caches' in window) ? await caches.keys() : []),
    documentCookie: await read(() => document.cookie),
  };
}"""


def frame_storage_is_empty(frame: Any) -> None:
    found = frame.evaluate(_FRAME_STORAGE)
    kept = {name: value for name, value in found.items() if value not in ([], "", "blocked")}
    assert kept == {}, f"the chat frame stored something: {found}"


def chat_of(page: Any) -> Any:
    """Where the embedded chat runs: its frame (or, before finding 5 was fixed, the host page itself)."""
    found = page.wait_for_selector("iframe, [data-chat-widget]", timeout=15_000)
    if found.evaluate("node => node.tagName") != "IFRAME":
        return page
    frame = found.content_frame()
    assert frame is not None
    frame.wait_for_selector("[data-chat-widget][data-chat-ready]", timeout=15_000)
    return frame


def frame_shows_chat(page: Any, selector: str) -> bool:
    handle = page.wait_for_selector(selector, state="attached")
    frame = handle.content_frame()
    if frame is None:
        return False
    try:
        return frame.locator("[data-chat-widget]").count() > 0
    except Exception:  # an error page of the browser's own: no chat in it
        return False


# --- the one-tag embed ------------------------------------------------------------------------


def test_the_chat_embedded_on_another_origin(
    new_page: Callable[..., Any], system: Servers, websites: tuple[Website, Website]
) -> None:
    """One script tag; the chat works inside the frame; no cookies, no storage; axe finds nothing."""
    listed, _ = websites
    page = new_page()
    sent: list[dict[str, str]] = []
    framed: list[dict[str, str]] = []
    page.on("request", lambda r: sent.append(r.headers) if r.url.endswith("/chat/messages") else None)
    page.on("request", lambda r: framed.append(r.headers) if r.url.endswith("/embed") else None)
    page.goto(listed.serve("/trial", one_tag(system)))
    frame = chat_of(page)
    chat = PatientChat(frame)
    chat.start()
    chat.press("For myself")
    assert chat.asks == "red_flags"
    chat.type("no")
    assert chat.asks == "age"

    iframe = page.locator("iframe")
    expect(iframe).to_have_count(1)
    # The frame's accessible name is the embed page's own title (embed.js FRAME_TITLE).
    assert iframe.get_attribute("title") == frame.title() != ""
    assert set((iframe.get_attribute("sandbox") or "").split()) == SANDBOX
    assert iframe.get_attribute("referrerpolicy") == "no-referrer"
    assert iframe.get_attribute("allow") is None
    # Full width of the page's column, tall enough to chat in.
    box, column = iframe.bounding_box(), page.locator("main").bounding_box()
    assert box and column and abs(box["width"] - column["width"]) < 1 and box["height"] >= 320

    # The website's address is not sent to the API; the session travels in a header, never a cookie.
    assert framed and all("referer" not in headers for headers in framed)
    assert sent and all("x-chat-session" in headers for headers in sent)
    assert "cookie" not in {key.lower() for headers in sent for key in headers}
    assert page.context.cookies() == []
    assert browser_storage(page) == NO_STORAGE
    frame_storage_is_empty(frame)
    assert_accessible(page, "trial website with the chat frame")
    assert_accessible(frame, "the chat inside the frame")


def test_the_embed_page_alone_is_accessible(new_page: Callable[..., Any], system: Servers) -> None:
    page = new_page(width=320, height=640)
    page.goto(system.api_url + "/embed")
    assert_accessible(page, "/embed")
    chat = PatientChat(page)
    chat.start()
    assert chat.asks == "respondent"
    assert_accessible(page, "/embed, first question")


def test_data_target_puts_the_frame_in_that_element(
    new_page: Callable[..., Any], system: Servers, websites: tuple[Website, Website]
) -> None:
    listed, _ = websites
    page = new_page(width=320, height=640)
    # The tag comes before its target: embed.js waits for the page to be parsed.
    url = listed.serve("/target", one_tag(system, data_target="study-chat") + '<p>Intro</p><div id="study-chat"></div>')
    page.goto(url)
    expect(page.locator("#study-chat > iframe")).to_have_count(1)
    expect(page.locator("iframe")).to_have_count(1)
    PatientChat(chat_of(page)).start()
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"the trial website scrolls sideways ({widths})"


def test_the_urgent_call_links_work_inside_the_frame(
    new_page: Callable[..., Any], system: Servers, websites: tuple[Website, Website]
) -> None:
    """A sandboxed frame's tel: links need allow-top-navigation-to-custom-protocols (else Chromium blocks them)."""
    listed, _ = websites
    page = new_page()
    console: list[str] = []
    dialled: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.on("request", lambda r: dialled.append(r.url) if r.url.startswith("tel:") else None)
    page.goto(listed.serve("/urgent", one_tag(system)))
    chat = PatientChat(chat_of(page))
    chat.start()
    chat.press("For myself")
    chat.type("yes, my legs feel weak and I can't walk properly")
    assert chat.outcome == "urgent_care"
    call = chat.urgent.get_by_role("link", name="Call 911")
    expect(call).to_be_visible()
    call.click()
    page.wait_for_timeout(500)
    assert dialled == ["tel:911"]
    assert not [text for text in console if "sandbox" in text], console
    expect(chat.urgent).to_be_visible()  # the frame is still there


# --- finding 5 ------------------------------------------------------------------------------------

_HOST_VIEW = """() => {
  const frame = document.querySelector('iframe');
  let contentDocument = 'no frame', frameWindowDocument = 'no frame';
  if (frame) {
    contentDocument = frame.contentDocument === null ? 'null' : 'readable';
    try { frame.contentWindow.document; frameWindowDocument = 'readable'; }
    catch (error) { frameWindowDocument = error.name; }
  }
  const strings = [document.body.innerText, document.documentElement.outerHTML];
  for (const node of document.querySelectorAll('*')) {
    strings.push(node.textContent || '', node.innerText || '');
    for (const attribute of node.attributes) strings.push(attribute.value);
    if (typeof node.value === 'string') strings.push(node.value);
    for (const key of Object.keys(node)) strings.push(key);
  }
  const globals = Object.keys(window).filter(key => /prescreen|psc|chat/i.test(key));
  return {contentDocument, frameWindowDocument, strings, globals};
}"""


def test_finding_5_the_host_page_cannot_read_the_patients_chat(
    new_page: Callable[..., Any], system: Servers, websites: tuple[Website, Website]
) -> None:
    """After chat turns in the embedded widget, nothing of them is in the trial website's DOM or scripts' reach."""
    listed, _ = websites
    page = new_page()
    started: list[Any] = []
    page.on("response", lambda r: started.append(r) if r.url.endswith("/chat/sessions") else None)
    page.goto(listed.serve("/leak", one_tag(system)))
    chat = PatientChat(chat_of(page))
    chat.start()
    chat.type(f"my answer is {MARKER}")
    chat.press("For myself")
    assert chat.asks == "red_flags"
    said = chat.widget.locator(".psc-user p").all_inner_texts()
    replies = chat.bot_texts()
    assert MARKER in " ".join(said) and "For myself" in said and replies
    token = started[-1].json()["session_id"]
    assert len(token) >= 16

    seen = page.evaluate(_HOST_VIEW)
    everything = "\n".join(seen["strings"])
    for secret in [MARKER, token, *said, *replies]:
        assert secret not in everything, f"the trial website's page can read {secret!r}"
    assert seen["globals"] == []
    # The browser keeps the page out of the frame: another origin.
    assert seen["contentDocument"] == "null"
    assert seen["frameWindowDocument"] == "SecurityError"


def test_finding_5_data_api_is_ignored(
    new_page: Callable[..., Any], system: Servers, websites: tuple[Website, Website]
) -> None:
    """data-api="https://evil.example" changes nothing: the frame comes from the script's own origin."""
    listed, _ = websites
    page = new_page()
    evil: list[str] = []

    def refuse(route: Any) -> None:
        evil.append(route.request.url)
        route.abort()

    page.route("https://evil.example/**", refuse)
    page.goto(listed.serve("/evil-api", one_tag(system, data_api="https://evil.example")))
    iframe = page.locator("iframe")
    expect(iframe).to_have_count(1)
    src = urlsplit(iframe.get_attribute("src") or "")
    assert f"{src.scheme}://{src.netloc}" == system.api_url
    chat = PatientChat(chat_of(page))
    chat.start()
    assert chat.asks == "respondent"
    assert evil == []


def _frames(api: str, *paths: str) -> str:
    return "".join(f'<iframe id="f{n}" title="Frame {n}" src="{api}{path}"></iframe>' for n, path in enumerate(paths))


def test_finding_5_only_embed_origins_can_frame_the_chat(
    browser: Any, system: Servers, websites: tuple[Website, Website]
) -> None:
    """The same <iframe> of /embed shows the chat on the listed website and nothing on an unlisted one."""
    listed, unlisted = websites
    context = browser.new_context()
    try:
        page = context.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.goto(listed.serve("/raw-frame", _frames(system.api_url, "/embed")))
        assert frame_shows_chat(page, "#f0"), "the listed trial website must see the chat"

        page.goto(unlisted.serve("/raw-frame", _frames(system.api_url, "/embed")))
        assert not frame_shows_chat(page, "#f0"), "an unlisted website framed the chat"
        assert any("frame-ancestors" in text for text in console), console
        # The one-tag embed on the unlisted website: the frame is there, the chat is not.
        page.goto(unlisted.serve("/one-tag", one_tag(system)))
        page.wait_for_load_state("load")
        assert not frame_shows_chat(page, "iframe")
    finally:
        context.close()


def test_finding_5_other_pages_cannot_be_framed_even_by_embed_origins(
    browser: Any, system: Servers, websites: tuple[Website, Website]
) -> None:
    """EMBED_ORIGINS opens /embed alone: the patient page and the coordinators' login stay frame-ancestors 'none'."""
    listed, _ = websites
    context = browser.new_context()
    try:
        page = context.new_page()
        answers: dict[str, str] = {}

        def record(response: Any) -> None:
            if response.url.startswith(system.api_url) and response.request.resource_type == "document":
                answers[urlsplit(response.url).path] = response.headers.get("content-security-policy", "")

        page.on("response", record)
        page.goto(listed.serve("/three-frames", _frames(system.api_url, "/embed", "/", "/staff/login")))
        assert frame_shows_chat(page, "#f0"), "the listed trial website must see the chat"
        assert not frame_shows_chat(page, "#f1"), "the patient page was framed"
        frame = page.locator("#f2").element_handle().content_frame()
        assert frame is None or frame.url.startswith("chrome-error:"), "the login page was framed"
        assert f"frame-ancestors {listed.origin}" in answers["/embed"]
        assert "frame-ancestors 'none'" in answers["/"]
        assert "frame-ancestors 'none'" in answers["/staff/login"]
    finally:
        context.close()
