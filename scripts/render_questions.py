"""Render the trial file's questions into the Rasa domain (bot/domain/questions.yml).

The trial file is the one source of question wording, buttons and order; Rasa
needs the same facts as slots, a form and responses. This script writes them so
the two never drift (tests/unit/test_domain_sync.py fails when they do).

    python scripts/render_questions.py          # write the file
    python scripts/render_questions.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TRIAL_FILE = ROOT / "trial" / "nct04242589.yml"
OUTPUT = ROOT / "bot" / "domain" / "questions.yml"

# Intents that are never an answer: they steer the conversation instead.
CONTROL_INTENTS = ["go_back", "start_over", "red_flag", "faq"]
FORM_OF_STAGE = {"screen": "prescreen_form", "contact": "contact_form"}
# The confirming questions the form may ask in place of the next question
# (bot/domain/checks.yml). Listed so that Rasa accepts their slot mappings;
# the form's validation always names the slot to ask, so Rasa never asks
# them by itself.
CHECK_SLOTS = ["red_flag_check", "answer_check"]

HEADER = """\
# GENERATED from trial/nct04242589.yml by scripts/render_questions.py.
# Do not edit by hand: change the trial file and run the script (the start
# script does it for you).
"""


def payload(value: Any) -> str:
    """Button payload: an intent with the chosen value as the `choice` entity.

    Braces are doubled because Rasa fills {placeholders} in responses,
    button payloads included; it turns {{ back into {.
    """
    return "/choose" + json.dumps({"choice": str(value)}).replace("{", "{{").replace("}", "}}")


def variations(texts: dict[str, str], extra: dict[str, Any]) -> list[dict[str, Any]]:
    """Caregiver wording first (conditional), then the default for the patient."""
    caregiver = {
        "condition": [{"type": "slot", "name": "respondent", "value": "caregiver"}],
        "text": texts["caregiver"],
        **extra,
    }
    return [caregiver, {"text": texts["self"], **extra}]


def render(trial: dict[str, Any]) -> dict[str, Any]:
    slots: dict[str, Any] = {}
    responses: dict[str, Any] = {}
    screening: list[str] = []
    for question in trial["questions"]:
        qid = question["id"]
        form = FORM_OF_STAGE[question.get("stage", "screen")]
        if form == "prescreen_form":
            screening.append(qid)
        slots[qid] = {
            "type": "any",
            "influence_conversation": False,
            "mappings": [
                {
                    "type": "from_text",
                    # In the screening the form itself asks about a possible red flag;
                    # in the contact form a rule does (bot/data/rules/checks.yml).
                    "not_intent": CONTROL_INTENTS + (["red_flag_check"] if form == "contact_form" else []),
                    "conditions": [{"active_loop": form, "requested_slot": qid}],
                }
            ],
        }
        extra: dict[str, Any] = {}
        if question.get("buttons"):
            extra["buttons"] = [
                {"title": button["title"], "payload": payload(button["value"])}
                for button in question["buttons"]
            ]
        extra["custom"] = {"asks": qid}
        responses[f"utter_ask_{qid}"] = variations(question["ask"], extra)
        responses[f"utter_rephrase_{qid}"] = variations(question["rephrase"], {})
    return {
        "version": "3.1",
        # It reads answers from the tracker only: with the action endpoint's
        # enable_selective_domain, Rasa then leaves the 50 KB domain out of
        # each of the form's calls (issue 14; Rasa sends it to a plain
        # `validate_*` entry whatever the endpoint says).
        "actions": [{"validate_prescreen_form": {"send_domain": False}}],
        "forms": {"prescreen_form": {"required_slots": screening + CHECK_SLOTS}},
        "slots": slots,
        "responses": responses,
    }


class NoAliasDumper(yaml.SafeDumper):
    """Write repeated lists out in full: the domain is read by people too."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def rendered_text() -> str:
    trial = yaml.safe_load(TRIAL_FILE.read_text(encoding="utf-8"))
    body = yaml.dump(render(trial), Dumper=NoAliasDumper, sort_keys=False, allow_unicode=True, width=1000)
    return HEADER + body


def main(argv: list[str]) -> int:
    text = rendered_text()
    if "--check" in argv:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run python scripts/render_questions.py")
            return 1
        return 0
    if not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != text:
        OUTPUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
