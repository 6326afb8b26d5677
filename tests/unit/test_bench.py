"""The arithmetic behind `make bench` (bench/metrics.py), on toy inputs whose
answers are worked out by hand."""

from __future__ import annotations

import pytest

from bench.metrics import entity_scores, intent_scores, pairs, percentile


def test_percentile_interpolates_linearly_between_ranks() -> None:
    values = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5]  # unsorted on purpose
    assert percentile(values, 50) == pytest.approx(5.5)
    assert percentile(values, 95) == pytest.approx(9.55)  # rank 8.55: 9 + 0.55 * (10 - 9)
    assert percentile(values, 0) == 1 and percentile(values, 100) == 10
    assert percentile([42.0], 95) == 42.0


def test_percentile_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_intent_scores_macro_f1_and_fallback_is_wrong() -> None:
    y_true = ["greet", "greet", "deny", "deny", "faq"]
    y_pred = ["greet", "deny", "deny", "deny", "nlu_fallback"]
    scores = intent_scores(y_true, y_pred)
    # greet: P 1, R 1/2 -> 2/3; deny: P 2/3, R 1 -> 4/5; faq: never predicted -> 0
    assert scores["per_intent_f1"] == pytest.approx({"deny": 0.8, "faq": 0.0, "greet": 2 / 3})
    assert scores["macro_f1"] == pytest.approx((0.8 + 0 + 2 / 3) / 3)
    assert scores["accuracy"] == pytest.approx(3 / 5)
    assert scores["fallbacks"] == 1
    assert "nlu_fallback" not in scores["per_intent_f1"]  # not a class of the test set


def test_entity_pairs_compare_values_as_text_and_ignore_duplicates() -> None:
    found = pairs([{"entity": "number", "value": 7}, {"entity": "number", "value": "7"}, {"entity": "age", "value": "adult"}])
    assert found == {("number", "7"), ("age", "adult")}


def test_entity_scores_micro_and_per_entity() -> None:
    expected = [
        {("spine_level", "T7"), ("spine_region", "thoracic")},
        {("age", "64"), ("number", "64")},
        set(),
    ]
    predicted = [
        {("spine_level", "T8"), ("spine_region", "thoracic")},  # wrong level value: 1 FP + 1 FN
        {("age", "64"), ("number", "64")},
        {("answer", "no")},  # invented: 1 FP
    ]
    scores = entity_scores(expected, predicted)
    # tp 3 (thoracic, age, number), fp 2 (T8, answer), fn 1 (T7)
    assert scores["precision"] == pytest.approx(3 / 5)
    assert scores["recall"] == pytest.approx(3 / 4)
    assert scores["f1"] == pytest.approx(2 * (3 / 5) * (3 / 4) / (3 / 5 + 3 / 4))
    assert scores["exact_messages"] == 1
    per = scores["per_entity"]
    assert per["spine_level"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert per["spine_region"]["f1"] == 1.0
    assert per["answer"]["precision"] == 0.0 and per["answer"]["support"] == 0


def test_entity_scores_need_aligned_inputs() -> None:
    with pytest.raises(ValueError):
        entity_scores([set()], [])
