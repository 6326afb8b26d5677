"""The trial file: its content matches the brief, and broken copies fail loudly."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from actions.criteria import ANSWER_TYPES, TrialFileError, load_trial, value_spec
from actions.criteria.trial_file import DEFAULT_TRIAL_FILE, TRIAL_FILE_ENV

TRIAL = load_trial()

ORDER = [
    "respondent",
    "red_flags",
    "age",
    "spine_mets_confirmed",
    "spine_region",
    "pain_score",
    "pain_warning_signs",
    "cord_compression_told",
    "primary_cancer",
    "pregnancy",
    "breastfeeding",
    "prior_spine_radiation",
    "performance_status",
    "visceral_metastases",
    "able_to_attend",
    "consent_contact",
]


# ---- the shipped file -------------------------------------------------------------


def test_identity_and_version():
    assert TRIAL.trial_id == "NCT04242589"
    assert re.fullmatch(r"\d+\.\d+\.\d+", TRIAL.version)
    assert TRIAL.source.listing_date == "2025-10-16"
    assert "Vertebroplasty" in TRIAL.title
    assert len(TRIAL.checksum) == 64


def test_question_ids_and_asking_order():
    assert list(TRIAL.question_ids) == ORDER
    assert [q.id for q in TRIAL.screening_questions] == ORDER[:-1]
    assert TRIAL.question("consent_contact").stage == "contact"


def test_every_screening_question_names_its_protocol_items():
    for question in TRIAL.screening_questions:
        assert question.protocol, question.id
    assert TRIAL.question("age").protocol == ("I2",)
    assert TRIAL.question("red_flags").protocol == ("E8", "safety")
    assert TRIAL.question("prior_spine_radiation").protocol == ("I8", "E2")
    assert TRIAL.linden.protocol == ("I6", "E3")


def buttons(question_id: str) -> list[tuple[str, Any]]:
    return [(b.title, b.value) for b in TRIAL.question(question_id).buttons]


def test_buttons_carry_the_contract_values():
    yes_no = [("Yes", "yes"), ("No", "no"), ("Not sure", "unknown")]
    for question_id in ("red_flags", "spine_mets_confirmed", "cord_compression_told",
                        "breastfeeding", "visceral_metastases", "able_to_attend"):
        assert buttons(question_id) == yes_no, question_id
    assert buttons("respondent") == [("For myself", "self"), ("For someone else", "caregiver")]
    assert buttons("spine_region") == [
        ("Neck", "cervical"),
        ("Upper or middle back", "thoracic"),
        ("Lower back", "lumbar"),
        ("Tailbone", "sacral"),
        ("Not sure", "unknown"),
    ]
    assert [v for _, v in buttons("primary_cancer")] == [
        "breast", "prostate", "lung", "kidney", "other", "unknown"
    ]
    assert [v for _, v in buttons("pregnancy")] == [
        "no", "yes", "could_be", "not_applicable", "prefer_discuss", "unknown"
    ]
    assert [v for _, v in buttons("performance_status")] == [0, 1, 2, 3, 4, "unknown"]
    assert buttons("pain_score") == [("Not sure", "unknown")]


def test_button_payloads_map_to_answers():
    region = TRIAL.question("spine_region")
    assert region.answer_from_button("cervical") == ("cervical",)
    assert region.answer_from_button("neck") is None
    radiation = TRIAL.question("prior_spine_radiation")
    assert radiation.answer_from_button([]) == ()
    assert radiation.answer_from_button("lumbar") == ("lumbar",)
    assert radiation.answer_from_button("no") == "no"
    assert TRIAL.question("performance_status").answer_from_button(3) == 3
    assert TRIAL.question("performance_status").answer_from_button("3") is None


def test_valid_values_helper():
    assert TRIAL.valid_values("pain_score").accepts(7)
    assert not TRIAL.valid_values("pain_score").accepts(11)
    assert TRIAL.valid_values("respondent").tokens == {"self", "caregiver"}
    assert value_spec("yes_no").tokens == {"yes", "no", "unknown"}
    assert set(ANSWER_TYPES) == {
        "choice", "yes_no", "age", "regions", "pain", "cancer", "ecog", "prior_radiation", "pregnancy"
    }
    assert TRIAL.question("breastfeeding").accepts("unknown")
    assert not TRIAL.question("spine_region").accepts([])
    assert TRIAL.question("prior_spine_radiation").accepts([])


def patient_texts() -> list[tuple[str, str]]:
    texts = []
    for q in TRIAL.questions:
        for wording in (q.ask, q.rephrase):
            texts += [(q.id, wording.for_self), (q.id, wording.for_caregiver)]
        texts += [(q.id, rule.reason.patient) for rule in q.rules if rule.reason.patient]
        texts += [(q.id, b.title) for b in q.buttons]
    texts.append(("linden", TRIAL.linden.reasons.may_be_group_a_patient))
    return texts


def syllables(word: str) -> int:
    word = re.sub(r"[^a-z]", "", word.lower())
    if len(word) <= 3:
        return 1
    word = re.sub(r"(?:[^laeiouy]es|ed|[^laeiouy]e)$", "", word)
    word = re.sub(r"^y", "", word)
    return max(1, len(re.findall(r"[aeiouy]{1,2}", word)))


def grade_level(text: str) -> float:
    """Flesch-Kincaid grade with a simple syllable count (good enough as a guard)."""
    sentences = [s for s in re.split(r"[.?!:]+", text) if s.strip()] or [text]
    words = re.findall(r"[A-Za-z0-9'-]+", text)
    total = sum(syllables(w) for w in words)
    return 0.39 * len(words) / len(sentences) + 11.8 * total / len(words) - 15.59


@pytest.mark.parametrize(("question_id", "text"), patient_texts())
def test_patient_texts_are_plain(question_id, text):
    if len(text.split()) >= 5:  # the formula means nothing for a two-word button
        assert grade_level(text) <= 8.0, text
    lowered = text.lower()
    for banned in ("life expectancy", "prognos", "surviv", "months to live", "linden",
                   "group a", "eligible", "free", "cure", "benefit"):
        assert banned not in lowered, (question_id, banned)


def test_asks_are_one_question_and_caregiver_wording_is_third_person():
    for q in TRIAL.questions:
        assert q.ask.for_self.count("?") == 1, q.id
        if q.id in ("respondent", "consent_contact"):
            continue  # the helper is asked about themselves here
        caregiver = q.ask.for_caregiver
        assert caregiver != q.ask.for_self, q.id
        assert re.search(r"person you are helping|\bthey\b|\btheir\b|\bthem\b", caregiver), q.id
        assert not re.search(r"\byour\b", caregiver), q.id


def test_research_wording():
    assert "research study" in TRIAL.question("able_to_attend").ask.for_self
    assert "research study" in TRIAL.question("consent_contact").ask.for_self


def test_every_rule_reason_is_present_where_the_patient_hears_it():
    for q in TRIAL.questions:
        for rule in q.rules:
            assert rule.reason.coordinator
            if rule.result != "pass":
                assert rule.reason.patient, (q.id, rule.number)


# ---- loading from elsewhere ---------------------------------------------------------


def test_env_var_overrides_the_default_path(tmp_path, monkeypatch):
    data = yaml.safe_load(DEFAULT_TRIAL_FILE.read_text())
    data["version"] = "9.9.9"
    path = tmp_path / "trial.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    monkeypatch.setenv(TRIAL_FILE_ENV, str(path))
    assert load_trial().version == "9.9.9"
    assert load_trial(DEFAULT_TRIAL_FILE).version == TRIAL.version  # explicit path wins


def test_missing_file(tmp_path):
    with pytest.raises(TrialFileError, match="cannot read trial file"):
        load_trial(tmp_path / "nope.yml")


def test_invalid_yaml(tmp_path):
    path = tmp_path / "trial.yml"
    path.write_text("questions: [unclosed\n")
    with pytest.raises(TrialFileError, match="not valid YAML"):
        load_trial(path)


# ---- broken copies -------------------------------------------------------------------


def question(data: dict, question_id: str) -> dict:
    return next(q for q in data["questions"] if q["id"] == question_id)


def broken_copy(tmp_path: Path, mutate: Callable[[dict], None]) -> Path:
    data = yaml.safe_load(DEFAULT_TRIAL_FILE.read_text())
    mutate(data)
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def set_rule(question_id: str, number: int, **fields: Any) -> Callable[[dict], None]:
    def mutate(data: dict) -> None:
        question(data, question_id)["rules"][number - 1].update(fields)

    return mutate


def drop_reason_text(question_id: str, number: int, voice: str) -> Callable[[dict], None]:
    def mutate(data: dict) -> None:
        del question(data, question_id)["rules"][number - 1]["reason"][voice]

    return mutate


def set_key(question_id: str, key: str, value: Any) -> Callable[[dict], None]:
    def mutate(data: dict) -> None:
        question(data, question_id)[key] = value

    return mutate


def drop_key(question_id: str, *path: str) -> Callable[[dict], None]:
    def mutate(data: dict) -> None:
        node = question(data, question_id)
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return mutate


def duplicate_age(data: dict) -> None:
    data["questions"].append(dict(question(data, "age")))


def set_button_value(question_id: str, index: int, value: Any) -> Callable[[dict], None]:
    def mutate(data: dict) -> None:
        question(data, question_id)["buttons"][index]["value"] = value

    return mutate


BROKEN = [
    (
        set_rule("age", 1, when={"lesser_than": 18}),
        "question 'age' (I2): rule 1: unknown condition 'lesser_than'",
    ),
    (set_key("age", "answer_type", "number"), "question 'age' (I2): unknown answer_type 'number'"),
    (drop_key("pain_score", "ask", "caregiver"), "question 'pain_score' (I4): ask.caregiver: missing text"),
    (drop_key("age", "ask", "self"), "question 'age' (I2): ask.self: missing text"),
    (drop_key("spine_region", "rephrase"), "question 'spine_region' (I4): missing ['rephrase']"),
    (
        set_key("breastfeeding", "ask_if", {"answer_of": "pregnant", "is": {"equals": "no"}}),
        "question 'breastfeeding' (I11): ask_if: answer_of: unknown question 'pregnant'",
    ),
    (
        set_key("breastfeeding", "ask_if", {"equals": "no"}),
        "question 'breastfeeding' (I11): ask_if: equals: ask_if has no answer of its own",
    ),
    (
        set_key("pregnancy", "ask_if", {"answer_of": "breastfeeding", "is": {"equals": "no"}}),
        "question 'pregnancy' (I9): ask_if: answer_of: question 'breastfeeding' is not asked before",
    ),
    (
        set_rule("prior_spine_radiation", 4, when={"overlaps_answer": "spine_regions"}),
        "question 'prior_spine_radiation' (I8, E2): rule 4: overlaps_answer: unknown question 'spine_regions'",
    ),
    (
        set_rule("prior_spine_radiation", 4, when={"overlaps_answer": "pain_score"}),
        "question 'prior_spine_radiation' (I8, E2): rule 4: overlaps_answer: both answers must be lists",
    ),
    (set_rule("age", 1, result="exclude"), "question 'age' (I2): rule 1: unknown result 'exclude'"),
    (duplicate_age, "duplicate id 'age'"),
    (
        set_button_value("performance_status", 0, 5),
        "question 'performance_status' (I7, E4): button 'Does all usual activities, with no limits': "
        "5 is not a valid answer for type ecog",
    ),
    (
        set_button_value("spine_region", 0, "neck"),
        "question 'spine_region' (I4): button 'Neck': 'neck' is not a valid answer for type regions",
    ),
    (
        set_button_value("red_flags", 0, True),
        "question 'red_flags' (E8, safety): button 'Yes': True is not a valid answer for type yes_no "
        "(put yes/no in quotes)",
    ),
    (
        drop_reason_text("pain_score", 1, "patient"),
        "question 'pain_score' (I4): rule 1: reason.patient: missing text",
    ),
    (
        drop_reason_text("pain_score", 2, "coordinator"),
        "question 'pain_score' (I4): rule 2: reason.coordinator: missing text",
    ),
    (
        set_rule("cord_compression_told", 1, when={"equals": "maybe"}),
        "question 'cord_compression_told' (E8, E9): rule 1: equals: 'maybe' is not a valid answer here",
    ),
    (
        set_rule("cord_compression_told", 1, when={"equals": True}),
        "put the value in quotes",
    ),
    (
        set_rule("red_flags", 1, when={"less_than": 3}),
        "question 'red_flags' (E8, safety): rule 1: less_than: only works on number answers",
    ),
    (
        set_rule("pain_score", 1, when={"between": [3, 1]}),
        "question 'pain_score' (I4): rule 1: between: low 3 is above high 1",
    ),
    (
        set_rule("spine_region", 1, when={"only": ["neck"]}),
        "question 'spine_region' (I4): rule 1: only: 'neck' is not one of",
    ),
    (
        set_rule("spine_region", 1, when={"equals": "unknown", "in": ["unknown"]}),
        "question 'spine_region' (I4): rule 1: a condition has exactly one keyword",
    ),
    (
        set_rule("prior_spine_radiation", 4, when={"any": [{"overlaps_answer": "spine_region"}, {"is_unknwn": True}]}),
        "question 'prior_spine_radiation' (I8, E2): rule 4: any[2]: unknown condition 'is_unknwn'",
    ),
    (set_key("age", "protocol", ["I14"]), "question 'age' (I14): protocol item 'I14' is not in the listing (I1-I13)"),
    (set_key("age", "protocol", []), "question 'age': protocol must name the protocol item(s)"),
    (
        set_key("age", "ask", {"self": "How old are you? Are you 18?", "caregiver": "How old are they?"}),
        "question 'age' (I2): ask.self: one question per message (found 2 question marks)",
    ),
    (set_key("age", "rule", []), "question 'age' (I2): unknown keys ['rule']"),
    (set_key("age", "stage", "later"), "question 'age' (I2): unknown stage 'later'"),
    (
        set_key("respondent", "buttons", [{"title": "Me", "value": "self"}]),
        "question 'respondent' (I1, E1): a choice question needs at least two buttons",
    ),
    (
        set_button_value("respondent", 1, "self"),
        "question 'respondent' (I1, E1): button 'For someone else': duplicate value 'self'",
    ),
    (lambda data: data.update(version=1.0), "version: expected a quoted version"),
    (lambda data: data.update(extra=1), "unknown top-level keys ['extra']"),
    (lambda data: data.pop("linden"), "missing top-level keys ['linden']"),
    (
        lambda data: data["questions"].insert(0, data["questions"].pop()),
        "contact-stage questions must come after",
    ),
]


@pytest.mark.parametrize(("mutate", "message"), BROKEN)
def test_broken_copies_name_the_question_and_the_problem(tmp_path, mutate, message):
    path = broken_copy(tmp_path, mutate)
    with pytest.raises(TrialFileError) as error:
        load_trial(path)
    assert message in str(error.value)


def test_unquoted_yes_in_yaml_is_refused(tmp_path):
    text = DEFAULT_TRIAL_FILE.read_text()
    assert '{title: "Yes", value: "yes"}' in text
    path = tmp_path / "trial.yml"
    path.write_text(text.replace('{title: "Yes", value: "yes"}', '{title: "Yes", value: yes}', 1))
    with pytest.raises(TrialFileError, match=r"button 'Yes': True .*put yes/no in quotes"):
        load_trial(path)


def test_duplicate_yaml_keys_are_refused(tmp_path):
    text = DEFAULT_TRIAL_FILE.read_text()
    path = tmp_path / "trial.yml"
    # Whatever the current version, repeat the key with another value.
    path.write_text(re.sub(r'^(version: "[^"]+")$', r'\1\nversion: "9.9.9"', text, count=1, flags=re.M))
    with pytest.raises(TrialFileError, match="duplicate key 'version'"):
        load_trial(path)


def test_round_trip_copy_loads(tmp_path):
    # guards the broken-copy tests: an unmodified dump must load, so each
    # failure above comes from its own mutation
    path = broken_copy(tmp_path, lambda data: None)
    assert load_trial(path).question_ids == TRIAL.question_ids
