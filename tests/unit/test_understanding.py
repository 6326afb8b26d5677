"""The reader level of issue 10: `actions.understanding.understand` on the
rule-based entities, one test per failure class (new wordings, never the
sealed-set items). The intent is what nlu/components.py would set from the
entities; the classifier's own guess is passed where a test needs it."""

from __future__ import annotations

from typing import Any, Optional

import pytest

from actions.answers import ParsedMessage
from actions.criteria import evaluate, load_trial
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


# --- classes from sealed round 4 (new wordings) -------------------------------

@pytest.mark.parametrize("question,text,respondent", [
    (None, "my hands have become clumsy this week and I keep fumbling the fork", "self"),
    ("pain_score", "7. my grip has gone weak, can't fasten my coat since Tuesday", "self"),
    ("age", "59, and since Friday I can barely get to the kitchen without holding on", "self"),
    ("primary_cancer", "prostate. he needs his son's arm to walk now", "caregiver"),
    ("able_to_attend", "maybe, she's in a wheelchair now since last week", "caregiver"),
    ("breastfeeding", "no. my legs keep folding under me since yesterday", "self"),
    ("red_flags", "yes, my legs just won't go properly", "self"),
    ("respondent", "for my dad, he's had trouble holding his water since the weekend", "caregiver"),
    ("primary_cancer", "bowel. a few wet accidents lately which is new", "self"),
    ("cord_compression_told", "no but the ache wraps round both sides to my stomach since Monday", "self"),
])
def test_round4_emergency_classes_are_urgent(question: Optional[str], text: str, respondent: str) -> None:
    assert reading(question, text, respondent=respondent).red_flag == URGENT


@pytest.mark.parametrize("question,text,respondent", [
    ("visceral_metastases", "no. I use a walker", "self"),  # an aid without "now": asked about
    ("red_flags", "my fingers tingle after each infusion and the team knows, same every cycle", "self"),
    ("breastfeeding", "No. His brother had a hip operation and he's the one who can't walk far", "caregiver"),
])
def test_round4_uncertain_or_someone_elses_symptom_is_asked_about(question: str, text: str, respondent: str) -> None:
    assert reading(question, text, respondent=respondent).red_flag == CONFIRM


def test_another_sense_of_weakness_is_no_symptom() -> None:
    assert reading("red_flags", "the only weakness he's got is for butter tarts", respondent="caregiver").red_flag is None


def test_a_question_about_the_question_is_asked_again_not_read_as_yes() -> None:
    said = reading("red_flags", "what does trouble walking mean here?")
    assert said.red_flag is None and said.value is None
    assert reading("performance_status", "what do you mean by usual?").value is None


def test_an_answer_offered_as_a_question_is_read_back() -> None:
    said = reading("visceral_metastases", "a spot in the adrenal, would that count?")
    assert said.value == "yes" and said.sure is False


@pytest.mark.parametrize("text,level", [
    ("I play hockey twice a week and coach my daughter's team", 0),
    ("I still do the cooking and the shopping, my husband has taken over the snow shovelling", 1),
    ("Can't manage the housework any more, but I wash and dress myself and I'm up most of the day", 2),
    ("He's in his recliner most of the day and I help him shower", 3),
    ("She is stuck in bed and we do all her care", 4),
    ("Retired from the railway, I garden and walk the dog every morning but leave the heavy lifting to my son", 1),
])
def test_ecog_descriptions_are_read_against_the_whole_scale(text: str, level: int) -> None:
    assert read_ecog_description(text) == level


def test_ecog_a_day_that_varies_or_a_helper_who_cannot_say_is_not_sure() -> None:
    assert read_ecog_description("every day is different, some days I'm fine and some days I stay in bed") == "unknown"
    assert read_ecog_description("I couldn't say, I only see him on weekends") == "unknown"


@pytest.mark.parametrize("text,who", [
    ("I'm filling this in, helping my grandmother", "caregiver"),
    ("my daughter set it up but it's my own cancer", "self"),
    ("myself, but my son drives me to appointments", "self"),
])
def test_respondent_weak_self_words_do_not_beat_a_helper(text: str, who: str) -> None:
    assert reading("respondent", text).value == who


@pytest.mark.parametrize("text,value", [
    ("it began in the kidney, the scans say no other organs", "no"),
    ("liver's clear and the lungs are fine", "no"),
    ("there's a spot on the liver", "yes"),
])
def test_organs_named_as_the_start_or_as_clear_are_no_spread(text: str, value: str) -> None:
    assert reading("visceral_metastases", text).value == value


def test_places_in_a_sentence_about_the_pain_are_not_where_radiation_was() -> None:
    assert reading("prior_spine_radiation", "They treated my upper back. The pain now is in my neck.").value == ["thoracic"]
    assert reading("prior_spine_radiation", "SBRT to T10 and whole brain radiation too").value != "no"
    said = reading("prior_spine_radiation", "only radiotherapy to the breast")
    assert said.value == "no" and said.sure is False


