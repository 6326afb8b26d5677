"""Pure metric helpers (no Rasa): percentiles, intent and entity scores.

Kept separate from the code that talks to Rasa so that tests/unit/test_bench.py
can check the arithmetic on toy inputs in milliseconds.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Hashable, Iterable, Sequence


# Rasa's FallbackClassifier label: the bot did not understand, so it is wrong.
FALLBACK = "nlu_fallback"

Pair = tuple[str, str]  # (entity, normalised value as text)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation, like numpy's default.

    Written out rather than calling numpy so the definition the report uses is
    visible and tested.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within 0-100, got {q}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def intent_scores(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, object]:
    """Accuracy, macro F1 and per-intent F1 over the intents of the test set.

    Labels are the true intents only: a prediction outside them (e.g.
    `nlu_fallback`) is simply wrong, and does not add a zero-F1 class that
    would punish the macro average twice for the same mistake.
    """
    # Imported here: bench.gateway runs in the API environment, which has no scikit-learn.
    from sklearn.metrics import f1_score

    if len(y_true) != len(y_pred) or not y_true:
        raise ValueError("need the same, non-zero number of true and predicted labels")
    labels = sorted(set(y_true))
    per_label = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    return {
        "n": len(y_true),
        "accuracy": sum(t == p for t, p in zip(y_true, y_pred)) / len(y_true),
        "macro_f1": float(sum(per_label) / len(labels)),
        "per_intent_f1": {label: float(f1) for label, f1 in zip(labels, per_label)},
        "fallbacks": sum(p == FALLBACK for p in y_pred),
    }


def pairs(entities: Iterable[dict[str, object]]) -> set[Pair]:
    """The (entity, value) set of one message; values compared as text so 7 == "7"."""
    return {(str(e["entity"]), str(e["value"])) for e in entities}


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}


def entity_scores(expected: Sequence[set[Pair]], predicted: Sequence[set[Pair]]) -> dict[str, object]:
    """Micro P/R/F1 over (entity, value) pairs per message, plus per entity type.

    A pair counts as found only with the right value: a spine level "T7"
    predicted as "T8" is one false positive and one false negative.
    """
    if len(expected) != len(predicted):
        raise ValueError("expected and predicted differ in length")
    tp: Counter[Hashable] = Counter()
    fp: Counter[Hashable] = Counter()
    fn: Counter[Hashable] = Counter()
    for want, got in zip(expected, predicted):
        for entity, _ in want & got:
            tp[entity] += 1
        for entity, _ in got - want:
            fp[entity] += 1
        for entity, _ in want - got:
            fn[entity] += 1
    names = sorted(set(tp) | set(fp) | set(fn))
    return {
        "n_messages": len(expected),
        "exact_messages": sum(w == g for w, g in zip(expected, predicted)),
        **_prf(sum(tp.values()), sum(fp.values()), sum(fn.values())),
        "per_entity": {name: _prf(tp[name], fp[name], fn[name]) for name in names},
    }
