"""Red-flag detection over the labelled phrasing set (tests/red_flags/phrasings.yml).

Runs the pure extractor (``nlu.extract.extract``, entity ``red_flag``) over
every emergency phrasing and every look-alike, prints a confusion table (also
on success; it is written to results/red_flags.txt too) and asserts:

* every emergency phrasing is caught (recall 100 %): as a `red_flag`
  (urgent care at once) or as a `red_flag_possible` (told as old or
  explained: the bot asks once whether it is new or getting worse; issue 10),
* at most 1 in 20 look-alikes triggers urgent care (<= 5 %),
* the category is right for >= 95 % of the caught emergencies.

The targets are checked by ``failures()``, which the meta-tests below feed
with fake extractors, so the test is proven able to fail.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest
import yaml

from nlu.extract import extract

ROOT = Path(__file__).resolve().parents[2]
PHRASINGS = ROOT / "tests" / "red_flags" / "phrasings.yml"
REPORT = ROOT / "results" / "red_flags.txt"

CATEGORIES = ("weakness", "walking", "numbness", "bladder_bowel", "band_pain")
MIN_RECALL = 1.0
MAX_LOOK_ALIKE_RATE = 0.05
MIN_CATEGORY_ACCURACY = 0.95

Extractor = Callable[[str], List[Dict[str, Any]]]


def load_phrasings() -> Dict[str, List[Dict[str, str]]]:
    return yaml.safe_load(PHRASINGS.read_text(encoding="utf-8"))


def red_flags(extractor: Extractor, text: str, entities: tuple[str, ...] = ("red_flag",)) -> List[str]:
    return [e["value"] for e in extractor(text) if e["entity"] in entities]


# An emergency told as old or explained is still caught: it is asked about.
CAUGHT = ("red_flag", "red_flag_possible")


@dataclass
class Score:
    caught: List[Dict[str, Any]] = field(default_factory=list)
    missed: List[Dict[str, Any]] = field(default_factory=list)
    wrong_category: List[Dict[str, Any]] = field(default_factory=list)
    triggered: List[Dict[str, Any]] = field(default_factory=list)
    clean: List[Dict[str, Any]] = field(default_factory=list)
    per_category: Dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    @property
    def n_emergency(self) -> int:
        return len(self.caught) + len(self.missed)

    @property
    def n_look_alike(self) -> int:
        return len(self.triggered) + len(self.clean)

    @property
    def recall(self) -> float:
        return len(self.caught) / self.n_emergency if self.n_emergency else 0.0

    @property
    def look_alike_rate(self) -> float:
        return len(self.triggered) / self.n_look_alike if self.n_look_alike else 1.0

    @property
    def category_accuracy(self) -> float:
        if not self.caught:
            return 0.0
        return 1 - len(self.wrong_category) / len(self.caught)


def evaluate(extractor: Extractor, data: Dict[str, List[Dict[str, str]]]) -> Score:
    score = Score()
    for item in data["emergency"]:
        found = red_flags(extractor, item["text"], CAUGHT)
        row = {**item, "found": found}
        counts = score.per_category[item["flag"]]
        counts["total"] += 1
        if not found:
            score.missed.append(row)
            continue
        score.caught.append(row)
        counts["caught"] += 1
        if item["flag"] in found:
            counts["category_ok"] += 1
        else:
            score.wrong_category.append(row)
    for item in data["look_alike"]:
        found = red_flags(extractor, item["text"])
        row = {**item, "found": found}
        (score.triggered if found else score.clean).append(row)
    return score


def failures(score: Score) -> List[str]:
    problems = []
    if score.recall < MIN_RECALL:
        problems.append(
            f"emergency recall {score.recall:.1%} < {MIN_RECALL:.0%}; missed: "
            + "; ".join(f"{r['text']!r} ({r['flag']})" for r in score.missed)
        )
    if score.look_alike_rate > MAX_LOOK_ALIKE_RATE:
        problems.append(
            f"look-alikes triggering {score.look_alike_rate:.1%} > {MAX_LOOK_ALIKE_RATE:.0%}; triggered: "
            + "; ".join(f"{r['text']!r} -> {r['found']}" for r in score.triggered)
        )
    if score.category_accuracy < MIN_CATEGORY_ACCURACY:
        problems.append(
            f"category right for {score.category_accuracy:.1%} < {MIN_CATEGORY_ACCURACY:.0%} of caught; wrong: "
            + "; ".join(f"{r['text']!r} ({r['flag']}) -> {r['found']}" for r in score.wrong_category)
        )
    return problems


def render(score: Score) -> str:
    lines = [
        "Red-flag phrasings: tests/red_flags/phrasings.yml through nlu.extract.extract (entity red_flag)",
        "",
        "                     | red_flag found | no red_flag | total",
        f"  emergency          | {len(score.caught):>14} | {len(score.missed):>11} | {score.n_emergency:>5}"
        "   (caught / missed)",
        f"  look-alike         | {len(score.triggered):>14} | {len(score.clean):>11} | {score.n_look_alike:>5}"
        "   (triggered / clean)",
        "",
        f"  recall            {score.recall:7.1%}   target {MIN_RECALL:.0%}",
        f"  look-alike rate   {score.look_alike_rate:7.1%}   target <= {MAX_LOOK_ALIKE_RATE:.0%}",
        f"  category accuracy {score.category_accuracy:7.1%}   target >= {MIN_CATEGORY_ACCURACY:.0%} of caught",
        "",
        "  category       total  caught  recall  category right",
    ]
    for cat in CATEGORIES:
        c = score.per_category.get(cat, Counter())
        total = c["total"]
        recall = c["caught"] / total if total else 0.0
        lines.append(
            f"  {cat:<13} {total:>6} {c['caught']:>7} {recall:>7.1%} {c['category_ok']:>8}/{c['caught']}"
        )
    by_why = Counter(r["why"].split(" (")[0] for r in score.triggered + score.clean)
    trig_why = Counter(r["why"].split(" (")[0] for r in score.triggered)
    lines += ["", "  look-alike group                     total  triggered"]
    for why, total in sorted(by_why.items()):
        lines.append(f"  {why:<36} {total:>6} {trig_why[why]:>10}")
    if score.missed:
        lines += ["", "  MISSED emergencies:"]
        lines += [f"    [{r['flag']}] {r['text']}" for r in score.missed]
    if score.wrong_category:
        lines += ["", "  WRONG category:"]
        lines += [f"    [{r['flag']}] -> {r['found']} {r['text']}" for r in score.wrong_category]
    if score.triggered:
        lines += ["", "  TRIGGERED look-alikes:"]
        lines += [f"    ({r['why']}) -> {r['found']} {r['text']}" for r in score.triggered]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def data() -> Dict[str, List[Dict[str, str]]]:
    return load_phrasings()


@pytest.fixture(scope="module")
def score(data: Dict[str, List[Dict[str, str]]]) -> Score:
    result = evaluate(extract, data)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(render(result), encoding="utf-8")
    return result


_printed: List[bool] = []


@pytest.fixture
def report(score: Score, capsys: pytest.CaptureFixture[str]) -> Score:
    """Print the confusion table once per run, even when every test passes."""
    if not _printed:
        _printed.append(True)
        with capsys.disabled():
            print("\n" + render(score))
    return score


# --- the set itself ---------------------------------------------------------


def test_set_is_big_and_well_formed(data: Dict[str, List[Dict[str, str]]]) -> None:
    emergency, look_alike = data["emergency"], data["look_alike"]
    assert len(emergency) >= 100 and len(look_alike) >= 60
    assert all(set(item) == {"text", "flag"} for item in emergency)
    assert all(set(item) == {"text", "why"} for item in look_alike)
    assert {item["flag"] for item in emergency} == set(CATEGORIES)
    assert min(Counter(item["flag"] for item in emergency).values()) >= 15
    texts = [item["text"] for item in emergency + look_alike]
    assert len(texts) == len(set(texts)), "duplicate phrasing"


# --- the targets ---------------------------------------------------------


def test_every_emergency_phrasing_is_caught(report: Score) -> None:
    assert report.recall >= MIN_RECALL, failures(report)[0]


def test_look_alikes_rarely_trigger(report: Score) -> None:
    assert report.look_alike_rate <= MAX_LOOK_ALIKE_RATE, [p for p in failures(report) if "look-alikes" in p]


def test_category_is_right_for_caught_phrasings(report: Score) -> None:
    assert report.category_accuracy >= MIN_CATEGORY_ACCURACY, [p for p in failures(report) if "category" in p]


# --- the checks can fail -----------------------------------------------------


def _flag_everything(text: str) -> List[Dict[str, Any]]:
    return [{"entity": "red_flag", "value": "weakness", "start": 0, "end": len(text), "text": text}]


def test_scoring_fails_a_detector_that_finds_nothing(data: Dict[str, List[Dict[str, str]]]) -> None:
    problems = failures(evaluate(lambda text: [], data))
    assert any(p.startswith("emergency recall 0.0%") for p in problems)


def test_scoring_fails_a_detector_that_flags_everything(data: Dict[str, List[Dict[str, str]]]) -> None:
    problems = failures(evaluate(_flag_everything, data))
    assert any(p.startswith("look-alikes triggering 100.0%") for p in problems)
    assert any(p.startswith("category right for") for p in problems)  # only the weakness ones are right


def test_scoring_fails_a_single_miss(data: Dict[str, List[Dict[str, str]]]) -> None:
    first = data["emergency"][0]["text"]
    perfect = {i["text"]: [i["flag"]] for i in data["emergency"]}

    def almost(text: str) -> List[Dict[str, Any]]:
        flags = [] if text == first else perfect.get(text, [])
        return [{"entity": "red_flag", "value": f} for f in flags]

    score = evaluate(almost, data)
    assert score.look_alike_rate == 0 and score.category_accuracy == 1
    assert failures(score) and repr(first) in failures(score)[0]