@pytest.mark.parametrize("text,score", [
    ("it was a 9 last week, today more like a 4", 4),
    ("a five, sorry I mean seven", 7),
    ("3 this morning, 8 last night", 8),  # last night is within the last day: the worst counts
])
def test_pain_with_several_numbers_takes_the_number_meant(text: str, score: int) -> None:
    said = reading("pain_score", text)
    assert said.value == score and said.sure is False


def test_age_said_as_now_beats_a_coming_birthday() -> None:
    said = reading("age", "60 next month, so 59 right now")
    assert said.value == 59 and said.sure is False


def test_what_a_doctor_said_about_the_cord_in_their_words() -> None:
    assert reading("cord_compression_told", "it's close to the cord but not pressing on it yet").value == "no"
    assert reading("cord_compression_told", "the doctor said it's pressing on the nerves").value == "yes"


def test_a_test_still_to_come_or_a_question_for_someone_else_is_not_sure() -> None:
    assert reading("spine_mets_confirmed", "still waiting for the bone scan").value == "unknown"
    assert reading("red_flags", "I don't think so, but I'd have to ask him", respondent="caregiver").value == "unknown"


@pytest.mark.parametrize("text,value", [
    ("no chance at all", "no"),
    ("went through the change years ago", "not_applicable"),
    ("I'd like to go over that with the nurse", "prefer_discuss"),
])
def test_pregnancy_wordings(text: str, value: str) -> None:
    assert reading("pregnancy", text).value == value


# --- classes from sealed round 5 (new wordings) -------------------------------

@pytest.mark.parametrize("question,text", [
    (None, "quick one: will numbness in my feet stop me joining?"),
    ("pain_score", "does pain have to go down the leg to matter?"),
    ("prior_spine_radiation", "after the radiotherapy, is tingling in the hands something to report?"),
])
def test_a_symptom_named_in_a_question_is_not_urgent(question: Optional[str], text: str) -> None:
    assert reading(question, text).red_flag != URGENT


def test_a_question_that_tells_of_a_symptom_is_still_urgent() -> None:
    assert reading(None, "is it normal that my legs went numb this morning?").red_flag == URGENT


@pytest.mark.parametrize("question,text", [
    ("performance_status", "I can't stand sitting around so I still work full time"),
    ("contact", "can't stand phone calls, email me please"),
    ("respondent", "for my uncle, he's gone numb to all the appointments"),
])
def test_other_senses_of_cant_stand_and_numb(question: str, text: str) -> None:
    q = None if question == "contact" else question
    assert reading(q, text, respondent="caregiver" if question == "respondent" else "self").red_flag is None


def test_pads_or_a_diaper_are_asked_about_and_a_band_of_pain_is_urgent() -> None:
    assert reading("performance_status", "mostly option two, though I wear pads now").red_flag == CONFIRM
    assert reading("spine_region", "middle of the back, it bands round my ribs since Friday").red_flag == URGENT


def test_a_long_yes_at_the_safety_question_without_a_symptom_is_asked_about() -> None:
    assert reading("red_flags", "I have had a stiff shoulder for ages from golf and it's unchanged").red_flag == CONFIRM
    plain = reading("red_flags", "yes")
    assert plain.value == "yes" and plain.sure and plain.red_flag is None  # recorded: urgent care at once


def test_a_button_picked_by_its_place_is_read_back() -> None:
    said = reading("performance_status", "the second option I think")
    assert said.value == 1 and said.sure is False
    assert reading("performance_status", "the last one").value == 4  # "Not sure" is not a place


def test_the_pain_scale_itself_is_not_a_pain_number() -> None:
    assert reading("pain_score", "is it 1 to 10 or 0 to 10? mine is bad").value is None


def test_a_patients_age_not_their_relatives_and_a_birthday_to_come() -> None:
    said = reading("age", "61, my wife is 58")
    assert said.value == 61 and said.sure is False
    assert reading("age", "my dad is 77, I'm 50", respondent="caregiver").value in (77, 50)  # read back either way
    assert reading("age", "seventy come October").value == 69
    assert reading("age", "he turned 80 in May", respondent="caregiver").value == 80


def test_organs_answered_one_by_one() -> None:
    assert reading("visceral_metastases", "liver yes, lungs no").value == "yes"
    assert reading("visceral_metastases", "all clear apart from my spine").value == "no"


@pytest.mark.parametrize("text,level", [
    ("mostly in my recliner, my daughter helps me bathe", 3),
    ("in bed or the couch most of the time, I can still get myself to the toilet", 3),
    ("on sick leave since spring; I wash, dress and walk to the corner store", 2),
])
def test_ecog_round5_descriptions(text: str, level: int) -> None:
    assert read_ecog_description(text) == level


def test_relation_words_alone_name_a_helper() -> None:
    assert reading("respondent", "Dad. He's in Lethbridge and I'm typing from home").value == "caregiver"
    assert reading("respondent", "me, my grandson set this up").value == "self"


# --- round 6 failure classes (new wordings) -----------------------------------

