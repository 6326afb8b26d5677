"""The hand-off: a consented referral goes to the outbox, nothing else is kept."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from typing import Any, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.contact_form import CONTACT_QUESTIONS, DETAIL_SLOTS, may_refer
from actions.criteria import Evaluation, Trial, evaluate
from actions.criteria.values import to_json
from actions.outbox import Outbox
from actions.safe_action import SafeAction
from actions.trial import answers_from, get_trial
from contract.bounds import bound_record
from contract.names import CAREGIVER, LINDEN_ID
from contract.validate import describe, referral_problems

logger = logging.getLogger(__name__)


# TEST HOOK, off by default: when this variable holds a number of seconds, the
# hand-off pauses that long right after writing the outbox and before
# answering, so that tests/reliability/test_chaos.py can kill -9 the action
# server in between. Never set it outside that test.
FAULT_SLEEP_AFTER_OUTBOX_ENV = "PRESCREENER_FAULT_SLEEP_AFTER_OUTBOX_S"

# Fixed namespace for referral ids (uuid5), so an id can be derived again.
REFERRAL_NAMESPACE = uuid.UUID("6f1c0a52-3b1e-4a8e-9d59-0c9c1f3e2b71")


def referral_id_for(tracker: Tracker) -> str:
    """The same id however often the hand-off runs for one consent.

    If the action server dies after writing the outbox but before Rasa saved
    the `referral_id` slot, the retried hand-off derives the same id from the
    conversation and the consent time, so the outbox and the API store the
    referral once. A new consent (after "start over") gives a new id.
    """
    return str(uuid.uuid5(REFERRAL_NAMESPACE, f"{tracker.sender_id}:{tracker.get_slot('consent_time')}"))


# The Linden row is derived from three answers, not asked: it is named for the coordinator here.
LINDEN_QUESTION = "Linden prognostic hint (from the answers above)"


class InvalidReferral(Exception):
    """A record that breaks the referral contract: a bug, never the patient's doing."""


def criteria_rows(trial: Trial, evaluation: Evaluation, respondent: Optional[str]) -> list[dict[str, Any]]:
    """Each criterion as it was judged, self-describing: the question as asked, the answer and its label.

    The coordinator reads these words later, whatever trial file is then in
    force, so they are copied from the trial file that judged this referral.
    """
    rows = []
    for result in evaluation.criteria:
        question = trial.question(result.question_id)
        rows.append(
            {
                "question_id": result.question_id,
                "question": question.ask.text(respondent),
                "protocol": list(result.protocol),
                "answer": to_json(result.answer),
                "answer_label": question.answer_label(result.answer),
                "status": result.status,
                "reason": result.reason_coordinator,
            }
        )
    hint = evaluation.linden
    groups = ", ".join(hint.groups) or "none"
    rows.append(
        {
            "question_id": LINDEN_ID,
            "question": LINDEN_QUESTION,
            "protocol": list(evaluation.linden_protocol),
            "answer": None,  # the hint itself is the record's "linden"
            "answer_label": f"{hint.points_min}-{hint.points_max} points; possible group(s): {groups}",
            "status": hint.status,
            "reason": hint.reason_coordinator,
        }
    )
    return rows


def helper_of(tracker: Tracker) -> Optional[dict[str, Any]]:
    """Who the patient is when a helper answered, apart from the helper's own contact (I1)."""
    if tracker.get_slot("respondent") != CAREGIVER:
        return None
    return {
        "patient_name": tracker.get_slot("patient_name"),
        "relationship": tracker.get_slot("helper_relationship"),
        "standing": tracker.get_slot("helper_agreement"),
    }


def referral_record(tracker: Tracker, referral_id: str) -> dict[str, Any]:
    """Everything the study team needs, and nothing more; patient-given values bounded to the contract."""
    trial = get_trial()
    evaluation = evaluate(trial, answers_from(tracker))
    respondent = tracker.get_slot("respondent")
    return bound_record(
        {
            "referral_id": referral_id,
            "conversation_id": tracker.sender_id,
            "trial_id": trial.trial_id,
            "trial_version": trial.version,
            "trial_checksum": trial.checksum,
            "outcome": evaluation.outcome,
            "criteria": criteria_rows(trial, evaluation, respondent),
            "linden": evaluation.linden.as_dict(),
            "respondent": respondent,
            "spine_levels": tracker.get_slot("spine_levels") or [],
            "warning_signs": tracker.get_slot("warning_signs") or [],
            # The consent question is part of the trial file, so its version is the text's version.
            "consent": {"text_version": trial.version, "given_at": tracker.get_slot("consent_time")},
            "contact": {
                "name": tracker.get_slot("contact_name"),
                "phone": tracker.get_slot("contact_phone"),
                "email": tracker.get_slot("contact_email"),
                "best_time": tracker.get_slot("contact_time"),
                "language": tracker.get_slot("contact_language"),
            },
            "helper": helper_of(tracker),
        }
    )


def checked(record: dict[str, Any]) -> dict[str, Any]:
    """The record, if it keeps the contract; else InvalidReferral (logged with ids and JSON paths only)."""
    found = referral_problems(record)
    if found:
        logger.error("referral %s breaks the contract, not written: %s", record.get("referral_id"), describe(found))
        raise InvalidReferral(record.get("referral_id"))
    return record


async def fault_pause_after_outbox() -> None:
    """The test hook above: no-op unless PRESCREENER_FAULT_SLEEP_AFTER_OUTBOX_S is set."""
    seconds = os.environ.get(FAULT_SLEEP_AFTER_OUTBOX_ENV)
    if seconds:
        await asyncio.sleep(float(seconds))


class ActionSubmitReferral(SafeAction):
    def name(self) -> str:
        return "action_submit_referral"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        slots = {slot: tracker.get_slot(slot) for slot in CONTACT_QUESTIONS}
        if not may_refer(slots, tracker.get_slot("respondent")):
            dispatcher.utter_message(response="utter_no_consent")
            return [SlotSet("referral_sent", False), *[SlotSet(slot, None) for slot in DETAIL_SLOTS]]
        referral_id = tracker.get_slot("referral_id") or referral_id_for(tracker)
        # Only a record the API will accept is written, and only then is the patient told "sent".
        # If it breaks the contract, SafeAction answers with the technical-problem message and
        # events_on_failure keeps the consent and details, so nothing is dropped in silence.
        Outbox().put(referral_id, checked(referral_record(tracker, referral_id)))
        await fault_pause_after_outbox()
        dispatcher.utter_message(response="utter_referral_sent")
        dispatcher.utter_message(response="utter_next_steps")
        return [SlotSet("referral_id", referral_id), SlotSet("referral_sent", True)]

    def events_on_failure(self, tracker: Tracker) -> list[dict[str, Any]]:
        return [SlotSet("referral_sent", False)]
