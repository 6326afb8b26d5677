"""Held-out NLU evaluation: intents (tests/nlu_heldout/heldout.yml), entities
(tests/nlu_heldout/entities.yml) and the answer values the action server
records (tests/nlu_heldout/values.yml), through the trained model.

The model is loaded once in this process with Agent.load and every text goes
through the full pipeline (our extractor, DIET, ResponseSelector, fallback,
RedFlagIntent), i.e. exactly what the server would do for a first message.
Only labels and indices are kept in the results, never the texts.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

from bench.metrics import entity_scores, intent_scores, pairs

ROOT = Path(__file__).resolve().parents[1]
HELDOUT_INTENTS = ROOT / "tests" / "nlu_heldout" / "heldout.yml"
HELDOUT_ENTITIES = ROOT / "tests" / "nlu_heldout" / "entities.yml"
HELDOUT_VALUES = ROOT / "tests" / "nlu_heldout" / "values.yml"
# nlu.components.RedFlagIntent sets this intent at any turn; the bot then gives urgent-care advice.
RED_FLAG_INTENT = "red_flag"
# How the report groups questions: by what kind of value is read.
VALUE_GROUPS = {
    "regions": "spine region", "pain": "pain score", "age": "age", "cancer": "cancer type",
    "yes_no": "yes / no / unsure", "pregnancy": "pregnancy", "prior_radiation": "prior radiation",
    "ecog": "daily function (ECOG)", "choice": "who is answering",
}


@dataclass
class IntentExample:
    text: str
    intent: str  # base intent: "faq" for "faq/where"
    response_key: Optional[str]  # "faq/where" for retrieval intents, else None


def load_intent_examples(path: Path = HELDOUT_INTENTS) -> list[IntentExample]:
    """Read Rasa NLU YAML ourselves: the held-out file is plain `- intent:` +
    `examples: |` blocks, and Rasa's loader would also validate and warn."""
    examples: list[IntentExample] = []
    for block in yaml.safe_load(path.read_text())["nlu"]:
        name = block.get("intent")
        if not name:
            continue  # synonyms, regexes, lookups: not examples
        base, _, _ = name.partition("/")
        for line in block["examples"].splitlines():
            text = line.strip()
            if text.startswith("- "):
                examples.append(IntentExample(text[2:].strip(), base, name if "/" in name else None))
    return examples


def load_entity_examples(path: Path = HELDOUT_ENTITIES) -> list[tuple[str, set[tuple[str, str]]]]:
    # str(): YAML reads a bare "47" as an integer, but it is a typed message.
    return [(str(item["text"]), pairs(item["entities"])) for item in yaml.safe_load(path.read_text())]


def training_texts(data: Path = ROOT / "bot" / "data") -> set[str]:
    """Every NLU training example, lower-cased: a held-out text equal to one is
    left out of the scores (short replies like "no" are bound to be both)."""
    texts: set[str] = set()
    for path in data.rglob("*.yml"):
        for block in (yaml.safe_load(path.read_text()) or {}).get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    texts.add(line.strip()[2:].strip().lower())
    return texts


def load_value_examples(path: Path = HELDOUT_VALUES) -> tuple[list[dict[str, Any]], int]:
    """(items {question, text, value}, how many were left out as training texts).
    value null = the message does not answer (the bot asks again)."""
    seen = training_texts()
    items = [{**item, "text": str(item["text"]), "index": i} for i, item in enumerate(yaml.safe_load(path.read_text()))]
    kept = [item for item in items if item["text"].lower() not in seen]
    return kept, len(items) - len(kept)


