"""Validation of the pre-screen form: interpret each answer, choose the next question.

The question order, skips and early stop all come from the criteria engine
(`next_question`), so the form asks exactly what the trial file says.

Two confirming questions can stand in for the next question (issue 10):
`red_flag_check` when something may be an emergency but is not clearly one,
and `answer_check` when a reading is unsure or a typed answer would exclude.
Each costs one tap; neither records anything the patient did not confirm.
"""

from __future__ import annotations

from typing import Any, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answers import UNKNOWN
from actions.criteria import is_applicable, next_question
from actions.red_flag_check import check_answer
from actions.safe_action import SafeAction
from actions.trial import answers_from, get_trial, parsed_message, screening_ids
from actions.understanding import CONFIRM, URGENT, read_back, understand

REQUESTED_SLOT = "requested_slot"
RED_FLAG_CHECK = "red_flag_check"
ANSWER_CHECK = "answer_check"
CHECKS = (RED_FLAG_CHECK, ANSWER_CHECK)
# A question is asked, asked again in other words, then offered as buttons with
# "Not sure". An answer still not understood after that is recorded as "not
# sure" (the study team checks it) rather than asked a fourth time: a patient
# who cannot or will not tap is never stuck (issue 10).
NOTED_UNSURE_AFTER = 3


def unclear_events(dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, rephrase: str) -> list[dict[str, Any]]:
    """Rephrase once, then offer a way out; the form then asks again."""
    count = int(tracker.get_slot("unclear_count") or 0) + 1
    dispatcher.utter_message(response="utter_unclear")
    dispatcher.utter_message(response=rephrase if count == 1 else "utter_way_out")
    return [SlotSet(slot, None), SlotSet("unclear_count", count)]


PAIN_WARNING_SIGNS = "pain_warning_signs"


def _warning_signs_told(tracker: Tracker, events: list[dict[str, Any]]) -> bool:
    """Same-day warning signs already told in the person's own words (this turn included)."""
    told = any(e.get("event") == "slot" and e.get("name") == "warning_signs" and e.get("value") for e in events)
    return told or bool(tracker.get_slot("warning_signs"))


