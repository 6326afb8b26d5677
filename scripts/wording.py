"""Every sentence a patient reads, listed with a hash in docs/wording.md (issue 13, item 8).

A change of wording anywhere (the bot's responses, the trial file, the API's
messages, the patient web pages) changes a row of docs/wording.md and its
overall "wording version", so the change is visible in review and the study
team can sign off one version. tests/unit/test_wording_file.py fails when the
committed file is not what this script generates.

    python scripts/wording.py --write   # regenerate docs/wording.md
    python scripts/wording.py --check   # exit 1, naming the changed ids, if it is out of date
    python scripts/wording.py           # print the document

Standard library plus PyYAML only. `--root DIR` reads another tree laid out
like this repository (the tests use a small copy).

What counts as patient-facing, per source:
- bot/domain/*.yml: every response variation's `text` and every button
  `title`, with the variation's condition (e.g. respondent=caregiver).
  Payloads, `custom` (data for the web page: asks, outcome, urgent) and
  ids are not words. A response with no text and no buttons is named in a
  note under its section rather than skipped silently.
- trial/nct04242589.yml: every string in the file is classified by its key
  path (TRIAL_PATIENT, TRIAL_COORDINATOR, TRIAL_NOT_WORDING below). The
  coordinator-only texts get their own section, because the study team signs
  those too. A string that matches no rule is listed under "Unclassified"
  (and the test fails) until someone decides where it belongs.
- api/messages/en.yml: keys above the file's separating comment line are
  the patient's side, keys below it the coordinators'.
- api/web/templates/index.html, _chat_widget.html, _privacy_notice.html, embed.html: the text of
  each block element (inline markup such as <strong> joined into its
  sentence; links and buttons are entries of their own) and user-visible
  attributes. Jinja markup becomes placeholders: {{ x }} -> {x}; {% %} and
  {# #} are dropped. staff/ templates are coordinator pages and not listed.
- api/web/static/*.js: the few named constants that hold words a patient
  can meet (JS_CONSTANTS); the rest of the scripts hold none.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = Path("docs/wording.md")
DOMAIN_DIR = Path("bot/domain")
TRIAL_FILE = Path("trial/nct04242589.yml")
MESSAGES_FILE = Path("api/messages/en.yml")
TEMPLATE_DIR = Path("api/web/templates")
PATIENT_TEMPLATES = ("index.html", "_chat_widget.html", "_privacy_notice.html", "embed.html")
# Named string constants of the patient-side scripts that a patient can meet.
JS_CONSTANTS = {"api/web/static/embed.js": ("FRAME_TITLE",)}
COMMAND = "python scripts/wording.py --write"
HASH_CHARS = 12

# Sections in the order of the document: (key, title, what it holds).
SECTIONS = (
    (
        "domain",
        "Bot responses (bot/domain/*.yml)",
        "Every response variation's text and button titles, in file order. `condition` is the slot "
        "condition of the variation (empty: the default). bot/domain/questions.yml is generated from "
        "the trial file, so its texts also appear in the trial section.",
    ),
    (
        "trial",
        "Trial file: what a patient reads (trial/nct04242589.yml)",
        "Question wording for the patient (`self`) and for a helper (`caregiver`): ask, rephrase, "
        'topic (read back in "Just to check, about ..."), button titles, and the `patient` reasons '
        "told with an outcome. The consent question is `consent_contact`.",
    ),
    (
        "messages",
        "API messages: patient side (api/messages/en.yml)",
        "Keys above the file's separating comment line.",
    ),
    (
        "templates",
        "Web pages (api/web/templates: index.html, _chat_widget.html, _privacy_notice.html, embed.html)",
        "Text of each block element and user-visible attributes (alt, title, aria-label, placeholder, "
        "meta description, the widget's data-text-* sentences that static/chat.js shows). Jinja "
        "markup is shown as {placeholders}. _chat_widget.html is included by both pages and listed once.",
    ),
    (
        "scripts",
        "Scripts (api/web/static/*.js)",
        "Words that live in JavaScript constants. They should move to the templates.",
    ),
    (
        "trial-coordinator",
        "Trial file: coordinator-only texts (trial/nct04242589.yml)",
        "Never shown to a patient; listed because the study team signs them too: `coordinator` "
        "reasons, the Linden hint's coordinator reasons and the engine notes.",
    ),
    (
        "messages-coordinator",
        "API messages: coordinator side (api/messages/en.yml)",
        "Keys below the file's separating comment line.",
    ),
    (
        "unclassified",
        "Unclassified",
        "Texts the collector found but has no rule for. Treated as patient-facing until classified "
        "in scripts/wording.py.",
    ),
)
SECTION_KEYS = tuple(key for key, _, _ in SECTIONS)

# ---- trial file: what each key path is -----------------------------------------
# Paths are matched segment by segment: `*` is one mapping key, `[]` one list
# item, `**` any number of segments. Question items are named by their id.
TRIAL_PATIENT = (
    "questions.[].ask.*",
    "questions.[].rephrase.*",
    "questions.[].topic.*",  # read back to the patient: "Just to check, about {topic}, ..."
    "questions.[].buttons.[].title",
    "questions.[].rules.[].reason.patient",  # told with the outcome (actions/outcome.py)
    "linden.reasons.*.patient",
)
TRIAL_COORDINATOR = (
    "questions.[].rules.[].reason.coordinator",  # referral criteria table (actions/referral.py)
    "linden.reasons.*.coordinator",
    "engine_notes.*",  # coordinator notes for criteria no rule decided (EngineNotes)
)
TRIAL_NOT_WORDING = (
    # Identifiers, data and provenance that no one reads as a sentence.
    "trial_id",
    "version",
    # The listing's title: no page reads it from this file (index.html has its own copy, listed there).
    "title",
    "source.**",
    "questions.[].id",
    "questions.[].protocol.**",
    "questions.[].answer_type",
    "questions.[].stage",
    "questions.[].levels.**",  # the answers key its told vertebral levels are kept under
    "questions.[].buttons.[].value",
    "questions.[].buttons.[].value.**",  # payload values
    "questions.[].ask_if.**",
    "questions.[].rules.[].when.**",
    "questions.[].rules.[].result",
    "linden.protocol.**",
    "linden.inputs.**",
    "linden.groups.**",
    "linden.required_groups.**",
    "linden.kps_points.**",
    "linden.primary_points.**",
    "linden.visceral_points.**",
    "linden.ecog_to_kps.**",
)

# ---- templates ------------------------------------------------------------------
# Inline elements: their text is part of the enclosing block's sentence.
INLINE = frozenset(
    "abbr b bdi bdo br cite code data dfn em i kbd mark q s samp small span strong sub sup time u var wbr".split()
)
VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
SKIP_CONTENT = frozenset({"script", "style"})
# Elements that name a part of a page in an id when they have no id of their own.
LANDMARK_TAGS = frozenset("head body header footer main nav aside form template".split())
VISIBLE_ATTRIBUTES = (
    "alt",
    "title",
    "aria-label",
    "aria-description",
    "aria-placeholder",
    "aria-roledescription",
    "aria-valuetext",
    "placeholder",
    "label",
)
META_TEXT = re.compile(r"^(description|og:.*|twitter:.*)$")


@dataclass(frozen=True)
class Entry:
    section: str
    id: str
    text: str
    condition: str = ""

    @property
    def hash(self) -> str:
        return text_hash(self.text)

    def canonical(self) -> str:
        return json.dumps([self.section, self.id, self.condition, self.text], ensure_ascii=False)


@dataclass
class Collection:
    entries: list[Entry]
    notes: dict[str, list[str]]  # section -> lines said under its table
    trial_version: str


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_CHARS]


def wording_version(entries: Iterable[Entry]) -> str:
    """One hash over every entry (section, id, condition, text), in document order."""
    digest = hashlib.sha256()
    for entry in entries:
        digest.update(entry.canonical().encode("utf-8") + b"\n")
    return digest.hexdigest()[:HASH_CHARS]


# ---- bot domain -----------------------------------------------------------------

VARIATION_NOT_WORDING = {"condition", "channel", "custom", "id", "metadata"}


def _condition(variation: dict[str, Any]) -> str:
    parts = []
    for cond in variation.get("condition") or []:
        if isinstance(cond, dict) and cond.get("type", "slot") == "slot":
            parts.append(f"{cond.get('name')}={cond.get('value')}")
        else:
            parts.append(json.dumps(cond, sort_keys=True))
    if variation.get("channel"):
        parts.append(f"channel={variation['channel']}")
    return " and ".join(parts)


def collect_domain(root: Path) -> tuple[list[Entry], list[str]]:
    entries: list[Entry] = []
    no_text: list[str] = []
    files = sorted((root / DOMAIN_DIR).glob("*.yml"))
    if not files:
        raise FileNotFoundError(f"no domain files in {root / DOMAIN_DIR}")
    for path in files:
        rel = path.relative_to(root).as_posix()
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variations in (data.get("responses") or {}).items():
            said = False
            for i, variation in enumerate(variations or []):
                where = f"{rel}#{name}[{i}]"
                if not isinstance(variation, dict):
                    entries.append(Entry("unclassified", where, str(variation)))
                    said = True
                    continue
                condition = _condition(variation)
                if variation.get("text") is not None:
                    entries.append(Entry("domain", where, str(variation["text"]), condition))
                    said = True
                for j, button in enumerate(variation.get("buttons") or []):
                    title = button.get("title") if isinstance(button, dict) else button
                    entries.append(Entry("domain", f"{where}.buttons[{j}]", str(title), condition))
                    said = True
                for key, value in variation.items():
                    if key in VARIATION_NOT_WORDING or key in ("text", "buttons"):
                        continue
                    # image, attachment, elements, quick_replies...: a patient may see them; nobody decided yet.
                    shown = (
                        value
                        if isinstance(value, str)
                        else json.dumps(value, ensure_ascii=False, sort_keys=True)
                    )
                    entries.append(Entry("unclassified", f"{where}.{key}", shown, condition))
                    said = True
            if not said:
                no_text.append(f"`{rel}#{name}`")
    notes = (
        [f"No sentence (no text, no buttons; data only): {', '.join(no_text)}."] if no_text else []
    )
    return entries, notes


# ---- trial file -----------------------------------------------------------------


def _matches(pattern: list[str], path: list[str]) -> bool:
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_matches(rest, path[i:]) for i in range(len(path) + 1))
    if not path:
        return False
    if head == "*":
        ok = path[0] != "[]"
    else:
        ok = head == path[0]
    return ok and _matches(rest, path[1:])


def _classify(generic: list[str]) -> str:
    for patterns, kind in (
        (TRIAL_PATIENT, "trial"),
        (TRIAL_COORDINATOR, "trial-coordinator"),
        (TRIAL_NOT_WORDING, None),
    ):
        if any(_matches(p.split("."), generic) for p in patterns):
            return kind or "not-wording"
    return "unclassified"


def _walk(
    node: Any, generic: list[str], named: list[str]
) -> Iterator[tuple[list[str], list[str], Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, generic + [str(key)], named + [str(key)])
    elif isinstance(node, list):
        for i, value in enumerate(node):
            # A question is named by its id; other list items by their position.
            if (
                generic == ["questions"]
                and isinstance(value, dict)
                and isinstance(value.get("id"), str)
            ):
                label = value["id"]
            else:
                label = None
            if label:
                here = named + [label]
            else:
                here = named[:-1] + [f"{named[-1] if named else ''}[{i}]"]
            yield from _walk(value, generic + ["[]"], here)
    else:
        yield generic, named, node


def collect_trial(root: Path) -> tuple[list[Entry], str]:
    data = yaml.safe_load((root / TRIAL_FILE).read_text(encoding="utf-8")) or {}
    entries = []
    for generic, named, value in _walk(data, [], []):
        if not isinstance(value, str):
            continue  # numbers, booleans, null: data, never a sentence
        kind = _classify(generic)
        if kind == "not-wording":
            continue
        entries.append(Entry(kind, "trial#" + ".".join(named), value))
    return entries, str(data.get("version", ""))


# ---- API messages ---------------------------------------------------------------


def collect_messages(root: Path) -> tuple[list[Entry], list[str]]:
    path = root / MESSAGES_FILE
    source = path.read_text(encoding="utf-8")
    rel = MESSAGES_FILE.as_posix()
    node = yaml.compose(source)
    values = yaml.safe_load(source) or {}
    if node is None:
        return [], []
    keys = [(key_node.value, key_node.start_mark.line) for key_node, _ in node.value]
    first_key = keys[0][1] if keys else 0
    separator = None
    for number, line in enumerate(source.splitlines()):
        if number > first_key and line.lstrip().startswith("#"):
            separator = (number, line.strip())
            break
    entries = []
    for key, line in keys:
        side = "messages-coordinator" if separator and line > separator[0] else "messages"
        entries.append(Entry(side, f"{rel}#{key}", str(values[key])))
    notes = (
        [f"Separating line: `{separator[1]}`"]
        if separator
        else ["No separating comment line: every key counts as the patient's side."]
    )
    return entries, notes


# ---- templates ------------------------------------------------------------------

_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)
_JINJA_STATEMENT = re.compile(r"\{%.*?%\}", re.S)
_JINJA_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.S)


def strip_jinja(source: str) -> str:
    source = _JINJA_COMMENT.sub("", source)
    source = _JINJA_STATEMENT.sub("", source)
    return _JINJA_EXPRESSION.sub(lambda m: "{" + m.group(1).split("|")[0].strip() + "}", source)


class _Frame:
    def __init__(self, tag: str, label: str, landmark: str, block: bool):
        self.tag = tag
        self.label = label  # this element's name in ids
        self.landmark = landmark  # the name its children are counted under
        self.block = block
        self.parts: list[str] = []
        self.segments = 0


class TemplateText(HTMLParser):
    """Text blocks and visible attributes of one template, named by a stable path."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[_Frame] = []
        self.counts: dict[tuple[str, str], int] = {}
        self.found: list[tuple[str, str]] = []  # (key, text)
        self.skipping = 0

    # naming
    def _parent_landmark(self) -> str:
        return self.stack[-1].landmark if self.stack else ""

    def _next(self, landmark: str, tag: str) -> int:
        n = self.counts.get((landmark, tag), 0)
        self.counts[(landmark, tag)] = n + 1
        return n

    def _label(self, tag: str, attrs: dict[str, str]) -> tuple[str, bool]:
        parent = self._parent_landmark()
        if attrs.get("id"):
            return attrs["id"], True
        if attrs.get("data-role"):
            return f"[data-role={attrs['data-role']}]", True
        if attrs.get("aria-labelledby"):
            return f"[aria-labelledby={attrs['aria-labelledby']}]", True
        n = self._next(parent, tag)
        if tag in LANDMARK_TAGS:
            name = tag if n == 0 else f"{tag}[{n}]"
            return (f"{parent}/{name}" if parent else name), True
        return (f"{parent}/{tag}[{n}]" if parent else f"{tag}[{n}]"), False

    # text
    def _block(self) -> _Frame | None:
        for frame in reversed(self.stack):
            if frame.block:
                return frame
        return None

    def _flush(self, frame: _Frame | None) -> None:
        if frame is None or not frame.parts:
            return
        text = re.sub(r"\s+", " ", "".join(frame.parts)).strip()
        frame.parts = []
        if text:
            key = frame.label if frame.segments == 0 else f"{frame.label}+{frame.segments}"
            frame.segments += 1
            self.found.append((key, text))

    def _attributes(self, tag: str, label: str, attrs: dict[str, str]) -> None:
        for name, value in attrs.items():
            visible = (
                name in VISIBLE_ATTRIBUTES
                or name.startswith("data-text-")
                or (
                    name == "value"
                    and tag == "input"
                    and attrs.get("type") in ("submit", "button", "reset")
                )
                or (
                    name == "content"
                    and tag == "meta"
                    and META_TEXT.match(attrs.get("name") or attrs.get("property") or "")
                )
            )
            text = re.sub(r"\s+", " ", value or "").strip()
            if visible and text:
                self.found.append((f"{label}@{name}", text))

    def handle_starttag(self, tag: str, attr_list: list[tuple[str, str | None]]) -> None:
        if self.skipping:
            if tag in SKIP_CONTENT:
                self.skipping += 1
            return
        attrs = {k: (v or "") for k, v in attr_list}
        if tag in SKIP_CONTENT:
            self.skipping = 1
            return
        if tag == "br":
            enclosing = self._block()
            if enclosing is not None:
                enclosing.parts.append(" ")
            return
        label, is_landmark = self._label(tag, attrs)
        block = tag not in INLINE
        if block:
            self._flush(self._block())  # text before a nested block is a sentence of its own
        self._attributes(tag, label, attrs)
        if tag in VOID:
            return
        landmark = label if is_landmark else self._parent_landmark()
        self.stack.append(_Frame(tag, label, landmark, block))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1].tag == tag:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag in SKIP_CONTENT:
                self.skipping -= 1
            return
        if not any(frame.tag == tag for frame in self.stack):
            return
        while self.stack:
            frame = self.stack.pop()
            if frame.block:
                self._flush(frame)
            if frame.tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        block = self._block()
        if block is not None:
            block.parts.append(data)
        elif data.strip():
            self.found.append((f"text[{len(self.found)}]", re.sub(r"\s+", " ", data).strip()))

    def close(self) -> None:
        super().close()
        while self.stack:
            frame = self.stack.pop()
            if frame.block:
                self._flush(frame)


