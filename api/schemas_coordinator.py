"""Request and response bodies of the coordinators' side: login, queue, audit, statistics."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from contract.names import (
    AGREEMENT_REASONS,
    AGREEMENTS,
    DETERMINATIONS,
    REFERABLE_OUTCOMES,
    REFERRAL_STATUSES,
)


def _as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


UTCDateTime = Annotated[datetime, AfterValidator(_as_utc)]

# Literal of the contract's tuples: the names are spelt once, in contract/names.py.
# mypy cannot read a Literal built from a tuple at run time, hence valid-type ignores
# (pydantic reads it; the type is Any to mypy).
ReferralStatus = Literal[REFERRAL_STATUSES]  # type: ignore[valid-type]
ReferralOutcome = Literal[REFERABLE_OUTCOMES]  # type: ignore[valid-type]
Determination = Literal[DETERMINATIONS]  # type: ignore[valid-type]
Agreement = Literal[AGREEMENTS]  # type: ignore[valid-type]
AgreementReason = Literal[AGREEMENT_REASONS]  # type: ignore[valid-type]
# A criterion's id as the referral record spells it (contract/referral.schema.json).
QuestionId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
Role = Literal["coordinator", "admin"]
# Why a referral was deleted: a fixed code, so the audit row can keep it without free text.
DeleteReason = Literal["patient_withdrawal", "duplicate", "created_in_error"]


class ErrorOut(BaseModel):
    """Every error body: a sentence, and for invalid requests the names of the fields at fault."""

    detail: str
    fields: list[str] | None = None


# --- auth -----------------------------------------------------------------


class LoginIn(BaseModel):
    email: str = Field(min_length=3, max_length=254)
    # Capped so a huge password cannot make hashing a denial of service.
    password: str = Field(min_length=1, max_length=1024)


class LoginOut(BaseModel):
    csrf_token: str
    role: Role
    email: str


class MeOut(BaseModel):
    id: int
    email: str
    role: Role


class LoggedOut(BaseModel):
    logged_out: bool = True


# --- queue ----------------------------------------------------------------


class ReferralSummary(BaseModel):
    id: str
    received_at: UTCDateTime
    updated_at: UTCDateTime
    status: ReferralStatus
    outcome: str
    trial_version: str
    respondent: str | None = None
    contact_name: str
    contact_phone: str | None = None
    contact_email: str | None = None
    best_time: str | None = None
    patient_name: str | None = Field(
        default=None,
        description="When a helper answered: the patient's own name (contact_name is the helper's).",
    )


class ReferralPage(BaseModel):
    items: list[ReferralSummary]
    total: int
    page: int
    page_size: int


class CriterionOut(BaseModel):
    question_id: str
    question: str | None = Field(
        default=None,
        description="The question as asked; null for referrals received before it was recorded.",
    )
    protocol: list[str] = Field(default_factory=list)
    answer: Any = None
    answer_label: str | None = Field(
        default=None,
        description="The answer in the trial file's words (button title, or the number).",
    )
    status: str
    reason: str | None = None


class ContactOut(BaseModel):
    name: str
    phone: str | None = None
    email: str | None = None
    best_time: str | None = None
    language: str | None = None


class HelperOut(BaseModel):
    """When a helper answered: who the patient is; the contact is then the helper's (I1)."""

    patient_name: str
    relationship: str | None = None
    standing: str | None = Field(
        default=None,
        description="patient_agrees (the patient knows and agrees) or decision_maker (substitute decision-maker).",
    )


class ConsentOut(BaseModel):
    text_version: str
    given_at: UTCDateTime


class StatusChangeOut(BaseModel):
    from_status: str
    to_status: str
    reason: str
    actor_id: int
    actor_email: str | None = None
    at: UTCDateTime


class NoteOut(BaseModel):
    id: int
    author_id: int
    author_email: str | None = None
    created_at: UTCDateTime
    text: str


class ScreeningCriterionOut(BaseModel):
    question_id: str
    agreement: Agreement
    reason: AgreementReason | None = None


class ScreeningOut(BaseModel):
    """The study team's screening result: codes only (contract/names.py)."""

    referral_id: str
    status: ReferralStatus
    allowed_transitions: list[ReferralStatus]
    determination: Determination
    criteria: list[ScreeningCriterionOut]
    recorded_by: int
    recorded_by_email: str | None = None
    recorded_at: UTCDateTime


