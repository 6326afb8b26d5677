"""The condition language of the trial file: parse + validate, then evaluate.

A condition is a YAML mapping with one keyword, tested against the answer of
the question the rule belongs to (its "subject"):

    equals: V            answer == V
    in: [V, ...]         answer is one of the values
    less_than: N         integer answer < N
    at_least: N          integer answer >= N
    between: [LO, HI]    integer answer in LO..HI (inclusive)
    is_unknown: BOOL     answer is (not) "unknown"
    answered: BOOL       the question has (not) been answered
    only: [ITEM, ...]    list answer is non-empty and every item is listed
    includes_any: [...]  list answer contains at least one listed item
    empty: BOOL          list answer is (not) empty
    overlaps_answer: Q   list answer shares an item with the list answer of question Q
    levels_known: Q      the vertebral levels told with this answer and with Q's place
                         every region of both answers (both questions declare `levels:`)
    levels_within: {of: Q, levels: N}
                         levels_known, and some level of one is N levels or fewer from
                         one of the other, across region borders (T12/L1 are 1 apart):
                         the protocol's "target +/-1 level" (I8, E2)
    answer_of: Q         with `is: CONDITION`: test the answer of question Q instead
    not: CONDITION / any: [CONDITION, ...] / all: [CONDITION, ...]

Values are checked against the subject's answer type when the file loads, so
a typo such as `equals: mayb` fails loudly instead of never matching.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import TrialFileError
from .values import UNKNOWN, Answer, ValueSpec, level_gap


@dataclass(frozen=True)
class Condition:
    """A parsed condition; ``arg`` is already normalised to the subject's answer type."""

    op: str
    arg: Any = None
    children: tuple[Condition, ...] = ()
    question_id: str | None = None  # target of answer_of / overlaps_answer


@dataclass(frozen=True)
class ConditionContext:
    """What parsing needs to know: the subject and the questions it may refer to."""

    subject: str | None  # None for ask_if: the question itself has no answer yet
    specs: Mapping[str, ValueSpec]
    earlier: frozenset[str]  # questions asked before the subject; only these may be referenced
    # question id -> answers key of the levels told with its answer (the question's `levels:`)
    levels: Mapping[str, str] = field(default_factory=dict)

    def spec(self) -> ValueSpec | None:
        return self.specs[self.subject] if self.subject else None

    def subject_spec(self) -> ValueSpec:
        """The subject's answer type, for conditions that need one (parse_condition checks first)."""
        if not self.subject:
            raise TrialFileError("this condition needs a question of its own")
        return self.specs[self.subject]

    def about(self, question_id: str) -> ConditionContext:
        return ConditionContext(question_id, self.specs, self.earlier, self.levels)


def _yaml_hint(value: Any) -> str:
    if isinstance(value, bool):
        return " (YAML reads bare yes/no/on/off as true/false: put the value in quotes)"
    return ""


def _value(spec: ValueSpec, value: Any, where: str) -> Answer:
    normalised = spec.normalise(value)
    if normalised is None:
        raise TrialFileError(f"{where}: {value!r} is not a valid answer here{_yaml_hint(value)}")
    return normalised


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TrialFileError(f"{where}: expected a whole number, got {value!r}")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise TrialFileError(f"{where}: expected true or false, got {value!r}")
    return value


def _items(spec: ValueSpec, value: Any, where: str) -> tuple[str, ...]:
    if spec.list_items is None:
        raise TrialFileError(f"{where}: only works on list answers")
    if not isinstance(value, list) or not value:
        raise TrialFileError(f"{where}: expected a non-empty list, got {value!r}")
    for item in value:
        if item not in spec.list_items:
            raise TrialFileError(f"{where}: {item!r} is not one of {list(spec.list_items)}")
    return tuple(value)


def _other_question(ctx: ConditionContext, value: Any, where: str) -> str:
    if not isinstance(value, str) or value not in ctx.specs:
        raise TrialFileError(f"{where}: unknown question {value!r}")
    if value not in ctx.earlier:
        raise TrialFileError(f"{where}: question {value!r} is not asked before this one")
    return value