def template_texts(source: str) -> list[tuple[str, str]]:
    parser = TemplateText()
    parser.feed(strip_jinja(source))
    parser.close()
    return parser.found


def collect_templates(root: Path) -> list[Entry]:
    entries = []
    for name in PATIENT_TEMPLATES:
        rel = (TEMPLATE_DIR / name).as_posix()
        for key, text in template_texts((root / rel).read_text(encoding="utf-8")):
            entries.append(Entry("templates", f"{rel}#{key}", text))
    return entries


# ---- scripts --------------------------------------------------------------------


def collect_scripts(root: Path) -> list[Entry]:
    entries = []
    for rel, names in JS_CONSTANTS.items():
        path = root / rel
        if not path.exists():
            continue
        source = path.read_text(encoding="utf-8")
        for name in names:
            match = re.search(
                r"\b(?:var|let|const)\s+"
                + re.escape(name)
                + r"\s*=\s*(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')",
                source,
            )
            if match is None:
                entries.append(
                    Entry(
                        "unclassified", f"{rel}#{name}", "(constant not found: update JS_CONSTANTS)"
                    )
                )
                continue
            literal = match.group(1)
            text = json.loads(literal) if literal.startswith('"') else literal[1:-1]
            entries.append(Entry("scripts", f"{rel}#{name}", text))
    return entries


