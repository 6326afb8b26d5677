"""Per-turn latency over whole conversations against the real servers, and
the servers' memory before and after.

The conversations reuse the personas of tests/e2e/test_conversations.py so the
benchmark exercises the same paths the end-to-end tests check (forms, action
server calls, outcome, contact form). A conversation that ends differently
from what is expected is recorded, not raised: the benchmark reports.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.memory import tree_rss_mb
from bench.metrics import percentile
from tests.chat_client import Chat
from tests.e2e.test_conversations import CONTACT, LIKELY_FIT, Answer, answer, screen
from tests.servers import Servers

# (name, answers that differ from LIKELY_FIT, expected outcome)
VARIANTS: list[tuple[str, dict[str, Answer], str]] = [
    ("likely_fit_with_contact", {}, "likely_eligible"),
    ("minor", {"age": "I'm 16"}, "not_eligible"),
    ("primary_bone_cancer", {"primary_cancer": "osteosarcoma"}, "not_eligible"),
    ("mets_not_confirmed", {"spine_mets_confirmed": "not sure"}, "needs_review"),
    ("red_flag_button", {"red_flags": ("Yes",)}, "urgent_care"),
    ("red_flag_typed_mid_form", {"pain_score": "my legs gave way on the stairs this morning"}, "urgent_care"),
]


def _finish_contact(chat: Chat) -> None:
    """Answer the contact form after a likely-eligible outcome (as the e2e test does)."""
    for _ in range(len(CONTACT) + 2):
        question = chat.asks
        if question not in CONTACT:
            return
        answer(chat, CONTACT[question])


def _converse(servers: Servers) -> tuple[list[float], list[dict[str, Any]]]:
    latencies: list[float] = []
    outcomes: list[dict[str, Any]] = []
    for name, changes, expected in VARIANTS:
        chat = Chat(servers.url)
        error, outcome = None, None
        try:
            screen(chat, {**LIKELY_FIT, **changes, **CONTACT})
            # Read now: the contact form's later replies no longer carry the outcome.
            outcome = chat.outcome
            if outcome == "likely_eligible":
                _finish_contact(chat)
        except Exception as exc:  # recorded; the message holds bot texts, so keep only its type
            error = type(exc).__name__
        latencies += chat.latencies
        outcomes.append({"name": name, "expected": expected, "outcome": outcome,
                         "turns": len(chat.latencies), "error": error,
                         # a question id (never text): where a failed conversation stopped
                         "last_asked": chat.asks})
    return latencies, outcomes


def _split(servers: Servers) -> tuple[Any, Any]:
    """(rasa, actions) Popen objects. Servers.processes is a dict by name in
    newer versions and a list in older ones; in a list the Rasa server is the
    `rasa run` command."""
    processes = servers.processes
    if isinstance(processes, dict):
        return processes["rasa"], processes["actions"]
    rasa = next(p for p in processes if "run" in p.args and "rasa_sdk" not in p.args)
    actions = next(p for p in processes if "rasa_sdk" in p.args)
    return rasa, actions


def run(model: Path, data_dir: Path) -> dict[str, Any]:
    servers = Servers(data_dir)
    try:
        servers.start(str(model))
        rasa, actions = _split(servers)
        # Give lazy start-up work (model warm-up, imports on first request) a moment to settle.
        time.sleep(2)
        at_rest = {"rasa": tree_rss_mb(rasa.pid), "actions": tree_rss_mb(actions.pid)}

        # The very first turn pays one-off costs (TensorFlow graph tracing,
        # DB tables); report it separately so it does not skew p95.
        warmup = Chat(servers.url)
        warmup.say("hi")
        first_turn = warmup.latencies[0]

        latencies, outcomes = _converse(servers)
        after = {"rasa": tree_rss_mb(rasa.pid), "actions": tree_rss_mb(actions.pid)}
    finally:
        servers.stop()

    ms = [s * 1000 for s in latencies]
    latency: dict[str, Any] = {
        "turns": len(ms),
        "conversations": len(outcomes),
        "first_turn_ms": first_turn * 1000,
        "outcomes": outcomes,
        "unexpected_outcomes": sum(o["outcome"] != o["expected"] for o in outcomes),
    }
    if ms:
        latency.update(p50_ms=percentile(ms, 50), p95_ms=percentile(ms, 95), max_ms=max(ms),
                       mean_ms=sum(ms) / len(ms))
    memory = {name: {"at_rest_mb": at_rest[name], "after_conversations_mb": after[name]} for name in at_rest}
    return {"latency": latency, "memory": memory}