def _numeric_spec(ctx: ConditionContext, where: str) -> ValueSpec:
    spec = ctx.spec()
    if spec is None or spec.int_range is None:
        raise TrialFileError(f"{where}: only works on number answers")
    return spec


def parse_condition(raw: Any, ctx: ConditionContext, where: str) -> Condition:
    """Parse and validate one condition; errors name ``where`` and the problem."""
    if not isinstance(raw, dict) or not raw:
        raise TrialFileError(f"{where}: a condition must be a mapping like {{equals: 'yes'}}")
    keys = set(raw)
    if keys == {"answer_of", "is"}:
        target = _other_question(ctx, raw["answer_of"], f"{where}: answer_of")
        child = parse_condition(raw["is"], ctx.about(target), f"{where}: answer_of {target}")
        return Condition("answer_of", children=(child,), question_id=target)
    if "answer_of" in keys or "is" in keys:
        raise TrialFileError(f"{where}: 'answer_of' needs exactly the keys answer_of and is")
    if len(keys) != 1:
        raise TrialFileError(f"{where}: a condition has exactly one keyword, got {sorted(keys)}")
    (op,) = keys
    arg = raw[op]
    here = f"{where}: {op}"
    parser = _PARSERS.get(op)
    if parser is None:
        raise TrialFileError(f"{where}: unknown condition {op!r}")
    if op not in _NEEDS_NO_SUBJECT and ctx.subject is None:
        raise TrialFileError(f"{here}: ask_if has no answer of its own; use answer_of")
    return parser(arg, ctx, here)


def _parse_equals(arg: Any, ctx: ConditionContext, where: str) -> Condition:
    return Condition("equals", _value(ctx.subject_spec(), arg, where))


def _parse_in(arg: Any, ctx: ConditionContext, where: str) -> Condition:
    if not isinstance(arg, list) or not arg:
        raise TrialFileError(f"{where}: expected a non-empty list, got {arg!r}")
    return Condition("in", tuple(_value(ctx.subject_spec(), v, where) for v in arg))


def _parse_compare(op: str) -> Callable[[Any, ConditionContext, str], Condition]:
    def parse(arg: Any, ctx: ConditionContext, where: str) -> Condition:
        _numeric_spec(ctx, where)
        return Condition(op, _int(arg, where))

    return parse


def _parse_between(arg: Any, ctx: ConditionContext, where: str) -> Condition:
    _numeric_spec(ctx, where)
    if not isinstance(arg, list) or len(arg) != 2:
        raise TrialFileError(f"{where}: expected [low, high], got {arg!r}")
    low, high = _int(arg[0], where), _int(arg[1], where)
    if low > high:
        raise TrialFileError(f"{where}: low {low} is above high {high}")
    return Condition("between", (low, high))


def _parse_flag(
    op: str, lists_only: bool = False
) -> Callable[[Any, ConditionContext, str], Condition]:
    def parse(arg: Any, ctx: ConditionContext, where: str) -> Condition:
        spec = ctx.spec()
        if lists_only and (spec is None or spec.list_items is None):
            raise TrialFileError(f"{where}: only works on list answers")
        return Condition(op, _bool(arg, where))

    return parse


def _parse_items(op: str) -> Callable[[Any, ConditionContext, str], Condition]:
    def parse(arg: Any, ctx: ConditionContext, where: str) -> Condition:
        return Condition(op, _items(ctx.subject_spec(), arg, where))

    return parse


def _parse_overlaps(arg: Any, ctx: ConditionContext, where: str) -> Condition:
    spec = ctx.spec()
    target = _other_question(ctx, arg, where)
    if spec is None or spec.list_items is None or ctx.specs[target].list_items is None:
        raise TrialFileError(f"{where}: both answers must be lists")
    return Condition("overlaps_answer", question_id=target)


def _level_keys(ctx: ConditionContext, target: str, where: str) -> tuple[str, str]:
    own, other = ctx.levels.get(ctx.subject or ""), ctx.levels.get(target)
    if own is None or other is None:
        raise TrialFileError(
            f"{where}: both questions need `levels:` (where their levels are kept)"
        )
    return own, other


