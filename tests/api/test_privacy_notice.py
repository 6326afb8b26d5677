"""Issue 13: words a patient, a helper and an ethics board can trust (the page's share).

- Item 4, the privacy notice (api/web/templates/_privacy_notice.html, on / and, folded, on
  /embed): it states the real RETENTION_DAYS and STUDY_CONTACT (only when set), never the old
  promise "we keep no name or contact details", and each of its claims is checked here against
  what the code does: retention (time-shifted), the record without a name (its columns), the
  session code (chat.js and the API's hash), "start over" (the real system, marked e2e).
- Item 5, only what the listing supports: the page, the chat frame and the FAQ answers
  (bot/domain/faq.yml) make none of the claims in FORBIDDEN_CLAIMS, each with the listing
  (shared/seed/NCT04242589-listing.txt) as the reason.
- Item 1, the page's share: the urgent-care banner and the page's emergency note fit a helper
  as well as a patient (no "you have cancer", no "your spine"). The bot's own messages in
  caregiver mode are tests/unit/test_caregiver_wording.py's.

What the browser keeps (nothing: no cookies, no storage) is tested in Chromium by
tests/browser/test_patient_page.py; "nothing is sent without a yes" by the consent tests (P1).
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from api.core.config import ROOT, get_settings
from api.core.security import token_hash
from api.models import ChatSession
from api.services.retention import EXPIRED_PREFIX, run_retention
from tests.api.test_queue import _events, _make_events_table, tracker_url  # noqa: F401 - fixture reused
from tests.api.test_retention import _add_chat, _add_events, _chats

PAGES = ("/", "/embed")
OLD_PROMISE = "we keep no name or contact details"
CHAT_JS = ROOT / "api" / "web" / "static" / "chat.js"
FAQ = ROOT / "bot" / "domain" / "faq.yml"
DAYS = 45
NOW = datetime.now(timezone.utc).replace(microsecond=0)


# --- reading the pages --------------------------------------------------------------------------


def _text(fragment: str) -> str:
    """What a person reads in an HTML fragment: tags dropped, entities decoded, spaces squeezed."""
    fragment = re.sub(r"<(script|style)\b.*?</\1>", " ", fragment, flags=re.S | re.I)
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())
    return re.sub(r" ([.,;:!?])", r"\1", words)  # "<strong>x</strong>." reads "x."


def page_words(body: str) -> str:
    """Every word a page can show: its text, the urgent-care template, and the widget's data-text-* words."""
    shown = [_text(body)]
    shown += [html.unescape(value) for value in re.findall(r'\bdata-text-[a-z-]+="([^"]*)"', body)]
    shown += [html.unescape(value) for value in re.findall(r'<meta name="description" content="([^"]*)"', body)]
    return "\n".join(shown)


def notice(body: str) -> str:
    found = re.findall(r'<dl class="privacy-list">(.*?)</dl>', body, flags=re.S)
    assert len(found) == 1, "the page must show the privacy notice exactly once"
    return _text(found[0])


def withdrawal(body: str) -> str:
    """The notice's "How to withdraw" part."""
    return notice(body).split("How to withdraw", 1)[1]


def urgent_banner(body: str) -> str:
    found = re.search(r'<template data-role="urgent-template">(.*?)</template>', body, flags=re.S)
    assert found, "the widget's urgent-care template is missing"
    return _text(found.group(1))


def faq_answers() -> dict[str, str]:
    responses = yaml.safe_load(FAQ.read_text())["responses"]
    return {name: variation["text"] for name, variations in responses.items() for variation in variations}


@pytest.fixture
def set_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    """set_env(NAME=value, ...): the app reads the settings afresh (api/deps.py SettingsDep)."""

    def apply(**values: str | None) -> None:
        for name, value in values.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    return apply


# --- item 4: the notice -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_the_notice_states_the_real_retention_period(client: TestClient, set_env: Any, path: str) -> None:
    set_env(RETENTION_DAYS=str(DAYS), STUDY_CONTACT=None)
    body = client.get(path).text
    said = notice(body)
    assert f"deleted {DAYS} days after its last message" in said
    # Every number of days the page gives is the retention period (here, not the default 30).
    assert set(re.findall(r"\b(\d+) days\b", page_words(body))) == {str(DAYS)}
    # The notice says what the chat keeps, that "start over" does not delete it, the record without a
    # name, the session code, what is sent and when, and a way to withdraw.
    for claim in (
        "Everything typed in the chat",
        "before choosing not to send anything",
        '"Start over" clears the answers',
        "the earlier messages stay stored until the chat is deleted",
        "This record has no name and none of the words typed",
        f"After {DAYS} days, nothing links it to the chat",
        "random code",
        "Our server keeps only a scrambled copy",
        "Nothing is saved on your device",
        "Nothing, unless you say yes",
        "They will delete the answers, the contact details and the stored chat",
        f"It is deleted after {DAYS} days",
    ):
        assert claim in said, claim
    # The chat's start says it too, before anything is typed.
    assert f"What is typed here is stored for {DAYS} days." in _text(body)


