"""The Linden prognostic hint (van der Linden et al., Cancer 2005) from self-report.

The person's answers are partly unknown and self-rated, so the hint considers
every value consistent with what was said (ECOG 1 -> KPS 70 or 80, "not sure"
-> every option) and only passes when every combination lands in a required
group. It can ask for review but never excludes: it rests on self-report.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import product
from types import MappingProxyType
from typing import Any

from .errors import TrialFileError
from .values import CANCERS, UNKNOWN, Answer

KPS_STEP = 10  # KPS is scored in steps of 10
PLACEHOLDERS = frozenset({"points_min", "points_max", "groups"})


@dataclass(frozen=True)
class LindenReasons:
    may_be_group_a_patient: str
    may_be_group_a_coordinator: str
    in_required_groups_coordinator: str
    incomplete_coordinator: str


@dataclass(frozen=True)
class LindenTable:
    """The points tables and thresholds of the trial file's ``linden:`` section."""

    protocol: tuple[str, ...]
    performance_question: str
    primary_question: str
    visceral_question: str
    ecog_to_kps: Mapping[int, tuple[int, int]]
    kps_bands: tuple[tuple[int, int, int], ...]  # (low, high, points)
    primary_points: Mapping[str, int]
    other_primary_points: int
    visceral_points: Mapping[str, int]  # keyed by the yes/no answer
    groups: tuple[tuple[str, int, int], ...]  # (name, low, high)
    required_groups: frozenset[str]
    reasons: LindenReasons

    def kps_points(self, kps: int) -> int:
        for low, high, points in self.kps_bands:
            if low <= kps <= high:
                return points
        raise ValueError(f"KPS {kps} is in no band")  # validation makes this unreachable

    def group_of(self, points: int) -> str:
        for name, low, high in self.groups:
            if low <= points <= high:
                return name
        raise ValueError(f"{points} points are in no group")  # validation makes this unreachable


@dataclass(frozen=True)
class LindenHint:
    """Coordinator-only hint; never shown to the patient as a group or prognosis."""

    points_min: int
    points_max: int
    groups: tuple[str, ...]
    may_be_group_a: bool  # some consistent combination falls outside the required groups
    complete: bool = False  # all three inputs answered (possibly "unknown")
    status: str = "unknown"  # pass | needs_review | unknown (incomplete: no effect on outcome)
    reason_patient: str = ""
    reason_coordinator: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "points_min": self.points_min,
            "points_max": self.points_max,
            "groups": list(self.groups),
            "may_be_group_a": self.may_be_group_a,
            "complete": self.complete,
        }


def _kps_options(table: LindenTable, ecog: Answer | None) -> set[int]:
    ecogs = [ecog] if isinstance(ecog, int) else list(table.ecog_to_kps)
    kps_values = {
        kps
        for e in ecogs
        for kps in range(table.ecog_to_kps[e][0], table.ecog_to_kps[e][1] + 1, KPS_STEP)
    }
    return {table.kps_points(kps) for kps in kps_values}


def _primary_options(table: LindenTable, primary: Answer | None) -> set[int]:
    # "unknown" (or not asked) means any primary; a named primary outside the
    # table (kidney, myeloma, "other", ...) scores like "other".
    if primary is None or primary == UNKNOWN:
        return set(table.primary_points.values()) | {table.other_primary_points}
    return {table.primary_points.get(str(primary), table.other_primary_points)}


def _visceral_options(table: LindenTable, visceral: Answer | None) -> set[int]:
    if isinstance(visceral, str) and visceral in table.visceral_points:
        return {table.visceral_points[visceral]}
    return set(table.visceral_points.values())


