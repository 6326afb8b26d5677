"""What the browser tests share: a patient driving the chat widget, axe-core, storage, logging in."""

from __future__ import annotations

import json
import re
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

from playwright.sync_api import Locator, Page, expect

from tests.personas import likely_fit
from tests.servers import ROOT, SERVICE_TOKEN

AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# axe-core is served to the page under its own origin by Playwright (page.route), so the
# pages' Content-Security-Policy (script-src 'self') stays on while axe runs.
AXE_PATH = "/__browser-tests__/axe.min.js"
TURN_TIMEOUT_MS = 30_000


# --- every page: dialogs and errors fail the test ------------------------------------------


def watch(page: Page, problems: list[str]) -> None:
    def on_dialog(dialog: Any) -> None:
        problems.append(f"dialog {dialog.type}: {dialog.message!r}")
        dialog.dismiss()

    def on_console(message: Any) -> None:
        # A refused resource (401 page, 404) is logged by the browser; anything else is a bug,
        # including a Content-Security-Policy violation.
        if message.type == "error" and "Failed to load resource" not in message.text:
            problems.append(f"console: {message.text}")

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", on_console)
    page.route(f"**{AXE_PATH}", lambda route: route.fulfill(path=str(AXE), content_type="text/javascript"))


# --- axe-core ----------------------------------------------------------------------------------

_RUN_AXE = """async (tags) => {
  const result = await window.axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(' '), summary: n.failureSummary})),
  }));
}"""


def axe_violations(page: Page) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        origin = page.evaluate("() => location.origin")
        page.add_script_tag(url=origin + AXE_PATH)
    return page.evaluate(_RUN_AXE, AXE_TAGS)


