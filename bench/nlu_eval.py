"""Held-out NLU evaluation: intents (tests/nlu_heldout/heldout.yml) and
entities (tests/nlu_heldout/entities.yml) through the trained model.

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
    intents = load_intent_examples()
    entities = load_entity_examples()
    results = asyncio.run(_parse_all(model, [e.text for e in intents] + [t for t, _ in entities]))
    intent_results, entity_results = results[: len(intents)], results[len(intents):]

    predicted = [(r.get("intent") or {}).get("name") or "" for r in intent_results]
    intent_report = intent_scores([e.intent for e in intents], predicted)
    # Which held-out lines were missed, by index in the file (no text).
    intent_report["errors"] = [
        {"index": i, "expected": e.intent, "predicted": p}
        for i, (e, p) in enumerate(zip(intents, predicted)) if e.intent != p
    ]

    # Response selection is scored on the faq examples only, whatever DIET said:
    # it answers "given a faq question, is the right answer picked?".
    faq = [(e, r) for e, r in zip(intents, intent_results) if e.response_key]
    selector = {
        "n": len(faq),
        "accuracy": (sum(_selected_key(r, e.intent) == e.response_key for e, r in faq) / len(faq)) if faq else None,
    }

    got = [pairs(r.get("entities") or []) for r in entity_results]
    entity_report = entity_scores([want for _, want in entities], got)
    entity_report["errors"] = [
        {"index": i, "missing": sorted(want - g), "extra": sorted(g - want)}
        for i, ((_, want), g) in enumerate(zip(entities, got)) if want != g
    ]
    return {"intent": intent_report, "response_selector": selector, "entities": entity_report}
