"""Request and response bodies (pydantic), separate from the ORM models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contract.names import (
    CRITERION_STATUSES,
    HELPER_STANDINGS,
    OUTCOMES,
    REFERABLE_OUTCOMES,
    RESPONDENTS,
)
from contract.validate import referral_problems

# Literal of the contract's tuples: the names are spelt once, in contract/names.py.
# mypy cannot read a Literal built from a tuple at run time, hence valid-type ignores
# (pydantic reads it; the type is Any to mypy).
Outcome = Literal[OUTCOMES]  # type: ignore[valid-type]
ReferableOutcome = Literal[REFERABLE_OUTCOMES]  # type: ignore[valid-type]
Respondent = Literal[RESPONDENTS]  # type: ignore[valid-type]
CriterionStatus = Literal[CRITERION_STATUSES]  # type: ignore[valid-type]
HelperStanding = Literal[HELPER_STANDINGS]  # type: ignore[valid-type]

# Every body below mirrors contract/referral.schema.json field for field (a test
# compares the two); the raw body is also checked against that schema first.
STRICT = ConfigDict(extra="forbid")


class ContractBroken(ValueError):
    """The raw body breaks contract/referral.schema.json; `problems` are "path: rule" (no values)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"breaks the referral contract: {'; '.join(problems[:10])}")
        self.problems = problems


# The bounded strings inside lists, one alias per kind of item.
AnswerItem = Annotated[str, Field(min_length=1, max_length=32)]
ProtocolItem = Annotated[str, Field(min_length=1, max_length=16)]
LindenGroup = Annotated[str, Field(min_length=1, max_length=8)]
SpineLevel = Annotated[str, Field(min_length=1, max_length=16)]
WarningSign = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z_]+$")]

AnswerValue = (
    None
    | Annotated[int, Field(ge=0, le=120)]
    | Annotated[str, Field(max_length=32)]
    | Annotated[list[AnswerItem], Field(max_length=4)]
)


class CriterionRow(BaseModel):
    model_config = STRICT

    question_id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    question: str = Field(min_length=1, max_length=1000)
    protocol: list[ProtocolItem] = Field(max_length=8)
    answer: AnswerValue
    answer_label: str | None = Field(max_length=500)
    status: CriterionStatus
    reason: str = Field(max_length=2000)


class Linden(BaseModel):
    model_config = STRICT

    points_min: int = Field(ge=0, le=100)
    points_max: int = Field(ge=0, le=100)
    groups: list[LindenGroup] = Field(max_length=8)
    may_be_group_a: bool
    complete: bool


class ReferralContact(BaseModel):
    model_config = STRICT

    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(max_length=32)
    email: str | None = Field(max_length=254)
    best_time: str | None = Field(max_length=200)
    language: str | None = Field(max_length=100)


class ReferralHelper(BaseModel):
    """Who the patient is when a helper answered; the contact is then the helper's."""

    model_config = STRICT

    patient_name: str = Field(min_length=1, max_length=200)
    relationship: str = Field(min_length=1, max_length=100)
    standing: HelperStanding


class ReferralConsent(BaseModel):
    model_config = STRICT

    text_version: str = Field(min_length=1, max_length=32)
    given_at: datetime


class ReferralIn(BaseModel):
    """What the action server's outbox delivers (actions/referral.py builds it; contract/ defines it)."""

    model_config = STRICT

    referral_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9-]+$")
    conversation_id: str = Field(min_length=1, max_length=64)
    trial_id: str = Field(min_length=1, max_length=32)
    trial_version: str = Field(min_length=1, max_length=32)
    trial_checksum: str = Field(min_length=64, max_length=64, pattern=r"^[0-9a-f]{64}$")
    outcome: ReferableOutcome
    criteria: list[CriterionRow] = Field(min_length=1, max_length=40)
    linden: Linden
    respondent: Respondent | None
    spine_levels: list[SpineLevel] = Field(max_length=32)
    warning_signs: list[WarningSign] = Field(max_length=8)
    consent: ReferralConsent
    contact: ReferralContact
    # Optional in the contract: records written before trial file 1.3.0 have none.
    helper: ReferralHelper | None = None

    @model_validator(mode="before")
    @classmethod
    def keeps_the_contract(cls, raw: Any) -> Any:
        # The same schema and validator as the action server, on the raw body:
        # pydantic alone would turn "7" into 7 or a number into a time.
        found = referral_problems(raw)
        if found:
            raise ContractBroken([str(p) for p in found])
        return raw


class ReferralAccepted(BaseModel):
    referral_id: str
    created: bool
