"""The burned sealed sets (tests/sealed/round1 to round15) as regression tests:
each class of failure fixed in issue 10 stays fixed. The ceilings are the
figures measured after the last round of fixes (docs/understanding.md); a
change that makes any of them worse fails here. A set scored once whose
failures were not read yet (the newest round) is never scored here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.sealed import score
from tests.servers import trained_model

ROOT = Path(__file__).resolve().parent / "sealed"

# Per set: at most this many of each failure (measured after the round-11 to round-15 fixes of issue 10).
CEILINGS = {
    "round1": {"missed": 0, "false_urgent_look_alikes": 1, "false_urgent_answers": 0, "wrong_values": 3,
               "wrong_not_eligible": 0, "asked_again": 4, "safety_question_false_urgent": 1},
    "round2": {"missed": 0, "false_urgent_look_alikes": 0, "false_urgent_answers": 0, "wrong_values": 2,
               "wrong_not_eligible": 0, "asked_again": 9, "safety_question_false_urgent": 1},
    "round3": {"missed": 0, "false_urgent_look_alikes": 1, "false_urgent_answers": 0, "wrong_values": 3,
               "wrong_not_eligible": 0, "asked_again": 23, "safety_question_false_urgent": 1},
    "round4": {"missed": 0, "false_urgent_look_alikes": 0, "false_urgent_answers": 0, "wrong_values": 2,
               "wrong_not_eligible": 0, "asked_again": 7, "safety_question_false_urgent": 0},
    "round5": {"missed": 0, "false_urgent_look_alikes": 0, "false_urgent_answers": 0, "wrong_values": 1,
               "wrong_not_eligible": 0, "asked_again": 5, "safety_question_false_urgent": 0},
    "round6": {"missed": 0, "false_urgent_look_alikes": 0, "false_urgent_answers": 0, "wrong_values": 0,
               "wrong_not_eligible": 0, "asked_again": 3, "safety_question_false_urgent": 0},
    "round7": {"missed": 0, "false_urgent_look_alikes": 0, "false_urgent_answers": 0, "wrong_values": 3,
               "wrong_not_eligible": 0, "asked_again": 3, "safety_question_false_urgent": 0},
    "round8": {"missed": 0, "false_urgent_look_alikes": 0, "false_urgent_answers": 0, "wrong_values": 4,
               "wrong_not_eligible": 0, "asked_again": 29, "safety_question_false_urgent": 0},
    "round9": {"missed": 0, "false_urgent_look_alikes": 0, "false_urgent_answers": 0, "wrong_values": 0,
               "wrong_not_eligible": 0, "asked_again": 7, "safety_question_false_urgent": 0},
    "round10": {"missed": 0, "false_urgent_look_alikes": 0, "false_urgent_answers": 0, "wrong_values": 0,
                "wrong_not_eligible": 0, "asked_again": 5, "safety_question_false_urgent": 0},
    "round11": {"missed": 0, "false_urgent_look_alikes": 0, "false_urgent_answers": 0, "wrong_values": 2,
                "wrong_not_eligible": 0, "asked_again": 4, "safety_question_false_urgent": 0},
    "round12": {"missed": 0, "false_urgent_look_alikes": 0, "false_urgent_answers": 0, "wrong_values": 2,
                "wrong_not_eligible": 0, "asked_again": 5, "safety_question_false_urgent": 0},
    "round13": {"missed": 0, "false_urgent_look_alikes": 0, "false_urgent_answers": 0, "wrong_values": 4,
                "wrong_not_eligible": 0, "asked_again": 9, "safety_question_false_urgent": 0},
    "round14": {"missed": 0, "false_urgent_look_alikes": 0, "false_urgent_answers": 0, "wrong_values": 5,
                "wrong_not_eligible": 0, "asked_again": 10, "safety_question_false_urgent": 0},
    "round15": {"missed": 0, "false_urgent_look_alikes": 0, "false_urgent_answers": 0, "wrong_values": 1,
                "wrong_not_eligible": 0, "asked_again": 17, "safety_question_false_urgent": 0},
}


def failures(summary: dict) -> dict[str, int]:
    a, e, l = summary["answers"], summary["emergencies"], summary["look_alikes"]
    return {
        "missed": e.get("missed", 0),
        "false_urgent_look_alikes": l.get("false_urgent", 0),
        "false_urgent_answers": a.get("false_urgent", 0),
        "wrong_values": a.get("wrong_value", 0),
        "wrong_not_eligible": a.get("wrong_not_eligible", 0),
        "asked_again": a.get("asked_again", 0),
        "safety_question_false_urgent": l["safety_question_false_urgent"],
    }


@pytest.mark.parametrize("name", sorted(CEILINGS))
def test_a_burned_sealed_set_does_not_get_worse(name: str) -> None:
    summary, _ = score(ROOT / name, Path(os.environ.get("MODEL") or trained_model()))
    got = failures(summary)
    worse = {k: (v, CEILINGS[name][k]) for k, v in got.items() if v > CEILINGS[name][k]}
    assert not worse, f"{name}: (now, allowed) {worse}; run bench.sealed with --show to see which"


def test_the_ceiling_check_can_fail() -> None:
    summary = {"answers": {"wrong_value": 8}, "emergencies": {"missed": 1}, "look_alikes": {"safety_question_false_urgent": 0}}
    got = failures(summary)
    assert got["missed"] == 1 and got["wrong_values"] == 8 > CEILINGS["round1"]["wrong_values"]
