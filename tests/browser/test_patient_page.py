"""The patient page and the chat widget in Chromium, against the real bot (safety-security P5, WCAG 2.1 AA)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import pytest

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect  # noqa: E402

from tests.browser.conftest import Journey  # noqa: E402
from tests.browser.helpers import (  # noqa: E402
    LIKELY_FIT,
    Answer,
    Button,
    Pain,
    PatientChat,
    active,
    assert_accessible,
    assert_focus_visible,
    browser_storage,
    is_input,
    tab_to,
    with_contact,
)
from tests.servers import Servers  # noqa: E402

pytestmark = pytest.mark.e2e

AXE_KINDS = {"patient page", "question with buttons", "pain scale", "free-text question", "outcome"}


def test_a_typed_journey_ends_likely_eligible_and_sends_the_referral(likely_fit_journey: Journey) -> None:
    journey = likely_fit_journey
    chat = PatientChat(journey.page)
    assert "likely_eligible" in journey.outcomes
    for question in ("respondent", "red_flags", "pain_score", "performance_status", "consent_contact", "contact_confirmed"):
        assert question in journey.asked
    said = chat.widget.locator(".psc-user p").all_inner_texts()
    assert LIKELY_FIT["age"] in said and LIKELY_FIT["spine_region"] in said and "7" in said
    assert any("sent your answers to the study team" in text for text in chat.bot_texts())
    # The outcome is worded as a possibility, never "you are eligible".
    assert any("may be a good fit" in text for text in chat.bot_texts())
    # No stale quick replies after the last answer; typing is still possible.
    expect(chat.choices).to_be_hidden()
    expect(chat.input).to_be_enabled()
    assert journey.problems == []


def test_axe_finds_nothing_on_the_patient_page_or_after_each_kind_of_bot_message(likely_fit_journey: Journey) -> None:
    assert set(likely_fit_journey.axe) == AXE_KINDS
    failing = {kind: found for kind, found in likely_fit_journey.axe.items() if found}
    assert failing == {}


def test_nothing_is_kept_in_browser_storage_after_a_full_chat(likely_fit_journey: Journey) -> None:
    page = likely_fit_journey.page
    assert browser_storage(page) == {
        "localStorage": [],
        "sessionStorage": [],
        "indexedDB": [],
        "cacheStorage": [],
        "documentCookie": "",
    }
    # Not even the HttpOnly session cookie: the widget sends the session in a header.
    assert page.context.cookies() == []
    # A reload starts over: nothing of the chat survives on the device.
    page.reload()
    chat = PatientChat(page)
    expect(chat.widget.get_by_role("button", name="Start the questions")).to_be_visible()
    assert chat.widget.locator(".psc-msg").count() == 0


def test_a_red_flag_shows_the_urgent_care_alert(new_page: Callable[..., Any], system: Servers, screenshots: Path) -> None:
    page = new_page()
    page.goto(system.api_url + "/")
    chat = PatientChat(page)
    chat.start()
    chat.press("For myself")
    assert chat.asks == "red_flags"
    chat.type("yes, my legs feel weak and I can't walk properly")
    assert chat.outcome == "urgent_care"
    alert = chat.urgent
    expect(alert).to_be_visible()
    expect(alert.get_by_role("heading", name="Get medical help now")).to_be_focused()
    expect(alert).to_contain_text("Call 911")
    expect(alert).to_contain_text("nearest emergency department")
    expect(alert).to_contain_text("Health Link at 811")
    # The same words fit a helper chatting for someone else (issue 13, item 1).
    expect(alert).to_contain_text("Say that this is about cancer in the spine.")
    expect(alert).not_to_contain_text("you have cancer")
    expect(alert).not_to_contain_text("your spine")
    expect(alert.get_by_role("link", name="Call 911")).to_have_attribute("href", "tel:911")
    expect(alert.get_by_role("link", name="Call Health Link 811")).to_have_attribute("href", "tel:811")
    # Above the conversation, not buried in it.
    alert_box, log_box = alert.bounding_box(), chat.widget.get_by_role("log").bounding_box()
    assert alert_box and log_box and alert_box["y"] < log_box["y"]
    assert_accessible(page, "urgent alert")
    page.screenshot(path=str(screenshots / "patient-urgent.png"), full_page=False)

    # "Start over" sends the words "start over": the questions begin again.
    chat.widget.get_by_role("button", name="Start over").click()
    chat.idle()
    assert chat.asks == "respondent"
    assert chat.widget.locator(".psc-user p").last.inner_text() == "Start over"


def _press_by_keyboard(page: Any, chat: PatientChat, answer: Answer, key: str) -> None:
    if isinstance(answer, Button):
        tab_to(page, lambda a: a["tag"] == "button" and a["name"] == answer.title)
        assert_focus_visible(page)
        page.keyboard.press(key)
    elif isinstance(answer, Pain):
        tab_to(page, lambda a: a["inPainRow"] and a["name"] == str(answer.score))
        assert_focus_visible(page)
        page.keyboard.press(key)
    else:
        tab_to(page, is_input)
        assert_focus_visible(page)
        page.keyboard.type(answer)
        page.keyboard.press("Enter")
    chat.idle()


def test_the_same_journey_with_the_keyboard_only(new_page: Callable[..., Any], system: Servers) -> None:
    page = new_page()
    page.goto(system.api_url + "/")
    chat = PatientChat(page)
    # The skip link comes first and leads to the chat.
    page.keyboard.press("Tab")
    assert active(page)["name"] == "Skip to the questions"
    page.keyboard.press("Enter")
    tab_to(page, lambda a: a["name"] == "Start the questions")
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    chat.idle()
    # Focus moved to the first quick reply of the first question.
    assert active(page)["name"] == "For myself"

    answers = with_contact(
        {**LIKELY_FIT, "respondent": Button("For myself"), "age": Button("18 or older"), "pregnancy": Button("Not possible")},
        name="Kim Keyboard",
    )
    keys = iter(["Enter", "Space"] * 40)
    outcomes: list[str] = []

    def by_keyboard(answer: Answer) -> None:
        _press_by_keyboard(page, chat, answer, next(keys))
        if chat.outcome and chat.outcome not in outcomes:
            outcomes.append(chat.outcome)
        # After a typed answer focus stays in the input; after a button it moves to the new question.
        if not isinstance(answer, str) and chat.asks:
            focused = active(page)
            first = chat.choices.locator("button").first
            if first.count():
                assert focused["name"] == first.get_attribute("data-title"), focused
            else:
                assert is_input(focused), focused

    chat.complete(answers, answer=by_keyboard)
    assert outcomes == ["likely_eligible"]
    assert any("sent your answers to the study team" in text for text in chat.bot_texts())


def test_phone_width_zoom_and_touch_targets(new_page: Callable[..., Any], system: Servers, screenshots: Path) -> None:
    # 375 px phone: the screenshot for the README.
    page = new_page(width=375, height=812, is_mobile=True, has_touch=True, device_scale_factor=2)
    page.goto(system.api_url + "/")
    chat = PatientChat(page)
    chat.start()
    chat.press("For myself")
    chat.type("no")
    chat.type("I'm 58")
    chat.type("yes")
    chat.type("lower back, L3")
    assert chat.asks == "pain_score"
    # The screen a patient sees at the pain scale (the whole page is very long on a phone).
    chat.choices.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "patient-phone.png"))
    _assert_no_sideways_scroll(page, "375 px")
    # Touch targets: every button and the text box are at least 44 by 44 CSS pixels.
    for control in chat.widget.locator("button:visible, input:visible").all():
        box = control.bounding_box()
        assert box and box["width"] >= 44 and box["height"] >= 44, (control.inner_text() or "input", box)

    # 320 px (WCAG 1.4.10 reflow) and 200% zoom (1280 px at 200% = 640 CSS px).
    for width, height, scale, where in ((320, 640, 1, "320 px"), (640, 450, 2, "200% zoom")):
        page = new_page(width=width, height=height, device_scale_factor=scale)
        page.goto(system.api_url + "/")
        chat = PatientChat(page)
        chat.start()
        chat.press("For myself")
        chat.type("no")
        chat.type("61")
        chat.type("yes")
        chat.type("T8")
        _assert_no_sideways_scroll(page, where)
        assert_accessible(page, where)


def _assert_no_sideways_scroll(page: Any, where: str) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{where}: the page scrolls sideways ({widths})"


# The chat embedded on another website (an <iframe> of /embed): tests/browser/test_embed_frame.py.


def test_the_privacy_notice_on_the_page_and_folded_in_the_chat_frame(new_page: Callable[..., Any], system: Servers) -> None:
    """Issue 13, item 4: what the chat keeps and for how long, on / and, folded, on /embed at 320 px.

    The wording itself, with RETENTION_DAYS and STUDY_CONTACT, is tests/api/test_privacy_notice.py's.
    """
    page = new_page()
    page.goto(system.api_url + "/")
    notice = page.locator("#privacy")
    expect(notice.get_by_role("heading", name="Your privacy")).to_be_visible()
    expect(notice).to_contain_text(re.compile(r"deleted \d+ days after its last message"))
    expect(notice).to_contain_text('"Start over" clears the answers')
    expect(notice).to_contain_text("Ask the cancer care team")  # STUDY_CONTACT is not set here
    expect(notice).not_to_contain_text("we keep no name")
    # The chat's start points to it before anything is typed.
    page.get_by_role("link", name="Read what this chat keeps").click()
    expect(page).to_have_url(re.compile(r"#privacy$"))

    frame = new_page(width=320, height=640)
    frame.goto(system.api_url + "/embed")
    details = frame.locator("details#privacy")
    expect(details.get_by_text("Your privacy: what this chat keeps")).to_be_visible()
    expect(details.locator(".privacy-list")).to_be_hidden()
    frame.get_by_role("link", name="Read what this chat keeps").click()
    expect(details.locator(".privacy-list")).to_be_visible()
    expect(details).to_contain_text('"Start over" clears the answers')
    _assert_no_sideways_scroll(frame, "/embed at 320 px, notice open")
    assert_accessible(frame, "/embed at 320 px, notice open")
    summary = details.locator("summary").bounding_box()
    assert summary and summary["height"] >= 44
    # The chat above it still works.
    chat = PatientChat(frame)
    chat.start()
    assert chat.asks == "respondent"


def test_a_refused_turn_can_be_sent_again_or_the_chat_restarted(new_page: Callable[..., Any], system: Servers) -> None:
    """The gateway's refusals (503 try again, 401 session gone) show its kind words and a way on."""
    page = new_page()
    page.goto(system.api_url + "/")
    chat = PatientChat(page)
    chat.start()

    def refuse(status: int, error: str, text: str, retry: bool) -> Callable[[Any], None]:
        body = {"messages": [{"text": text, "buttons": []}], "asks": "respondent", "outcome": None,
                "urgent": False, "retry": retry, "error": error}
        return lambda route: route.fulfill(status=status, json=body)

    busy = "Sorry, I am having trouble answering right now."
    page.route("**/chat/messages", refuse(503, "try_again", busy, True), times=1)
    chat.press("For myself")
    expect(chat.widget.locator(".psc-notice p").last).to_have_text(busy)
    retry = chat.choices.get_by_role("button", name="Try again")
    expect(retry).to_be_focused()
    # The question's own buttons are still there; "Try again" sends the same answer.
    expect(chat.choices.get_by_role("button", name="For myself")).to_be_visible()
    page.keyboard.press("Enter")
    chat.idle()
    assert chat.asks == "red_flags"

    gone = "This chat has ended or expired. Please start a new chat."
    page.route("**/chat/messages", refuse(401, "session_unknown", gone, False), times=1)
    chat.type("no")
    expect(chat.widget.locator(".psc-notice p").last).to_have_text(gone)
    chat.choices.get_by_role("button", name="Start a new chat").click()
    chat.idle()
    assert chat.asks == "respondent"