# ---- the document ---------------------------------------------------------------


def collect(root: Path = ROOT) -> Collection:
    root = Path(root)
    domain, domain_notes = collect_domain(root)
    trial, version = collect_trial(root)
    messages, message_notes = collect_messages(root)
    everything = domain + trial + messages + collect_templates(root) + collect_scripts(root)
    order = {key: i for i, key in enumerate(SECTION_KEYS)}
    # Stable: by section, then in the order found (file order within a source).
    entries = sorted(everything, key=lambda e: order[e.section])
    notes = {
        "domain": domain_notes,
        "messages": message_notes,
        "messages-coordinator": message_notes,
    }
    return Collection(entries, notes, version)


def escape_cell(text: str) -> str:
    """Markdown table cell: the text as it renders. Escapes \\ | < and line breaks."""
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace("\r\n", "\n")
        .replace("\n", "<br>")
    )


def render(collection: Collection) -> str:
    entries = collection.entries
    counts = {key: sum(1 for e in entries if e.section == key) for key in SECTION_KEYS}
    lines = [
        "# Wording: every sentence a patient reads",
        "",
        "GENERATED by scripts/wording.py. Do not edit by hand. After any change of wording run",
        "",
        f"    {COMMAND}",
        "",
        "and commit this file with the change (tests/unit/test_wording_file.py fails until then;",
        "`python scripts/wording.py --check` names the ids that changed). Each row is one text: a stable",
        "id (source file and key path), the first 12 hex digits of the sha256 of the text, and the text",
        "(in the table, `|`, `\\`, `<` and line breaks are escaped).",
        "",
        f"- Trial file version: {collection.trial_version}",
        f"- **Wording version: {wording_version(entries)}** (sha256 over every row below, with its",
        "  section and condition; the study team signs off this version)",
        f"- Texts: {len(entries)} ("
        + ", ".join(
            f"{key} {counts[key]}" for key in SECTION_KEYS if counts[key] or key != "unclassified"
        )
        + ")",
        "",
    ]
    for key, title, about in SECTIONS:
        rows = [e for e in entries if e.section == key]
        if key == "unclassified" and not rows:
            continue
        with_condition = key == "domain"
        lines += [f"## {title}", "", about, ""]
        for note in collection.notes.get(key, []):
            lines += [note, ""]
        if with_condition:
            lines += ["| id | condition | hash | text |", "| --- | --- | --- | --- |"]
        else:
            lines += ["| id | hash | text |", "| --- | --- | --- |"]
        for e in rows:
            cells = (
                [f"`{e.id}`"]
                + ([escape_cell(e.condition)] if with_condition else [])
                + [e.hash, escape_cell(e.text)]
            )
            lines.append("| " + " | ".join(cells) + " |")
        if not rows:
            lines.append("| (none) |" + (" |" if with_condition else "") + " | |")
        lines.append("")
    return "\n".join(lines)


