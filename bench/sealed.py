"""Score a sealed evaluation set: answers to every question and red-flag
phrasings, through the trained model and `actions.understanding.understand`
(the function the form and the red-flag check call).

    .venv/rasa/bin/python -m bench.sealed DIR --model models/x.tar.gz [--json out.json] [--show]

DIR holds answers.yml ([{question, respondent, text, value, ambiguous?, also?}])
and red_flags.yml ({emergencies: [{at, respondent, text, flag}],
look_alikes: [{at, respondent, text, why}]}); `at` is a question id,
"greeting" (before any question) or "contact" (leaving contact details).
Texts are printed only with --show: a set whose failures were read is no
longer sealed, so --show belongs to regression sets.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Optional

import yaml

from actions.answers import ParsedMessage
from actions.criteria import evaluate, load_trial
from actions.understanding import CONFIRM, URGENT, Reading, understand
from bench.nlu_eval import _parse_all

NOT_A_QUESTION = ("greeting", "contact")


def _same(question: Any, got: Any, want: Any, trial: Any = None) -> bool:
    """The bot's value is the label's. A label is read as the trial file reads
    a button value (a single region stands for a one-item list: round 5 wrote
    "lumbar" for ["lumbar"]); a label "other" for a cancer the bot names more
    precisely (colorectal, thyroid...) is the same when the criterion result
    is the same (the helper saw only the button values)."""
    if got is None or want is None:
        return got is None and want is None
    label = question.values.from_button(want)
    if question.values.normalise(got) == label:
        return True
    if trial is not None and want == "other" and question.answer_type == "cancer":
        return _result(trial, question.id, got) == _result(trial, question.id, want)
    # "I'm 68, no" read as not applicable (past the age of pregnancy): the same as no.
    if question.id in ("pregnancy", "breastfeeding") and sorted(map(str, (got, want))) == ["no", "not_applicable"]:
        return True
    # An age labelled only "adult" ("she's around 60") and read as 60: the same criterion result.
    if trial is not None and want in ("adult", "minor") and isinstance(got, int) and question.id == "age":
        return _result(trial, question.id, got) == _result(trial, question.id, want)
    if trial is not None and got in ("adult", "minor") and isinstance(want, int) and question.id == "age":
        return _result(trial, question.id, got) == _result(trial, question.id, want)  # "a teenager, fifteen": minor
    return False


def _result(trial: Any, qid: str, value: Any) -> Optional[str]:
    rows = evaluate(trial, {qid: value}).criteria
    return next((r.status for r in rows if r.question_id == qid), None)


def _excludes(trial: Any, qid: str, value: Any) -> bool:
    """Would this answer alone make the question's criterion fail?"""
    try:
        rows = evaluate(trial, {qid: value}).criteria
    except Exception:
        return False
    return any(r.question_id == qid and r.status == "fail" for r in rows)


def read(trial: Any, qid: str, respondent: Optional[str], text: str, parsed: dict[str, Any]) -> Reading:
    """What the bot makes of the text at that point (no earlier answers known)."""
    message = ParsedMessage(text, (parsed.get("intent") or {}).get("name"), parsed.get("entities") or [])
    question = None if qid in NOT_A_QUESTION else trial.question(qid)
    known = respondent if respondent in ("self", "caregiver") else "self"  # a set may say "unknown"
    return understand(question, message, known, {"respondent": known}, trial)


def _is_urgent(qid: str, reading: Reading) -> bool:
    # "yes" to the safety question is an emergency too (trial rule E8).
    return reading.red_flag == URGENT or (qid == "red_flags" and reading.sure and reading.value == "yes")


