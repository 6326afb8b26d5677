"""Bodies of the dead-letter answers: the intake's refusal and the admins' list, view and resolve."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas_coordinator import ErrorOut


class ReferralRefusedOut(ErrorOut):
    """The intake's 413/422: `kept` is true when the refused body was kept as a dead letter."""

    kept: bool = False


class DeadLetterSummary(BaseModel):
    """No patient data: id, when, why, and whether (by whom, when) it was resolved."""

    id: str
    received_at: datetime
    reason: str
    resolved_at: datetime | None = None
    resolved_by: int | None = None
    resolution_note: str | None = None


class DeadLetterPage(BaseModel):
    items: list[DeadLetterSummary]
    total: int
    page: int
    page_size: int


class DeadLetterDetail(DeadLetterSummary):
    """One dead letter with the body as received (None once resolved)."""

    body: str | None = None


class ResolveIn(BaseModel):
    note: str = Field(
        min_length=1, max_length=500, description="What was done, without patient details."
    )