def score_values(examples: list[dict[str, Any]], parses: list[dict[str, Any]]) -> dict[str, Any]:
    """Exact-match accuracy of the answer the action server would record, per kind of value.

    Each text goes through the same interpreter the form's validation uses
    (actions/answers.py) with the question's buttons, after the full NLU parse.
    """
    from actions.answers import Button, ParsedMessage, interpret
    from actions.criteria import load_trial

    trial = load_trial()
    groups: dict[str, dict[str, int]] = {}
    errors = []
    for index, (item, parsed) in enumerate(zip(examples, parses)):
        question = trial.question(item["question"])
        message = ParsedMessage(item["text"], (parsed.get("intent") or {}).get("name"), parsed.get("entities") or [])
        if message.intent == RED_FLAG_INTENT:
            # Any turn: a red flag is not read as an answer, it sends the patient to urgent care (a "yes").
            got = "yes" if question.id == "red_flags" else RED_FLAG_INTENT
        else:
            got = interpret(question.id, question.answer_type, message, [Button(b.title, b.value) for b in question.buttons])
        want = item["value"]
        right = got is None if want is None else (got is not None and question.values.normalise(got) == question.values.normalise(want))
        kind = VALUE_GROUPS.get(question.answer_type, question.answer_type)
        group = groups.setdefault(kind, {"n": 0, "correct": 0})
        group["n"] += 1
        group["correct"] += right
        if not right:  # values, not texts: the file index finds the text
            errors.append({"index": item.get("index", index), "question": question.id, "kind": kind, "expected": want, "got": got})
    total = sum(g["n"] for g in groups.values())
    return {
        "n": total,
        "accuracy": sum(g["correct"] for g in groups.values()) / total if total else None,
        "per_type": {name: {**g, "accuracy": g["correct"] / g["n"]} for name, g in groups.items()},
        "errors": errors,
    }


def _selected_key(result: dict[str, Any], retrieval_intent: str) -> Optional[str]:
    selector = (result.get("response_selector") or {}).get(retrieval_intent) or {}
    return (selector.get("response") or {}).get("intent_response_key")


async def _parse_all(model: Path, texts: list[str]) -> list[dict[str, Any]]:
    # Imported here: loading Rasa/TensorFlow takes seconds. Some of these
    # libraries re-enable deprecation warnings on import (PYTHONWARNINGS does
    # not hold), and a screen of them buries the report.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from rasa.core.agent import Agent
        from rasa.utils.common import configure_logging_and_warnings
        from rasa.utils.log_utils import configure_structlog

    # Rasa's default structlog setup logs every parsed text at debug level:
    # keep messages out of the output.
    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        agent = Agent.load(str(model))
        return [await agent.parse_message(text) for text in texts]


def evaluate(model: Path) -> dict[str, Any]:
    seen = training_texts()
    intents = [e for e in load_intent_examples() if e.text.lower() not in seen]
    all_entities = load_entity_examples()
    entities = [(text, want) for text, want in all_entities if text.lower() not in seen]
    values, in_training = load_value_examples()
    texts = [e.text for e in intents] + [t for t, _ in entities] + [v["text"] for v in values]
    results = asyncio.run(_parse_all(model, texts))
    intent_results = results[: len(intents)]
    entity_results = results[len(intents): len(intents) + len(entities)]
    value_results = results[len(intents) + len(entities):]

    predicted = [(r.get("intent") or {}).get("name") or "" for r in intent_results]
    intent_report = intent_scores([e.intent for e in intents], predicted)
    # Which held-out lines were missed, by index in the file (no text).
    intent_report["errors"] = [
        {"index": i, "expected": e.intent, "predicted": p}
        for i, (e, p) in enumerate(zip(intents, predicted)) if e.intent != p
    ]

    # Response selection is scored on the faq examples only: "is a study question
    # given the right answer?". The answer is picked only for a message whose
    # final intent is the study question (nlu.components.FaqAnswerSelector, issue
    # 14), so a question taken for something else counts as not answered, as the
    # patient meets it. Before 2026-12-04 the answer was scored whatever the intent.
    faq = [(e, r) for e, r in zip(intents, intent_results) if e.response_key]
    selector = {
        "n": len(faq),
        "accuracy": (sum(_selected_key(r, e.intent) == e.response_key for e, r in faq) / len(faq)) if faq else None,
    }

    got = [pairs(r.get("entities") or []) for r in entity_results]
    entity_report = entity_scores([want for _, want in entities], got)
    entity_report["left_out_as_training_texts"] = len(all_entities) - len(entities)
    entity_report["errors"] = [
        {"index": i, "missing": sorted(want - g), "extra": sorted(g - want)}
        for i, ((_, want), g) in enumerate(zip(entities, got)) if want != g
    ]
    return {"intent": intent_report, "response_selector": selector, "entities": entity_report,
            "values": {**score_values(values, value_results), "left_out_as_training_texts": in_training}}
