"""The reader level of issue 10: `actions.understanding.understand` on the
rule-based entities, one test per failure class (new wordings, never the
sealed-set items). The intent is what nlu/components.py would set from the
entities; the classifier's own guess is passed where a test needs it."""

from __future__ import annotations

from typing import Any, Optional

import pytest

from actions.answers import ParsedMessage
from actions.criteria import load_trial
from actions.understanding import CONFIRM, URGENT, read_back, read_ecog_description, understand
from nlu.extract import extract

TRIAL = load_trial()


def reading(question: Optional[str], text: str, intent: str = "inform", respondent: str = "self", answers: Any = None):
    entities = extract(text)
    kinds = {e["entity"] for e in entities}
    if "red_flag" in kinds:
        intent = "red_flag"
    elif "red_flag_possible" in kinds:
        intent = "red_flag_check"
    q = TRIAL.question(question) if question else None
    return understand(q, ParsedMessage(text, intent, tuple(entities)), respondent,
                      {"respondent": respondent, **(answers or {})}, TRIAL)


# --- red flags in two stages --------------------------------------------------

@pytest.mark.parametrize("question,text", [
    ("age", "66, and since Sunday I keep tripping over my own feet"),
    ("primary_cancer", "breast. and i can't feel the seat under me when i sit on the loo"),
    ("pain_score", "8, and I haven't managed to pass any water since last night"),
    ("performance_status", "my legs went to jelly on saturday and they still are"),
    ("spine_region", "lower back, and i need to hold onto the furniture to get around now"),
    (None, "hi, i think my legs are getting weaker"),
])
def test_a_clear_current_symptom_is_urgent_at_any_question(question: Optional[str], text: str) -> None:
    assert reading(question, text).red_flag == URGENT


@pytest.mark.parametrize("question,text", [
    ("performance_status", "the numbness in my toes from the chemo hasn't changed in years"),
    ("age", "70. my hip is weak from an old injury, always has been"),
    ("cord_compression_told", "no, years ago I had some tingling but it went away"),
])
def test_an_old_explained_or_asked_about_symptom_is_checked_not_urgent(question: Optional[str], text: str) -> None:
    assert reading(question, text).red_flag == CONFIRM


def test_a_question_about_symptoms_is_not_an_emergency() -> None:
    assert reading(None, "hello! what counts as weakness in the legs?").red_flag != URGENT


def test_the_classifier_alone_never_ends_a_screening() -> None:
    said = understand(TRIAL.question("performance_status"), ParsedMessage("my legs feel odd some days", "red_flag_check", ()))
    assert said.red_flag == CONFIRM
    busy = understand(TRIAL.question("performance_status"), ParsedMessage("busy day, the farm and the grandkids", "red_flag_check", ()))
    assert busy.red_flag is None  # nothing in it speaks of a symptom


def test_a_denial_that_names_the_symptoms_answers_the_safety_question() -> None:
    said = reading("red_flags", "nope, legs are fine and no trouble with the waterworks")
    assert said.red_flag is None and said.value == "no"


def test_a_helpers_report_about_the_patient_is_urgent_and_a_patients_about_someone_else_is_checked() -> None:
    assert reading("age", "my husband can't walk properly", respondent="caregiver").red_flag == URGENT
    assert reading("age", "my husband can't walk properly", respondent="self").red_flag == CONFIRM


# --- answers with confidence ---------------------------------------------------

@pytest.mark.parametrize("text,grade", [
    ("I still go cross-country skiing every weekend", 0),
    ("office work is fine but I can't do the heavy lifting at home any more", 1),
    ("had to stop working, but I dress and wash myself and potter about", 2),
    ("I'm lying on the sofa most of the day, my son helps me shower", 3),
    ("she is bedridden and the nurses do everything for her", 4),
])
def test_daily_function_is_read_from_a_description_and_read_back(text: str, grade: int) -> None:
    said = reading("performance_status", text)
    assert (said.value, said.sure) == (grade, False)
    assert read_back(TRIAL.question("performance_status"), grade)[0] == TRIAL.question("performance_status").buttons[grade].title


def test_numbers_in_a_description_are_not_a_grade() -> None:
    assert read_ecog_description("I swim 3 times a week and work full time") == 0
    assert reading("performance_status", "2").value == 2


