"""Names that cross the seam between the action server and the API, spelt once.

Only machine names live here; the words a patient or a coordinator reads stay
in the trial file, the domain responses and the page templates.
"""

from __future__ import annotations

# Outcomes of the pre-screen (the criteria engine decides; the chat gateway,
# the statistics and the coordinator pages read them).
LIKELY_ELIGIBLE = "likely_eligible"
NEEDS_REVIEW = "needs_review"
NOT_ELIGIBLE = "not_eligible"
URGENT_CARE = "urgent_care"
OUTCOMES: tuple[str, ...] = (LIKELY_ELIGIBLE, NEEDS_REVIEW, NOT_ELIGIBLE, URGENT_CARE)
# Screening stops at these: asking more cannot change them.
FINAL_OUTCOMES = frozenset({NOT_ELIGIBLE, URGENT_CARE})
# Only these outcomes ask for consent and may become a referral.
REFERABLE_OUTCOMES: tuple[str, ...] = (LIKELY_ELIGIBLE, NEEDS_REVIEW)

# What the engine says about one criterion (a row of the referral's criteria).
PASS = "pass"
FAIL = "fail"
UNKNOWN_STATUS = "unknown"
REVIEW = "needs_review"
URGENT = "urgent"
CRITERION_STATUSES: tuple[str, ...] = (PASS, FAIL, UNKNOWN_STATUS, REVIEW, URGENT)

# Who answered: the patient, or someone helping them (also the trial file's two voices).
SELF = "self"
CAREGIVER = "caregiver"
RESPONDENTS: tuple[str, ...] = (SELF, CAREGIVER)

# The API's referral queue: a referral arrives as NEW; the workflow between
# them is the API's (api/services/queue.py), the names are shared.
NEW = "new"
CONTACTING = "contacting"
SCREENED = "screened"
ENROLLED = "enrolled"
NOT_ENROLLED = "not_enrolled"
WITHDRAWN = "withdrawn"
REFERRAL_STATUSES: tuple[str, ...] = (NEW, CONTACTING, SCREENED, ENROLLED, NOT_ENROLLED, WITHDRAWN)

# question_id of the Linden hint's row among the criteria (derived, not a question).
LINDEN_ID = "linden"

# A helper's standing to refer the person they help (I1 allows a substitute
# decision-maker): the person knows and agrees, or the helper decides for them.
# Only these may become a referral; "not yet" (the trial file's third button) sends nothing.
PATIENT_AGREES = "patient_agrees"
DECISION_MAKER = "decision_maker"
HELPER_STANDINGS: tuple[str, ...] = (PATIENT_AGREES, DECISION_MAKER)

# The study team's screening result for a referral (api/services/screening.py):
# the final determination from the records, and per criterion the bot judged,
# whether the records agreed, with an optional reason code. Codes only, never
# free text, so the statistics and the exports (CSV, FHIR, REDCap) can carry
# them without patient words. Their labels are the coordinator pages' words.
DETERMINED_ELIGIBLE = "eligible"
DETERMINED_NOT_ELIGIBLE = "not_eligible"
UNDETERMINED = "undetermined"
DETERMINATIONS: tuple[str, ...] = (DETERMINED_ELIGIBLE, DETERMINED_NOT_ELIGIBLE, UNDETERMINED)
AGREE = "agree"
DISAGREE = "disagree"
NOT_CHECKED = "not_checked"
AGREEMENTS: tuple[str, ...] = (AGREE, DISAGREE, NOT_CHECKED)
# Why the records and the bot's reading differ (or why it was not checked).
AGREEMENT_REASONS: tuple[str, ...] = (
    "patient_did_not_know",  # the person did not know or remember
    "question_misunderstood",  # the question was understood differently
    "answer_misread",  # the pre-screener understood the answer wrongly
    "changed_since",  # something changed after the chat
    "rule_differs",  # the team applies the protocol item differently from the rule
    "records_unavailable",  # the records needed were not available
    "other",
)