@pytest.mark.parametrize("path", PAGES)
def test_the_old_promise_is_gone(client: TestClient, path: str) -> None:
    words = page_words(client.get(path).text).lower()
    assert OLD_PROMISE not in words
    assert "keep no name" not in words and "does not save anything" not in words
    faq = " ".join(faq_answers().values()).lower()
    assert "keep no name" not in faq


@pytest.mark.parametrize("path", PAGES)
def test_without_study_contact_the_notice_names_no_number(client: TestClient, set_env: Any, path: str) -> None:
    set_env(STUDY_CONTACT=None)
    body = client.get(path).text
    said = withdrawal(body)
    assert "Contact the study team:" not in said
    assert "Ask the cancer care team" in said and "AHS Cancer Control Alberta" in said and "NCT04242589" in said
    # No invented phone number or e-mail anywhere on the page (911 and 811 are the emergency lines).
    words = page_words(body)
    assert not re.search(r"\d{3}[-. )]+\d{3}[-. ]\d{4}|\S+@\S+\.\w+", words), words
    # Blank is unset.
    set_env(STUDY_CONTACT="   ")
    assert "Contact the study team:" not in withdrawal(client.get(path).text)


@pytest.mark.parametrize("path", PAGES)
def test_study_contact_is_shown_only_when_set(client: TestClient, set_env: Any, path: str) -> None:
    set_env(STUDY_CONTACT="403-555-0123")
    said = withdrawal(client.get(path).text)
    assert "Contact the study team: 403-555-0123." in said
    assert "public listing" not in said
    set_env(STUDY_CONTACT="Study team <study@ahs.example>")
    body = client.get(path).text
    assert "Study team &lt;study@ahs.example&gt;" in body and "<study@ahs.example>" not in body
    set_env(STUDY_CONTACT=None)
    assert "403-555-0123" not in client.get(path).text


def test_the_embed_frame_shows_the_notice_folded(client: TestClient) -> None:
    body = client.get("/embed").text
    details = re.search(r'<details class="psc-privacy" id="privacy">\s*<summary>([^<]+)</summary>', body)
    assert details and details.group(1) == "Your privacy: what this chat keeps"
    assert notice(body) == notice(client.get("/").text)
    # The chat's link to it works in both pages.
    assert 'href="#privacy"' in body and 'id="privacy"' in client.get("/").text


# --- item 4: each claim against what the code does ------------------------------------------------------


@pytest.fixture
def tracker_store(settings_env: None, tracker_url: str, set_env: Any) -> str:  # noqa: F811
    set_env(RETENTION_DAYS=str(DAYS))
    _make_events_table(tracker_url, [])
    return tracker_url


def test_claim_the_stored_chat_is_deleted_n_days_after_its_last_message(tracker_store: str) -> None:
    """'The stored chat is deleted N days after its last message' (api/services/retention.py)."""
    _add_events(tracker_store, "typed-before-no", [NOW - timedelta(days=DAYS + 1)], "my name is Sam, 403-555-0100")
    _add_events(tracker_store, "almost-n-days", [NOW - timedelta(days=DAYS - 1)])
    # Started long ago, but its last message is recent: the whole chat stays.
    _add_events(tracker_store, "long-chat", [NOW - timedelta(days=DAYS + 20), NOW - timedelta(days=2)])
    assert run_retention(now=NOW).errors == []
    assert sorted(set(_events(tracker_store))) == ["almost-n-days", "long-chat"]
    assert len(_events(tracker_store)) == 3


def test_claim_the_record_without_a_name_keeps_no_words_and_is_unlinked_after_n_days(tracker_store: str) -> None:
    """'A short record ... no name and none of the words typed. After N days, nothing links it to the chat.'"""
    columns = {column.key for column in inspect(ChatSession).columns}
    # When it took place, how many messages, the result, which questions led to it, and the links
    # (token hash, conversation id, last question, offered buttons) that retention replaces.
    assert columns == {
        "id", "created_at", "last_seen_at", "finished_at", "message_count", "outcome", "outcome_reasons",
        "token_hash", "conversation_id", "last_asks", "offered_payloads",
    }, "a new column of chat_sessions: is the privacy notice still right?"
    old_token = _add_chat("old-chat", NOW - timedelta(days=DAYS + 1), outcome="not_eligible")
    _add_chat("recent-chat", NOW - timedelta(days=DAYS - 1))
    assert run_retention(now=NOW).chat_sessions_unlinked == 1
    rows = {chat.outcome: chat for chat in _chats().values()}
    old = rows["not_eligible"]
    assert old.conversation_id.startswith(EXPIRED_PREFIX) and old.token_hash != token_hash(old_token)
    assert old.outcome_reasons == ["age"] and old.finished_at is not None
    assert rows[None].conversation_id == "recent-chat"