_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_HASH = re.compile(rf"^[0-9a-f]{{{HASH_CHARS}}}$")


def rows_of(document: str) -> dict[str, tuple[str, ...]]:
    """id -> (hash, other cells) of each table row of a rendered document."""
    rows: dict[str, tuple[str, ...]] = {}
    for line in document.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in _CELL_SPLIT.split(line.strip())[1:-1]]
        if len(cells) < 3 or not _HASH.match(cells[-2]):
            continue
        rows[cells[0].strip("`")] = tuple(cells[1:])
    return rows


def differences(old: str, new: str) -> list[str]:
    """Short list of changed, added and removed ids between two rendered documents."""
    before, after = rows_of(old), rows_of(new)
    out = [f"changed  {i}" for i in after if i in before and before[i] != after[i]]
    out += [f"added    {i}" for i in after if i not in before]
    out += [f"removed  {i}" for i in before if i not in after]
    if not out and old != new:
        out = ["(no text changed; the header, order or layout did)"]
        out += [
            line
            for line in difflib.unified_diff(
                old.splitlines(), new.splitlines(), "committed", "generated", n=0, lineterm=""
            )
        ][:20]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help=f"write {OUTPUT}")
    mode.add_argument("--check", action="store_true", help=f"exit 1 if {OUTPUT} is out of date")
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the repository to read (default: this one)"
    )
    args = parser.parse_args(argv)
    output = args.root / OUTPUT
    text = render(collect(args.root))
    if args.check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current == text:
            return 0
        print(f"{OUTPUT} is out of date; run: {COMMAND}")
        for line in differences(current, text):
            print("  " + line)
        return 1
    if args.write:
        if not output.exists() or output.read_text(encoding="utf-8") != text:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
            print(f"wrote {OUTPUT}")
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