def assert_accessible(page: Page, where: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"axe ({where}): " + json.dumps(violations, indent=1)


# --- storage -------------------------------------------------------------------------------------

_STORAGE = """async () => ({
  localStorage: Object.keys(window.localStorage),
  sessionStorage: Object.keys(window.sessionStorage),
  indexedDB: (await indexedDB.databases()).map(d => d.name),
  cacheStorage: ('caches' in window) ? await caches.keys() : [],
  documentCookie: document.cookie,
})"""


def browser_storage(page: Page) -> dict[str, Any]:
    return page.evaluate(_STORAGE)


# --- the chat widget -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    """Press the quick reply with this title."""

    title: str


@dataclass(frozen=True)
class Pain:
    """Press this number on the 0-10 pain scale."""

    score: int


Answer = Union[str, Button, Pain]

# The shared likely fit (tests/personas.py) at the page: its buttons pressed, the pain scale tapped.
LIKELY_FIT: dict[str, Answer] = {
    **{
        question: Button(reply[0]) if isinstance(reply, tuple) else reply
        for question, reply in likely_fit("Robin Journey", "403-555-0199", time="mornings", language="English").items()
    },
    "pain_score": Pain(7),
}


def with_contact(answers: dict[str, Answer], **contact: Answer) -> dict[str, Answer]:
    return {**answers, **{f"contact_{key}": value for key, value in contact.items()}}


@dataclass
class PatientChat:
    """The chat widget on a page, driven like a person with a mouse and a keyboard."""

    page: Page
    root: str = "[data-chat-widget]"
    seen_outcomes: list[str] = field(default_factory=list)

    @property
    def widget(self) -> Locator:
        return self.page.locator(self.root)

    @property
    def input(self) -> Locator:
        return self.widget.get_by_label("Type your answer")

    @property
    def choices(self) -> Locator:
        return self.widget.locator('[data-role="choices"]')

    @property
    def urgent(self) -> Locator:
        return self.widget.get_by_role("alert")

    def idle(self) -> None:
        """Wait until the bot has answered (the typing indicator is gone)."""
        expect(self.widget.locator('[data-role="typing"]')).to_be_hidden(timeout=TURN_TIMEOUT_MS)
        outcome = self.outcome
        if outcome and (not self.seen_outcomes or self.seen_outcomes[-1] != outcome):
            self.seen_outcomes.append(outcome)

    @property
    def asks(self) -> str:
        return self.widget.get_attribute("data-asks") or ""

    @property
    def outcome(self) -> str:
        return self.widget.get_attribute("data-outcome") or ""

    def bot_texts(self) -> list[str]:
        return self.widget.locator(".psc-bot p").all_inner_texts()

    def start(self) -> None:
        self.widget.get_by_role("button", name="Start the questions").click()
        self.idle()

    def type(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")
        self.idle()

    def press(self, title: str) -> None:
        self.choices.get_by_role("button", name=title, exact=True).click()
        self.idle()

    def answer(self, answer: Answer) -> None:
        if isinstance(answer, Button):
            self.press(answer.title)
        elif isinstance(answer, Pain):
            self.choices.locator(".psc-pain-row").get_by_role("button", name=str(answer.score), exact=True).click()
            self.idle()
        else:
            self.type(answer)

    def complete(
        self,
        answers: dict[str, Answer],
        before_answer: Optional[Callable[[str], None]] = None,
        answer: Optional[Callable[[Answer], None]] = None,
        max_turns: int = 40,
    ) -> list[str]:
        """Answer every question until the bot stops asking; returns the question ids asked."""
        asked: list[str] = []
        for _ in range(max_turns):
            asks = self.asks
            if not asks:
                return asked
            assert asks in answers, f"unexpected question {asks!r} after {asked}"
            if before_answer:
                before_answer(asks)
            asked.append(asks)
            (answer or self.answer)(answers[asks])
        raise AssertionError(f"the conversation did not end: {asked}")


# --- keyboard only -------------------------------------------------------------------------------------

_ACTIVE = """() => {
  const a = document.activeElement;
  if (!a || a === document.body) return {name: '', tag: '', type: '', label: '', outline: 'none', inPainRow: false};
  const style = getComputedStyle(a);
  return {
    name: (a.getAttribute('data-title') || a.getAttribute('aria-label') || a.textContent || '').trim(),
    tag: a.tagName.toLowerCase(),
    type: a.getAttribute('type') || '',
    label: a.labels && a.labels.length ? a.labels[0].textContent.trim() : '',
    outline: style.outlineStyle + ' ' + style.outlineWidth,
    inPainRow: !!a.closest('.psc-pain-row'),
  };
}"""


def active(page: Page) -> dict[str, Any]:
    return page.evaluate(_ACTIVE)


def tab_to(page: Page, matches: Callable[[dict[str, Any]], bool], limit: int = 60) -> dict[str, Any]:
    """Press Tab (then Shift+Tab) until the focused element matches; returns it."""
    for key in ("Tab", "Shift+Tab"):
        for _ in range(limit):
            now = active(page)
            if matches(now):
                return now
            page.keyboard.press(key)
    raise AssertionError(f"Tab never reached the element; focus is on {active(page)}")


def is_input(element: dict[str, Any]) -> bool:
    return element["tag"] == "input" and element["label"] == "Type your answer"


def assert_focus_visible(page: Page) -> None:
    element = active(page)
    assert element["tag"], "nothing has focus"
    assert not element["outline"].startswith("none"), f"no visible focus ring on {element}"


# --- coordinators -------------------------------------------------------------------------------------------


def log_in(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(base_url + "/staff/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/staff/referrals"))


def chat_in_new_context(browser: Any, base_url: str, problems: list[str], **options: Any) -> tuple[Any, PatientChat]:
    """A fresh browser context at the patient page (1280 x 900), its errors watched, the chat started."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    page = context.new_page()
    watch(page, problems)
    page.goto(base_url + "/")
    chat = PatientChat(page)
    chat.start()
    return context, chat


def post_referral(system: Any, **fields: Any) -> str:
    """A referral straight through the intake, as the delivery worker sends it (no chat needed); its id."""
    from tests.api.factories import referral_body

    body = referral_body(**fields)
    request = urllib.request.Request(
        system.api_url + "/referrals",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {SERVICE_TOKEN}",
            "Idempotency-Key": body["referral_id"],
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status in (200, 201)
    return str(body["referral_id"])