def test_claim_only_retention_or_a_withdrawal_deletes_a_stored_chat() -> None:
    """'Start over ... the earlier messages stay stored until the chat is deleted': nothing else deletes it."""
    callers = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "api").rglob("*.py")
        if "delete_conversation(" in path.read_text() and path.name != "tracker.py"
    )
    assert callers == ["api/services/queue.py"], callers
    assert "def delete_referral(" in (ROOT / "api" / "services" / "queue.py").read_text()
    # "start over" is the action's AllSlotsReset, which Rasa appends to the conversation.
    start_over = (ROOT / "actions" / "corrections.py").read_text().split("class ActionStartOver", 1)[1]
    assert "AllSlotsReset()" in start_over and "Restarted" not in start_over and "delete" not in start_over.lower()


def test_claim_only_the_open_page_holds_the_session_code() -> None:
    """'Only this open page holds the code ... no cookies and no stored data' (static/chat.js)."""
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", CHAT_JS.read_text(), flags=re.S)
    assert 'credentials: "omit"' in code, "without it the browser would keep the API's cookie"
    assert 'headers["X-Chat-Session"] = this.sessionId' in code
    for store in ("localStorage", "sessionStorage", "indexedDB", "document.cookie", "caches."):
        assert store not in code, store


# --- item 5: only what the listing supports -----------------------------------------------------------

# Each claim the page, the chat frame or an FAQ answer must not make, with the reason (the listing
# is shared/seed/NCT04242589-listing.txt). Where a patient asks, "the study team will explain".
FORBIDDEN_CLAIMS: list[tuple[str, str]] = [
    (r"\bcompar", "a comparison: the listing names no comparison group"),
    (r"\b(?:radiation|radiotherapy|RT) alone\b", "a 'radiation alone' group: the listing's design has none"),
    (r"\bcontrol group\b|\bplacebo\b|\brandom(?:ly|i[sz]ed)?\b(?! code)", "groups or chance: the listing describes none"),
    (r"\beveryone (?:gets|will get|receives)\b|\ball (?:participants|patients) (?:get|receive)\b",
     "who gets which treatment: the listing does not say"),
    (r"\bno cost\b|\bfree\b|\bcovered\b|\bpaid\b|\bcompensat|\breimburs", "costs or payment: the listing says nothing"),
    (r"\brisk", "risks: the listing states none; the study team explains them"),
    (r"\b(?:is|are) (?:safe|safer)\b", "safety: the listing makes no such claim"),
    (r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|several|a few)\s+"
     r"(?:visits?|appointments?|treatments?|sessions?|check-ups?|injections?)\b", "visit counts: not in the listing"),
    (r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|several|a few)\s+(?:weeks?|months?|years?)\b"
     r"|\b(?:weekly|monthly)\b", "durations: the listing states none for the study (its 4 months is about past patients)"),
    (r"\bphase\b", "'Phase 2' is trial jargon the page does not explain"),
    (r"\bbetter than\b|\bworks? better\b|\bmore effective\b|\bmost effective\b|\bcures?\b",
     "a result: the listing only hypothesises one"),
    (r"\bbenefits?\b", "a benefit: research-ethics wording promises none"),
    (r"\bat the cancer cent(?:re|er)\b|\bwhich site\b|\bclosest\b",
     "where visits are: the listing names only AHS Cancer Control Alberta"),
]
# The old words (issue 13) each rule must catch: a forbidden list that catches nothing proves nothing.
OLD_WORDS = [
    "This research study compares radiation alone with radiation plus vertebroplasty for cancer that has spread to the spine.",
    "Research study care is often given at no cost, but please ask them to be sure.",
    "It is a Phase 2 study for adults 18 and older.",
    "Every treatment has some risks.",
    "In this study, everyone gets radiation to the sore spot in the spine.",
    "It checks if the two together work better than radiation alone.",
    "Visits are at the cancer centre. The study team can tell you which site is closest.",
    "There are 6 visits over 12 months.",
]


def _claims(text: str) -> list[str]:
    return [
        f"{match.group(0)!r} ({reason})"
        for pattern, reason in FORBIDDEN_CLAIMS
        for match in [re.search(pattern, text, flags=re.I)]
        if match
    ]


def test_the_forbidden_claims_catch_the_old_words() -> None:
    for words in OLD_WORDS:
        assert _claims(words), words
    assert _claims("The study team will explain how many visits there are and how long taking part lasts.") == []