def score_answers(trial: Any, items: list[dict[str, Any]], readings: list[Reading]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    totals: Counter[str] = Counter()
    per_question: dict[str, Counter[str]] = defaultdict(Counter)
    failures = []
    for item, reading in zip(items, readings):
        qid = item["question"]
        question = trial.question(qid)
        want = item.get("value")
        ambiguous = bool(item.get("ambiguous"))
        if _is_urgent(qid, reading):
            # "Yes" to the safety question is urgent care: right when the label says yes.
            kind = "right" if qid == "red_flags" and want == "yes" else "false_urgent"
        elif reading.red_flag == CONFIRM:
            kind = "red_flag_check"  # one tap, then the question again
        elif reading.value is None:
            kind = "right" if want is None else "asked_again"
        elif _same(question, reading.value, want, trial):
            kind = "right" if reading.sure else "confirmed_right"
        elif not reading.sure:
            kind = "confirmed_wrong"  # the patient taps no: asked again
        elif ambiguous:
            kind = "wrong_value_ambiguous"
        else:
            kind = "wrong_value"
        if kind.startswith("wrong_value") and _excludes(trial, qid, reading.value) and not _excludes(trial, qid, want):
            totals["wrong_not_eligible"] += 1
        totals[kind] += 1
        per_question[qid][kind] += 1
        # Facts volunteered for other questions: filled right, filled wrong, or left to be asked.
        for other, fact in (item.get("also") or {}).items():
            got_fact = reading.also.get(other) if reading.red_flag is None else None
            totals["also_n"] += 1
            if got_fact is None:
                totals["also_left_to_ask"] += 1
            elif _same(trial.question(other), got_fact, fact, trial):
                totals["also_filled"] += 1
            else:
                totals["also_wrong"] += 1
        for other in set(reading.also) - set(item.get("also") or {}):
            if reading.red_flag is None and kind in ("right", "confirmed_right"):
                totals["also_unexpected"] += 1
        if kind not in ("right",):
            failures.append({"question": qid, "kind": kind, "text": item["text"], "expected": want,
                             "got": reading.value, "sure": reading.sure, "red_flag": reading.red_flag})
    n = len(items)
    summary = {"n": n, **dict(totals),
               "right_share": totals["right"] / n if n else None,
               "right_or_one_tap_share": (totals["right"] + totals["confirmed_right"]) / n if n else None,
               "per_question": {q: dict(c) for q, c in sorted(per_question.items())}}
    return summary, failures


def score_red_flags(items: list[dict[str, Any]], readings: list[Reading], emergency: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    totals: Counter[str] = Counter()
    per_at: dict[str, Counter[str]] = defaultdict(Counter)
    failures = []
    for item, reading in zip(items, readings):
        at = item["at"]
        if _is_urgent(at, reading):
            kind = "urgent_now" if emergency else "false_urgent"
        elif reading.red_flag == CONFIRM:
            kind = "caught_with_a_tap" if emergency else "one_tap"
        else:
            kind = "missed" if emergency else "right"
        totals[kind] += 1
        per_at[at][kind] += 1
        if kind not in ("urgent_now", "right"):
            failures.append({"at": at, "kind": kind, "text": item["text"], "flag_or_why": item.get("flag") or item.get("why"),
                             "got_value": reading.value})
    n = len(items)
    summary = {"n": n, **dict(totals), "per_at": {a: dict(c) for a, c in sorted(per_at.items())}}
    if emergency:
        summary["caught_share"] = (totals["urgent_now"] + totals["caught_with_a_tap"]) / n if n else None
    else:
        summary["false_urgent_share"] = totals["false_urgent"] / n if n else None
        safety = [r for i, r in zip(items, readings) if i["at"] == "red_flags"]
        summary["safety_question_n"] = len(safety)
        summary["safety_question_false_urgent"] = sum(_is_urgent("red_flags", r) for r in safety)
    return summary, failures


def score(directory: Path, model: Path) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    trial = load_trial()
    answers = yaml.safe_load((directory / "answers.yml").read_text())
    flags = yaml.safe_load((directory / "red_flags.yml").read_text())
    groups = {"answers": answers, "emergencies": flags["emergencies"], "look_alikes": flags["look_alikes"]}
    texts = [str(item["text"]) for items in groups.values() for item in items]
    parses = iter(asyncio_parse(model, texts))
    readings = {}
    for name, items in groups.items():
        readings[name] = [read(trial, item.get("question") or item["at"], item.get("respondent"), str(item["text"]), next(parses))
                          for item in items]
    a, fa = score_answers(trial, answers, readings["answers"])
    e, fe = score_red_flags(groups["emergencies"], readings["emergencies"], emergency=True)
    l, fl = score_red_flags(groups["look_alikes"], readings["look_alikes"], emergency=False)
    return {"answers": a, "emergencies": e, "look_alikes": l}, {"answers": fa, "emergencies": fe, "look_alikes": fl}


def asyncio_parse(model: Path, texts: list[str]) -> list[dict[str, Any]]:
    import asyncio

    return asyncio.run(_parse_all(model, texts))


def render(summary: dict[str, Any]) -> str:
    a, e, l = summary["answers"], summary["emergencies"], summary["look_alikes"]
    lines = [
        f"answers: {a['n']}: right {a.get('right', 0)} ({a['right_share']:.1%}), right after one confirming tap "
        f"{a.get('confirmed_right', 0)}, asked again {a.get('asked_again', 0)}, confirmation refused {a.get('confirmed_wrong', 0)}, "
        f"WRONG value {a.get('wrong_value', 0)} (+{a.get('wrong_value_ambiguous', 0)} on ambiguous items; "
        f"{a.get('wrong_not_eligible', 0)} would exclude), red-flag check {a.get('red_flag_check', 0)}, FALSE URGENT {a.get('false_urgent', 0)}",
        f"  volunteered facts: {a.get('also_n', 0)}: filled {a.get('also_filled', 0)}, left to ask {a.get('also_left_to_ask', 0)}, "
        f"WRONG {a.get('also_wrong', 0)}; filled without being labelled {a.get('also_unexpected', 0)}",
        f"emergencies: {e['n']}: urgent at once {e.get('urgent_now', 0)}, after a confirming tap {e.get('caught_with_a_tap', 0)}, "
        f"MISSED {e.get('missed', 0)} (caught {e['caught_share']:.1%})",
        f"look-alikes: {l['n']}: right {l.get('right', 0)}, one confirming tap {l.get('one_tap', 0)}, FALSE URGENT "
        f"{l.get('false_urgent', 0)}; at the safety question {l['safety_question_false_urgent']} of {l['safety_question_n']} ended in urgent care",
    ]
    for qid, counts in a["per_question"].items():
        lines.append(f"  {qid:24} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--show", action="store_true", help="print the failing texts (regression sets only)")
    args = parser.parse_args(argv)
    print(f"Scoring {args.directory} with {args.model.name} ...", file=sys.stderr)
    summary, failures = score(args.directory, args.model)
    print(render(summary))
    if args.show:
        for name, rows in failures.items():
            for row in rows:
                print(f"[{name}] " + json.dumps(row, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