def linden_hint(table: LindenTable, answers: Mapping[str, Answer | None]) -> LindenHint:
    """Compute the hint; inputs not answered yet count as "any value".

    Choice (documented as asked): the hint only affects the outcome once all
    three inputs have an answer. Before that its status is "unknown", which
    never changes the outcome, so a half-finished form does not flip to
    needs_review merely because a later question is still to come. Its point
    range is still reported so a coordinator sees it for abandoned chats.
    """
    inputs = (table.performance_question, table.primary_question, table.visceral_question)
    sums = {
        kps + primary + visceral
        for kps, primary, visceral in product(
            _kps_options(table, answers.get(inputs[0])),
            _primary_options(table, answers.get(inputs[1])),
            _visceral_options(table, answers.get(inputs[2])),
        )
    }
    groups = tuple(sorted({table.group_of(points) for points in sums}))
    outside = any(group not in table.required_groups for group in groups)
    fields = {"points_min": min(sums), "points_max": max(sums), "groups": ", ".join(groups)}
    complete = all(answers.get(q) is not None for q in inputs)
    if not complete:
        status, patient, coordinator = "unknown", "", table.reasons.incomplete_coordinator
    elif outside:
        status = "needs_review"
        patient = table.reasons.may_be_group_a_patient
        coordinator = table.reasons.may_be_group_a_coordinator
    else:
        status, patient, coordinator = "pass", "", table.reasons.in_required_groups_coordinator
    return LindenHint(
        points_min=min(sums),
        points_max=max(sums),
        groups=groups,
        may_be_group_a=outside,
        complete=complete,
        status=status,
        reason_patient=patient.format_map(fields),
        reason_coordinator=coordinator.format_map(fields),
    )


# ---- parsing the trial file's linden: section -------------------------------

LINDEN_KEYS = frozenset(
    {
        "protocol",
        "inputs",
        "ecog_to_kps",
        "kps_points",
        "primary_points",
        "other_primary_points",
        "visceral_points",
        "groups",
        "required_groups",
        "reasons",
    }
)


def _fail(problem: str) -> TrialFileError:
    return TrialFileError(f"linden: {problem}")


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(f"{where}: expected a whole number >= 0, got {value!r}")
    return value


def _range(value: Any, where: str) -> tuple[int, int]:
    if not isinstance(value, list) or len(value) != 2:
        raise _fail(f"{where}: expected [low, high], got {value!r}")
    low, high = _int(value[0], where), _int(value[1], where)
    if low > high:
        raise _fail(f"{where}: low {low} is above high {high}")
    return low, high


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    text = raw.get(key)
    if not isinstance(text, str) or not text.strip():
        raise _fail(f"{where}: missing text {key!r}")
    # Points and groups are for the coordinator only: the patient never sees them.
    allowed = PLACEHOLDERS if key == "coordinator" else frozenset()
    for _, field, _, _ in string.Formatter().parse(text):
        if field is not None and field not in allowed:
            raise _fail(f"{where}.{key}: placeholder {{{field}}} not allowed here")
    return text


