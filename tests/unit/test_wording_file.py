"""Issue 13, item 8: every patient-facing sentence is listed with a hash in docs/wording.md.

The committed file must be what scripts/wording.py generates, so a change of
wording anywhere shows up in review as changed rows and a new wording version.
The other tests check that the collector really finds the texts (counted here
without it) and that a changed sentence changes its hash and the version.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "wording.py"
COMMAND = "python scripts/wording.py --write"


def _load_script():
    spec = importlib.util.spec_from_file_location("wording_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


wording = _load_script()


@pytest.fixture(scope="module")
def collection():
    return wording.collect(ROOT)


@pytest.fixture(scope="module")
def by_id(collection):
    ids = [e.id for e in collection.entries]
    assert len(ids) == len(set(ids)), "ids must be unique"
    return {e.id: e for e in collection.entries}


def _section(collection, key):
    return [e for e in collection.entries if e.section == key]


# ---- the committed file --------------------------------------------------------


def test_committed_wording_file_is_current(collection) -> None:
    expected = wording.render(collection)
    path = ROOT / "docs" / "wording.md"
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if current != expected:
        changes = "\n".join("  " + line for line in wording.differences(current, expected))
        pytest.fail(f"docs/wording.md is out of date. Run: {COMMAND}\n{changes}", pytrace=False)


def test_nothing_is_left_unclassified(collection) -> None:
    unclassified = [e.id for e in _section(collection, "unclassified")]
    assert not unclassified, (
        "texts with no rule in scripts/wording.py (add their key to TRIAL_PATIENT, TRIAL_COORDINATOR "
        f"or TRIAL_NOT_WORDING, or the variation key to the domain rules): {unclassified}"
    )


def test_generation_is_stable(collection) -> None:
    assert wording.render(wording.collect(ROOT)) == wording.render(collection)


def test_hash_is_the_start_of_the_texts_sha256(collection) -> None:
    import hashlib

    for entry in collection.entries:
        assert entry.hash == hashlib.sha256(entry.text.encode("utf-8")).hexdigest()[:12]


# ---- the collector finds what a patient reads ---------------------------------------


def test_urgent_care_message_is_listed_with_its_condition(by_id) -> None:
    domain = yaml.safe_load((ROOT / "bot/domain/conversation.yml").read_text(encoding="utf-8"))
    variations = domain["responses"]["utter_urgent_care"]
    for i, variation in enumerate(variations):
        entry = by_id[f"bot/domain/conversation.yml#utter_urgent_care[{i}]"]
        assert entry.section == "domain"
        assert entry.text == variation["text"]
        assert "911" in entry.text
        wanted = ["respondent=caregiver"] if variation.get("condition") else []
        assert entry.condition == " and ".join(wanted)
    assert any(v.get("condition") for v in variations), (
        "the urgent-care message has a caregiver variation"
    )


def test_caregiver_wording_of_a_question_is_listed(by_id) -> None:
    trial = yaml.safe_load((ROOT / "trial/nct04242589.yml").read_text(encoding="utf-8"))
    red_flags = next(q for q in trial["questions"] if q["id"] == "red_flags")
    entry = by_id["trial#questions.red_flags.ask.caregiver"]
    assert entry.section == "trial"
    assert entry.text == red_flags["ask"]["caregiver"]
    # ... and as Rasa says it (rendered into the domain), with the caregiver condition.
    rendered = by_id["bot/domain/questions.yml#utter_ask_red_flags[0]"]
    assert (rendered.condition, rendered.text) == (
        "respondent=caregiver",
        red_flags["ask"]["caregiver"],
    )


def test_every_trial_text_a_patient_reads_is_listed(collection) -> None:
    trial = yaml.safe_load((ROOT / "trial/nct04242589.yml").read_text(encoding="utf-8"))
    expected, coordinator = {}, {}
    for q in trial["questions"]:
        base = f"trial#questions.{q['id']}"
        for part in ("ask", "rephrase", "topic"):
            for voice in ("self", "caregiver"):
                expected[f"{base}.{part}.{voice}"] = q[part][voice]
        for i, button in enumerate(q.get("buttons") or []):
            expected[f"{base}.buttons[{i}].title"] = button["title"]
        for i, rule in enumerate(q.get("rules") or []):
            if rule["reason"].get("patient"):
                expected[f"{base}.rules[{i}].reason.patient"] = rule["reason"]["patient"]
            coordinator[f"{base}.rules[{i}].reason.coordinator"] = rule["reason"]["coordinator"]
    for name, reason in trial["linden"]["reasons"].items():
        if reason.get("patient"):
            expected[f"trial#linden.reasons.{name}.patient"] = reason["patient"]
        coordinator[f"trial#linden.reasons.{name}.coordinator"] = reason["coordinator"]
    for name, note in trial["engine_notes"].items():
        coordinator[f"trial#engine_notes.{name}"] = note
    assert {e.id: e.text for e in _section(collection, "trial")} == expected
    assert {e.id: e.text for e in _section(collection, "trial-coordinator")} == coordinator
    assert any(".consent_contact.ask." in key for key in expected), "the consent question is listed"


def test_every_domain_response_text_is_listed(collection) -> None:
    """Counted straight from the YAML, without the collector."""
    expected = {}
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        rel = path.relative_to(ROOT).as_posix()
        for name, variations in (
            yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {}
        ).items():
            for i, variation in enumerate(variations):
                if "text" in variation:
                    expected[f"{rel}#{name}[{i}]"] = variation["text"]
                for j, button in enumerate(variation.get("buttons") or []):
                    expected[f"{rel}#{name}[{i}].buttons[{j}]"] = button["title"]
    listed = {e.id: e.text for e in _section(collection, "domain")}
    assert len(listed) == len(expected)
    assert listed == expected
    assert len([k for k in expected if ".buttons[" not in k]) > 50, (
        "the domain's responses were found"
    )


def _collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_template_texts_are_listed(collection, by_id) -> None:
    templates = ROOT / "api/web/templates"
    embed_title = re.search(
        r"<title>([^<]*)</title>", (templates / "embed.html").read_text(encoding="utf-8")
    )
    assert by_id["api/web/templates/embed.html#head/title[0]"].text == _collapse(
        embed_title.group(1)
    )
    index = (templates / "index.html").read_text(encoding="utf-8")
    h1 = re.search(r"<h1>(.*?)</h1>", index, re.S).group(1)
    assert _collapse(h1) in [
        e.text for e in _section(collection, "templates") if "index.html#" in e.id
    ]
    # A user-visible attribute: the widget's network-error sentence, shown by static/chat.js.
    widget = (templates / "_chat_widget.html").read_text(encoding="utf-8")
    network = re.search(r'data-text-network="([^"]*)"', widget).group(1)
    assert (
        by_id["api/web/templates/_chat_widget.html#{widget_id}@data-text-network"].text == network
    )
    # Jinja markup is never listed as such; {{ x }} becomes {x}.
    for entry in _section(collection, "templates"):
        assert "{{" not in entry.text and "{%" not in entry.text and "{#" not in entry.text, (
            entry.id
        )
    assert any("{widget_id}" in e.id for e in _section(collection, "templates"))


def test_inline_markup_stays_in_its_sentence() -> None:
    found = wording.template_texts(
        "<p>Call <strong>911</strong> now.<br>Then {{ name | e }}.</p><p hidden>Two</p>"
        '<div id="x">Lead <button>Go</button> tail</div><img alt="A picture"><script>var s = "no";</script>'
    )
    assert found == [
        ("p[0]", "Call 911 now. Then {name}."),
        ("p[1]", "Two"),
        ("x", "Lead"),
        ("x/button[0]", "Go"),
        ("x+1", "tail"),
        ("img[0]@alt", "A picture"),
    ]


def test_api_messages_are_listed_by_side(collection, by_id) -> None:
    path = ROOT / "api/messages/en.yml"
    values = yaml.safe_load(path.read_text(encoding="utf-8"))
    side, seen_key, sides = "messages", False, {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") and seen_key:
            side = "messages-coordinator"
        match = re.match(r"^([A-Za-z_][A-Za-z0-9_]*):", line)
        if match:
            seen_key = True
            sides[match.group(1)] = side
    listed = {
        e.id: (e.section, e.text)
        for e in collection.entries
        if e.id.startswith("api/messages/en.yml#")
    }
    assert listed == {f"api/messages/en.yml#{k}": (sides[k], values[k]) for k in values}
    assert by_id["api/messages/en.yml#try_again"].section == "messages"
    assert by_id["api/messages/en.yml#referral_not_found"].section == "messages-coordinator"


# ---- a change of wording changes the hash and the version (small fixture tree) -----------

FIXTURE = {
    "bot/domain/a.yml": """\
