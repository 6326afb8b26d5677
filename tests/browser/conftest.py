"""Browser tests: the real system (Rasa, action server, delivery worker, API) and Debian's Chromium.

Run with the API environment, which has Playwright for Python:

    .venv/api/bin/python -m pytest tests/browser -q

One `Servers` for the whole session (tests/servers.py), one Chromium. Each
test opens its own browser contexts (fresh cookies and storage). Playwright is
imported inside the fixtures, and every test module starts with
pytest.importorskip, so an environment without Playwright (the Rasa one)
skips this folder instead of failing.

Settings for this run only (on the API's environment, not os.environ):
- EMBED_ORIGINS: the "trial website" of the embed test, a tiny server on
  http://localhost:<its own port> (the API is http://127.0.0.1:<api port>:
  another origin and another site). Both are loopback addresses, so
  Chromium's local-network-access checks do not get in the way.
- CLIENT_MESSAGES_PER_MINUTE: every browser talks from 127.0.0.1, so the
  per-address chat limit (120 a minute) would count all journeys together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers import ADMIN, COORDINATOR, ROOT, Servers, free_port, running_system

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = ROOT / "docs" / "screenshots"


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    embed_port = free_port()
    settings = {"EMBED_ORIGINS": f"http://localhost:{embed_port}", "CLIENT_MESSAGES_PER_MINUTE": "1000"}
    with running_system(
        tmp_path_factory.mktemp("browser-system"), env=settings, accounts=(ADMIN, COORDINATOR)
    ) as running:
        running.embed_port = embed_port  # type: ignore[attr-defined]
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def new_page(browser: Any, system: Servers) -> Iterator[Callable[..., Any]]:
    """Open a page in a fresh context: new_page(width=1280, height=900, **context options).

    Any JavaScript dialog (alert, confirm) or page error fails the test: an
    escaped `<img onerror=alert(1)>` must never run, and the pages must not throw.
    """
    from tests.browser.helpers import watch

    contexts: list[Any] = []
    problems: list[str] = []

    def open_page(width: int = 1280, height: int = 900, **options: Any) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height}, **options)
        contexts.append(context)
        page = context.new_page()
        watch(page, problems)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert problems == [], "dialogs or page errors: " + "; ".join(problems)


@dataclass
class Journey:
    """A finished patient journey, its page still open."""

    page: Any
    name: str
    asked: list[str]
    outcomes: list[str]
    axe: dict[str, list[dict[str, Any]]]
    problems: list[str]


@pytest.fixture(scope="session")
def likely_fit_journey(browser: Any, system: Servers, screenshots: Path) -> Iterator[Journey]:
    """A patient types their way to likely_eligible, consents and leaves contact details.

    axe-core runs on the patient page and after each kind of bot message on the
    way; the desktop screenshot is taken at the pain scale.
    """
    from tests.browser.helpers import LIKELY_FIT, PatientChat, axe_violations, watch

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    watch(page, problems)
    page.goto(system.api_url + "/")
    axe = {"patient page": axe_violations(page)}
    chat = PatientChat(page)
    chat.start()
    axe["question with buttons"] = axe_violations(page)

    def before_answer(asks: str) -> None:
        if asks == "pain_score" and "pain scale" not in axe:
            axe["pain scale"] = axe_violations(page)
            page.screenshot(path=str(screenshots / "patient-desktop.png"), full_page=True)
        if asks == "contact_name":
            axe["free-text question"] = axe_violations(page)
        if chat.outcome and "outcome" not in axe:
            axe["outcome"] = axe_violations(page)

    asked = chat.complete(LIKELY_FIT, before_answer=before_answer)
    yield Journey(
        page=page,
        name=str(LIKELY_FIT["contact_name"]),
        asked=asked,
        outcomes=list(chat.seen_outcomes),
        axe=axe,
        problems=problems,
    )
    context.close()