def warning_sign_events(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """Same-day warning signs (worse and worse pain, pain on coughing, pain at
    night): advise calling the care team today, once, and go on screening."""
    signs = sorted(set(parsed_message(tracker).values("warning_sign")))
    if not signs:
        return []
    known = list(tracker.get_slot("warning_signs") or [])
    if not known:
        dispatcher.utter_message(response="utter_warning_sign_advice")
    return [SlotSet("warning_signs", sorted(set(known) | set(signs)))]


class ValidatePrescreenForm(SafeAction):
    def name(self) -> str:
        return "validate_prescreen_form"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        trial = get_trial()
        requested = tracker.get_slot(REQUESTED_SLOT)
        # The form has put the raw text of this turn into the requested slot.
        pending = tuple(tracker.slots_to_validate())
        # When the form (re)activates, e.g. on "go back" after an outcome, Rasa
        # also hands every answer already given to the validator ("prefilled"):
        # those are answers (in answer_order), not new text, so they stay in,
        # else the form would start again from the first question.
        given = set(tracker.get_slot("answer_order") or [])
        fresh = tuple(slot for slot in pending if slot not in given or slot == requested)
        answers = answers_from(tracker, leave_out=fresh)
        events: list[dict[str, Any]] = []
        ask: Optional[str] = None
        if pending:
            events += warning_sign_events(dispatcher, tracker)
        if requested in pending and requested in CHECKS:
            more, ask = self._resolve_check(dispatcher, tracker, requested, answers)
            events += more
        elif requested in pending and requested in screening_ids():
            more, ask = self._answer(dispatcher, tracker, requested, answers)
            events += more
        following = ask or next_question(trial, answers)
        if following == PAIN_WARNING_SIGNS and _warning_signs_told(tracker, events):
            # Told already in their own words, and advised then: not asked. Kept out
            # of answer_order, so "go back" returns to what the person answered.
            answers[following] = "yes"
            events.append(SlotSet(following, "yes"))
            following = next_question(trial, answers)
        events.append(SlotSet(REQUESTED_SLOT, following))
        return events

    def _answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, qid: str,
                answers: dict[str, Any]) -> tuple[list[dict[str, Any]], Optional[str]]:
        question = get_trial().question(qid)
        message = parsed_message(tracker)
        reading = understand(question, message, tracker.get_slot("respondent"), answers, get_trial())
        if reading.red_flag == URGENT:
            answers["red_flags"] = "yes"
            return [SlotSet(qid, None), SlotSet("red_flags", "yes")], None
        if reading.red_flag == CONFIRM:
            # The answer in the same message is kept for after the check.
            kept = reading.value if reading.sure else None
            check = {"kind": RED_FLAG_CHECK, "question": qid, "value": kept, "also": dict(reading.also)}
            return [SlotSet(qid, None), SlotSet("check_pending", check)], RED_FLAG_CHECK
        if reading.value is None:
            return self._not_understood(dispatcher, tracker, qid, answers), None
        if not reading.sure:
            # Recall first: an unsure reading, or an exclusion resting on typed words, is read back once.
            label, wording = read_back(question, reading.value)
            check = {"kind": ANSWER_CHECK, "question": qid, "value": reading.value, "also": dict(reading.also)}
            topic = question.topic.text(tracker.get_slot("respondent"))
            return [SlotSet(qid, None), SlotSet("check_pending", check), SlotSet("check_label", label),
                    SlotSet("check_wording", wording), SlotSet("check_topic", topic)], ANSWER_CHECK
        if qid == "red_flags" and reading.value == UNKNOWN:
            # "Not sure" about an emergency sign gets the advice now, not at the end (issue 13).
            dispatcher.utter_message(response="utter_red_flag_check_unsure")
        if qid == PAIN_WARNING_SIGNS and reading.value == "yes" and not tracker.get_slot("warning_signs") \
                and not parsed_message(tracker).values("warning_sign"):
            # A same-day sign: the advice now (once; warning_sign_events gives it for words it knows).
            dispatcher.utter_message(response="utter_warning_sign_advice")
        return self._record(tracker, qid, reading.value, reading.also, answers), None

    def _record(self, tracker: Tracker, qid: str, value: Any, also: dict[str, Any],
                answers: dict[str, Any]) -> list[dict[str, Any]]:
        """The answer, plus facts the same message gave for questions not answered yet."""
        trial = get_trial()
        answers[qid] = value
        order = [q for q in (tracker.get_slot("answer_order") or []) if q != qid] + [qid]
        events = [SlotSet(qid, value), SlotSet("unclear_count", 0)]
        levels = trial.question(qid).levels
        if levels:
            # "T7", "T11-L2" told with the regions (spine_levels, prior_radiation_levels).
            events.append(SlotSet(levels, parsed_message(tracker).values("spine_level")))
        for other, fact in (also or {}).items():
            question = trial.question(other)
            if other in answers or not question.accepts(fact) or not is_applicable(question, answers):
                continue
            answers[other] = fact
            order = [q for q in order if q != other] + [other]
            events.append(SlotSet(other, fact))
        return events + [SlotSet("answer_order", order)]

    def _resolve_check(self, dispatcher: CollectingDispatcher, tracker: Tracker, check: str,
                       answers: dict[str, Any]) -> tuple[list[dict[str, Any]], Optional[str]]:
        pending = tracker.get_slot("check_pending") or {}
        qid, value = pending.get("question"), pending.get("value")
        message = parsed_message(tracker)
        said = check_answer(message, tracker.get_slot("respondent"))
        events: list[dict[str, Any]] = [SlotSet(check, None), SlotSet("check_pending", None)]
        if check == RED_FLAG_CHECK:
            if said == "yes":
                answers["red_flags"] = "yes"
                return events + [SlotSet("red_flags", "yes")], None
            dispatcher.utter_message(response="utter_red_flag_check_no" if said == "no" else "utter_red_flag_check_unsure")
            if qid == "red_flags" and value is None:
                # The safety question answered with something old or explained:
                # confirmed not new, that is its answer; else "not sure" (the
                # advice was just given). Asking it again would be a loop.
                value = "no" if said == "no" else UNKNOWN
            if qid and value is not None and qid not in answers:
                events += self._record(tracker, qid, value, pending.get("also") or {}, answers)
            return events, None
        if said == "yes" and qid:
            return events + self._record(tracker, qid, value, pending.get("also") or {}, answers), None
        if qid:
            # A new answer instead of "no" ("no, I'm 71") is read as the answer.
            reading = understand(get_trial().question(qid), message, tracker.get_slot("respondent"), answers, get_trial())
            if said is None and reading.sure and reading.value is not None and reading.red_flag is None:
                return events + self._record(tracker, qid, reading.value, reading.also, answers), None
            if reading.red_flag == URGENT:
                answers["red_flags"] = "yes"
                return events + [SlotSet("red_flags", "yes")], None
        if not qid:
            return events, None
        dispatcher.utter_message(response="utter_answer_check_no")
        return events + self._not_understood(dispatcher, tracker, qid, answers, said_no=True), None

    def _not_understood(self, dispatcher: CollectingDispatcher, tracker: Tracker, qid: str,
                        answers: dict[str, Any], said_no: bool = False) -> list[dict[str, Any]]:
        """Ask again (rephrased, then with a way out), or after the third miss
        record "not sure" so the conversation goes on."""
        count = int(tracker.get_slot("unclear_count") or 0) + 1
        if count >= NOTED_UNSURE_AFTER and get_trial().question(qid).accepts(UNKNOWN):
            dispatcher.utter_message(response="utter_noted_unsure")
            if qid == "red_flags":
                dispatcher.utter_message(response="utter_red_flag_check_unsure")
            return self._record(tracker, qid, UNKNOWN, {}, answers)
        if said_no:
            if count >= 2:
                dispatcher.utter_message(response="utter_way_out")
            return [SlotSet("unclear_count", count)]
        return unclear_events(dispatcher, tracker, qid, f"utter_rephrase_{qid}")

    def events_on_failure(self, tracker: Tracker) -> list[dict[str, Any]]:
        # Ask the same question again rather than lose the conversation.
        requested = tracker.get_slot(REQUESTED_SLOT)
        if requested in CHECKS:
            pending = tracker.get_slot("check_pending") or {}
            requested = pending.get("question") or requested
            return [SlotSet("check_pending", None), SlotSet(requested, None), SlotSet(REQUESTED_SLOT, requested)]
        return [SlotSet(requested, None), SlotSet(REQUESTED_SLOT, requested)] if requested else []
