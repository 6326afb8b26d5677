"""S8: hostile and odd input at the chat gateway, against the real Rasa server and action server.

Hypothesis draws several hundred inputs (very long text, emoji, right-to-left
text, HTML, SQL, control characters, other languages, empty messages, slash
commands, JSON inside text, payloads that were never offered, malformed
bodies) and sends them, a few at a time, into a handful of conversations.
After every input:

- the answer came within 10 seconds, with a 2xx or 4xx status (or the
  documented 503 with `retry: true`) and a kind message to show;
- `asks` is a known question id or null; a refusal leaves it unchanged;

and after each batch a normal answer to the question now open still moves
the conversation on (it never gets stuck). When a conversation ends, a new one
starts. The number of inputs tried is printed.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any, Optional

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.gateway_client import coordinator
from tests.outbox_view import outbox_rows
from tests.personas import HELPER_CONTACT_ORDER
from tests.servers import ROOT, Servers, running_system

pytestmark = pytest.mark.e2e

TIMEOUT_S = 10.0
MAX_CHARS = 500  # settings.max_message_chars
TRIAL_IDS = [q["id"] for q in yaml.safe_load((ROOT / "trial" / "nct04242589.yml").read_text())["questions"]]
# A helper's contact questions include a patient's (tests/personas.py, issue 13's helper consent).
CONTACT_IDS = HELPER_CONTACT_ORDER
# The confirming questions (bot/domain/checks.yml) may stand in for any question.
CHECK_IDS = ["red_flag_check", "answer_check"]
KNOWN_QUESTIONS = set(TRIAL_IDS) | set(CONTACT_IDS) | set(CHECK_IDS)
REFUSALS = {401, 409, 413, 415, 422, 429}

# A normal answer to each question: the button's title when the bot offered it, else typed text.
NORMAL: dict[str, tuple[Optional[str], str]] = {
    "respondent": ("For myself", "for myself"),
    "red_flags": (None, "no"),
    "age": (None, "I'm 61"),
    "spine_mets_confirmed": (None, "yes"),
    "spine_region": (None, "T8"),
    "pain_score": (None, "7/10"),
    "pain_warning_signs": (None, "no"),
    "cord_compression_told": (None, "no"),
    "primary_cancer": (None, "prostate"),
    "pregnancy": ("Not possible", "not possible"),
    "breastfeeding": (None, "no"),
    "prior_spine_radiation": (None, "no"),
    "performance_status": ("Does all usual activities, with no limits", "I do all my usual activities"),
    "visceral_metastases": (None, "no"),
    "able_to_attend": (None, "yes"),
    "consent_contact": ("Yes", "yes"),
    # Reached when a fuzzed answer to "respondent" was read as someone else's.
    "helper_agreement": ("Yes, they agree", "yes, they agree"),
    "patient_name": (None, "Pat Fuzz"),
    "helper_relationship": ("Friend", "friend"),
    "contact_name": (None, "Fuzz Person"),
    "contact_reach": (None, "fuzz.person@example.org"),
    "contact_time": ("Evening", "evening"),
    "contact_language": ("English", "English"),
    "contact_confirmed": ("Yes, send it", "yes"),
    "red_flag_check": ("No, it is not", "no"),
    "answer_check": ("Yes", "yes"),
}

# --- what is sent ---------------------------------------------------------------------------

EMOJI = ["😀", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🤒💊🩻", "❤️" * 60, "🙂 yes 🙂", "7️⃣/🔟"]
RIGHT_TO_LEFT = ["أنا عمري ٦١ سنة", "אני בן 61", "\u202eon\u202c", "نعم", "\u200f/affirm", "لا \u2067yes\u2069"]
OTHER_LANGUAGES = ["我今年六十一岁", "मुझे बहुत दर्द है", "J'ai 61 ans", "Мне 61 год", "Tengo dolor de espalda",
                   "61歳です", "Ja", "Nein danke", "ᐊᐃᖓᐃ", "Ndiyo"]
HTML = ["<script>alert('x')</script>", '<img src=x onerror="alert(1)">', "<b>yes</b>", "</div><h1>hi",
        "&lt;script&gt;", "<svg/onload=alert(1)>", "javascript:alert(1)", "<!-- no -->"]
SQL = ["'; DROP TABLE events; --", "1 OR 1=1", "\" OR \"\"=\"", "Robert'); DROP TABLE referrals;--",
       "%' OR '1'='1", "1; SELECT pg_sleep(20)"]
SLASH = ["/affirm", "/deny", '/inform{"pain_score": 9}', '/choose{"choice": "self"}', "/restart",
         "/session_start", "/nlu_fallback", "  /affirm", "\u200b/affirm", "//affirm", "/", "/red_flag",
         '/inform{"age": 10}', "/action_submit_referral", "/start_over", '/choose{"choice": "yes"}',
         "/dont_know", "\t/deny"]
JSON_TEXT = ['{"text": "hi"}', '{"payload": "/affirm"}', "[1, 2, 3]", "null",
             '{"sender": "another-conversation", "message": "hi"}', '{"slots": {"age": 99}}']
EMPTY = ["", " ", "\n\t\r", "\u200b", "\x00", "\u2028", "   \u200e  "]
TEMPLATES = ["{contact_name}", "{{7*7}}", "${jndi:ldap://x}", "%s%s%s%n", "{0.__class__}"]
NOT_OFFERED = ['/choose{"choice": "caregiver"}', '/choose{"choice": "not_applicable"}', "/affirm", "/deny",
               '/choose{"choice": "0"}', '/choose{"choice": "evening"}', "hello", "", "x" * 2000,
               '/choose{"choice": "yes"}', '/inform{"contact_name": "Eve"}']

controls = st.text(alphabet=st.characters(whitelist_categories=("Cc", "Cf", "Zl", "Zp", "Zs")), max_size=60)
any_text = st.text(max_size=200)
long_text = st.one_of(
    st.text(min_size=MAX_CHARS - 5, max_size=MAX_CHARS + 20),
    st.integers(MAX_CHARS + 1, 8000).map(lambda n: "a" * n),
    st.integers(MAX_CHARS // 2, MAX_CHARS + 5).map(lambda n: "😀" * n),
    st.just("no " * 166),
)
known = st.sampled_from(EMOJI + RIGHT_TO_LEFT + OTHER_LANGUAGES + HTML + SQL + SLASH + JSON_TEXT + EMPTY + TEMPLATES)
mixed = st.lists(st.one_of(known, any_text, controls), min_size=2, max_size=4).map(" ".join)
texts = st.one_of(known, known, any_text, controls, long_text, mixed)

malformed_bodies = st.sampled_from([
    (b"not json", "application/json"),
    (b'{"text": 1}', "application/json"),
    (b'{"text": "yes", "payload": "/affirm"}', "application/json"),
    (b"{}", "application/json"),
    (b"[]", "application/json"),
    (b'{"text": null}', "application/json"),
    (b'{"text": "\xff\xfe"}', "application/json"),
    (b"[" * 5000 + b"]" * 5000, "application/json"),
    (b'{"text": "yes"}', "text/plain"),
    (b"text=yes", "application/x-www-form-urlencoded"),
    (b'{"text": "yes"}', ""),
    (b"", "application/json"),
    (b'{"text": "' + b"a" * 20000 + b'"}', "application/json"),
    (b'{"text": {"nested": "yes"}}', "application/json"),
    (b'{"payload": 7}', "application/json"),
])

inputs = st.one_of(
    texts.map(lambda s: ("text", s)),
    st.one_of(st.sampled_from(NOT_OFFERED), any_text).map(lambda s: ("payload", s)),
    malformed_bodies.map(lambda b: ("raw", b)),
)


# --- the servers and the fuzzing patient ----------------------------------------------------


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    # Settings field names: session_messages_per_minute, client_messages_per_minute (api/core/config.py).
    limits = {"SESSION_MESSAGES_PER_MINUTE": "100000", "CLIENT_MESSAGES_PER_MINUTE": "100000"}
    with running_system(tmp_path_factory.mktemp("fuzz"), env=limits) as running:
        yield running


@dataclass
class FuzzPatient:
    base_url: str
    http: httpx.Client = field(init=False)
    asks: Optional[str] = None
    buttons: dict[str, str] = field(default_factory=dict)
    outcome_seen: bool = False
    conversations: int = 0
    inputs: int = 0
    normal_answers: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    slowest_s: float = 0.0

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base_url, timeout=TIMEOUT_S)

    def _check(self, response: httpx.Response, started: float, *, what: str) -> dict[str, Any]:
        elapsed = time.monotonic() - started
        self.slowest_s = max(self.slowest_s, elapsed)
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        assert elapsed <= TIMEOUT_S, f"{what}: {elapsed:.1f}s"
        body = response.json()
        code = response.status_code
        assert 200 <= code < 300 or code in REFUSALS or (code == 503 and body["retry"]), (what, code, body)
        assert body["messages"] and all(isinstance(m["text"], str) and m["text"].strip() for m in body["messages"]), (
            what, code, body,
        )
        assert body["asks"] is None or body["asks"] in KNOWN_QUESTIONS, (what, body["asks"])
        if code >= 400:
            assert body["error"], (what, body)
            if code != 401:
                assert body["asks"] == self.asks, ("a refusal moved the conversation", what, body)
        return body

    def _take(self, body: dict[str, Any]) -> None:
        """A bot turn: what it asks now and the buttons it offered."""
        self.asks = body["asks"]
        self.buttons = {b["title"]: b["payload"] for m in body["messages"] for b in m["buttons"]}
        self.outcome_seen = self.outcome_seen or bool(body["outcome"])

    def start(self) -> None:
        self.http.cookies.clear()
        started = time.monotonic()
        response = self.http.post("/chat/sessions")
        assert response.status_code == 201, response.text
        self.asks = None
        self.outcome_seen = False
        self._take(self._check(response, started, what="start"))
        self.conversations += 1

    def send(self, kind: str, value: Any) -> None:
        """One fuzz input."""
        self.inputs += 1
        started = time.monotonic()
        if kind == "raw":
            content, content_type = value
            headers = {"Content-Type": content_type} if content_type else {}
            response = self.http.post("/chat/messages", content=content, headers=headers)
        else:
            response = self.http.post("/chat/messages", json={kind: value})
        body = self._check(response, started, what=f"{kind} {value!r:.80}")
        if response.status_code == 200:
            self._take(body)

    @property
    def finished(self) -> bool:
        return self.asks is None and self.outcome_seen

    def answer_normally(self) -> None:
        """A normal answer to the open question must move the conversation on."""
        if self.finished:
            self.start()
            return
        question = self.asks
        assert question is not None, "the bot stopped asking before any outcome"
        title, typed = NORMAL[question]
        typed_once = False
        for _ in range(4):
            started = time.monotonic()
            if title in self.buttons:
                response = self.http.post("/chat/messages", json={"payload": self.buttons[title]})
            else:
                typed_once = True
                response = self.http.post("/chat/messages", json={"text": typed})
            body = self._check(response, started, what=f"normal answer to {question}")
            if response.status_code == 503:  # documented: send the same again
                continue
            assert response.status_code == 200, (question, response.status_code, body)
            self.normal_answers += 1
            self._take(body)
            if self.asks == question and not self.finished and typed_once and title in self.buttons:
                # A choice question answered by typing when its buttons were not on screen: the bot
                # asks again with its buttons (as for performance_status); pressing one must work.
                continue
            assert self.asks != question or self.finished, f"stuck on {question}: {body}"
            if self.finished:
                self.start()
            return
        raise AssertionError(f"{question}: no normal answer got through: {body}")


@pytest.fixture(scope="module")
def patient(system: Servers) -> Iterator[FuzzPatient]:
    fuzzing = FuzzPatient(system.api_url)
    fuzzing.start()
    yield fuzzing
    print(
        f"\nfuzz: {fuzzing.inputs} inputs tried, {fuzzing.normal_answers} normal answers, "
        f"{fuzzing.conversations} conversations, statuses {dict(sorted(fuzzing.statuses.items()))}, "
        f"slowest answer {fuzzing.slowest_s:.2f}s"
    )


@settings(
    max_examples=180,
    deadline=None,
    database=None,
    print_blob=True,  # a failure prints @reproduce_failure(...) to replay it
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batch=st.lists(inputs, min_size=1, max_size=4))
def test_hostile_input_never_breaks_the_chat(patient: FuzzPatient, batch: list[tuple[str, Any]]) -> None:
    for kind, value in batch:
        patient.send(kind, value)
    patient.answer_normally()


def test_a_helpers_conversation_is_answered_normally_to_the_end(system: Servers) -> None:
    # The fuzzing reaches a helper's questions whenever it taps "someone else" at the first
    # question (a full run found them missing here); this walks that path every time.
    helper = FuzzPatient(system.api_url)
    helper.start()
    assert helper.asks == "respondent"
    helper.send("payload", helper.buttons[next(t for t, p in helper.buttons.items() if "caregiver" in p)])
    asked = []
    while helper.conversations == 1 and len(asked) < 40:  # the last answer starts the next conversation
        asked.append(helper.asks)
        helper.answer_normally()
    assert {"helper_agreement", "patient_name", "helper_relationship"} <= set(asked)
    assert asked[-1] == "contact_confirmed"


def test_the_fuzzing_covered_several_hundred_inputs_and_conversations(patient: FuzzPatient, system: Servers) -> None:
    print(f"\nfuzz: {patient.inputs} inputs tried in {patient.conversations} conversations")
    assert patient.inputs >= 300 and patient.conversations >= 3
    assert 200 in patient.statuses and set(patient.statuses) & {409, 413, 415, 422}
    # No service hit an unhandled error meanwhile.
    for log in sorted((system.data_dir / "logs").glob("*.log")):
        text = log.read_text(errors="replace")
        assert "Traceback" not in text and " 500 " not in text, log.name


def test_every_referral_the_bot_accepted_reaches_the_team(system: Servers, patient: FuzzPatient) -> None:
    """The fuzzed conversations that ended with a sent referral: none is stuck in the outbox."""
    deadline = time.monotonic() + 30
    while True:
        with closing(sqlite3.connect(system.data_dir / "outbox.sqlite")) as outbox:
            pending = outbox.execute("SELECT COUNT(*) FROM referral_outbox WHERE delivered_at IS NULL").fetchone()[0]
            total = outbox.execute("SELECT COUNT(*) FROM referral_outbox").fetchone()[0]
        if pending == 0 or time.monotonic() > deadline:
            break
        time.sleep(1)
    print(f"\nfuzz: {total} referrals sent, {pending} not delivered")
    assert pending == 0


def test_a_too_long_email_is_asked_again_and_the_referral_still_reaches_the_team(system: Servers) -> None:
    long_email = "a" * 280 + "@example.org"
    email = "long.story@example.org"
    chat = FuzzPatient(system.api_url)
    chat.start()
    answers = {**{q: NORMAL[q] for q in NORMAL}, "contact_reach": (None, long_email)}
    asked_again = False
    for _ in range(40):
        if chat.asks is None:
            break
        title, typed = answers[chat.asks]
        if typed == long_email and asked_again:
            typed = email  # the patient corrects it after being asked again
        body = {"payload": chat.buttons[title]} if title in chat.buttons else {"text": typed}
        before = chat.asks
        response = chat.http.post("/chat/messages", json=body)
        assert response.status_code == 200, response.text
        chat._take(response.json())
        if typed == long_email:
            # An address the team's system could never take is not accepted.
            assert chat.asks == before == "contact_reach"
            asked_again = True
    assert asked_again and chat.outcome_seen and chat.asks is None
    deadline = time.monotonic() + 20
    while True:
        # A delivered row keeps only id and times: its email is read from the API's copy.
        rows = [row["delivered_at"] for row in outbox_rows(system.data_dir) if row["payload"]["contact"]["email"] == email]
        if (rows and rows[0]) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert rows == [rows[0]] and rows[0] is not None, "written to the outbox once, and delivered"
    staff = coordinator(system.api_url)
    found = staff.post("/coordinator/referrals/search", json={"q": email}).json()["items"]
    assert len(found) == 1
