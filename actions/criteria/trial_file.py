"""Load and validate the trial file (the trial's questions and rules as data).

Everything is checked on load so that a bad edit to the trial file stops the
action server at start-up with a message naming the question, the protocol
item and the problem, instead of mis-screening patients later.
"""

from __future__ import annotations

import hashlib
import os
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from contract.names import CAREGIVER, CRITERION_STATUSES, SELF, UNKNOWN_STATUS

from .errors import TrialFileError
from .linden import LindenTable, parse_linden
from .rules import Condition, ConditionContext, parse_condition
from .values import ANSWER_TYPES, Answer, ValueSpec, value_spec

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TRIAL_FILE = REPO_ROOT / "trial" / "nct04242589.yml"
TRIAL_FILE_ENV = "TRIAL_FILE"

# What a rule may decide: every criterion status but "unknown" (only a missing answer is unknown).
RESULTS = tuple(status for status in CRITERION_STATUSES if status != UNKNOWN_STATUS)
STAGES = ("screen", "contact")
TOP_KEYS = frozenset(
    {
        "trial_id",
        "version",
        "title",
        "source",
        "protocol_items",
        "engine_notes",
        "questions",
        "linden",
    }
)
QUESTION_REQUIRED = frozenset({"id", "protocol", "answer_type", "ask", "rephrase", "topic"})
QUESTION_KEYS = QUESTION_REQUIRED | {"stage", "buttons", "ask_if", "rules", "levels"}
PROTOCOL_ITEM = re.compile(r"^(?P<kind>[IE])(?P<number>\d+)$")
PROTOCOL_TAG = re.compile(r"^[A-Za-z][A-Za-z_-]*$")  # e.g. "safety", "Linden"
SEMVER = re.compile(r"^\d+\.\d+\.\d+$")


@dataclass(frozen=True)
class Wording:
    """One text in two voices: to the patient, and to someone helping them."""

    for_self: str
    for_caregiver: str

    def text(self, respondent: str | None) -> str:
        return self.for_caregiver if respondent == CAREGIVER else self.for_self


@dataclass(frozen=True)
class Reason:
    patient: str  # may be empty for "pass" rules: nothing to explain to the patient
    coordinator: str


@dataclass(frozen=True)
class Button:
    title: str
    value: Any  # payload value as written in the file (a single region stands for [region])
    answer: Answer  # the normalised answer the button sets


@dataclass(frozen=True)
class Rule:
    number: int  # 1-based position, as used in error messages
    when: Condition
    result: str
    reason: Reason


