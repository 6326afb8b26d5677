"""The pure parts of `make bench`: personas and their expected outcomes, what
they type, the scoring of conversations, answer-value scoring, the profile
summary, the load counters and the report page, on inputs worked out by hand."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from actions.criteria import load_trial
from bench import nlu_eval, outcomes, profile, report
from bench.load import at_once
from bench.personas import QUOTAS, Bank, Persona, Speaker, button_choice, expect, generate, same_answer
from bench.screen import Screen

TRIAL = load_trial()
FIT = {
    "red_flags": "no", "age": 64, "spine_mets_confirmed": "yes", "spine_region": ("thoracic",), "pain_score": 7, "pain_warning_signs": "no",
    "cord_compression_told": "no", "primary_cancer": "breast", "pregnancy": "not_applicable", "breastfeeding": "no",
    "prior_spine_radiation": "no", "performance_status": 1, "visceral_metastases": "no", "able_to_attend": "yes",
}


def persona(name: str = "t1", respondent: str = "self", click_rate: float = 0.0, **changes: object) -> Persona:
    return Persona(name, respondent, {**FIT, **changes}, click_rate, seed=1)


# --- personas ------------------------------------------------------------------

def test_expected_path_follows_the_engine() -> None:
    fit = expect(TRIAL, persona())
    assert fit.outcome == "likely_eligible"
    assert fit.asked[:2] == ("respondent", "red_flags")
    assert "breastfeeding" not in fit.asked  # pregnancy not possible: not asked

    urgent = expect(TRIAL, persona(red_flags="yes"))
    assert urgent.outcome == "urgent_care" and urgent.asked == ("respondent", "red_flags")

    minor = expect(TRIAL, persona(age=16))
    assert minor.outcome == "not_eligible" and minor.asked[-1] == "age"
    assert expect(TRIAL, persona(pregnancy="no")).asked.count("breastfeeding") == 1
    assert expect(TRIAL, persona(performance_status=3)).outcome == "needs_review"


def test_generated_personas_are_deterministic_and_fill_the_quotas() -> None:
    first, again = generate(TRIAL, 72), generate(TRIAL, 72)
    assert first == again
    assert generate(TRIAL, 72, seed=3) != first
    outcomes_seen = Counter(expect(TRIAL, p).outcome for p in first)
    assert sum(outcomes_seen.values()) == 72
    for outcome, share in QUOTAS.items():
        assert abs(outcomes_seen[outcome] - share * 72) <= 1, outcomes_seen
    assert {p.respondent for p in first} == {"self", "caregiver"}
    assert any(v == "unknown" for p in first for v in p.facts.values())  # some say "not sure"


def test_every_generated_fact_has_wordings_with_no_placeholder_left() -> None:
    bank = Bank.load()
    for p in generate(TRIAL, 72) + generate(TRIAL, 60, seed=7):
        for question in expect(TRIAL, p).asked:
            wordings = bank.wordings(question, p.answers[question], p.respondent)
            assert wordings, (p.name, question)
            assert not any(re.search(r"[{}]", w) for w in wordings), (question, wordings)


def test_the_bank_fills_numbers_and_regions() -> None:
    bank = Bank.load()
    assert all("67" in w for w in bank.wordings("age", 67, "self"))
    assert all("8" in w for w in bank.wordings("pain_score", 8, "caregiver"))
    two = bank.wordings("spine_region", ("thoracic", "lumbar"), "self")
    assert two and all(" and " in w for w in two)
    words = bank.questions["region_words"]["lumbar"]
    assert any(fragment in w for w in bank.wordings("spine_region", ("lumbar",), "self") for fragment in words)
    assert bank.wordings("prior_spine_radiation", (), "self") == bank._pick(
        bank.questions["prior_spine_radiation"]["yes_unknown_where"], "self")


def test_buttons_are_matched_by_their_value() -> None:
    assert button_choice('/choose{"choice": "thoracic"}') == "thoracic"
    assert button_choice('/choose{"choice": []}') == []
    assert button_choice("/greet") is None
    assert same_answer(TRIAL, "spine_region", "thoracic", ("thoracic",))
    assert not same_answer(TRIAL, "spine_region", "lumbar", ("thoracic",))
    assert same_answer(TRIAL, "prior_spine_radiation", [], ())
    assert same_answer(TRIAL, "performance_status", 1, 1)
    assert same_answer(TRIAL, "performance_status", "4", 4)  # payloads carry numbers as text
    assert not same_answer(TRIAL, "performance_status", "3", 4)
    assert not same_answer(TRIAL, "age", "adult", 64)  # an exact age is typed, never the "18 or older" button


def test_speaker_types_then_rewords_then_taps_the_button() -> None:
    speaker = Speaker(TRIAL, Bank.load(), persona(click_rate=0.0))
    buttons = [{"title": "No", "payload": '/choose{"choice": "no"}'}, {"title": "Yes", "payload": '/choose{"choice": "yes"}'}]
    first, second, third = (speaker.reply("cord_compression_told", buttons) for _ in range(3))
    assert "text" in first and "text" in second
    assert third == {"payload": '/choose{"choice": "no"}'}
    always_taps = Speaker(TRIAL, Bank.load(), persona(click_rate=1.0))
    assert always_taps.reply("red_flags", buttons) == {"payload": '/choose{"choice": "no"}'}
    # No matching button: typed even on the third try.
    for _ in range(3):
        assert "text" in always_taps.reply("age", [{"title": "18 or older", "payload": '/choose{"choice": "adult"}'}])


def test_a_typed_only_speaker_types_the_button_title_on_the_third_try() -> None:
    speaker = Speaker(TRIAL, Bank.load(), persona(click_rate=1.0), typed_only=True)
    buttons = [{"title": "No", "payload": '/choose{"choice": "no"}'}]
    replies = [speaker.reply("cord_compression_told", buttons) for _ in range(3)]
    assert all("text" in r for r in replies) and replies[2] == {"text": "No"}


def test_the_speaker_confirms_a_read_back_only_when_it_says_its_fact() -> None:
    speaker = Speaker(TRIAL, Bank.load(), persona(performance_status=1), typed_only=True)
    speaker.reply("performance_status", [])
    right = 'Just to check, about your usual day, I understood: "Can\'t do hard physical work, but can do light work like housework". Is that right?'
    assert speaker.reply("answer_check", [], [right])["text"].startswith("y")
    assert speaker.reply("answer_check", [], ['Just to check, about your usual day, I understood: "Does all usual activities, with no limits".'])["text"].startswith("n")
    assert speaker.reply("red_flag_check", [], ["Is it new for you, or getting worse?"])["text"].startswith("n")
    urgent = Speaker(TRIAL, Bank.load(), persona(red_flags="yes"), typed_only=True)
    assert urgent.reply("red_flag_check", [], [])["text"].startswith("y")


def test_score_counts_false_alarms_wrong_exclusions_and_wrong_values() -> None:
    people = [persona("a"), persona("b")]
    expected = [expect(TRIAL, p) for p in people]
    alarm = Screen("a", outcome="urgent_care", asks=["respondent", "red_flags", "age", "red_flag_check"])
    excluded = Screen("b", outcome="not_eligible", asks=["respondent", "red_flags", "age", "answer_check", "age", "answer_check"])
    understood = [{"respondent": "self", "red_flags": "yes"}, {"respondent": "self", "red_flags": "no", "age": 16, "spine_mets_confirmed": "unknown"}]
    scored = outcomes.score(TRIAL, people, expected, [alarm, excluded], understood)
    assert scored["false_urgent_care"] == 1 and scored["wrong_not_eligible"] == 1
    assert scored["wrong_values"] == 2  # red_flags yes, age 16
    assert scored["values_not_understood"] == 1
    q = scored["questions_to_outcome"]
    assert q["most_times_one_question_asked"] == 2 and q["confirming_questions_total"] == 3 and q["asked_again_total"] == 1


# --- scoring ------------------------------------------------------------------------

def test_score_counts_outcomes_criteria_questions_and_stalls() -> None:
    people = [persona("a"), persona("b", pain_score=1), persona("c")]
    expected = [expect(TRIAL, p) for p in people]
    right = Screen("a", outcome="likely_eligible", asks=list(expected[0].asked))
    # b should fail on pain, but the bot read 7 and went on to an outcome of likely_eligible.
    misread = Screen("b", outcome="likely_eligible", asks=list(expected[0].asked) + ["pain_score"])
    stalled = Screen("c", stalled=True, asks=["respondent", "red_flags", "red_flags", "red_flags", "red_flags"])
    understood = [
        {**FIT, "respondent": "self", "spine_region": ["thoracic"]},
        {**FIT, "respondent": "self", "pain_score": 7.0},  # Rasa float slot
        {"respondent": "self"},
    ]
    scored = outcomes.score(TRIAL, people, expected, [right, misread, stalled], understood)
    assert scored["outcome_accuracy"] == pytest.approx(1 / 3)
    assert scored["confusion"]["likely_eligible"] == {"likely_eligible": 1, "not_eligible": 0, "stalled": 1}
    assert scored["confusion"]["not_eligible"]["likely_eligible"] == 1
    pain = scored["per_criterion"]["pain_score"]
    assert pain["asked"] == 3 and pain["value_agrees"] == 1 and pain["status_agrees"] == 1
    assert scored["per_criterion"]["respondent"]["value_agreement"] == 1.0
    assert scored["stalled"] == 1
    q = scored["questions_to_outcome"]
    assert q["max"] == len(expected[0].asked) + 1 and q["asked_again_total"] == 1
    assert [w["persona"] for w in scored["wrong"]] == ["b", "c"]
    assert "pain_score" in scored["wrong"][0]["misread"]


def test_value_scoring_uses_the_action_servers_interpreter() -> None:
    items = [
        {"question": "pain_score", "text": "about a 6", "value": 6},
        {"question": "spine_region", "text": "mid back and low back", "value": ["thoracic", "lumbar"]},
        {"question": "age", "text": "why do you ask", "value": None},
        {"question": "age", "text": "sixty", "value": 60},
    ]
    parses = [
        {"intent": {"name": "inform"}, "entities": [{"entity": "number", "value": 6}]},
        {"intent": {"name": "inform"}, "entities": [{"entity": "spine_region", "value": "lumbar"},
                                                    {"entity": "spine_region", "value": "thoracic"}]},
        {"intent": {"name": "faq"}, "entities": []},
        {"intent": {"name": "inform"}, "entities": []},  # nothing understood: wrong
    ]
    scored = nlu_eval.score_values(items, parses)
    assert scored["n"] == 4 and scored["accuracy"] == pytest.approx(3 / 4)
    assert scored["per_type"]["age"] == {"n": 2, "correct": 1, "accuracy": 0.5}
    assert scored["errors"] == [{"index": 3, "question": "age", "kind": "age", "expected": 60, "got": None}]


def test_the_held_out_values_are_valid_answers_and_training_texts_are_left_out() -> None:
    items, left_out = nlu_eval.load_value_examples()
    assert len(items) >= 180 and left_out > 0  # "yes" and "no" are training examples too
    training = nlu_eval.training_texts()
    assert "yes" in training and not [i["text"] for i in items if i["text"].lower() in training]
    for item in items:
        question = TRIAL.question(item["question"])
        assert item["value"] is None or question.values.normalise(item["value"]) is not None, item
    per_question = Counter(i["question"] for i in items)
    for kind in ("spine_region", "pain_score", "age", "primary_cancer"):
        assert per_question[kind] >= 25, per_question


# --- load, profile, report ------------------------------------------------------------

def test_at_once_counts_completed_failed_and_turns() -> None:
    def one(index: int, round_: int) -> Screen:
        if index == 1:
            return Screen("x", error="GatewayError", turn_s=[0.5])
        return Screen("x", outcome="needs_review", turn_s=[0.1, 0.2], retries=round_)

    row = at_once(3, 2, one)
    assert (row["conversations"], row["completed"], row["failed"], row["turns"]) == (6, 4, 2, 10)
    assert row["retries_503"] == 2  # the second round of patients 0 and 2
    assert row["max_ms"] == pytest.approx(500)


def test_profile_summary_groups_stacks_by_area_and_function() -> None:
    lib = "/v/lib/python3.10/site-packages"
    raw = "\n".join([
        f"run ({lib}/rasa/core/run.py:10);call ({lib}/tensorflow/python/eager/execute.py:52) 6",
        f"run ({lib}/rasa/core/run.py:10);predict ({lib}/rasa/core/policies/rule_policy.py:99) 3",
        f"run ({lib}/rasa/core/run.py:10);process ({profile.ROOT}/nlu/components.py:5) 1",
        f"run ({lib}/rasa/core/run.py:10);train ({lib}/rasa/nlu/classifiers/diet.py:5) 0",
        "garbage line",
    ])
    summary = profile.summarise(raw)
    assert summary["samples"] == 10
    assert summary["by_area"]["TensorFlow / Keras / NumPy (DIET, ResponseSelector)"] == pytest.approx(0.6)
    assert summary["by_area"]["Rasa dialogue (policies, processor, events)"] == pytest.approx(0.3)
    assert summary["by_area"]["our NLU components (spaCy rules)"] == pytest.approx(0.1)  # not Rasa's own nlu/
    assert summary["top_functions"][0] == {"function": "call (execute.py)", "share": pytest.approx(0.6)}


def test_report_renders_every_part_and_survives_missing_ones(tmp_path: Path) -> None:
    level = {"at_once": 1, "conversations": 2, "completed": 2, "failed": 0, "stalled": 0, "retries_503": 0,
             "wall_s": 10.0, "completed_per_min": 12.0, "turns": 30, "p50_ms": 200.0, "p95_ms": 400.0, "p99_ms": 500.0,
             "max_ms": 600.0, "peak_rss_mb": {"rasa": 1000.0}}
    people = [persona("a")]
    scored = outcomes.score(TRIAL, people, [expect(TRIAL, people[0])],
                            [Screen("a", outcome="likely_eligible", asks=["respondent"])], [{**FIT, "respondent": "self"}])
    data = {
        "machine": {"cpu": "test cpu", "cores": 2, "memory_gib": 24, "os": "Linux", "commit": "abc1234"},
        "rasa_side": {"started_at": "2026-11-28T00:00:00+00:00", "training": {"ours": {"cold_s": 200.0, "cached_s": 50.0, "size_mb": 60.0}}},
        "conversations": {"pauses_s": [2, 8], "ours": {"outcomes": scored, "outcomes_typed_only": scored, "gateway_no_pause": [level],
                                                       "memory_at_rest_mb": {"rasa": 900.0}},
                          "baseline": {"turns_per_conversation": 15, "no_pause": [{**level, "p50_ms": 50.0}], "memory_at_rest_mb": {"rasa": 700.0}}},
        "cost": None,
    }
    page = report.render(data, tmp_path)
    assert "Outcome accuracy (1 simulated patients) | 100.0 %" in page
    assert "| 1 | 2 | 30 | 200 | 400 | 500 | 0 / 0 | 0 | 12.0 | 4.0× | 1.0× |" in page  # ratios to the baseline (p95 equal)
    assert "Training cold / cached | 200 s / 50 s" in page
    assert "| Sent to urgent care without a red flag | 0 | 0 | 0 |" in page  # the typed-only table (issue 10)
    assert (tmp_path / "benchmarks" / "latency.png").exists() and (tmp_path / "benchmarks" / "criteria.png").exists()
    assert "CPU per patient message" not in page, "no CPU figures measured: no CPU table"
    # Issue 14: CPU per message by process, next to the baseline's, and messages/s.
    data["conversations"]["ours"]["gateway_no_pause"] = [{**level, "messages_per_s": 3.0, "cpu_ms_per_message": {
        "rasa": 60.0, "actions": 9.0, "api": 11.0, "delivery": 0.0, "total": 80.0}}]
    data["conversations"]["baseline"]["no_pause"] = [{**level, "messages_per_s": 6.0, "cpu_ms_per_message": {"rasa": 50.0, "total": 50.0}}]
    page = report.render(data, tmp_path)
    assert "| 1 | 60.0 | 9.0 | 11.0 | 0.0 | 80.0 | 50.0 | 1.6× | 3.0 | 6.0 | 0.5× |" in page
    assert "taking turns" not in page, "no alternating run: no such table"
    data["alternating"] = {"rows": [{
        "at_once": 10, "rounds": 5, "ours_cpu_ms_per_message": {"rasa": 25.0, "actions": 1.5, "api": 4.5, "delivery": 0.0, "total": 31.0},
        "baseline_cpu_ms_per_message": 34.0, "cpu_ratio": 31.0 / 34.0, "cpu_ratio_min": 0.81, "cpu_ratio_max": 1.01,
        "messages_per_s_ratio": 1.3, "p95_ms": {"ours": 500.0, "baseline": 600.0}, "p95_ratio": 500.0 / 600.0}]}
    page = report.render(data, tmp_path)
    assert "| 10 | 5 | 25.0 | 1.5 | 4.5 | 0.0 | 31.0 | 34.0 | 0.91× (0.81–1.01) | 1.30× | 500 / 600 ms (0.83×) |" in page
    assert "CPU per message vs `rasa init`, 10 at once (taking turns) | 0.91×" in page
    assert "- CPU per patient message at the highest load: rasa 25.0 ms (81%), api 4.5 ms (15%), actions 1.5 ms (5%), of 31.0 ms in all." in page
    data["alternating"]["commit"] = "def5678"
    assert "(taking turns, commit def5678) | 0.91×" in report.render(data, tmp_path)
    empty = report.render({"machine": data["machine"]}, tmp_path / "empty")
    assert "Not measured in this run" in empty
    json.dumps(data)  # the merged JSON is plain data


def test_a_red_flag_at_the_safety_question_counts_as_yes_and_elsewhere_as_a_red_flag() -> None:
    items = [{"question": "red_flags", "text": "my legs gave out", "value": "yes"},
             {"question": "age", "text": "I'm 60 but my legs gave out", "value": 60}]
    parse = {"intent": {"name": "red_flag"}, "entities": [{"entity": "number", "value": 60}]}
    scored = nlu_eval.score_values(items, [parse, parse])
    assert scored["per_type"]["yes / no / unsure"]["correct"] == 1
    assert scored["errors"] == [{"index": 1, "question": "age", "kind": "age", "expected": 60, "got": "red_flag"}]


def test_the_first_run_clone_inherits_no_path_or_port_of_this_checkout() -> None:
    """bench.sh sources scripts/lib.sh; a variable it exports with this checkout's
    data folder or ports would make the fresh clone use ours (seen once: it waited
    on port 8000 and wrote into ./data)."""
    from bench import cost

    exported = re.findall(r"^export (\w+)", (cost.ROOT / "scripts" / "lib.sh").read_text(), flags=re.M)
    # Settings, not paths or ports: the same for the clone (ENVIRONMENT: it is a local run too).
    harmless = {"RASA_TELEMETRY_ENABLED", "TF_CPP_MIN_LOG_LEVEL", "SANIC_HOST", "ENVIRONMENT"}
    assert exported and set(exported) - harmless <= cost.INHERITED


def test_the_cpu_meter_counts_a_busy_process_tree_and_not_an_idle_one() -> None:
    import subprocess
    import sys

    from bench.cpu import CpuMeter, tree_cpu_s

    # A parent that, when told, runs a child burning 0.4 s of CPU and says when it is done
    # (the child's time then counts in the parent's cutime); and a process that only sleeps.
    burner = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass"
    parent = subprocess.Popen(
        [sys.executable, "-c", "import subprocess, sys, time\nprint('ready', flush=True)\nsys.stdin.readline()\n"
         f"subprocess.run([sys.executable, '-c', {burner!r}])\nprint('done', flush=True)\ntime.sleep(30)"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    idle = subprocess.Popen([sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(30)"],
                            stdout=subprocess.PIPE, text=True)
    try:
        # Both interpreters started (their start-up CPU spent) before the meter, however busy the machine.
        assert parent.stdout is not None and idle.stdout is not None
        assert parent.stdout.readline().strip() == "ready" and idle.stdout.readline().strip() == "ready"
        with CpuMeter({"busy": parent.pid, "idle": idle.pid}) as meter:
            assert parent.stdin is not None and parent.stdout is not None
            parent.stdin.write("go\n")
            parent.stdin.flush()
            assert parent.stdout.readline().strip() == "done"
        assert meter.spent["busy"] >= 0.4, meter.spent
        assert meter.spent["idle"] < 0.1, meter.spent
        per = meter.per_message_ms(10)
        assert per["total"] == pytest.approx((meter.spent["busy"] + meter.spent["idle"]) * 100)
        assert meter.per_message_ms(0) == {}
    finally:
        parent.kill()
        idle.kill()
        parent.wait()
        idle.wait()
    assert tree_cpu_s(parent.pid) == 0.0, "an exited process has no CPU to read"