@pytest.mark.parametrize("question,text", [
    ("primary_cancer", "lung. what worries me is my fingers have gone weak since the weekend"),
    ("age", "59. I'm scared because my legs have felt heavy since yesterday"),
])
def test_a_worry_that_dates_an_onset_is_asked_about_never_dropped(question: str, text: str) -> None:
    assert reading(question, text).red_flag in (CONFIRM, URGENT)


@pytest.mark.parametrize("question,text", [
    ("spine_region", "middle back and it spreads round below my boobs"),
    ("age", "48, the ache goes round under my breasts to the front"),
    ("pain_score", "7 and it shoots into my backside and down my thigh"),
])
def test_band_and_shooting_pain_by_landmarks_is_urgent(question: str, text: str) -> None:
    assert reading(question, text).red_flag == URGENT


@pytest.mark.parametrize("question,text", [
    ("red_flags", "my head is numb from all this paperwork"),
    ("pregnancy", "no. tingling all over with anticipation honestly"),
    ("red_flags", "nope, only my heart feels numb since the diagnosis"),
])
def test_feelings_are_not_numbness(question: str, text: str) -> None:
    assert reading(question, text).red_flag is None


def test_a_yes_about_an_old_symptom_at_the_safety_question_is_asked_about() -> None:
    said = reading("red_flags", "I've had a little leaking since my babies were born, same as always")
    assert said.red_flag == CONFIRM


@pytest.mark.parametrize("question,text,value", [
    ("pain_score", "sevn probably", 7),
    ("pain_score", "eigth today", 8),
    ("pain_score", "threeish", 3),
    ("spine_region", "lwr bak mostly", ["lumbar"]),
    ("spine_region", "up between my shoulders", ["thoracic"]),
    ("spine_region", "at chest level but at the back", ["thoracic"]),
    ("spine_region", "right above his belt", ["lumbar"]),
    ("age", "he had his 71st birthday in june", 71),
    ("respondent", "it's yours truly", "self"),
    ("prior_spine_radiation", "i dont no", "unknown"),
    ("prior_spine_radiation", "yes, on his spine, not sure which bit", None),
    ("visceral_metastases", "it began in her lung but it hasn't spread to any other organ", "no"),
    ("visceral_metastases", "only her spine and ribs", "no"),
    ("spine_mets_confirmed", "the biopsy is not back yet", "unknown"),
])
def test_round6_answer_classes(question: str, text: str, value: Any) -> None:
    said = reading(question, text)
    if value is None:
        assert said.value in ([], None) and said.red_flag is None
    else:
        assert said.value == value


def test_a_spread_told_as_gone_to_the_spine_is_a_yes_read_back() -> None:
    said = reading("spine_mets_confirmed", "the scan said it had moved to her spine")
    assert said.value == "yes"


def test_a_question_back_without_a_question_mark_is_not_an_answer() -> None:
    assert reading("breastfeeding", "what has feeding a baby got to do with my spine").value is None


def test_a_figure_of_speech_is_not_an_age() -> None:
    assert reading("age", "58 though I look 80 after chemo").value == 58


@pytest.mark.parametrize("text,level", [
    ("I was always on the go before my diagnosis but now only easy housework", 1),
    ("sits half the day but does everything for herself", 2),
    ("in a chair all day and needs help", 4),
])
def test_ecog_round6_descriptions(text: str, level: int) -> None:
    assert read_ecog_description(text) == level


# --- round 7 failure classes (new wordings) -----------------------------------

@pytest.mark.parametrize("question,text", [
    ("age", "67. I have had trouble emptying my bladder the last few days"),
    ("spine_mets_confirmed", "yes. also since tuesday I struggle controlling my bladder"),
    ("pain_score", "6, and the ache has begun to go round my waist like a belt"),
    ("spine_region", "mid back and it travels all the way round to the front below my ribs, new since friday"),
])
def test_round7_emergencies_are_urgent(question: str, text: str) -> None:
    assert reading(question, text).red_flag == URGENT


@pytest.mark.parametrize("question,text,respondent", [
    ("performance_status", "she is up all day, cooks for herself, but she hasn't been able to go back to her job", "caregiver"),
    ("red_flags", "my legs went weak when my doctor told me the scan was clear, in a good way", "self"),
    ("red_flags", "she's fine, it's me who gets numb fingers from knitting", "caregiver"),
    ("respondent", "for my mum. I know what tingling is from my own diabetes, she doesn't have it", "caregiver"),
])
def test_round7_look_alikes_are_not_urgent(question: str, text: str, respondent: str) -> None:
    assert reading(question, text, respondent=respondent).red_flag != URGENT


