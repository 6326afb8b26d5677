"""The Linden hint: points, groups, and how unknown answers widen the range."""

from __future__ import annotations

import copy
from itertools import product
from typing import Any, Optional

import pytest
import yaml

from actions.criteria import CANCERS, TrialFileError, load_trial
from actions.criteria.linden import linden_hint, parse_linden
from actions.criteria.trial_file import DEFAULT_TRIAL_FILE

TRIAL = load_trial()
TABLE = TRIAL.linden


def hint(ecog: Any, primary: Any, visceral: Any):
    answers = {
        "performance_status": ecog,
        "primary_cancer": primary,
        "visceral_metastases": visceral,
    }
    return linden_hint(TABLE, answers)


# Hand-computed from the brief: KPS 80-100 = 2, 50-70 = 1, 20-40 = 0;
# breast 3, prostate 2, lung 1, other 0; no visceral 1, visceral 0.
# Groups A 0-3, B 4-5, C 6.
@pytest.mark.parametrize(
    ("ecog", "primary", "visceral", "points", "groups", "may_be_a"),
    [
        # breast + ECOG 0 (KPS 90-100: 2) + no visceral: 2 + 3 + 1 = 6 -> C
        (0, "breast", "no", (6, 6), ("C",), False),
        # lung + ECOG 2 (KPS 50-60: 1) + visceral: 1 + 1 + 0 = 2 -> A
        (2, "lung", "yes", (2, 2), ("A",), True),
        # prostate + ECOG 1 (KPS 70 -> 1, 80 -> 2) + unsure visceral (0 or 1):
        # 1+2+0 = 3 (A) ... 2+2+1 = 5 (B)
        (1, "prostate", "unknown", (3, 5), ("A", "B"), True),
        # breast + ECOG 1 + no visceral: 1+3+1 = 5 (B) or 2+3+1 = 6 (C)
        (1, "breast", "no", (5, 6), ("B", "C"), False),
        # unsure primary = any of 3, 2, 1, 0: 2 + 0..3 + 1 = 3..6
        (0, "unknown", "no", (3, 6), ("A", "B", "C"), True),
        # kidney scores like "other" (0): 2 + 0 + 1 = 3 -> A, the best such a patient can get
        (0, "kidney", "no", (3, 3), ("A",), True),
        (0, "other", "no", (3, 3), ("A",), True),
        # ECOG 3 (KPS 30-40: 0) + breast + no visceral: 0 + 3 + 1 = 4 -> B
        (3, "breast", "no", (4, 4), ("B",), False),
        # ECOG 4 (KPS 10-20) scores in the lowest band: 0 + 3 + 1 = 4 -> B
        (4, "breast", "no", (4, 4), ("B",), False),
        # unsure ECOG = KPS 10..100 = 0, 1 or 2 points: 0..2 + 3 + 1 = 4..6
        ("unknown", "breast", "no", (4, 6), ("B", "C"), False),
        # everything unsure: 0..2 + 0..3 + 0..1 = 0..6
        ("unknown", "unknown", "unknown", (0, 6), ("A", "B", "C"), True),
    ],
)
def test_points_and_groups(ecog, primary, visceral, points, groups, may_be_a):
    result = hint(ecog, primary, visceral)
    assert (result.points_min, result.points_max) == points
    assert result.groups == groups
    assert result.may_be_group_a is may_be_a
    assert result.complete
    assert result.status == ("needs_review" if may_be_a else "pass")


def test_may_be_group_a_gives_coordinator_reason_with_points_but_patient_text_without():
    result = hint(1, "prostate", "unknown")
    assert "3-5" in result.reason_coordinator and "A, B" in result.reason_coordinator
    patient = result.reason_patient.lower()
    assert patient  # the patient is told something neutral ...
    for word in ("group", "linden", "point", "month", "surviv", "life"):
        assert word not in patient  # ... but never a group or a prognosis


def test_incomplete_hint_has_no_effect_but_reports_the_range_so_far():
    # visceral spread not asked yet: counted as either, and status stays unknown
    result = linden_hint(TABLE, {"performance_status": 0, "primary_cancer": "breast"})
    assert not result.complete
    assert result.status == "unknown"
    assert (result.points_min, result.points_max) == (5, 6)
    assert result.reason_patient == ""


def test_nothing_answered_counts_every_value():
    result = linden_hint(TABLE, {})
    assert (result.points_min, result.points_max, result.complete) == (0, 6, False)


