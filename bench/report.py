"""The printed summary and results/bench.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional


def _num(value: Optional[float], fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def summary(results: dict[str, Any]) -> str:
    """The compact table printed at the end (one line per measure)."""
    lines: list[str] = []
    training = results.get("training") or {}
    seconds = training.get("seconds")
    timing = f"{seconds:.1f} s" if seconds is not None else "skipped (--model)"
    lines.append(f"{'training (cold)':<25}{timing}   model {_num(training.get('size_mb'), '.1f')} MB")

    nlu = results.get("nlu") or {}
    intent, selector, ent = nlu.get("intent") or {}, nlu.get("response_selector") or {}, nlu.get("entities") or {}
    if intent:
        faq = f"   faq answer acc {_num(selector.get('accuracy'), '.3f')} (n={selector.get('n')})" if selector.get("n") else ""
        lines.append(f"{'NLU intent accuracy':<25}{intent['accuracy']:.3f}     macro F1 {intent['macro_f1']:.3f}  "
                     f"({intent['n']} held-out examples, {intent['fallbacks']} fallbacks){faq}")
    if ent:
        lines.append(f"{'NLU entity F1':<25}{ent['f1']:.3f}     P {ent['precision']:.3f} R {ent['recall']:.3f}  "
                     f"({ent['n_messages']} held-out messages, {ent['exact_messages']} exact)")

    latency = results.get("latency") or {}
    if latency.get("turns"):
        lines.append(f"{'turn latency':<25}p50 {latency['p50_ms']:.0f} ms  p95 {latency['p95_ms']:.0f} ms  "
                     f"max {latency['max_ms']:.0f} ms  ({latency['turns']} turns, {latency['conversations']} conversations; "
                     f"first turn {latency['first_turn_ms']:.0f} ms)")
        if latency.get("unexpected_outcomes"):
            lines.append(f"{'':<25}note: {latency['unexpected_outcomes']} conversation(s) ended with an unexpected outcome")

    memory = results.get("memory") or {}
    if memory:
        lines.append(f"{'memory (RSS)':<25}rasa {memory['rasa']['at_rest_mb']:.0f} MB -> {memory['rasa']['after_conversations_mb']:.0f} MB  "
                     f"actions {memory['actions']['at_rest_mb']:.0f} MB -> {memory['actions']['after_conversations_mb']:.0f} MB  "
                     "(at rest -> after conversations)")
    for section, error in (results.get("errors") or {}).items():
        lines.append(f"{section + ' FAILED':<25}{error}")
    lines.append(f"{'benchmark took':<25}{results['duration_s']:.0f} s")
    return "\n".join(lines)


def per_label_table(results: dict[str, Any]) -> str:
    """Per-intent and per-entity F1, printed above the summary for a closer look."""
    nlu = results.get("nlu") or {}
    lines: list[str] = []
    per_intent = (nlu.get("intent") or {}).get("per_intent_f1") or {}
    if per_intent:
        lines.append("per-intent F1: " + "  ".join(f"{k} {v:.2f}" for k, v in per_intent.items()))
    per_entity = (nlu.get("entities") or {}).get("per_entity") or {}
    if per_entity:
        lines.append("per-entity F1: " + "  ".join(f"{k} {v['f1']:.2f} (n={v['support']})" for k, v in per_entity.items()))
    return "\n".join(lines)


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