@pytest.mark.parametrize("question,text,value", [
    ("age", "sixty and a half", 60),
    ("age", "81 and a half", 81),
    ("spine_region", "tee twelve", ["thoracic"]),
    ("spine_region", "right where his belt goes", ["lumbar"]),
    ("spine_region", "top of my back, just below my neck", ["thoracic"]),
    ("spine_region", "the sore one is L2, there is another at T4 but that one never hurts", ["lumbar"]),
    ("pain_score", "too out of ten", 2),
    ("pain_score", "worst pain imaginable", 10),
    ("cord_compression_told", "no one has mentioned that", "no"),
    ("cord_compression_told", "they told me the spinal cord looked normal", "no"),
    ("primary_cancer", "invasive lobular", "breast"),
    ("pregnancy", "yes 12 weeks pregnant", "yes"),
    ("breastfeeding", "I don't know what you mean", None),
    ("breastfeeding", "fed both my boys decades ago, not now", "no"),
    ("prior_spine_radiation", "radiation no, chemo yes", "no"),
    ("prior_spine_radiation", "he had radiotherapy to his spine in the spring", []),
    ("visceral_metastases", "breast is where it began and it is nowhere else except the bones", "no"),
    ("able_to_attend", "it would be tough, we live up north", "unknown"),
    ("respondent", "4 my sis", "caregiver"),
])
def test_round7_answer_classes(question: str, text: str, value: Any) -> None:
    assert reading(question, text).value == value


def test_a_bare_ordinal_picks_a_button_and_is_read_back() -> None:
    said = reading("primary_cancer", "the second")
    assert said.value == "prostate" and not said.sure


def test_an_age_of_60_or_more_to_the_breastfeeding_question_is_a_no_read_back() -> None:
    said = reading("breastfeeding", "I'm 79")
    assert said.value == "no" and not said.sure


@pytest.mark.parametrize("text,level", [
    ("he's in bed pretty much all the time now and I wash him", 4),
])
def test_ecog_round7_descriptions(text: str, level: int) -> None:
    assert read_ecog_description(text) == level


# --- round 8 failure classes (new wordings) -----------------------------------

@pytest.mark.parametrize("question,text", [
    ("age", "80. my arm's gone weak since tuesday"),
    ("pain_score", "5. my legs r week since monday"),
    ("primary_cancer", "lung. since friday I can't lift the tip of my toes"),
    ("spine_region", "low back and my gait's gone funny this week"),
    ("red_flags", "he's been lurching about since yesterday"),
    ("age", "75. used to walk fine, now she needs the walker to get anywhere"),
    ("red_flags", "my legs don't feel the bath water anymore, started monday"),
    ("cord_compression_told", "no. I poke my thigh and can barely feel it since the weekend"),
    ("able_to_attend", "yes. my feet feel like I'm wearing wool socks, new this week"),
    ("respondent", "for my wife. her bladder won't empty since last night"),
    ("age", "69. bladder control gone since yesterday"),
    ("spine_mets_confirmed", "yes. now the pain is gripping my chest from back to front, new today"),
    ("red_flags", "when he wipes he can't feel it, since saturday"),
    ("consent_contact", "yes. also my bottom has gone kind of dead since yesterday"),
])
def test_round8_emergencies_are_caught(question: str, text: str) -> None:
    respondent = "caregiver" if text.startswith(("for my", "he's", "when he")) else "self"
    assert reading(question, text, respondent=respondent).red_flag in (URGENT, CONFIRM)


@pytest.mark.parametrize("question,text,respondent", [
    ("prior_spine_radiation", "no. the numb toes are the old chemo thing, there since 2019", "self"),
    (None, "hi, fingers tingly because it's so cold out and I forgot my gloves", "self"),
    ("respondent", "for my dad. my sister's the one with weak legs, she has MS", "caregiver"),
    ("respondent", "me. my cat's back legs are weak but mine are fine", "self"),
    ("red_flags", "no, he's fine. it's my mother in law who keeps falling", "caregiver"),
])
def test_round8_look_alikes_are_not_urgent(question: Optional[str], text: str, respondent: str) -> None:
    assert reading(question, text, respondent=respondent).red_flag != URGENT


@pytest.mark.parametrize("question,text,value", [
    ("red_flags", "na im good", "no"),
    ("respondent", "not for me, for my uncle", "caregiver"),
    ("spine_region", "it used to be my lower back but now it's my neck", ["cervical"]),
    ("spine_region", "neck. no wait, lower back", ["lumbar"]),
    ("cord_compression_told", "no pressure on the cord they said", "no"),
    ("prior_spine_radiation", "only radiation I had was dental x-rays", "no"),
    ("prior_spine_radiation", "radiation yes, but spine no", "no"),
    ("pregnancy", "not possible, my tubes were removed years ago", "not_applicable"),
    ("consent_contact", "please don't", "no"),
])
def test_round8_answer_classes(question: str, text: str, value: Any) -> None:
    assert reading(question, text).value == value


def test_a_finding_on_the_vertebrae_is_a_yes_read_back() -> None:
    said = reading("spine_mets_confirmed", "the doctor said there are lesions on his vertebrae")
    assert said.value == "yes" and not said.sure


def test_the_place_after_not_sure_in_the_count_is_not_sure() -> None:
    said = reading("cord_compression_told", "the third option")
    assert said.value == "unknown" and not said.sure