def test_as_dict_shape():
    assert hint(0, "breast", "no").as_dict() == {
        "points_min": 6,
        "points_max": 6,
        "groups": ["C"],
        "may_be_group_a": False,
        "complete": True,
    }


# An independent re-implementation straight from the brief, to check the
# trial file's tables against it for every possible combination of answers.
BRIEF_KPS_FOR_ECOG = {0: (90, 100), 1: (70, 80), 2: (50, 60), 3: (30, 40), 4: (10, 20)}
BRIEF_PRIMARY = {"breast": 3, "prostate": 2, "lung": 1}


def brief_kps_points(kps: int) -> int:
    return 2 if kps >= 80 else 1 if kps >= 50 else 0


def brief_sums(ecog: Any, primary: Any, visceral: Any) -> set[int]:
    ecogs = [ecog] if isinstance(ecog, int) else list(BRIEF_KPS_FOR_ECOG)
    kps = {
        brief_kps_points(k)
        for e in ecogs
        for k in range(BRIEF_KPS_FOR_ECOG[e][0], BRIEF_KPS_FOR_ECOG[e][1] + 1, 10)
    }
    prim = {0, 1, 2, 3} if primary == "unknown" else {BRIEF_PRIMARY.get(primary, 0)}
    visc = {0, 1} if visceral == "unknown" else {1 if visceral == "no" else 0}
    return {a + b + c for a, b, c in product(kps, prim, visc)}


def brief_group(points: int) -> str:
    return "A" if points <= 3 else "B" if points <= 5 else "C"


@pytest.mark.parametrize("ecog", [0, 1, 2, 3, 4, "unknown"])
def test_trial_file_tables_match_the_brief_for_every_combination(ecog):
    for primary, visceral in product([*CANCERS, "unknown"], ["yes", "no", "unknown"]):
        sums = brief_sums(ecog, primary, visceral)
        groups = tuple(sorted({brief_group(p) for p in sums}))
        result = hint(ecog, primary, visceral)
        assert (result.points_min, result.points_max) == (min(sums), max(sums)), (primary, visceral)
        assert result.groups == groups, (primary, visceral)
        assert result.may_be_group_a == ("A" in groups), (primary, visceral)


# ---- validation of the linden: section ----------------------------------------

RAW = yaml.safe_load(DEFAULT_TRIAL_FILE.read_text())["linden"]
TYPES = {q.id: q.answer_type for q in TRIAL.questions}


def broken(path: list, value: Optional[Any] = None, delete: bool = False) -> dict:
    raw = copy.deepcopy(RAW)
    node = raw
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return raw


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (broken(["groups", 1, "points"], [5, 5]), "groups: 4 points must be in exactly one group"),
        (broken(["kps_points", 2, "kps"], [20, 40]), "kps_points: KPS 10 must be in exactly one band"),
        (broken(["required_groups"], ["B", "D"]), "required_groups"),
        (broken(["inputs", "primary"], "primary_cancr"), "inputs.primary: 'primary_cancr'"),
        (broken(["inputs", "visceral"], "age"), "inputs.visceral: 'age' is not a question of type yes_no"),
        (broken(["primary_points", "brest"], 3), "primary_points: 'brest' is not a primary_cancer value"),
        (broken(["visceral_points", True], 1), "visceral_points"),
        (broken(["ecog_to_kps", 4], delete=True), "ecog_to_kps"),
        (broken(["reasons", "may_be_group_a", "patient"], delete=True), "missing text 'patient'"),
        (
            broken(["reasons", "may_be_group_a", "patient"], "You scored {points_min}."),
            "placeholder {points_min} not allowed here",
        ),
        (broken(["reasons", "incomplete", "coordinator"], "{score}"), "placeholder {score}"),
        (broken(["extra"], 1), "unknown keys ['extra']"),
    ],
)
def test_linden_section_errors_name_the_problem(raw, message):
    with pytest.raises(TrialFileError) as error:
        parse_linden(raw, TYPES)
    assert str(error.value).startswith("linden: ")
    assert message in str(error.value)


def test_linden_section_as_shipped_parses():
    table = parse_linden(copy.deepcopy(RAW), TYPES)
    assert table.required_groups == {"B", "C"}
    assert [g[0] for g in table.groups] == ["A", "B", "C"]
