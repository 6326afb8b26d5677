"""Request and response bodies (pydantic), separate from the ORM models."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

Outcome = Literal["likely_eligible", "needs_review", "not_eligible", "urgent_care"]


class CriterionRow(BaseModel):
    model_config = ConfigDict(extra="allow")

    question_id: str = Field(max_length=64)
    protocol: list[str] = Field(default_factory=list)
    answer: Any = None
    status: str = Field(max_length=32)
    reason: Optional[str] = Field(default=None, max_length=2000)


class ReferralContact(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    phone: Optional[str] = Field(default=None, max_length=32)
    email: Optional[str] = Field(default=None, max_length=254)
    best_time: Optional[str] = Field(default=None, max_length=200)
    language: Optional[str] = Field(default=None, max_length=100)


class ReferralConsent(BaseModel):
    text_version: str = Field(min_length=1, max_length=32)
    given_at: datetime


class ReferralIn(BaseModel):
    """What the action server's outbox delivers (actions/referral.py builds it)."""

    model_config = ConfigDict(extra="ignore")

    referral_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9-]+$")
    conversation_id: Optional[str] = Field(default=None, max_length=64)
    trial_id: str = Field(max_length=32)
    trial_version: str = Field(max_length=32)
    outcome: Literal["likely_eligible", "needs_review"]
    criteria: list[CriterionRow] = Field(min_length=1, max_length=40)
    linden: dict[str, Any]
    respondent: Optional[Literal["self", "caregiver"]] = None
    spine_levels: list[str] = Field(default_factory=list, max_length=20)
    consent: ReferralConsent
    contact: ReferralContact


class ReferralAccepted(BaseModel):
    referral_id: str
    created: bool