# --- round 9 failure classes (new wordings) -----------------------------------

@pytest.mark.parametrize("question,text,respondent", [
    # Explained by an injury or by what they wore.
    ("red_flags", "my toes went numb in my new hiking boots, fine now", "self"),
    ("red_flags", "my left hand is weak since I sprained my thumb, it's in a splint", "self"),
    # Someone else is the nearest subject before the symptom.
    (None, "hello, a friend told me about this, he had numb legs before his operation. this is for me", "self"),
    # "My weakness is ..." said of a liking.
    ("red_flags", "nope, my biggest weakness is butter tarts", "self"),
])
def test_round9_look_alikes_are_asked_about_or_left_alone(question: Optional[str], text: str, respondent: str) -> None:
    assert reading(question, text, respondent=respondent).red_flag != URGENT


@pytest.mark.parametrize("text,for_a_patient", [
    # "the one with" also says it is known (round 8): a patient is asked too.
    ("no, he's alright. I'm the one with the tingly feet", CONFIRM),
    ("sure I'll bring her. my own hands go numb at night but I can drive", URGENT),
])
def test_a_helpers_own_symptom_is_asked_about_never_dropped(text: str, for_a_patient: str) -> None:
    assert reading("able_to_attend", text, respondent="caregiver").red_flag == CONFIRM
    assert reading("able_to_attend", text, respondent="self").red_flag == for_a_patient


@pytest.mark.parametrize("question,text", [
    ("performance_status", "I manage, but a new ache is circling my body at my navel since monday"),
    ("red_flags", "my only weakness is in my arms and it's new this week"),
    ("red_flags", "my sister told me my legs look weak, it started yesterday"),
])
def test_round9_emergencies_are_caught(question: str, text: str) -> None:
    assert reading(question, text).red_flag == URGENT


@pytest.mark.parametrize("question,text,value", [
    ("respondent", "I'm the patient's son", "caregiver"),
    ("respondent", "his spouse", "caregiver"),
    ("spine_region", "upper back, no wait, more like low", ["lumbar"]),
    ("visceral_metastases", "they're keeping an eye on a shadow in her lung", "unknown"),
    ("consent_contact", "yes, but text only, no phone calls", "yes"),
    ("consent_contact", "go right ahead", "yes"),
    ("pain_score", "worst I have ever felt", 10),
    ("pain_score", "8 out 10", 8),
])
def test_round9_answer_classes(question: str, text: str, value: Any) -> None:
    assert reading(question, text).value == value


def test_a_bare_number_above_the_scale_is_its_top_read_back() -> None:
    said = reading("pain_score", "12")
    assert said.value == 10 and not said.sure
    assert reading("pain_score", "for 12 days now").value != 10


# --- round 10 failure classes (new wordings) ----------------------------------

@pytest.mark.parametrize("question,text", [
    ("red_flags", "he's not peed since this morning, his tummy is tight"),
    ("red_flags", "I've not been able to stand since the weekend"),
    ("red_flags", "his arms don't have the strength to lift a cup, new since sunday"),
    ("able_to_attend", "yes. but my arm power is fading, worse this week"),
    ("age", "70. my walking's got real bad since tuesday"),
])
def test_round10_emergencies_are_caught(question: str, text: str) -> None:
    respondent = "caregiver" if text.startswith(("he's", "his")) else "self"
    assert reading(question, text, respondent=respondent).red_flag == URGENT


@pytest.mark.parametrize("question,text,respondent", [
    ("red_flags", "no, he's fine. it's his neighbour down the hall at the home who can't walk", "caregiver"),
    ("red_flags", "nope. the only thing that slows my walking is the ice on the sidewalks", "self"),
    ("red_flags", "I haven't had any trouble with my bladder", "self"),
])
def test_round10_look_alikes_are_not_urgent(question: str, text: str, respondent: str) -> None:
    assert reading(question, text, respondent=respondent).red_flag != URGENT


@pytest.mark.parametrize("question,text,value", [
    ("spine_region", "just above my butt", ["lumbar"]),
    ("spine_region", "the base of my spine, right above my bottom", ["sacral"]),
    ("spine_region", "what's lumbar?", None),
    ("consent_contact", "who will read my answers?", None),
    ("respondent", "myslef", "self"),
    ("spine_mets_confirmed", "they are still running tests", "unknown"),
    ("prior_spine_radiation", "they zapped my pelvis, not my back", "no"),
    ("prior_spine_radiation", "radiation to T4, wait no, it was L4", ["lumbar"]),
    ("breastfeeding", "yes I nurse the baby at night", "yes"),
    ("able_to_attend", "I can take the bus", "yes"),
    ("pain_score", "6, no, 5", 5),
    ("performance_status", "in bed all day, needs help to dress and eat", 4),
    ("performance_status", "lying down more than he's up, but he can wash himself", 3),
])
def test_round10_answer_classes(question: str, text: str, value: Any) -> None:
    assert reading(question, text).value == value


