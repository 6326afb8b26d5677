"""Real referral records, built by actions/referral.py from conversations' slots (Rasa environment).

    .venv/rasa/bin/python -m tests.contract.records     # prints {case: record} as JSON

The contract test of each side uses these: tests/unit/test_referral_contract.py
checks them with contract.validate in the Rasa environment, and
tests/api/test_referral_contract.py runs this module with the Rasa interpreter
and feeds its output to the API's own intake code, so a field changed on one
side alone fails there. Cases: every referable outcome, a caregiver, the
longest answers a patient can give, every question answered "not sure".
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rasa_sdk import Tracker

from actions.referral import referral_id_for, referral_record
from actions.trial import get_trial
from contract.names import CAREGIVER, DECISION_MAKER, PATIENT_AGREES, SELF

CONSENTED = {
    "consent_contact": "yes",
    "contact_confirmed": "yes",
    "consent_time": "2026-11-27T10:00:00+00:00",
    "contact_name": "Sam Contract",
    "contact_phone": "403-555-0199",
    "contact_email": None,
    "contact_time": "morning",
    "contact_language": "English",
}
# What a helper adds after their consent (I1): their standing and who the patient is.
HELPED = {"respondent": CAREGIVER, "helper_agreement": PATIENT_AGREES, "patient_name": "Pat Contract",
          "helper_relationship": "spouse or partner"}
LIKELY_FIT = {
    "respondent": SELF, "red_flags": "no", "age": 60, "spine_mets_confirmed": "yes",
    "spine_region": ["thoracic"], "pain_score": 7, "pain_warning_signs": "no", "cord_compression_told": "no",
    "primary_cancer": "breast", "pregnancy": "not_applicable", "prior_spine_radiation": "no",
    "performance_status": 1, "visceral_metastases": "no", "able_to_attend": "yes",
    "spine_levels": ["T7"],
}
# Every vertebra a patient can name, then some again: 29 levels and repeats, typed in one message.
EVERY_LEVEL = [f"C{n}" for n in range(1, 8)] + [f"T{n}" for n in range(1, 13)] + [f"L{n}" for n in range(1, 6)] + [f"S{n}" for n in range(1, 6)]
TYPED_LEVELS_21 = [*[f"T{n}" for n in range(1, 13)], *[f"L{n}" for n in range(1, 6)], "S1", "S2", "C1", "C2", "T1", "C2", "L5"]
LONG = "Ä" + "x" * 498 + "é"  # 500 characters, not ASCII at the ends


def _tracker(name: str, slots: dict[str, Any]) -> Tracker:
    return Tracker(
        sender_id=f"contract-{name}",
        slots=dict(slots),
        latest_message={"text": "", "intent": {"name": "affirm"}, "entities": []},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def cases() -> dict[str, dict[str, Any]]:
    """Slots of each case, as the forms leave them just before the hand-off."""
    screening = [q.id for q in get_trial().screening_questions]
    not_sure = {qid: "unknown" for qid in screening} | {"respondent": SELF}
    return {
        "likely_eligible_self": {**LIKELY_FIT, **CONSENTED},
        "likely_eligible_caregiver": {**LIKELY_FIT, **CONSENTED, **HELPED, "pregnancy": "no", "breastfeeding": "no"},
        "needs_review_caregiver": {
            **LIKELY_FIT, **CONSENTED, **HELPED, "helper_agreement": DECISION_MAKER, "helper_relationship": "her niece",
            "prior_spine_radiation": [], "pain_score": "unknown",
            "contact_email": "helper@example.org", "contact_phone": None, "warning_signs": ["night_pain"],
        },
        "every_question_not_sure": {**not_sure, **CONSENTED, "spine_levels": []},
        "longest_answers": {
            **LIKELY_FIT, **CONSENTED,
            "spine_region": ["cervical", "thoracic", "lumbar", "sacral"],
            "prior_spine_radiation": ["sacral", "cervical", "lumbar", "thoracic"],
            "spine_levels": TYPED_LEVELS_21 + ["T11-L2", "T11-L2"],
            "warning_signs": ["worsening_pain", "cough_pain", "night_pain", "night_pain"],
            **HELPED, "patient_name": LONG, "helper_relationship": LONG,
            "contact_name": LONG, "contact_time": LONG, "contact_language": LONG,
            "contact_email": "a" * 64 + "@" + "b" * 185 + ".org",
            "contact_phone": "403-555-0199",
        },
        "more_levels_than_fit": {
            **LIKELY_FIT, **CONSENTED,
            "spine_levels": EVERY_LEVEL + ["T1-T2", "T3-T4", "T5-T6", "L1-L2", "C1-C2", *EVERY_LEVEL],
        },
    }


def records() -> dict[str, dict[str, Any]]:
    """One record per case, built exactly as the hand-off builds it."""
    built = {}
    for name, slots in cases().items():
        tracker = _tracker(name, slots)
        built[name] = referral_record(tracker, referral_id_for(tracker))
    return built


if __name__ == "__main__":
    json.dump(records(), sys.stdout, ensure_ascii=False, sort_keys=True)