version: "3.1"
responses:
  utter_hello:
    - condition:
        - type: slot
          name: respondent
          value: caregiver
      text: "Hello to the helper."
      buttons:
        - title: "Go on"
          payload: "/go"
    - text: "Hello to you."
  utter_data_only:
    - custom:
        outcome: x
""",
    "trial/nct04242589.yml": """\
trial_id: T1
version: "2.3.4"
title: A listing title
engine_notes:
  not_asked: Not asked yet.
questions:
  - id: age
    protocol: [I2]
    answer_type: age
    ask:
      self: How old are you?
      caregiver: How old are they?
    rephrase:
      self: Your age?
      caregiver: Their age?
    topic:
      self: your age
      caregiver: their age
    buttons:
      - {title: Not sure, value: unknown}
    rules:
      - when: {less_than: 18}
        result: fail
        reason: {patient: Adults only., coordinator: Under 18 (I2).}
outcome_text: A new kind of text nobody classified yet.
""",
    "api/messages/en.yml": """\
# The patient's side.
oops: "Please try again."
# Coordinators' side.
gone: "That referral is gone."
""",
    "api/web/templates/index.html": '<head><title>Page</title></head><main id="main"><h1>Welcome</h1>'
    '<p>Data kept {{ retention_days }} days.</p>{% include "_chat_widget.html" %}</main>',
    "api/web/templates/_chat_widget.html": '{# widget #}<section id="{{ widget_id }}" data-text-retry="Try again">'
    '<input placeholder="Type here"></section>',
    "api/web/templates/_privacy_notice.html": "<section><h2>Privacy</h2></section>",
    "api/web/templates/embed.html": "<title>Chat</title>",
    "api/web/static/embed.js": 'var FRAME_TITLE = "Chat";\n',
}


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    for rel, text in FIXTURE.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_fixture_tree_is_collected_completely(tree: Path) -> None:
    collection = wording.collect(tree)
    got = {e.id: (e.section, e.condition, e.text) for e in collection.entries}
    assert got == {
        "bot/domain/a.yml#utter_hello[0]": (
            "domain",
            "respondent=caregiver",
            "Hello to the helper.",
        ),
        "bot/domain/a.yml#utter_hello[0].buttons[0]": ("domain", "respondent=caregiver", "Go on"),
        "bot/domain/a.yml#utter_hello[1]": ("domain", "", "Hello to you."),
        "trial#questions.age.ask.self": ("trial", "", "How old are you?"),
        "trial#questions.age.ask.caregiver": ("trial", "", "How old are they?"),
        "trial#questions.age.rephrase.self": ("trial", "", "Your age?"),
        "trial#questions.age.rephrase.caregiver": ("trial", "", "Their age?"),
        "trial#questions.age.topic.self": ("trial", "", "your age"),
        "trial#questions.age.topic.caregiver": ("trial", "", "their age"),
        "trial#questions.age.buttons[0].title": ("trial", "", "Not sure"),
        "trial#questions.age.rules[0].reason.patient": ("trial", "", "Adults only."),
        "trial#questions.age.rules[0].reason.coordinator": (
            "trial-coordinator",
            "",
            "Under 18 (I2).",
        ),
        "trial#engine_notes.not_asked": ("trial-coordinator", "", "Not asked yet."),
        # Not silently skipped: listed until someone classifies it.
        "trial#outcome_text": ("unclassified", "", "A new kind of text nobody classified yet."),
        "api/messages/en.yml#oops": ("messages", "", "Please try again."),
        "api/messages/en.yml#gone": ("messages-coordinator", "", "That referral is gone."),
        "api/web/templates/index.html#head/title[0]": ("templates", "", "Page"),
        "api/web/templates/index.html#main/h1[0]": ("templates", "", "Welcome"),
        "api/web/templates/index.html#main/p[0]": (
            "templates",
            "",
            "Data kept {retention_days} days.",
        ),
        "api/web/templates/_chat_widget.html#{widget_id}@data-text-retry": (
            "templates",
            "",
            "Try again",
        ),
        "api/web/templates/_chat_widget.html#{widget_id}/input[0]@placeholder": (
            "templates",
            "",
            "Type here",
        ),
        "api/web/templates/_privacy_notice.html#h2[0]": ("templates", "", "Privacy"),
        "api/web/templates/embed.html#title[0]": ("templates", "", "Chat"),
        "api/web/static/embed.js#FRAME_TITLE": ("scripts", "", "Chat"),
    }
    assert collection.trial_version == "2.3.4"
    document = wording.render(collection)
    assert "Trial file version: 2.3.4" in document
    assert "`bot/domain/a.yml#utter_data_only`" in document, (
        "a response without text is named, not skipped"
    )


def test_changed_sentence_changes_its_hash_and_the_version(tree: Path) -> None:
    before = wording.collect(tree)
    domain = tree / "bot/domain/a.yml"
    domain.write_text(
        domain.read_text(encoding="utf-8").replace("Hello to you.", "Hi to you."), encoding="utf-8"
    )
    after = wording.collect(tree)
    old = {e.id: e.hash for e in before.entries}
    new = {e.id: e.hash for e in after.entries}
    assert old.keys() == new.keys()
    changed = [i for i in old if old[i] != new[i]]
    assert changed == ["bot/domain/a.yml#utter_hello[1]"]
    assert wording.wording_version(before.entries) != wording.wording_version(after.entries)
    assert wording.differences(wording.render(before), wording.render(after)) == [
        "changed  bot/domain/a.yml#utter_hello[1]"
    ]


def test_check_mode_names_the_changed_ids(tree: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(SCRIPT), "--root", str(tree), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert run("--check").returncode == 1, "no docs/wording.md yet"
    assert run("--write").returncode == 0
    assert (tree / "docs/wording.md").exists()
    assert run("--check").returncode == 0
    messages = tree / "api/messages/en.yml"
    messages.write_text(
        messages.read_text(encoding="utf-8").replace("Please try again.", "Try again, please.")
        + 'new_key: "Something new."\n',
        encoding="utf-8",
    )
    (tree / "api/web/templates/embed.html").write_text("<p>No title now</p>", encoding="utf-8")
    done = run("--check")
    assert done.returncode == 1
    assert COMMAND in done.stdout
    assert "changed  api/messages/en.yml#oops" in done.stdout
    assert "added    api/messages/en.yml#new_key" in done.stdout
    assert "removed  api/web/templates/embed.html#title[0]" in done.stdout
    assert "added    api/web/templates/embed.html#p[0]" in done.stdout