def test_a_birthday_this_week_is_the_age_before_it_read_back() -> None:
    said = reading("age", "eighteen this coming friday")
    assert said.value == 17 and not said.sure
    born = reading("age", "b. 1960")
    assert isinstance(born.value, int) and born.value >= 65 and not born.sure


# --- round 11 and 12 failure classes (new wordings) ----------------------------

@pytest.mark.parametrize("question,text", [
    ("red_flags", "since last night she can't make any pee come, only a few drops"),
    ("red_flags", "my right foot drags and slaps the floor since monday"),
    ("red_flags", "I can't pull my toes up on the left, new this week"),
    ("red_flags", "my legs have been week since thursday"),
    ("red_flags", "I can only walk about ten steps now, worse since friday"),
    ("pregnancy", "no. I can't control when I wee any more, started two days ago"),
    ("red_flags", "a pain goes from my back round to my belly, new this week"),
    ("red_flags", "I'm walking shakily since the weekend"),
])
def test_round11_and_12_emergencies_are_caught(question: str, text: str) -> None:
    respondent = "caregiver" if text.startswith(("since last night she", "he")) else "self"
    assert reading(question, text, respondent=respondent).red_flag == URGENT


@pytest.mark.parametrize("question,text,respondent", [
    ("red_flags", "no, it's my aunt who has numb feet, my mum has none of that", "caregiver"),
    (None, "hello, I'm numb after hearing all the news, what is this study?", "self"),
    (None, "my husband can't walk far because of his emphysema, he gets out of breath", "caregiver"),
    ("pregnancy", "no. the skin on my chest is tingly where they aimed the radiation", "self"),
    ("red_flags", "my knees go weak whenever I see the bill, ha", "self"),
    ("red_flags", "nope, only new pain around my ribs", "self"),
])
def test_round11_and_12_look_alikes_are_not_urgent(question: Optional[str], text: str, respondent: str) -> None:
    assert reading(question, text, respondent=respondent).red_flag != URGENT


def test_pain_around_the_ribs_is_asked_about_once() -> None:
    assert reading("red_flags", "a burning pain around my ribs on the right side").red_flag == CONFIRM


def test_a_symptom_asked_about_and_dated_in_the_next_sentence_is_asked_never_dropped() -> None:
    assert reading("breastfeeding", "No. Is tingling in my legs normal? It started yesterday").red_flag == CONFIRM


@pytest.mark.parametrize("question,text,value", [
    ("age", "I'm seventy for", 74),
    ("age", "fifty 8", 58),
    ("age", "6o", 60),
    ("age", "81, 82 in november", 81),
    ("pain_score", "fife out of 10", 5),
    ("performance_status", "she looks after herself but spends most of the day lying down", 3),
    ("performance_status", "I do everything apart from heavy lifting", 1),
    ("performance_status", "everything as before, just slower", 1),
    ("performance_status", "capable of all self care but unable to do any work, up most of the day", 2),
    ("performance_status", "I walk the dog and do the garden", 0),
    ("performance_status", "in bed mostly and needs help with nearly everything", 4),
    ("performance_status", "my Karnofsky score was 80", 1),
    ("performance_status", "between 2 and 3", 3),
    ("visceral_metastases", "just the lymph nodes", "no"),
    ("prior_spine_radiation", "I'm going to start it next month", "no"),
    ("prior_spine_radiation", "not sure, I've had so much treatment I lost track", "unknown"),
    ("pregnancy", "probably not, but I missed my period", "could_be"),
    ("pregnancy", "that's a personal question", "prefer_discuss"),
    ("respondent", "I'm a care aide doing this for a resident", "caregiver"),
    ("spine_region", "el 3", ["lumbar"]),
    ("spine_region", "it hurts all over", "unknown"),
    ("spine_region", "it's spread through my whole spine but the pain is in my low back", ["lumbar"]),
    ("primary_cancer", "they called it Kahler disease", "myeloma"),
    ("cord_compression_told", "what's cord compression exactly?", None),
    ("able_to_attend", "it's a five hour drive, but I can stay at my son's, so yes", "yes"),
    ("able_to_attend", "only if it's close to home", "unknown"),
])
def test_round11_and_12_answer_classes(question: str, text: str, value: Any) -> None:
    assert reading(question, text).value == value


def test_an_organ_named_beside_a_guessed_dont_know_is_a_spread_read_back() -> None:
    said = reading("visceral_metastases", "lungs, they did a biopsy", intent="dont_know")
    assert said.value == "yes" and not said.sure


def test_an_answer_before_a_question_back_counts_read_back() -> None:
    said = reading("prior_spine_radiation", "yes at L2, why do you ask?")
    assert said.value == ["lumbar"] and not said.sure


# --- round 13 failure classes (new wordings) -----------------------------------