# --- issue 13: the consent and urgent-care messages, for a patient and for a helper ---------------


@pytest.mark.parametrize(("respondent", "name"), [("For myself", "patient"), ("For someone else", "helper")])
def test_the_consent_and_urgent_care_messages_for_a_patient_and_a_helper(
    new_page: Callable[..., Any], system: Servers, screenshots: Path, respondent: str, name: str
) -> None:
    helper = name == "helper"
    # Urgent care: the words say who has cancer in the spine.
    page = new_page()
    page.goto(system.api_url + "/")
    chat = PatientChat(page)
    chat.start()
    chat.press(respondent)
    chat.press("Yes")
    assert chat.outcome == "urgent_care"
    said = " ".join(chat.bot_texts())
    assert ("the person you are helping has cancer in the spine" in said) == helper, said
    assert ("Tell them you have cancer in your spine" in said) == (not helper), said
    expect(chat.urgent).to_be_visible()
    assert_accessible(page, f"urgent care ({name})")
    page.screenshot(path=str(screenshots / f"urgent-care-{name}.png"), full_page=False)

    # Consent: voluntary, no effect on care, who receives the answers, how long, how to withdraw.
    page = new_page()
    page.goto(system.api_url + "/")
    chat = PatientChat(page)
    chat.start()
    answers: dict[str, Answer] = {**LIKELY_FIT, "respondent": Button(respondent), "answer_check": Button("Yes")}
    if helper:
        answers.update({"age": "she is 64", "spine_region": "between her shoulder blades", "able_to_attend": "yes she can come"})
    for _ in range(30):
        if chat.asks == "consent_contact":
            break
        chat.answer(answers[chat.asks])
    assert chat.asks == "consent_contact", chat.bot_texts()
    consent = chat.bot_texts()[-1]
    for words in ("choice", "will not change", "AHS Cancer Control Alberta", "as long as the study's rules require",
                  "delete them at any time"):
        assert words in consent, (words, consent)
    assert ("person you are helping" in consent) == helper, consent
    assert_accessible(page, f"consent ({name})")
    page.screenshot(path=str(screenshots / f"consent-{name}.png"), full_page=False)
    # After a yes, a helper is asked whether the person agrees, or whether the helper decides for them (I1).
    chat.press("Yes")
    assert chat.asks == ("helper_agreement" if helper else "contact_name"), chat.bot_texts()
    if helper:
        for title in ("Yes, they agree", "I make health decisions for them", "Not yet"):
            expect(chat.choices.get_by_role("button", name=title)).to_be_visible()
        assert_accessible(page, "helper agreement")
        page.screenshot(path=str(screenshots / "consent-helper-agreement.png"), full_page=False)