@pytest.mark.parametrize("path", PAGES)
def test_the_page_makes_no_claim_the_listing_does_not(client: TestClient, set_env: Any, path: str) -> None:
    for contact in (None, "403-555-0123"):
        set_env(STUDY_CONTACT=contact)
        words = page_words(client.get(path).text)
        assert _claims(words) == [], words


@pytest.mark.parametrize(("name", "text"), sorted(faq_answers().items()))
def test_the_faq_makes_no_claim_the_listing_does_not(name: str, text: str) -> None:
    assert _claims(text) == [], f"{name}: {text}"
    # For what the listing does not say, the study team will explain.
    if name.split("/")[-1] in {"how_long", "cost", "risks", "where", "radiation"}:
        assert "The study team will explain" in text, name


# --- item 1 (the page's share): a helper reads the same words ------------------------------------------

ABOUT_THE_READER = re.compile(r"\byou have\b|\byour (?:spine|cancer|arms|legs|bladder|bowels|back)\b|\bTell them\b", re.I)


@pytest.mark.parametrize("path", PAGES)
def test_the_urgent_banner_fits_a_patient_and_a_helper(client: TestClient, path: str) -> None:
    banner = urgent_banner(client.get(path).text)
    assert "Say that this is about cancer in the spine." in banner
    assert "Call 911" in banner and "Health Link at 811" in banner
    assert not ABOUT_THE_READER.search(banner), banner
    assert "you have cancer" not in banner.lower() and "your spine" not in banner.lower()


def test_the_page_emergency_note_fits_a_patient_and_a_helper(client: TestClient) -> None:
    note = _text(re.search(r'<aside class="safety-note".*?</aside>', client.get("/").text, flags=re.S).group(0))
    assert "Say that this is about cancer in the spine." in note
    assert not ABOUT_THE_READER.search(note), note


def test_the_banner_words_live_in_the_template_not_in_chat_js() -> None:
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", CHAT_JS.read_text(), flags=re.S)
    assert not re.search(r"cancer|spine|911|811", code)


# --- "start over" and the session code in the real system ------------------------------------------------

MARKER = "periwinkle giraffe 4711"


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.servers import running_system

    with running_system(tmp_path_factory.mktemp("privacy-system"), env={"RETENTION_DAYS": str(DAYS)}) as running:
        yield running


def _rows(path: Path, query: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute(query).fetchall()


def _retention_at(system: Any, moment: datetime) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "retention", "--now", moment.isoformat()],
        env=system.env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.e2e
def test_claim_start_over_keeps_the_stored_chat_until_retention(system: Any) -> None:
    """The notice's claims as the running system shows them: the page's days, "start over", the code."""
    from tests.gateway_client import Patient

    assert f"deleted {DAYS} days after its last message" in notice(Patient(system.api_url).http.get("/").text)
    patient = Patient(system.api_url)
    patient.start()
    token = patient.reply["session_id"]
    patient.post({"text": f"my cat is called {MARKER}"})
    assert patient.status == 200
    patient.post({"text": "start over"})
    assert patient.status == 200 and patient.reply["asks"] == "respondent", patient.reply
    assert any("cleared" in text for text in patient.texts())

    tracker, api = system.data_dir / "tracker.sqlite", system.data_dir / "api.sqlite"
    # "Start over" cleared the answers (a reset event), and the words typed before it are still stored.
    kinds = [row[0] for row in _rows(tracker, "SELECT type_name FROM events ORDER BY id")]
    assert "reset_slots" in kinds
    typed = [row[0] for row in _rows(tracker, "SELECT data FROM events WHERE type_name = 'user'")]
    assert any(MARKER in json.loads(data).get("text", "") for data in typed)

    # The server keeps only a scrambled copy of the code, and none of the words typed, in its record.
    sessions = _rows(api, "SELECT * FROM chat_sessions")
    assert len(sessions) == 1
    assert token_hash(token) in sessions[0] and token not in sessions[0]
    assert MARKER not in repr(sessions)

    # Deleted N days after the last message, not before.
    _retention_at(system, datetime.now(timezone.utc) + timedelta(days=DAYS - 1))
    assert _rows(tracker, "SELECT COUNT(*) FROM events")[0][0] == len(kinds)
    _retention_at(system, datetime.now(timezone.utc) + timedelta(days=DAYS, hours=1))
    assert _rows(tracker, "SELECT COUNT(*) FROM events")[0][0] == 0
    unlinked = _rows(api, "SELECT token_hash, conversation_id, message_count FROM chat_sessions")
    assert unlinked[0][0] != token_hash(token) and unlinked[0][1].startswith(EXPIRED_PREFIX) and unlinked[0][2] == 2