@pytest.mark.parametrize("question,text", [
    ("red_flags", "since friday I can't stand up on my heels"),
    ("red_flags", "yesterday I had to use my wife's walker to get to the bathroom"),
    ("performance_status", "he was fine until monday, now he can barely get across the dining room"),
    ("red_flags", "the outside of my calves has lost all feeling since yesterday"),
    ("red_flags", "I keep not getting to the toilet in time since the weekend"),
    ("red_flags", "I stumbled three times today"),
])
def test_round13_emergencies_are_caught(question: str, text: str) -> None:
    respondent = "caregiver" if text.startswith("he ") else "self"
    assert reading(question, text, respondent=respondent).red_flag == URGENT


@pytest.mark.parametrize("question,text", [
    ("spine_region", "my low back, but it doesn't go round to my tummy"),
    ("able_to_attend", "yes. my fingers went numb skating without mitts, they warmed back up"),
    ("age", "58 and I go weak in the knees over chocolate"),
    (None, "ha, my son almost wet himself laughing at my typing"),
])
def test_round13_look_alikes_are_not_urgent(question: Optional[str], text: str) -> None:
    assert reading(question, text).red_flag != URGENT


@pytest.mark.parametrize("question,text,value", [
    ("respondent", "oops I pressed myself by mistake, it's for my brother", "caregiver"),
    ("age", "65 in three weeks", 64),
    ("age", "two months off 80", 79),
    ("pain_score", "3 now, it used to be a 9 before the nerve block", 3),
    ("primary_cancer", "prostate, actually no, it was kidney", "kidney"),
    ("cord_compression_told", "no one has said that", "no"),
    ("cord_compression_told", "they told me a nerve is being squeezed", "yes"),
    ("cord_compression_told", "the cord has plenty of room, they said", "no"),
    ("pregnancy", "my tubes were tied years ago", "not_applicable"),
    ("breastfeeding", "she still has a feed at bedtime", "yes"),
    ("prior_spine_radiation", "radiation for my prostate but never the spine", "no"),
    ("prior_spine_radiation", "yes on my back but I forget where", []),
    ("prior_spine_radiation", "I start next week, haven't had any yet", "no"),
    ("performance_status", "I get dressed, then I'm lying down like 16 hours a day", 3),
    ("performance_status", "which one means I can still work but slower?", None),
    ("performance_status", "I still garden but I let my son do the lifting", 1),
    ("visceral_metastases", "my scans were clear apart from the spine", "no"),
    ("able_to_attend", "it would be tough but we'd find a way", "yes"),
    ("able_to_attend", "not sure yet, we're working out who can drive", "unknown"),
    ("spine_mets_confirmed", "she's getting a bone scan next week to find out", "unknown"),
    ("spine_region", "right at the top of my bum crack", ["sacral"]),
])
def test_round13_answer_classes(question: str, text: str, value: Any) -> None:
    assert reading(question, text).value == value


# --- round 14 failure classes (new wordings) -----------------------------------

@pytest.mark.parametrize("question,text", [
    ("red_flags", "the power in my left arm is not what it was last week"),
    ("age", "71. since yesterday I can't lift up with my right foot at all"),
    ("red_flags", "I can't feel the cold floor with my feet since monday"),
    ("red_flags", "my fingers feel like they're asleep all the time since friday"),
    ("red_flags", "tingling in my feet came on today after being fine for weeks"),
    ("red_flags", "on the toilet it feels like I'm sitting on air, new this week"),
    ("red_flags", "my belly is so full and I cannot pee, since this morning"),
])
def test_round14_emergencies_are_caught(question: str, text: str) -> None:
    assert reading(question, text).red_flag == URGENT


@pytest.mark.parametrize("question,text,respondent", [
    ("red_flags", "No, not Mum. My sister's arm went numb on the flight, Mum is fine", "caregiver"),
    ("red_flags", "no, I'm dragging my feet about booking the appointment", "self"),
    ("red_flags", "nah, only numb over all the bad news", "self"),
    ("red_flags", "I can't tell whether my arm is weaker or it's the pain", "self"),
])
def test_round14_look_alikes_are_not_urgent(question: str, text: str, respondent: str) -> None:
    assert reading(question, text, respondent=respondent).red_flag != URGENT


def test_a_rope_tightened_round_the_middle_is_a_band_of_pain() -> None:
    assert reading("red_flags", "feels like a belt tightened around my waist, worse every day").red_flag in (URGENT, CONFIRM)