def parse_linden(raw: Any, answer_types: Mapping[str, str]) -> LindenTable:
    """Validate the ``linden:`` section against the questions it reads."""
    if not isinstance(raw, dict):
        raise _fail("section missing or not a mapping")
    unknown = set(raw) - LINDEN_KEYS
    if unknown:
        raise _fail(f"unknown keys {sorted(unknown)}")
    missing = LINDEN_KEYS - set(raw)
    if missing:
        raise _fail(f"missing keys {sorted(missing)}")

    protocol = raw["protocol"]
    if not isinstance(protocol, list) or not all(isinstance(p, str) for p in protocol):
        raise _fail("protocol: expected a list of protocol items")

    inputs = raw["inputs"]
    expected_types = {"performance": "ecog", "primary": "cancer", "visceral": "yes_no"}
    if not isinstance(inputs, dict) or set(inputs) != set(expected_types):
        raise _fail(f"inputs: expected the keys {sorted(expected_types)}")
    for role, answer_type in expected_types.items():
        if answer_types.get(inputs[role]) != answer_type:
            raise _fail(f"inputs.{role}: {inputs[role]!r} is not a question of type {answer_type}")

    ecog_raw = raw["ecog_to_kps"]
    if not isinstance(ecog_raw, dict) or set(ecog_raw) != set(range(5)):
        raise _fail("ecog_to_kps: expected one KPS range for each ECOG 0 to 4")
    ecog_to_kps = {e: _range(r, f"ecog_to_kps.{e}") for e, r in sorted(ecog_raw.items())}

    bands_raw = raw["kps_points"]
    if not isinstance(bands_raw, list) or not bands_raw:
        raise _fail("kps_points: expected a list of {kps: [low, high], points: N}")
    bands = []
    for i, band in enumerate(bands_raw, 1):
        if not isinstance(band, dict) or set(band) != {"kps", "points"}:
            raise _fail(f"kps_points[{i}]: expected {{kps: [low, high], points: N}}")
        bands.append(
            (*_range(band["kps"], f"kps_points[{i}]"), _int(band["points"], f"kps_points[{i}]"))
        )
    for low, high in ecog_to_kps.values():
        for kps in range(low, high + 1, KPS_STEP):
            if sum(b[0] <= kps <= b[1] for b in bands) != 1:
                raise _fail(f"kps_points: KPS {kps} must be in exactly one band")

    primary_raw = raw["primary_points"]
    if not isinstance(primary_raw, dict) or not primary_raw:
        raise _fail("primary_points: expected a mapping like {breast: 3}")
    for name in primary_raw:
        if name not in CANCERS:
            raise _fail(f"primary_points: {name!r} is not a primary_cancer value")
    primary_points = {k: _int(v, f"primary_points.{k}") for k, v in primary_raw.items()}
    other_points = _int(raw["other_primary_points"], "other_primary_points")

    visceral_raw = raw["visceral_points"]
    if not isinstance(visceral_raw, dict) or set(visceral_raw) != {"yes", "no"}:
        raise _fail("visceral_points: expected the keys 'yes' and 'no' (quoted)")
    visceral_points = {k: _int(v, f"visceral_points.{k}") for k, v in visceral_raw.items()}

    groups_raw = raw["groups"]
    if not isinstance(groups_raw, list) or not groups_raw:
        raise _fail("groups: expected a list of {group: NAME, points: [low, high]}")
    groups = []
    for i, group in enumerate(groups_raw, 1):
        if not isinstance(group, dict) or set(group) != {"group", "points"}:
            raise _fail(f"groups[{i}]: expected {{group: NAME, points: [low, high]}}")
        groups.append((str(group["group"]), *_range(group["points"], f"groups[{i}]")))
    top = (
        max(b[2] for b in bands)
        + max([*primary_points.values(), other_points])
        + max(visceral_points.values())
    )
    for points in range(top + 1):
        if sum(g[1] <= points <= g[2] for g in groups) != 1:
            raise _fail(f"groups: {points} points must be in exactly one group")

    required = raw["required_groups"]
    names = {g[0] for g in groups}
    if not isinstance(required, list) or not required or not set(required) <= names:
        raise _fail(f"required_groups: expected a non-empty list from {sorted(names)}")

    reasons_raw = raw["reasons"]
    if not isinstance(reasons_raw, dict):
        raise _fail("reasons: expected a mapping")
    for key in ("may_be_group_a", "in_required_groups", "incomplete"):
        if not isinstance(reasons_raw.get(key), dict):
            raise _fail(f"reasons: missing {key!r}")
    reasons = LindenReasons(
        may_be_group_a_patient=_text(
            reasons_raw["may_be_group_a"], "patient", "reasons.may_be_group_a"
        ),
        may_be_group_a_coordinator=_text(
            reasons_raw["may_be_group_a"], "coordinator", "reasons.may_be_group_a"
        ),
        in_required_groups_coordinator=_text(
            reasons_raw["in_required_groups"], "coordinator", "reasons.in_required_groups"
        ),
        incomplete_coordinator=_text(
            reasons_raw["incomplete"], "coordinator", "reasons.incomplete"
        ),
    )
    return LindenTable(
        protocol=tuple(protocol),
        performance_question=inputs["performance"],
        primary_question=inputs["primary"],
        visceral_question=inputs["visceral"],
        ecog_to_kps=MappingProxyType(ecog_to_kps),
        kps_bands=tuple(bands),
        primary_points=MappingProxyType(primary_points),
        other_primary_points=other_points,
        visceral_points=MappingProxyType(visceral_points),
        groups=tuple(groups),
        required_groups=frozenset(required),
        reasons=reasons,
    )