@dataclass(frozen=True)
class Question:
    id: str
    protocol: tuple[str, ...]
    answer_type: str
    stage: str
    ask: Wording
    rephrase: Wording
    topic: Wording  # what the question is about, to read an answer back ("your usual day")
    buttons: tuple[Button, ...]
    ask_if: Condition | None
    rules: tuple[Rule, ...]
    values: ValueSpec
    # Answers key of the vertebral levels told with a regions answer (e.g. the
    # spine_levels slot), for the levels_known / levels_within conditions.
    levels: str | None = None

    @property
    def protocol_label(self) -> str:
        return ", ".join(self.protocol)

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is a valid normalised answer (slot value) for this question."""
        return self.values.accepts(value)

    def answer_label(self, answer: Answer | None) -> str | None:
        """The answer in the words the patient saw: a button title, else the number or value itself.

        A list of regions is labelled item by item ("Neck; Lower back"), each
        with the title of its one-region button. None (not asked) has no label.
        """
        if answer is None:
            return None
        for button in self.buttons:
            if button.answer == answer and type(button.answer) is type(answer):
                return button.title
        if isinstance(answer, tuple):
            return "; ".join(self.answer_label((item,)) or item for item in answer)
        return str(answer)

    def answer_from_button(self, value: Any) -> Answer | None:
        """The answer a button payload value stands for, or None if it is not one of ours."""
        for button in self.buttons:
            if button.value == value and type(button.value) is type(value):
                return button.answer
        return None


@dataclass(frozen=True)
class EngineNotes:
    """Coordinator-facing notes for criteria that no rule decided."""

    not_asked: str
    not_applicable: str
    no_rule: str


@dataclass(frozen=True)
class Source:
    listing_date: str
    document: str


@dataclass(frozen=True)
class Trial:
    trial_id: str
    version: str
    title: str
    source: Source
    protocol_items: Mapping[str, int]
    notes: EngineNotes
    questions: tuple[Question, ...]
    linden: LindenTable
    checksum: str = ""  # sha256 of the file, so a referral can record exactly which rules ran
    path: str = ""
    _by_id: Mapping[str, Question] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {q.id: q for q in self.questions})

    def question(self, question_id: str) -> Question:
        try:
            return self._by_id[question_id]
        except KeyError:
            raise KeyError(f"no question {question_id!r} in trial {self.trial_id}") from None

    @property
    def question_ids(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.questions)

    @property
    def screening_questions(self) -> tuple[Question, ...]:
        """Questions of the pre-screen form, in asking order (contact-stage ones excluded)."""
        return tuple(q for q in self.questions if q.stage == "screen")

    def valid_values(self, question_id: str) -> ValueSpec:
        """What a slot / button payload for this question may hold."""
        return self.question(question_id).values


# ---- YAML reading ------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise TrialFileError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def load_trial(path: str | Path | None = None) -> Trial:
    """Load and validate a trial file (default: env TRIAL_FILE, else trial/nct04242589.yml)."""
    resolved = Path(path or os.environ.get(TRIAL_FILE_ENV) or DEFAULT_TRIAL_FILE)
    try:
        raw_bytes = resolved.read_bytes()
    except OSError as exc:
        raise TrialFileError(f"{resolved}: cannot read trial file ({exc.strerror})") from exc
    try:
        data = yaml.load(raw_bytes, Loader=_StrictLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        raise TrialFileError(f"{resolved}: not valid YAML: {exc}") from exc
    except TrialFileError as exc:
        raise TrialFileError(f"{resolved}: {exc}") from exc
    return parse_trial(data, checksum=hashlib.sha256(raw_bytes).hexdigest(), path=str(resolved))


# ---- validation ----------------------------------------------------------------


def _text(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise TrialFileError(f"{where}: missing text")
    return raw.strip()


def _wording(raw: Any, where: str, questions: int | None) -> Wording:
    if not isinstance(raw, dict):
        raise TrialFileError(f"{where}: missing (expected self: and caregiver: texts)")
    extra = set(raw) - {SELF, CAREGIVER}
    if extra:
        raise TrialFileError(f"{where}: unknown keys {sorted(extra)}")
    texts = {}
    for voice in (SELF, CAREGIVER):
        text = _text(raw.get(voice), f"{where}.{voice}")
        marks = text.count("?")
        # One question per message (style rule of the brief); a re-ask may be a hint only.
        if (questions is not None and marks != questions) or marks > 1:
            raise TrialFileError(
                f"{where}.{voice}: one question per message (found {marks} question marks)"
            )
        texts[voice] = text
    return Wording(texts["self"], texts["caregiver"])


def _protocol(raw: Any, where: str, items: Mapping[str, int], stage: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise TrialFileError(f"{where}: protocol must be a list like [I2] or [E8, safety]")
    if not raw and stage != "contact":
        raise TrialFileError(f"{where}: protocol must name the protocol item(s) this implements")
    for item in raw:
        match = PROTOCOL_ITEM.match(item)
        if match:
            limit = items["inclusion" if match["kind"] == "I" else "exclusion"]
            if not 1 <= int(match["number"]) <= limit:
                raise TrialFileError(
                    f"{where}: protocol item {item!r} is not in the listing "
                    f"({match['kind']}1-{match['kind']}{limit})"
                )
        elif not PROTOCOL_TAG.match(item):
            raise TrialFileError(f"{where}: {item!r} is not a protocol item or tag")
    return tuple(raw)


def _label(raw: Mapping[str, Any], index: int) -> str:
    qid = raw.get("id")
    protocol = raw.get("protocol")
    label = f"question {qid!r}" if isinstance(qid, str) else f"question #{index}"
    if isinstance(protocol, list) and protocol:
        label += f" ({', '.join(map(str, protocol))})"
    return label


def _buttons(raw: Any, answer_type: str, where: str) -> tuple[tuple[Button, ...], ValueSpec]:
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise TrialFileError(f"{where}: buttons must be a list of {{title, value}}")
    if answer_type == "choice":
        if len(raw) < 2:
            raise TrialFileError(f"{where}: a choice question needs at least two buttons")
        values = [b.get("value") if isinstance(b, dict) else None for b in raw]
        if not all(isinstance(v, str) for v in values):
            raise TrialFileError(f"{where}: choice button values must be quoted text")
    else:
        values = []
    spec = value_spec(answer_type, values)
    buttons, seen = [], []
    for i, button in enumerate(raw, 1):
        here = f"{where}: button {i}"
        if not isinstance(button, dict) or set(button) != {"title", "value"}:
            raise TrialFileError(f"{here}: expected {{title, value}}")
        title = _text(button["title"], f"{here} title")
        answer = spec.from_button(button["value"])
        if answer is None:
            hint = " (put yes/no in quotes)" if isinstance(button["value"], bool) else ""
            raise TrialFileError(
                f"{where}: button {title!r}: {button['value']!r} is not a valid answer "
                f"for type {answer_type}{hint}"
            )
        if answer in seen:
            raise TrialFileError(f"{where}: button {title!r}: duplicate value {button['value']!r}")
        seen.append(answer)
        buttons.append(Button(title, button["value"], answer))
    return tuple(buttons), spec


def _placeholders(text: str, known: frozenset[str], where: str) -> str:
    """A coordinator text may name level slots ("{spine_levels}"); anything else is refused."""
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(text)]
    except ValueError as exc:
        raise TrialFileError(f"{where}: {exc} (write braces only around a levels key)") from exc
    for name, spec, conversion in fields:
        if name is None:
            continue
        if name not in known or spec or conversion:
            raise TrialFileError(
                f"{where}: unknown placeholder {{{name}}} (known: {sorted(known) or 'none'})"
            )
    return text


def _rules(raw: Any, ctx: ConditionContext, where: str) -> tuple[Rule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise TrialFileError(f"{where}: rules must be a list")
    rules = []
    for number, rule in enumerate(raw, 1):
        here = f"{where}: rule {number}"
        if not isinstance(rule, dict):
            raise TrialFileError(f"{here}: expected {{when, result, reason}}")
        extra = set(rule) - {"when", "result", "reason"}
        if extra:
            raise TrialFileError(f"{here}: unknown keys {sorted(extra)}")
        if "when" not in rule:
            raise TrialFileError(f"{here}: missing 'when'")
        when = parse_condition(rule["when"], ctx, here)
        result = rule.get("result")
        if result not in RESULTS:
            raise TrialFileError(
                f"{here}: unknown result {result!r} (expected one of {list(RESULTS)})"
            )
        reason = rule.get("reason")
        if not isinstance(reason, dict) or set(reason) - {"patient", "coordinator"}:
            raise TrialFileError(f"{here}: reason must be {{patient: ..., coordinator: ...}}")
        coordinator = _placeholders(
            _text(reason.get("coordinator"), f"{here}: reason.coordinator"),
            frozenset(ctx.levels.values()),
            f"{here}: reason.coordinator",
        )
        # A patient who is screened out or sent for review is told why; a pass needs no text.
        if result == "pass" and reason.get("patient") is None:
            patient = ""
        else:
            patient = _text(reason.get("patient"), f"{here}: reason.patient")
        rules.append(Rule(number, when, result, Reason(patient, coordinator)))
    return tuple(rules)


def _source(raw: Any) -> Source:
    if not isinstance(raw, dict):
        raise TrialFileError("source: expected {listing_date: 'YYYY-MM-DD', document: ...}")
    date = raw.get("listing_date")
    if not isinstance(date, str) or not re.match(r"^\d{4}-\d{2}-\d{2}$", date):
        raise TrialFileError("source.listing_date: expected a quoted date 'YYYY-MM-DD'")
    return Source(date, _text(raw.get("document"), "source.document"))


def parse_trial(data: Any, *, checksum: str = "", path: str = "") -> Trial:
    """Validate already-parsed YAML and build the Trial."""
    if not isinstance(data, dict):
        raise TrialFileError("the trial file must be a mapping")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise TrialFileError(f"unknown top-level keys {sorted(unknown)}")
    missing = TOP_KEYS - set(data)
    if missing:
        raise TrialFileError(f"missing top-level keys {sorted(missing)}")
    version = data["version"]
    if not isinstance(version, str) or not SEMVER.match(version):
        raise TrialFileError(f"version: expected a quoted version like '1.0.0', got {version!r}")
    items = data["protocol_items"]
    if not isinstance(items, dict) or set(items) != {"inclusion", "exclusion"}:
        raise TrialFileError("protocol_items: expected {inclusion: N, exclusion: N}")
    notes_raw = data["engine_notes"]
    if not isinstance(notes_raw, dict):
        raise TrialFileError("engine_notes: expected a mapping")
    notes = EngineNotes(
        *(
            _text(notes_raw.get(k), f"engine_notes.{k}")
            for k in ("not_asked", "not_applicable", "no_rule")
        )
    )

    raw_questions = data["questions"]
    if not isinstance(raw_questions, list) or not raw_questions:
        raise TrialFileError("questions: expected a non-empty list")

    # Pass 1: ids, types and values, so that conditions can refer to any question.
    specs: dict[str, ValueSpec] = {}
    levels: dict[str, str] = {}  # question id -> answers key of its levels
    firsts: list[tuple[dict, str, tuple[Button, ...]]] = []
    for index, raw in enumerate(raw_questions, 1):
        if not isinstance(raw, dict):
            raise TrialFileError(f"question #{index}: expected a mapping")
        where = _label(raw, index)
        missing_keys = QUESTION_REQUIRED - set(raw)
        if missing_keys:
            raise TrialFileError(f"{where}: missing {sorted(missing_keys)}")
        extra = set(raw) - QUESTION_KEYS
        if extra:
            raise TrialFileError(f"{where}: unknown keys {sorted(extra)}")
        qid = raw["id"]
        if not isinstance(qid, str) or not re.match(r"^[a-z][a-z0-9_]*$", qid):
            raise TrialFileError(f"{where}: id must be snake_case text")
        if qid in specs:
            raise TrialFileError(f"{where}: duplicate id {qid!r}")
        if raw["answer_type"] not in ANSWER_TYPES:
            raise TrialFileError(
                f"{where}: unknown answer_type {raw['answer_type']!r} "
                f"(expected one of {sorted(ANSWER_TYPES)})"
            )
        buttons, specs[qid] = _buttons(raw.get("buttons"), raw["answer_type"], where)
        if "levels" in raw:
            key = raw["levels"]
            if not isinstance(key, str) or not re.match(r"^[a-z][a-z0-9_]*$", key):
                raise TrialFileError(f"{where}: levels must name an answers key in snake_case")
            if specs[qid].list_items is None:
                raise TrialFileError(f"{where}: levels only go with a list of regions")
            if key in levels.values():
                raise TrialFileError(f"{where}: levels key {key!r} is used twice")
            levels[qid] = key
        firsts.append((raw, where, buttons))
    clash = set(levels.values()) & set(specs)
    if clash:
        raise TrialFileError(f"levels: {sorted(clash)} is a question id, not a levels key")

    # Pass 2: texts and conditions.
    questions: list[Question] = []
    for raw, where, buttons in firsts:
        qid = raw["id"]
        stage = raw.get("stage", "screen")
        if stage not in STAGES:
            raise TrialFileError(
                f"{where}: unknown stage {stage!r} (expected one of {list(STAGES)})"
            )
        ctx = ConditionContext(qid, specs, frozenset(q.id for q in questions), levels)
        ask_if = raw.get("ask_if")
        questions.append(
            Question(
                id=qid,
                protocol=_protocol(raw["protocol"], where, items, stage),
                answer_type=raw["answer_type"],
                stage=stage,
                ask=_wording(raw["ask"], f"{where}: ask", questions=1),
                rephrase=_wording(raw["rephrase"], f"{where}: rephrase", questions=None),
                topic=_wording(raw["topic"], f"{where}: topic", questions=0),
                buttons=buttons,
                ask_if=None
                if ask_if is None
                else parse_condition(
                    ask_if, ConditionContext(None, specs, ctx.earlier, levels), f"{where}: ask_if"
                ),
                rules=_rules(raw.get("rules"), ctx, where),
                values=specs[qid],
                levels=levels.get(qid),
            )
        )
    stages = [q.stage for q in questions]
    if stages != sorted(stages, key=STAGES.index):
        raise TrialFileError("contact-stage questions must come after all screening questions")

    linden = parse_linden(data["linden"], {q.id: q.answer_type for q in questions})
    for role_question in (
        linden.performance_question,
        linden.primary_question,
        linden.visceral_question,
    ):
        if next(q for q in questions if q.id == role_question).stage != "screen":
            raise TrialFileError(f"linden: {role_question!r} must be a screening question")

    return Trial(
        trial_id=_text(data["trial_id"], "trial_id"),
        version=version,
        title=_text(data["title"], "title"),
        source=_source(data["source"]),
        protocol_items={k: int(v) for k, v in items.items()},
        notes=notes,
        questions=tuple(questions),
        linden=linden,
        checksum=checksum,
        path=path,
    )