@pytest.mark.parametrize("text,score,sure", [
    ("been like this for 3 weeks, a 7 at its worst", 7, True),
    ("since march 2024, today about a six", 6, True),
    ("went from an 8 to a 3 after my pills", 8, False),
])
def test_the_pain_number_is_not_a_duration_or_date(text: str, score: int, sure: bool) -> None:
    said = reading("pain_score", text)
    assert (said.value, said.sure) == (score, sure)


def test_only_durations_are_not_a_pain_score() -> None:
    assert reading("pain_score", "it started 2 weeks ago").value is None


def test_negation_is_scoped_to_what_it_negates() -> None:
    assert reading("prior_spine_radiation", "only chemo and pills, never had radiation").value == "no"
    assert reading("prior_spine_radiation", "radiation to my breast in 2019, nothing on the back").value == "no"


def test_a_hedge_never_excludes() -> None:
    said = reading("pregnancy", "there's a small chance, yes")
    assert said.value == "could_be"
    hedged = reading("cord_compression_told", "i think so, maybe")
    assert hedged.sure is False or hedged.value == "unknown"


def test_a_typed_exclusion_is_read_back_first() -> None:
    said = reading("age", "I'm 16")
    assert (said.value, said.sure) == (16, False)
    assert read_back(TRIAL.question("age"), 16) == ("16", "age_years")
    assert reading("age", "I'm 64").sure is True


# --- context -------------------------------------------------------------------

def test_a_man_is_not_asked_about_pregnancy() -> None:
    assert reading("respondent", "it's for my dad, he's got prostate cancer", respondent="caregiver").also["pregnancy"] == "not_applicable"
    assert reading("pregnancy", "he is a man lol", respondent="caregiver").value == "not_applicable"


def test_facts_given_early_fill_later_questions_but_never_exclude() -> None:
    assert reading("age", "64, and the sore spot is my lower back").also == {"spine_region": ["lumbar"]}
    assert "spine_region" not in reading("age", "64, and it's in my neck").also  # neck only would exclude: asked


def test_myeloma_in_the_marrow_is_myeloma() -> None:
    assert reading("primary_cancer", "my myeloma started in the bone marrow").value == "myeloma"


def test_walking_told_as_a_usual_day_is_checked_but_told_as_new_is_urgent() -> None:
    assert reading("performance_status", "I can't walk far, I'm in a chair most of the day").red_flag == CONFIRM
    assert reading("performance_status", "since tuesday I can't walk without holding the walls").red_flag == URGENT
    assert reading("performance_status", "my bladder leaks and I can't feel it").red_flag == URGENT


def test_lifting_heavy_things_is_daily_function_not_weakness() -> None:
    said = reading("performance_status", "I get around fine, just can't lift anything heavy or do hard work")
    assert said.red_flag is None and said.value == 1


def test_a_denial_right_before_a_symptom_word_stays_a_denial() -> None:
    assert [e for e in extract("no bowel issues, arms fine") if e["entity"].startswith("red_flag")] == []
    assert reading("red_flags", "no bowel issues, arms fine").value == "no"


def test_a_number_with_a_unit_is_not_a_grade() -> None:
    said = reading("performance_status", "off work now, I rest maybe 4 hours in the afternoon")
    assert said.value == 2 and said.sure is False


def test_an_answer_the_question_does_not_accept_is_asked_again() -> None:
    # "not sure" is a valid answer to every question but this one (found by sealed round 3:
    # it reached the criteria engine and would have shown the technical-problem message).
    said = reading("respondent", "not sure")
    assert said.value is None and said.red_flag is None


@pytest.mark.parametrize("text", [
    "I found a numb patch on my backside yesterday",
    "she can't seem to empty her bladder since last night",
    "the pain wraps around my ribs to the front now",
    "I'm staggering when I walk since the weekend",
])
def test_round_three_classes_are_caught(text: str) -> None:
    assert reading("age", text, respondent="self").red_flag in (URGENT, CONFIRM)


@pytest.mark.parametrize("text", ["no, I can't stand all the waiting", "nope, my only weakness is for chocolate",
                                  "Non, pas de faiblesse"])
def test_other_senses_are_not_emergencies(text: str) -> None:
    assert reading("red_flags", text).red_flag != URGENT