class ScreeningIn(BaseModel):
    """The screening result; from contacting it also marks the referral screened (with status_reason)."""

    determination: Determination
    agreement: dict[QuestionId, Agreement] = Field(
        default_factory=dict,
        max_length=40,
        description="Per criterion the bot judged: agree, disagree or not_checked (missing: not_checked).",
    )
    # "" is a form's "no reason" choice.
    reason: dict[QuestionId, AgreementReason | Literal[""] | None] = Field(
        default_factory=dict, max_length=40, description="Optional reason code per criterion."
    )
    status_reason: str | None = Field(
        default=None,
        max_length=2000,
        description="Needed when the referral is contacting: the reason of its move to screened.",
    )


class ReferralDetail(BaseModel):
    id: str
    received_at: UTCDateTime
    updated_at: UTCDateTime
    status: ReferralStatus
    allowed_transitions: list[ReferralStatus]
    outcome: str
    trial_id: str
    trial_version: str
    trial_checksum: str | None = None
    respondent: str | None = None
    criteria: list[CriterionOut]
    linden: dict[str, Any]
    spine_levels: list[str]
    warning_signs: list[str] = Field(default_factory=list)
    contact: ContactOut
    helper: HelperOut | None = None
    consent: ConsentOut
    status_history: list[StatusChangeOut]
    notes: list[NoteOut]
    screening_criteria: list[str] = Field(
        default_factory=list,
        description="Ids of the criteria the bot judged (what a screening result covers).",
    )
    screening: ScreeningOut | None = None


class StatusIn(BaseModel):
    status: ReferralStatus
    reason: str = Field(min_length=1, max_length=2000)


class StatusOut(BaseModel):
    referral_id: str
    status: ReferralStatus
    allowed_transitions: list[ReferralStatus]


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class DeleteIn(BaseModel):
    reason: DeleteReason


class DeletedOut(BaseModel):
    referral_id: str
    deleted: bool = True
    tracker_events_deleted: int


# --- audit ----------------------------------------------------------------


class AuditOut(BaseModel):
    id: int
    at: UTCDateTime
    actor_id: int | None = None
    action: str
    referral_id: str | None = None
    detail: str | None = None


class AuditPage(BaseModel):
    items: list[AuditOut]
    total: int
    page: int
    page_size: int


# --- statistics -----------------------------------------------------------


class WeekStats(BaseModel):
    week: str = Field(description="ISO week, e.g. 2025-W07")
    starts_on: date
    conversations_started: int
    conversations_finished: int
    outcomes: dict[str, int]
    referrals_received: int
    enrolled: int


class ReasonCount(BaseModel):
    criterion: str
    count: int


class Share(BaseModel):
    """count of n, and their ratio (null when n is 0)."""

    count: int
    n: int
    value: float | None


class MedianHours(BaseModel):
    n: int = Field(description="Referrals contacted")
    median_hours: float | None


class ValidityFigures(BaseModel):
    screening_results: int = Field(description="Screening results recorded")
    determinations: dict[str, int]
    ppv_likely_eligible: Share = Field(
        description="likely_eligible referrals confirmed eligible, of those determined"
    )
    ppv_needs_review: Share = Field(
        description="needs_review referrals confirmed eligible, of those determined"
    )
    agreement: Share = Field(description="Criteria the records agreed with, of agree + disagree")
    enrolment: Share = Field(description="Referrals enrolled, of referrals received")
    first_contact: MedianHours = Field(description="Time from referral to first contact")


class ValidityWeek(ValidityFigures):
    week: str
    starts_on: date


class CriterionAgreement(BaseModel):
    criterion: str
    agree: int
    disagree: int
    not_checked: int
    agreement: Share


class Disagreements(BaseModel):
    criterion: str
    disagree: int
    n: int


class ValidityOut(BaseModel):
    """By the ISO week each referral was received (its cohort), and over the whole period."""

    weeks: list[ValidityWeek]
    overall: ValidityFigures
    criteria: list[CriterionAgreement]
    most_disagreed: list[Disagreements]


class StatsOut(BaseModel):
    weeks: list[WeekStats]
    top_reasons: dict[str, list[ReasonCount]] = Field(
        description="Most common criterion ids behind not_eligible and needs_review outcomes"
    )
    validity: ValidityOut