def _parse_levels_known(arg: Any, ctx: ConditionContext, where: str) -> Condition:
    target = _other_question(ctx, arg, where)
    return Condition("levels_known", _level_keys(ctx, target, where), question_id=target)


def _parse_levels_within(arg: Any, ctx: ConditionContext, where: str) -> Condition:
    if not isinstance(arg, dict) or set(arg) != {"of", "levels"}:
        raise TrialFileError(f"{where}: expected {{of: QUESTION, levels: N}}, got {arg!r}")
    target = _other_question(ctx, arg["of"], where)
    distance = _int(arg["levels"], where)
    if distance < 0:
        raise TrialFileError(f"{where}: levels must be 0 or more, got {distance}")
    return Condition(
        "levels_within", (*_level_keys(ctx, target, where), distance), question_id=target
    )


def _parse_not(arg: Any, ctx: ConditionContext, where: str) -> Condition:
    return Condition("not", children=(parse_condition(arg, ctx, where),))


def _parse_group(op: str) -> Callable[[Any, ConditionContext, str], Condition]:
    def parse(arg: Any, ctx: ConditionContext, where: str) -> Condition:
        if not isinstance(arg, list) or not arg:
            raise TrialFileError(f"{where}: expected a non-empty list of conditions")
        children = tuple(
            parse_condition(child, ctx, f"{where}[{i}]") for i, child in enumerate(arg, 1)
        )
        return Condition(op, children=children)

    return parse


_PARSERS: dict[str, Callable[[Any, ConditionContext, str], Condition]] = {
    "equals": _parse_equals,
    "in": _parse_in,
    "less_than": _parse_compare("less_than"),
    "at_least": _parse_compare("at_least"),
    "between": _parse_between,
    "is_unknown": _parse_flag("is_unknown"),
    "answered": _parse_flag("answered"),
    "only": _parse_items("only"),
    "includes_any": _parse_items("includes_any"),
    "empty": _parse_flag("empty", lists_only=True),
    "overlaps_answer": _parse_overlaps,
    "levels_known": _parse_levels_known,
    "levels_within": _parse_levels_within,
    "not": _parse_not,
    "any": _parse_group("any"),
    "all": _parse_group("all"),
}
# Combinators may wrap answer_of, so they are allowed in ask_if too.
_NEEDS_NO_SUBJECT = frozenset({"not", "any", "all"})
KEYWORDS: frozenset[str] = frozenset(_PARSERS) | {"answer_of"}


def holds(cond: Condition, value: Answer | None, answers: Mapping[str, Answer | None]) -> bool:
    """Whether ``cond`` holds for ``value`` (None = not answered) given all answers."""
    op, arg = cond.op, cond.arg
    if op == "answer_of":
        return holds(cond.children[0], answers.get(cond.question_id or ""), answers)
    if op == "not":
        return not holds(cond.children[0], value, answers)
    if op == "any":
        return any(holds(child, value, answers) for child in cond.children)
    if op == "all":
        return all(holds(child, value, answers) for child in cond.children)
    if op == "answered":
        return (value is not None) == arg
    if value is None:
        return False  # nothing is true of an answer that was never given
    if op == "equals":
        return bool(value == arg)
    if op == "in":
        return value in arg
    if op == "is_unknown":
        return (value == UNKNOWN) == arg
    if isinstance(value, int):
        if op == "less_than":
            return value < arg
        if op == "at_least":
            return value >= arg
        if op == "between":
            return bool(arg[0] <= value <= arg[1])
        return False
    if isinstance(value, tuple):
        if op == "only":
            return bool(value) and set(value) <= set(arg)
        if op == "includes_any":
            return bool(set(value) & set(arg))
        if op == "empty":
            return (len(value) == 0) == arg
        if op == "overlaps_answer":
            other = answers.get(cond.question_id or "")
            return isinstance(other, tuple) and bool(set(value) & set(other))
        if op in ("levels_known", "levels_within"):
            own_key, other_key = arg[0], arg[1]
            gap = level_gap(
                value,
                answers.get(own_key),
                answers.get(cond.question_id or ""),
                answers.get(other_key),
            )
            return gap is not None and (op == "levels_known" or gap <= arg[2])
    return False