@pytest.mark.parametrize("question,text,value", [
    ("respondent", "For my mum. Wait, no, this one is for me.", "self"),
    ("respondent", "uncle. he's 70 with prostate cancer", "caregiver"),
    ("pain_score", "she said a 4, then actually more like a 6", 6),
    ("pregnancy", "probably not, but I'd prefer to discuss it", "prefer_discuss"),
    ("pregnancy", "not that I know of, but we're trying for a baby", "could_be"),
    ("pregnancy", "I don't want to answer that here", "prefer_discuss"),
    ("consent_contact", "sure, my email is jo@example.org", "yes"),
    ("consent_contact", "sure why not", "yes"),
    ("consent_contact", "what happens if I say yes?", None),
    ("prior_spine_radiation", "they radiated my back, I forget which bit", []),
    ("prior_spine_radiation", "radiation for her breast, not to the spine", "no"),
    ("performance_status", "I shop and cook, but I had to quit the plant because of the heavy lifting", 1),
    ("performance_status", "I take care of myself and I'm up most of the day, but work is beyond me now", 2),
    ("performance_status", "he dozes most of the day in his chair, he can feed himself", 3),
    ("able_to_attend", "I could try", "yes"),
    ("able_to_attend", "I can't drive but my son can take me", "yes"),
    ("able_to_attend", "no, I moved to Saskatchewan", "no"),
    ("cord_compression_told", "the doctor said the tumour presses the nerve", "yes"),
    ("cord_compression_told", "they said there's early compression", "yes"),
    ("spine_region", "right where my bra strap sits", ["thoracic"]),
])
def test_round14_answer_classes(question: str, text: str, value: Any) -> None:
    assert reading(question, text).value == value


# --- round 15 failure classes (new wordings) -----------------------------------

@pytest.mark.parametrize("question,text", [
    ("red_flags", "my calves aren't strong enough to get me out of the bath since friday"),
    ("red_flags", "her knees just don't have any go left in them this week"),
    ("able_to_attend", "we could, but since monday he walks around like he's totally plastered"),
    ("red_flags", "sitting on the loo I can't really feel it since yesterday"),
    ("red_flags", "his bowels empty by themselves now, it started on tuesday"),
    ("red_flags", "I think my arms may be getting weaker, I'm not sure"),
])
def test_round15_emergencies_are_caught(question: str, text: str) -> None:
    assert reading(question, text).red_flag == URGENT


@pytest.mark.parametrize("question,text,respondent", [
    ("red_flags", "I've used a wheelchair since a diving accident in 2005, it isn't new and hasn't changed", "self"),
    (None, "text me at 403 555 0199, I'm his daughter. I have a weak wrist from a skiing injury", "caregiver"),
    ("red_flags", "the numb toes aren't new, no worse than last year", "self"),
])
def test_round15_look_alikes_are_not_urgent(question: str, text: str, respondent: str) -> None:
    assert reading(question, text, respondent=respondent).red_flag != URGENT


@pytest.mark.parametrize("question,text,value", [
    ("age", "she's 70 - seventy one in March", 70),
    ("age", "16, I turn 17 next month", 16),
    ("age", "61, my husband's 64 if you need it", 61),
    ("pregnancy", "pregnant? I'm a 52 year old guy", "not_applicable"),
    ("breastfeeding", "breastfeeding?? I'm in my eighties", "no"),
    ("prior_spine_radiation", "she had radiation on her spine last year, they didn't tell us which part", []),
    ("prior_spine_radiation", "just my breast", "no"),
    ("cord_compression_told", "What's a nerve root exactly, is that in the spine?", None),
    ("spine_mets_confirmed", "I don't quite understand the question", None),
    ("pregnancy", "my womb was taken out years ago", "not_applicable"),
    ("performance_status", "I'm lying down about three quarters of the day, I can still wash myself", 3),
    ("able_to_attend", "I don't drive and there's no bus where I live", "no"),
])
def test_round15_answer_classes(question: str, text: str, value: Any) -> None:
    assert reading(question, text).value == value


def test_an_age_range_is_read_back() -> None:
    assert reading("age", "17-18").sure is False


# --- issue 13 item 7: the base of the neck is neck and upper back (C7/T1) -------

@pytest.mark.parametrize("text", [
    "the sore bit sits right at the bottom of her neck",
    "kind of low in my neck, near the shoulders",
    "where his neck meets his shoulders",
])
def test_a_painful_spot_at_the_base_of_the_neck_is_neck_and_upper_back_and_does_not_exclude(text: str) -> None:
    said = reading("spine_region", text)
    assert said.value == ["cervical", "thoracic"]
    assert said.sure  # nothing to read back: this answer cannot exclude
    row = next(c for c in evaluate(TRIAL, {"spine_region": said.value}).criteria if c.question_id == "spine_region")
    assert row.status == "pass" and "C7/T1" in row.reason_coordinator


def test_the_neck_alone_is_still_read_back_before_it_excludes() -> None:
    said = reading("spine_region", "just up in my neck, nowhere else")
    assert said.value == ["cervical"] and not said.sure


@pytest.mark.parametrize("text", [
    "yes, they treated the base of her neck two years ago",
    "radiotherapy to my lower neck in 2021",
])
def test_radiation_to_the_base_of_the_neck_borders_the_upper_back(text: str) -> None:
    said = reading("prior_spine_radiation", text)
    assert said.value == ["cervical", "thoracic"]
    # Painful spot in the lower back: the radiated upper back meets it at T12/L1.
    row = next(c for c in evaluate(TRIAL, {"spine_region": ["lumbar"], "prior_spine_radiation": said.value}).criteria
               if c.question_id == "prior_spine_radiation")
    assert row.status == "needs_review"
