"""The coordinators' pages in Chromium, on referrals made by real patient journeys (S3, S4, S5, S7)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import Page, expect  # noqa: E402

from tests.browser.conftest import Journey  # noqa: E402
from tests.browser.helpers import (  # noqa: E402
    LIKELY_FIT,
    Button,
    assert_accessible,
    chat_in_new_context,
    log_in,
    post_referral,
    watch,
    with_contact,
)
from tests.personas import LIKELY_FIT_READ  # noqa: E402
from tests.servers import ADMIN_EMAIL, ADMIN_PASSWORD, COORDINATOR_EMAIL, COORDINATOR_PASSWORD, Servers  # noqa: E402

pytestmark = pytest.mark.e2e

XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_TIME = "<script>alert(2)</script> evenings"
XSS_NOTE = '"><svg onload=alert(3)> call back'
XSS_REASON = "<b onmouseover=alert(4)>left a message</b>"
# Elements or attributes that would mean patient text became markup.
_INJECTED = "() => document.querySelectorAll('img, iframe, [onerror], [onload], [onmouseover], script:not([src])').length"


# The queue after a search: the text stays on the server, the address has only its handle (finding 7).
SEARCHED = re.compile(r"/staff/referrals\?search=[A-Za-z0-9_-]+$")


def search_queue(page: Page, base_url: str, search: str) -> None:
    """Search the queue with its form, as a person does (the form posts; the text is never in the address)."""
    if not re.search(r"/staff/referrals(\?|$)", page.url):
        page.goto(f"{base_url}/staff/referrals")
    page.get_by_label("Search").fill(search)
    with page.expect_navigation():
        page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(SEARCHED)


def find_referral(page: Page, base_url: str, search: str, name: str, timeout_s: float = 30) -> None:
    """Search the queue until the delivery worker has brought the referral in."""
    deadline = time.monotonic() + timeout_s
    while True:
        search_queue(page, base_url, search)
        link = page.get_by_role("link", name=name, exact=True)
        if link.count():
            return
        assert time.monotonic() < deadline, f"referral of {name!r} not in the queue"
        time.sleep(0.5)


def assert_nothing_injected(page: Page, where: str) -> None:
    assert page.evaluate(_INJECTED) == 0, f"{where}: patient text became HTML"


def test_pages_need_a_login(new_page: Callable[..., Any], system: Servers) -> None:
    page = new_page()
    response = page.goto(system.api_url + "/staff/referrals?status=new")
    assert response is not None and response.status == 401
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert_accessible(page, "login page")

    page.get_by_label("Email").fill(COORDINATOR_EMAIL)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator('[data-role="form-error"]')).to_have_text("Email or password is not right.")
    expect(page.locator('[data-role="form-error"]')).to_be_focused()
    page.get_by_label("Password").fill(COORDINATOR_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # Back where the coordinator was going: its path only, never a query string (finding 7).
    expect(page).to_have_url(re.compile(r"/staff/referrals$"))
    expect(page.get_by_role("heading", name="Referrals")).to_be_visible()

    # A coordinator (not an admin) has no audit log.
    expect(page.get_by_role("link", name="Audit log")).to_have_count(0)
    response = page.goto(system.api_url + "/staff/audit")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()

    # Logging out ends the session on the server.
    page.goto(system.api_url + "/staff/referrals")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    response = page.goto(system.api_url + "/staff/referrals")
    assert response is not None and response.status == 401


def test_a_coordinator_finds_the_referral_sees_every_criterion_and_moves_it_to_contacting(
    likely_fit_journey: Journey, new_page: Callable[..., Any], system: Servers, screenshots: Path
) -> None:
    page = new_page(width=1280, height=900)
    log_in(page, system.api_url, COORDINATOR_EMAIL, COORDINATOR_PASSWORD)
    name = likely_fit_journey.name
    # The search box, like a person would use it.
    find_referral(page, system.api_url, name.split()[0], name)
    assert name.split()[0] not in page.url
    expect(page.get_by_label("Search")).to_have_value(name.split()[0])
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=name, exact=True))
    expect(row).to_contain_text("Likely a fit")
    expect(row).to_contain_text("New")
    expect(page.get_by_role("link", name="Download these referrals as CSV")).to_have_attribute(
        "href", re.compile(r"^/staff/referrals\.csv\?search=[A-Za-z0-9_-]+$")
    )
    assert_accessible(page, "queue")
    page.screenshot(path=str(screenshots / "coordinator-queue.png"), full_page=True)

    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    table = page.locator("table.criteria")
    screened = [q for q in likely_fit_journey.asked if q != "consent_contact" and not q.startswith("contact_")]
    for question in screened + ["linden"]:
        result = table.locator(f'tr[data-criterion="{question}"] .badge')
        expect(result).to_have_text("Pass")
    rows = table.locator("tbody tr")
    assert rows.count() >= len(screened) + 1
    for index in range(rows.count()):
        cells = rows.nth(index).locator("td").all_inner_texts()
        assert len(cells) == 4 and cells[0] and cells[2] and cells[3], cells  # answer, protocol, reason, result
    # The interpreted answers, next to what the rule made of them.
    expect(table.locator('tr[data-criterion="age"] td').first).to_have_text(str(LIKELY_FIT_READ["age"]))
    expect(table.locator('tr[data-criterion="spine_region"] td').first).to_have_text("Upper or middle back (thoracic)")
    expect(table.locator('tr[data-criterion="pain_score"] td').first).to_have_text("7")
    expect(table.locator('tr[data-criterion="performance_status"] td').first).to_contain_text("Does all usual activities")
    expect(page.get_by_role("region", name="Linden hint (for the study team only)")).to_contain_text("May be group A")
    assert_accessible(page, "detail")

    page.get_by_label("New status").select_option("contacting")
    page.get_by_label("Reason").fill("Called, left a message")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_text("The status was changed.")).to_be_focused()
    summary = page.get_by_role("region", name="Referral", exact=True)
    expect(summary).to_contain_text("Contacting")
    expect(page.get_by_role("table", name="Status changes")).to_contain_text("Called, left a message")
    page.get_by_label("New note").fill("Prefers mornings; will try again tomorrow.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_text("The note was added.")).to_be_visible()
    expect(page.get_by_role("region", name="Notes")).to_contain_text("Prefers mornings")
    assert_accessible(page, "detail after changes")
    page.screenshot(path=str(screenshots / "coordinator-detail.png"), full_page=True)


def test_a_helpers_referral_shows_the_patient_apart_from_the_helper(
    browser: Any, new_page: Callable[..., Any], system: Servers, screenshots: Path
) -> None:
    # A helper chats at the patient page, says the person agrees, and names them (issue 13, I1).
    problems: list[str] = []
    context, chat = chat_in_new_context(browser, system.api_url, problems)
    answers = {
        **with_contact(LIKELY_FIT, name="Ines Helper", reach="ines.helper@example.org"),
        "respondent": Button("For someone else"), "breastfeeding": "no", "answer_check": Button("Yes"),
        "helper_agreement": Button("Yes, they agree"), "patient_name": "Bea Helped",
        "helper_relationship": Button("Son or daughter"),
    }
    asked = chat.complete(answers)
    assert asked[asked.index("consent_contact"):][:4] == ["consent_contact", "helper_agreement", "patient_name", "helper_relationship"]
    context.close()
    assert problems == []

    page = new_page(width=1280, height=900)
    log_in(page, system.api_url, COORDINATOR_EMAIL, COORDINATOR_PASSWORD)
    find_referral(page, system.api_url, "Bea", "Bea Helped")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Bea Helped", exact=True))
    expect(row).to_contain_text("(helper: Ines Helper)")
    page.get_by_role("link", name="Bea Helped", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bea Helped")
    contact = page.get_by_role("region", name="Contact")
    for words in ("Bea Helped", "The patient knows and agrees to be contacted", "Ines Helper", "son or daughter",
                  "ines.helper@example.org"):
        expect(contact).to_contain_text(words)
    assert "Bea" not in page.title() and "Ines" not in page.title()
    assert_accessible(page, "detail of a helper's referral")
    page.screenshot(path=str(screenshots / "coordinator-detail-helper.png"), full_page=False)


def test_admin_pages_audit_log_and_statistics(
    likely_fit_journey: Journey, new_page: Callable[..., Any], system: Servers, screenshots: Path
) -> None:
    page = new_page()
    log_in(page, system.api_url, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    log = page.get_by_role("table", name=re.compile("Audit log, newest first"))
    expect(log).to_contain_text("login")
    expect(log).to_contain_text("list")
    assert_accessible(page, "audit log")
    page.get_by_label("Action").select_option("received")
    page.get_by_role("button", name="Apply filters").click()
    expect(log.locator("tbody tr").first).to_contain_text("received")

    page.get_by_role("link", name="Statistics").click()
    chart = page.get_by_role("img", name=re.compile("Funnel chart"))
    expect(chart).to_be_visible()
    numbers = page.get_by_role("table", name=re.compile("Funnel numbers"))
    started = numbers.get_by_role("row", name=re.compile("Conversations started"))
    assert int(started.locator("td").inner_text()) >= 1
    referrals = numbers.get_by_role("row", name=re.compile("Referrals received"))
    assert int(referrals.locator("td").inner_text()) >= 1
    expect(page.get_by_role("table", name="Why people were not a fit")).to_be_visible()
    assert_accessible(page, "statistics")
    page.screenshot(path=str(screenshots / "coordinator-stats.png"), full_page=True)


@pytest.fixture(scope="module")
def xss_referral(browser: Any, system: Servers) -> Iterator[str]:
    """A patient whose name and best time are HTML; the widget itself must show them as text."""
    problems: list[str] = []
    context, chat = chat_in_new_context(browser, system.api_url, problems, bypass_csp=True)
    page = chat.page
    chat.complete(with_contact(LIKELY_FIT, name=XSS_NAME, reach="xss.test@example.org", time=XSS_TIME))
    said = chat.widget.locator(".psc-user p").all_inner_texts()
    assert XSS_NAME in said
    assert any(XSS_NAME in text and XSS_TIME in text for text in chat.bot_texts()), "the read-back shows the text"
    assert_nothing_injected(page, "patient widget")
    context.close()
    assert problems == []
    yield XSS_NAME


def test_stored_xss_renders_as_text_everywhere(
    xss_referral: str, new_page: Callable[..., Any], system: Servers
) -> None:
    # No Content-Security-Policy for this page: escaping alone must hold.
    page = new_page(bypass_csp=True, accept_downloads=True)
    log_in(page, system.api_url, ADMIN_EMAIL, ADMIN_PASSWORD)
    find_referral(page, system.api_url, "onerror", xss_referral)
    expect(page.get_by_role("link", name=xss_referral, exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name=XSS_TIME)).to_be_visible()
    assert_nothing_injected(page, "queue")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download these referrals as CSV").click()
    csv_text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert f'"{XSS_NAME}"' in csv_text and f'"{XSS_TIME}"' in csv_text
    export = page.get_by_role("link", name="Download these referrals as CSV").get_attribute("href")
    assert export and "onerror" not in export
    response = page.request.get(system.api_url + export)
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("attachment")

    page.get_by_role("link", name=xss_referral, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(xss_referral)
    expect(page.get_by_role("region", name="Contact", exact=True)).to_contain_text(XSS_TIME)
    page.get_by_label("New note").fill(XSS_NOTE)
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_text("The note was added.")).to_be_visible()
    page.get_by_label("New status").select_option("contacting")
    page.get_by_label("Reason").fill(XSS_REASON)
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_text("The status was changed.")).to_be_visible()
    expect(page.get_by_role("region", name="Notes")).to_contain_text(XSS_NOTE)
    expect(page.get_by_role("table", name="Status changes")).to_contain_text(XSS_REASON)
    assert page.title().startswith("Referral ") and xss_referral not in page.title()
    assert_nothing_injected(page, "detail")

    page.get_by_role("link", name="Delete this referral…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Delete the referral of {xss_referral}?")
    assert_nothing_injected(page, "delete confirmation")
    for path in ("/staff/audit", "/staff/stats"):
        page.goto(system.api_url + path)
        assert_nothing_injected(page, path)


def test_withdraw_and_delete_with_a_confirmation_and_a_reason(
    xss_referral: str, new_page: Callable[..., Any], system: Servers
) -> None:
    page = new_page()
    log_in(page, system.api_url, COORDINATOR_EMAIL, COORDINATOR_PASSWORD)
    find_referral(page, system.api_url, "onerror", xss_referral)
    page.get_by_role("link", name=xss_referral, exact=True).click()
    detail_url = page.url
    page.get_by_role("link", name="Delete this referral…").click()
    assert_accessible(page, "delete confirmation")

    # Nothing happens without a reason and the confirmation.
    delete = page.get_by_role("button", name="Delete for good")
    delete.click()
    expect(page).to_have_url(re.compile(r"/delete$"))
    page.get_by_label("The patient withdrew").check()
    delete.click()
    expect(page).to_have_url(re.compile(r"/delete$"))
    page.get_by_label("I understand that this deletes the referral and the conversation for good.").check()
    delete.click()

    expect(page.get_by_text("The referral, its notes, its history and its conversation were deleted.")).to_be_visible()
    search_queue(page, system.api_url, "onerror")
    expect(page.get_by_text("No referrals match these filters.")).to_be_visible()
    response = page.goto(detail_url)
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()


# --- security review, finding 7 (e) ---------------------------------------------------------------------

SEARCH_NAME = "Philippa Searchmarker"
SEARCH_PHONE = "+1 780 555 0123"
SEARCH_EMAIL = "philippa.s@patient.example"
# None of these may be in an address, the browser's history or a window title.
SEARCH_TERMS = ("philippa", "searchmarker", SEARCH_EMAIL, "780 555 0123", "7805550123", "decoy")


def _leaks(text: str) -> list[str]:
    from urllib.parse import unquote_plus

    lowered = unquote_plus(text).lower()
    return [term for term in SEARCH_TERMS if term.lower() in lowered]


def test_finding_7_search_terms_not_in_urls(browser: Any, system: Servers, tmp_path: Path) -> None:
    import sqlite3

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    rid = post_referral(system, name=SEARCH_NAME, phone=SEARCH_PHONE, email=SEARCH_EMAIL)
    post_referral(system, name="Decoy Otherperson", phone="+1 403 555 0999", email="decoy@patient.example")
    # A profile on disk, so that Chromium keeps a real history (the other tests' contexts keep none).
    profile = tmp_path / "profile"
    context = browser.browser_type.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, viewport={"width": 1280, "height": 900}
    )
    problems: list[str] = []
    addresses: list[str] = []
    titles: list[str] = []
    try:
        page = context.new_page()
        watch(page, problems)
        context.on("request", lambda request: addresses.append(request.url))
        page.on("framenavigated", lambda frame: addresses.append(frame.url) if frame == page.main_frame else None)
        log_in(page, system.api_url, COORDINATOR_EMAIL, COORDINATOR_PASSWORD)

        for term in ("Searchmarker", SEARCH_EMAIL, "780 555 0123", "7805550123"):
            search_queue(page, system.api_url, term)
            expect(page.get_by_role("link", name=SEARCH_NAME, exact=True)).to_be_visible()
            expect(page.get_by_role("link", name="Decoy Otherperson", exact=True)).to_have_count(0)
            assert _leaks(page.url) == [], page.url
            titles.append(page.title())
        searched_url = page.url
        export = page.get_by_role("link", name="Download these referrals as CSV").get_attribute("href")
        assert export and _leaks(export) == []

        # The referral's page: no name in its title.
        page.get_by_role("link", name=SEARCH_NAME, exact=True).click()
        expect(page).to_have_url(re.compile(rf"/staff/referrals/{rid}$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(SEARCH_NAME)
        assert page.title().startswith(f"Referral {rid}") and _leaks(page.title()) == [], page.title()
        titles.append(page.title())

        # The back button: the same search, shown again, with nothing asked again.
        page.go_back()
        expect(page).to_have_url(searched_url)
        expect(page.get_by_role("link", name=SEARCH_NAME, exact=True)).to_be_visible()
        expect(page.get_by_role("link", name="Decoy Otherperson", exact=True)).to_have_count(0)
        expect(page.get_by_label("Search")).to_have_value("7805550123")
        assert page.evaluate("history.length") > 3
        # An older search, further back, is still that search.
        page.go_back()
        expect(page.get_by_label("Search")).to_have_value("780 555 0123")
        expect(page.get_by_role("link", name=SEARCH_NAME, exact=True)).to_be_visible()
    finally:
        context.close()
    assert problems == [], problems
    assert any(SEARCHED.search(a) for a in addresses), "the searches were made"
    assert [a for a in addresses if _leaks(a)] == []
    assert [t for t in titles if _leaks(t)] == []

    # What Chromium itself kept in its history: no search text, no name, in any address or title.
    history = profile / "Default" / "History"
    assert history.exists(), "Chromium kept no history file"
    with sqlite3.connect(history) as db:
        kept = db.execute("SELECT url, title FROM urls").fetchall()
    assert any("/staff/referrals?search=" in url for url, _ in kept), kept
    assert [row for row in kept if _leaks(" ".join(str(v) for v in row))] == []
