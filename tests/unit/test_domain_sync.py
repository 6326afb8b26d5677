"""The Rasa domain says what the trial file says, and keeps the chat contract."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from actions.criteria import load_trial

ROOT = Path(__file__).resolve().parents[2]
BRIEF_QUESTION_IDS = {
    "respondent", "age", "spine_mets_confirmed", "spine_region", "pain_score", "red_flags",
    "cord_compression_told", "prior_spine_radiation", "primary_cancer", "visceral_metastases",
    "performance_status", "pregnancy", "breastfeeding", "able_to_attend", "consent_contact",
}
# Beyond the brief's table, asked because its red-flag section calls for them (issue 13):
# the within-24-hours signs in the pain.
ADDED_QUESTION_IDS = {"pain_warning_signs"}


def domain() -> dict:
    merged: dict = {"responses": {}, "slots": {}}
    for path in (ROOT / "bot" / "domain").glob("*.yml"):
        part = yaml.safe_load(path.read_text()) or {}
        merged["responses"].update(part.get("responses") or {})
        merged["slots"].update(part.get("slots") or {})
    return merged


def test_generated_questions_are_up_to_date() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "render_questions.py"), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_trial_file_uses_exactly_the_question_ids_of_the_brief() -> None:
    assert set(load_trial().question_ids) == BRIEF_QUESTION_IDS | ADDED_QUESTION_IDS


def test_every_asking_message_carries_its_question_id() -> None:
    responses = domain()["responses"]
    asking = {name: variations for name, variations in responses.items() if name.startswith("utter_ask_")}
    assert len(asking) >= len(BRIEF_QUESTION_IDS)
    for name, variations in asking.items():
        for variation in variations:
            assert variation["custom"]["asks"] == name.removeprefix("utter_ask_"), name


def test_every_outcome_message_carries_its_outcome() -> None:
    responses = domain()["responses"]
    for outcome in ("likely_eligible", "needs_review", "not_eligible"):
        assert responses[f"utter_outcome_{outcome}"][0]["custom"]["outcome"] == outcome
    assert responses["utter_urgent_care"][0]["custom"]["outcome"] == "urgent_care"


def test_caregivers_are_asked_in_the_third_person() -> None:
    for name, variations in domain()["responses"].items():
        if name.startswith("utter_ask_") and len(variations) == 2 and name != "utter_ask_respondent":
            caregiver, patient = variations
            assert caregiver["condition"][0]["value"] == "caregiver"
            assert caregiver["text"] != patient["text"], name
