"""Rasa 3.6 graph components around `nlu.extract`.

Pipeline lines for bot/config.yml (order matters):

    - name: nlu.components.PrescreenEntityExtractor   # before the classifiers
    ...
    - name: FallbackClassifier
    - name: nlu.components.RedFlagIntent              # last

PrescreenEntityExtractor persists the pattern set it was trained with in
model storage (like Rasa's RegexEntityExtractor), so a model archive always
runs with its own patterns, and it adds a hash of the pattern files and the
extraction code to its fingerprint, so editing a pattern retrains it.

Patient text is never logged here, at any level.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Type

import rasa.shared.utils.io
import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_TYPE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.extract import Extractor, PatternSet, extractor_for, fingerprint, load_patterns

logger = logging.getLogger(__name__)

PATTERNS_DIR_KEY = "patterns_dir"
_EXTRACT_CODE_DIR = Path(__file__).resolve().parent / "extract"


def _code_fingerprint() -> str:
    """Hash of the extraction code: persisted patterns must fit the code that reads them."""
    digest = hashlib.sha256()
    for path in sorted(_EXTRACT_CODE_DIR.glob("*.py")):
        digest.update(path.name.encode("utf-8"))
        digest.update(path.read_bytes())
    return digest.hexdigest()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class PrescreenEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Rule-based entities: spine regions/levels, numbers, pain, age, cancer type,
    yes/no/unsure stance and red-flag symptoms (docs/architecture.md)."""

    PATTERNS_FILE = "patterns.json"

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # None = the package's nlu/patterns directory.
        return {PATTERNS_DIR_KEY: None}

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[Text]:
        """Changed pattern files (or extraction code) must retrain this node."""
        return f"{fingerprint(config.get(PATTERNS_DIR_KEY))}:{_code_fingerprint()}"

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> PrescreenEntityExtractor:
        return cls(config, model_storage, resource)

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        patterns: Optional[PatternSet] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.patterns = patterns
        self._extractor: Optional[Extractor] = None

    def train(self, training_data: TrainingData) -> Resource:
        """Reads the pattern files and persists them with the model."""
        self.patterns = load_patterns(self._config.get(PATTERNS_DIR_KEY))
        self._extractor = None
        self.persist()
        return self._resource

    def persist(self) -> None:
        if self.patterns is None:
            return
        with self._model_storage.write_to(self._resource) as directory:
            rasa.shared.utils.io.dump_obj_as_json_to_file(directory / self.PATTERNS_FILE, self.patterns)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> PrescreenEntityExtractor:
        try:
            with model_storage.read_from(resource) as directory:
                patterns = json.loads((directory / cls.PATTERNS_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            rasa.shared.utils.io.raise_warning(
                f"{cls.__name__}: no patterns in the model; using the pattern files on disk."
            )
            patterns = None
        return cls(config, model_storage, resource, patterns)

    @property
    def extractor(self) -> Extractor:
        if self._extractor is None:
            if self.patterns is None:
                self.patterns = load_patterns(self._config.get(PATTERNS_DIR_KEY))
            self._extractor = extractor_for(self.patterns)
        return self._extractor

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            # Button payloads ("/affirm", '/choose{"choice": ...}') already carry
            # their intent and entities; parsing them as words would add noise.
            if not text or text.startswith(INTENT_MESSAGE_PREFIX):
                continue
            entities = self.add_extractor_name(self.extractor.extract(text))
            message.set(ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True)
            logger.debug("%s added %d entities.", self.name, len(entities))
        return messages


def symptom_words(path: Optional[Path] = None) -> "re.Pattern[str]":
    """Words of the body in a symptom-like way (nlu/patterns/red_flags.yml `symptom_words`)."""
    data = yaml.safe_load((path or Path(__file__).resolve().parent / "patterns" / "red_flags.yml").read_text())
    return re.compile(str(data["symptom_words"]), re.IGNORECASE)


def question_cues(path: Optional[Path] = None) -> "re.Pattern[str]":
    """One regex from nlu/patterns/questions.yml: does this text ask something?"""
    data = yaml.safe_load((path or Path(__file__).resolve().parent / "patterns" / "questions.yml").read_text())
    starts = "|".join(re.escape(cue) for cue in data["starts"])
    anywhere = "|".join(re.escape(cue) for cue in data["anywhere"])
    return re.compile(rf"(?:^|[.!;]\s*)(?:{starts})\b|{anywhere}", re.IGNORECASE)


class IntentRule(GraphComponent, IntentClassifier):
    """Base of the small untrained components that correct the classifier's intent.

    They hold only their config; subclasses define `get_default_config` and
    `process`. Not registered itself, so Rasa never runs it on its own.
    """

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = {**self.get_default_config(), **config}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "IntentRule":
        return cls(config)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class FaqNeedsAQuestion(IntentRule):
    """Keeps the study-question intent only for messages that ask something.

    An answer mid-form (an e-mail address, a name, "it's awful") that the
    classifier takes for a study question would be answered with an FAQ and
    the patient's answer lost. Study questions are questions: without a
    question cue the message is taken as an answer (`inform`), never as the
    next best intent, which could be "start over".
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"intent": "faq", "fallback_intent": "inform"}

    def __init__(self, config: Dict[Text, Any]) -> None:
        super().__init__(config)
        self._asks = question_cues()

    def process(self, messages: List[Message]) -> List[Message]:
        faq = self._config["intent"]
        for message in messages:
            intent = message.get(INTENT) or {}
            text = message.get(TEXT) or ""
            if intent.get(INTENT_NAME_KEY) != faq or text.startswith(INTENT_MESSAGE_PREFIX) or self._asks.search(text):
                continue
            answer = {INTENT_NAME_KEY: self._config["fallback_intent"], PREDICTED_CONFIDENCE_KEY: intent.get(PREDICTED_CONFIDENCE_KEY, 1.0)}
            ranking = [r for r in message.get(INTENT_RANKING_KEY, []) or [] if r.get(INTENT_NAME_KEY) not in (faq, answer[INTENT_NAME_KEY])]
            message.set(INTENT, answer, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [dict(answer), *ranking], add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SureBeforeErasing(IntentRule):
    """Intents that undo answers ("start over", "go back") need high confidence.

    A misread answer must never wipe the patient's answers: below the
    threshold the message becomes `nlu_fallback`, which in a form is handed
    to the answer's validation (and rephrased if it is not an answer).
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"intents": ["start_over", "go_back"], "threshold": 0.8, "fallback_intent": "nlu_fallback"}

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            text = message.get(TEXT) or ""
            if intent.get(INTENT_NAME_KEY) not in self._config["intents"] or text.startswith(INTENT_MESSAGE_PREFIX):
                continue
            confidence = intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0
            if confidence < self._config["threshold"]:
                message.set(
                    INTENT,
                    {INTENT_NAME_KEY: self._config["fallback_intent"], PREDICTED_CONFIDENCE_KEY: confidence},
                    add_to_output=True,
                )
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RedFlagNeedsASymptom(IntentRule):
    """The classifier's own `red_flag` (no symptom found by the rules) never
    ends a screening: it becomes `red_flag_check`, one confirming question
    (issue 10, red flags in two stages), or an answer or a study question.

    The rules (nlu/patterns/red_flags.yml) are the red-flag detector; the
    classifier alone also says red_flag for words that only sound like a
    symptom ("bladder" as the cancer's origin, a busy day told to the
    daily-function question, a denial that names the symptoms). A cancer name,
    or an answer that says no or not sure, is an answer (`inform`); a question
    is a study question (`faq`); anything else is asked about once. A symptom
    the rules found wins anyway (RedFlagIntent runs after this).
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"intent": "red_flag", "symptom_entity": "red_flag", "answer_entities": ["cancer_type"],
                "stance_entity": "answer", "not_yes": ["no", "unsure", "likely_no"],
                "answer_intent": "inform", "question_intent": "faq", "check_intent": "red_flag_check",
                "possible_entity": "red_flag_possible"}

    def __init__(self, config: Dict[Text, Any]) -> None:
        super().__init__(config)
        self._asks = question_cues()
        self._symptom_words = symptom_words()

    def process(self, messages: List[Message]) -> List[Message]:
        config = self._config
        for message in messages:
            intent = message.get(INTENT) or {}
            text = message.get(TEXT) or ""
            if intent.get(INTENT_NAME_KEY) not in (config["intent"], config["check_intent"]) \
                    or text.startswith(INTENT_MESSAGE_PREFIX):
                continue
            entities = message.get(ENTITIES, []) or []
            kinds = {e.get(ENTITY_ATTRIBUTE_TYPE) for e in entities}
            stances = {e.get("value") for e in entities if e.get(ENTITY_ATTRIBUTE_TYPE) == config["stance_entity"]}
            if config["symptom_entity"] in kinds:
                continue
            if config["possible_entity"] in kinds:
                if intent.get(INTENT_NAME_KEY) == config["check_intent"]:
                    continue  # a possible symptom the rules found: asked once (RedFlagIntent)
                name = config["check_intent"]
            elif not self._symptom_words.search(text):
                # Nothing in the words speaks of the body ("Wren Withdrawn" as a
                # contact name): an answer or a question, never the red-flag check.
                name = config["question_intent"] if self._asks.search(text) else config["answer_intent"]
            elif intent.get(INTENT_NAME_KEY) == config["check_intent"]:
                continue  # the classifier's own check, with words of the body: asked once
            elif kinds & set(config["answer_entities"]) or (stances and stances <= set(config["not_yes"])):
                name = config["answer_intent"]
            elif self._asks.search(text):
                name = config["question_intent"]
            else:
                name = config["check_intent"]
            corrected = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: intent.get(PREDICTED_CONFIDENCE_KEY, 1.0)}
            ranking = [r for r in message.get(INTENT_RANKING_KEY, []) or [] if r.get(INTENT_NAME_KEY) not in (config["intent"], name)]
            message.set(INTENT, corrected, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [dict(corrected), *ranking], add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RedFlagIntent(IntentRule):
    """Sets the intent to `red_flag` when a red_flag entity was found, and to
    `red_flag_check` when only a possible one was (old, explained, another
    person's: the bot asks once whether it is new or getting worse).

    Placed after the intent classifiers and the FallbackClassifier, so a
    red-flag symptom wins over any other intent (or nlu_fallback) at any turn.
    """

    @classmethod
    def required_components(cls) -> List[Type]:
        return [PrescreenEntityExtractor]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"intent": "red_flag", "entity": "red_flag",
                "check_intent": "red_flag_check", "possible_entity": "red_flag_possible"}

    def process(self, messages: List[Message]) -> List[Message]:
        config = self._config
        for message in messages:
            kinds = {e.get(ENTITY_ATTRIBUTE_TYPE) for e in message.get(ENTITIES, []) or []}
            current = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if config["entity"] in kinds:
                name = config["intent"]
            elif config["possible_entity"] in kinds and current != config["intent"]:
                name = config["check_intent"]
            else:
                continue
            intent = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
            ranking = [r for r in message.get(INTENT_RANKING_KEY, []) or [] if r.get(INTENT_NAME_KEY) != name]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [dict(intent), *ranking], add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FaqAnswerSelector(ResponseSelector):
    """Rasa's ResponseSelector, asked only when the message is a study question.

    It picks the FAQ answer from the message's own features, whatever the
    intent, so its answer for a message is the same wherever it runs. Placed
    last in the pipeline, it knows the final intent (after the fallback and
    the rules above) and skips every other message: Rasa reads the selection
    only for the retrieval intent (`utter_faq`, the full retrieval intent),
    and computing it for answers cost about a tenth of Rasa's time per
    message (issue 14). Trained exactly as the ResponseSelector it extends.
    """

    def process(self, messages: List[Message]) -> List[Message]:
        asked = [m for m in messages if (m.get(INTENT) or {}).get(INTENT_NAME_KEY) == self.retrieval_intent]
        if asked:
            super().process(asked)
        return messages
