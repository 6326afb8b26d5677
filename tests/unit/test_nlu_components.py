"""The Rasa components: train/persist/load/process, fingerprint, red-flag intent."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any, Dict, List

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.recipes.recipe import Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.engine.training.fingerprinting import calculate_fingerprint_key
from rasa.engine.validation import validate
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.data import TrainingType
from rasa.shared.nlu.constants import ENTITIES, EXTRACTOR, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components import PrescreenEntityExtractor, RedFlagIntent
from nlu.extract import PATTERN_DIR

EXTRACTOR_NAME = "PrescreenEntityExtractor"


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


@pytest.fixture
def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test-model")


@pytest.fixture
def patterns_copy(tmp_path: Path) -> Path:
    target = tmp_path / "patterns"
    shutil.copytree(PATTERN_DIR, target)
    return target


def trained(
    storage: LocalModelStorage, context: ExecutionContext, config: Dict[str, Any]
) -> PrescreenEntityExtractor:
    resource = Resource("prescreen_entities")
    component = PrescreenEntityExtractor.create(
        {**PrescreenEntityExtractor.get_default_config(), **config}, storage, resource, context
    )
    component.train(TrainingData())
    return PrescreenEntityExtractor.load(
        {**PrescreenEntityExtractor.get_default_config(), **config}, storage, resource, context
    )


def entities(message: Message) -> List[tuple]:
    return [(e["entity"], e["value"]) for e in message.get(ENTITIES, [])]


def test_train_load_process(storage: LocalModelStorage, context: ExecutionContext) -> None:
    component = trained(storage, context, {})
    message = Message(data={TEXT: "pain is 7/10 in my lower back, it started as prostate cancer"})
    component.process([message])
    found = message.get(ENTITIES)
    assert ("pain_score", 7) in entities(message)
    assert ("spine_region", "lumbar") in entities(message)
    assert ("cancer_type", "prostate") in entities(message)
    assert all(e[EXTRACTOR] == EXTRACTOR_NAME for e in found)
    assert all(message.get(TEXT)[e["start"] : e["end"]] == e["text"] for e in found)


def test_loaded_model_uses_its_own_persisted_patterns(
    storage: LocalModelStorage, context: ExecutionContext, patterns_copy: Path
) -> None:
    component = trained(storage, context, {"patterns_dir": str(patterns_copy)})
    # Editing the files after training must not change the trained model.
    cancer = patterns_copy / "cancer.yml"
    cancer.write_text(cancer.read_text(encoding="utf-8").replace("prostrate, ", ""), encoding="utf-8")
    message = Message(data={TEXT: "prostrate"})
    component.process([message])
    assert entities(message) == [("cancer_type", "prostate")]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("my legs gave way", ("red_flag", "weakness")),
        ("T11-L2", ("spine_level", "T11-L2")),
        ("I'm 45", ("age", 45)),
        ("I don't think so", ("answer", "likely_no")),
        ("no numbness", ("answer", "no")),
    ],
)
def test_process_phrasings(storage: LocalModelStorage, context: ExecutionContext, text: str, expected: tuple) -> None:
    component = trained(storage, context, {})
    message = Message(data={TEXT: text})
    component.process([message])
    assert expected in entities(message)


def test_existing_entities_are_kept(storage: LocalModelStorage, context: ExecutionContext) -> None:
    component = trained(storage, context, {})
    earlier = {"entity": "choice", "value": "self", "start": 0, "end": 2, "extractor": "Other"}
    message = Message(data={TEXT: "yes", ENTITIES: [earlier]})
    component.process([message])
    assert message.get(ENTITIES)[0] == earlier
    assert entities(message) == [("choice", "self"), ("answer", "yes")]


@pytest.mark.parametrize("payload", ["/affirm", '/choose{"choice": "caregiver"}', "/deny"])
def test_button_payloads_are_not_parsed(
    storage: LocalModelStorage, context: ExecutionContext, payload: str
) -> None:
    component = trained(storage, context, {})
    message = Message(data={TEXT: payload})
    component.process([message])
    assert message.get(ENTITIES) is None


def test_messages_without_text_are_skipped(storage: LocalModelStorage, context: ExecutionContext) -> None:
    component = trained(storage, context, {})
    message = Message(data={INTENT: "greet"})
    component.process([message])
    assert message.get(ENTITIES) is None


def test_untrained_component_falls_back_to_pattern_files(
    storage: LocalModelStorage, context: ExecutionContext
) -> None:
    with pytest.warns(UserWarning):
        component = PrescreenEntityExtractor.load(
            PrescreenEntityExtractor.get_default_config(), storage, Resource("never_trained"), context
        )
    message = Message(data={TEXT: "neck"})
    component.process([message])
    assert entities(message) == [("spine_region", "cervical")]


def test_fingerprint_changes_when_a_pattern_file_changes(patterns_copy: Path) -> None:
    config = {"patterns_dir": str(patterns_copy)}
    before = calculate_fingerprint_key(PrescreenEntityExtractor, config, {})
    assert calculate_fingerprint_key(PrescreenEntityExtractor, config, {}) == before  # stable
    spine = patterns_copy / "spine.yml"
    spine.write_text(spine.read_text(encoding="utf-8") + "\n# a reviewed change\n", encoding="utf-8")
    assert calculate_fingerprint_key(PrescreenEntityExtractor, config, {}) != before


def test_fingerprint_addon_covers_every_pattern_file(patterns_copy: Path) -> None:
    config = {"patterns_dir": str(patterns_copy)}
    seen = {PrescreenEntityExtractor.fingerprint_addon(config)}
    for path in sorted(patterns_copy.glob("*.yml")):
        path.write_text(path.read_text(encoding="utf-8") + "\n# edit\n", encoding="utf-8")
        seen.add(PrescreenEntityExtractor.fingerprint_addon(config))
    assert len(seen) == 1 + len(list(patterns_copy.glob("*.yml")))


def test_patient_text_is_never_logged(
    storage: LocalModelStorage, context: ExecutionContext, caplog: pytest.LogCaptureFixture
) -> None:
    component = trained(storage, context, {})
    secret = "my legs gave way zqxjkv"
    with caplog.at_level(logging.DEBUG):
        component.process([Message(data={TEXT: secret})])
        RedFlagIntent.create({}, storage, Resource("red_flag"), context).process(
            [Message(data={TEXT: secret, ENTITIES: [{"entity": "red_flag", "value": "weakness"}]})]
        )
    assert "zqxjkv" not in caplog.text


# --- RedFlagIntent -----------------------------------------------------------


def classified(intent: str, confidence: float, others: List[tuple], entities_: List[dict]) -> Message:
    ranking = [{"name": intent, "confidence": confidence}] + [{"name": n, "confidence": c} for n, c in others]
    return Message(
        data={
            TEXT: "some text",
            INTENT: {"name": intent, "confidence": confidence},
            INTENT_RANKING_KEY: ranking,
            ENTITIES: entities_,
        }
    )


RED_FLAG = {"entity": "red_flag", "value": "numbness", "start": 0, "end": 4, "extractor": EXTRACTOR_NAME}


def red_flag_component(storage: LocalModelStorage, context: ExecutionContext) -> RedFlagIntent:
    return RedFlagIntent.create(RedFlagIntent.get_default_config(), storage, Resource("red_flag_intent"), context)


def test_red_flag_entity_overrides_intent(storage: LocalModelStorage, context: ExecutionContext) -> None:
    message = classified("inform", 0.93, [("deny", 0.05), ("red_flag", 0.02)], [RED_FLAG])
    red_flag_component(storage, context).process([message])
    assert message.get(INTENT) == {"name": "red_flag", "confidence": 1.0}
    ranking = message.get(INTENT_RANKING_KEY)
    assert ranking[0] == {"name": "red_flag", "confidence": 1.0}
    assert [r["name"] for r in ranking] == ["red_flag", "inform", "deny"]  # no duplicate


def test_without_red_flag_entity_intent_is_unchanged(storage: LocalModelStorage, context: ExecutionContext) -> None:
    message = classified("deny", 0.9, [("affirm", 0.1)], [{"entity": "answer", "value": "no"}])
    red_flag_component(storage, context).process([message])
    assert message.get(INTENT) == {"name": "deny", "confidence": 0.9}
    assert message.get(INTENT_RANKING_KEY)[0]["name"] == "deny"


POSSIBLE = {"entity": "red_flag_possible", "value": "numbness", "start": 0, "end": 4, "extractor": EXTRACTOR_NAME}


def test_a_possible_red_flag_opens_the_check(storage: LocalModelStorage, context: ExecutionContext) -> None:
    message = classified("inform", 0.8, [("deny", 0.1)], [POSSIBLE])
    red_flag_component(storage, context).process([message])
    assert message.get(INTENT) == {"name": "red_flag_check", "confidence": 1.0}


def test_a_clear_red_flag_beats_a_possible_one(storage: LocalModelStorage, context: ExecutionContext) -> None:
    message = classified("inform", 0.8, [], [POSSIBLE, RED_FLAG])
    red_flag_component(storage, context).process([message])
    assert message.get(INTENT)["name"] == "red_flag"


def test_red_flag_wins_over_nlu_fallback(storage: LocalModelStorage, context: ExecutionContext) -> None:
    # Extractor -> (classifier) -> FallbackClassifier -> RedFlagIntent, as in config.yml.
    extractor = trained(storage, context, {})
    message = Message(
        data={
            TEXT: "feet have gone all tingly",
            INTENT: {"name": "inform", "confidence": 0.3},
            INTENT_RANKING_KEY: [{"name": "inform", "confidence": 0.3}, {"name": "deny", "confidence": 0.28}],
        }
    )
    extractor.process([message])
    FallbackClassifier({"threshold": 0.45, "ambiguity_threshold": 0.05}).process([message])
    assert message.get(INTENT)["name"] == "nlu_fallback"
    red_flag_component(storage, context).process([message])
    assert message.get(INTENT) == {"name": "red_flag", "confidence": 1.0}
    assert message.get(INTENT_RANKING_KEY)[0]["name"] == "red_flag"


# --- registration and pipeline placement ------------------------------------

PIPELINE = [
    {"name": "WhitespaceTokenizer"},
    {"name": "CountVectorsFeaturizer"},
    {"name": "nlu.components.PrescreenEntityExtractor"},
    {"name": "DIETClassifier", "epochs": 1, "entity_recognition": False},
    {"name": "FallbackClassifier", "threshold": 0.45},
    {"name": "nlu.components.RedFlagIntent"},
]


def graph_config(pipeline: List[Dict[str, Any]]) -> Any:
    recipe = Recipe.recipe_for_name(DefaultV1Recipe.name)
    config = {"recipe": "default.v1", "language": "en", "pipeline": pipeline}
    return recipe.graph_config_for_recipe(config, {}, training_type=TrainingType.NLU)


def test_recommended_pipeline_validates() -> None:
    model_config = graph_config(PIPELINE)
    validate(model_config)
    classes = {node.uses for node in model_config.predict_schema.nodes.values()}
    assert {PrescreenEntityExtractor, RedFlagIntent} <= classes


def ancestors(schema: Any, node_name: str) -> List[type]:
    found: List[type] = []
    for parent in schema.nodes[node_name].needs.values():
        if parent in schema.nodes:
            found += [schema.nodes[parent].uses, *ancestors(schema, parent)]
    return found


def test_red_flag_intent_runs_after_extractor_and_fallback() -> None:
    # Rasa checks `required_components` only in the train graph, and this
    # component is not trained: so the order is checked here.
    schema = graph_config(PIPELINE).predict_schema
    [node] = [name for name, node in schema.nodes.items() if node.uses is RedFlagIntent]
    before = ancestors(schema, node)
    assert PrescreenEntityExtractor in before
    assert FallbackClassifier in before


# ---- FaqNeedsAQuestion -------------------------------------------------------

from rasa.shared.nlu.training_data.message import Message as _Message  # noqa: E402

from nlu.components import FaqNeedsAQuestion  # noqa: E402


def _faq_message(text: str) -> _Message:
    message = _Message(data={"text": text})
    message.set("intent", {"name": "faq", "confidence": 0.6})
    message.set("intent_ranking", [{"name": "faq", "confidence": 0.6}, {"name": "inform", "confidence": 0.3}])
    return message


@pytest.mark.parametrize("text", ["pat.canary@example.com", "Sam Lee", "it is awful", "403-555-0199", "my lower back"])
def test_an_answer_is_not_taken_for_a_study_question(text: str) -> None:
    gate = FaqNeedsAQuestion.create({}, None, None, None)  # type: ignore[arg-type]
    [message] = gate.process([_faq_message(text)])
    assert message.get("intent")["name"] == "inform"
    assert all(r["name"] != "faq" for r in message.get("intent_ranking"))


def test_a_non_question_becomes_an_answer_even_when_start_over_ranks_next() -> None:
    message = _faq_message("pat.canary@example.com")
    message.set("intent_ranking", [{"name": "faq", "confidence": 0.5}, {"name": "start_over", "confidence": 0.4}])
    [message] = FaqNeedsAQuestion.create({}, None, None, None).process([message])  # type: ignore[arg-type]
    assert message.get("intent")["name"] == "inform"


@pytest.mark.parametrize(("intent", "confidence", "expected"), [
    ("start_over", 0.55, "nlu_fallback"), ("go_back", 0.79, "nlu_fallback"),
    ("start_over", 0.95, "start_over"), ("inform", 0.3, "inform"),
])
def test_erasing_intents_need_confidence(intent: str, confidence: float, expected: str) -> None:
    from nlu.components import SureBeforeErasing

    message = _Message(data={"text": "something"})
    message.set("intent", {"name": intent, "confidence": confidence})
    [message] = SureBeforeErasing.create({}, None, None, None).process([message])  # type: ignore[arg-type]
    assert message.get("intent")["name"] == expected


@pytest.mark.parametrize("text", ["what is vertebroplasty", "How long does it take", "risks?", "tell me about the cost", "any side effects"])
def test_a_real_study_question_keeps_its_intent(text: str) -> None:
    gate = FaqNeedsAQuestion.create({}, None, None, None)  # type: ignore[arg-type]
    [message] = gate.process([_faq_message(text)])
    assert message.get("intent")["name"] == "faq"


# ---- RedFlagNeedsASymptom ------------------------------------------------------

from nlu.components import RedFlagNeedsASymptom  # noqa: E402


def _classifier_red_flag(text: str, entities: List[Dict[str, Any]]) -> _Message:
    message = _Message(data={"text": text})
    message.set("intent", {"name": "red_flag", "confidence": 0.7})
    message.set("intent_ranking", [{"name": "red_flag", "confidence": 0.7}, {"name": "inform", "confidence": 0.2}])
    message.set("entities", entities)
    return message


@pytest.mark.parametrize(("text", "entities", "expected"), [
    # Found by make bench: a bladder cancer answer and a question sent patients to urgent care.
    ("bladder", [{"entity": "cancer_type", "value": "other"}], "inform"),
    ("why are you asking about my bladder?", [], "faq"),
    # A symptom the rules found: untouched here (RedFlagIntent makes it red_flag anyway).
    ("bladder cancer and I can't control my bladder", [{"entity": "cancer_type", "value": "other"},
                                                       {"entity": "red_flag", "value": "bladder_bowel"}], "red_flag"),
    # The person's own answer says not sure or no: the form reads it (needs review, advice).
    ("not sure, I haven't seen her since last week", [{"entity": "answer", "value": "unsure"}], "inform"),
    ("no", [{"entity": "answer", "value": "no"}], "inform"),
    # No word of the body: an answer the form reads ("I think so" to the safety question is a yes there).
    ("yes I think so", [{"entity": "answer", "value": "likely_yes"}], "inform"),
    # A possible symptom the rules found (old, explained): the confirming question, never red_flag.
    ("my toes have been numb from chemo for years", [{"entity": "red_flag_possible", "value": "numbness"}], "red_flag_check"),
    # The classifier alone never ends a screening: it opens the confirming question.
    ("my legs went funny", [], "red_flag_check"),
])
def test_a_classifier_red_flag_needs_a_symptom_unless_it_is_an_answer_or_a_question(
    text: str, entities: List[Dict[str, Any]], expected: str
) -> None:
    [message] = RedFlagNeedsASymptom.create({}, None, None, None).process([_classifier_red_flag(text, entities)])  # type: ignore[arg-type]
    assert message.get("intent")["name"] == expected
    if expected != "red_flag":
        assert [r["name"] for r in message.get("intent_ranking")][:1] == [expected]
        assert "red_flag" not in [r["name"] for r in message.get("intent_ranking")]


@pytest.mark.parametrize(("text", "expected"), [
    # A contact name the classifier took for a check (a story found it): an answer.
    ("Wren Withdrawn", "inform"),
    ("who gets my name?", "faq"),
    # Words of the body: the classifier's own check stays, asked once.
    ("my legs feel odd", "red_flag_check"),
])
def test_the_classifiers_own_check_needs_words_of_the_body(text: str, expected: str) -> None:
    message = _Message(data={"text": text})
    message.set("intent", {"name": "red_flag_check", "confidence": 0.6})
    message.set("intent_ranking", [{"name": "red_flag_check", "confidence": 0.6}, {"name": "inform", "confidence": 0.3}])
    message.set("entities", [])
    [message] = RedFlagNeedsASymptom.create({}, None, None, None).process([message])  # type: ignore[arg-type]
    assert message.get("intent")["name"] == expected


def test_red_flag_needs_a_symptom_runs_before_red_flag_intent() -> None:
    import yaml

    names = [c["name"] for c in yaml.safe_load((Path(__file__).resolve().parents[2] / "bot" / "config.yml").read_text())["pipeline"]]
    assert names.index("nlu.components.RedFlagNeedsASymptom") < names.index("nlu.components.RedFlagIntent")
    assert names.index("FallbackClassifier") < names.index("nlu.components.RedFlagNeedsASymptom")


def test_the_faq_answer_selector_is_rasas_and_runs_last() -> None:
    # It must see the final intent (after the fallback and every rule) to skip
    # the messages that are not study questions.
    import yaml
    from rasa.nlu.selectors.response_selector import ResponseSelector

    from nlu.components import FaqAnswerSelector

    names = [c["name"] for c in yaml.safe_load((Path(__file__).resolve().parents[2] / "bot" / "config.yml").read_text())["pipeline"]]
    assert issubclass(FaqAnswerSelector, ResponseSelector)
    assert names[-1] == "nlu.components.FaqAnswerSelector"
    assert "ResponseSelector" not in names
