"""The queue page's query parameters (lenient: an empty or wrong filter is ignored)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query

from api.services import queue
from api.web.staff.page import page_number
from contract.names import REFERABLE_OUTCOMES

OUTCOMES = REFERABLE_OUTCOMES
ShortText = Annotated[str | None, Query(max_length=200)]


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class QueueQuery:
    status: str | None
    outcome: str | None
    received_from: date | None
    received_to: date | None
    q: str | None
    page: int

    def filters(self) -> queue.QueueFilters:
        return queue.QueueFilters(
            status=self.status,
            outcome=self.outcome,
            received_from=self.received_from,
            received_to=self.received_to,
            q=self.q,
        )

    def params(self, **changes: Any) -> dict[str, str]:
        values = {
            "status": self.status,
            "outcome": self.outcome,
            "received_from": self.received_from.isoformat() if self.received_from else None,
            "received_to": self.received_to.isoformat() if self.received_to else None,
            "q": self.q,
        }
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v not in (None, "")}

    def url(self, path: str, **changes: Any) -> str:
        params = self.params(**changes)
        return f"{path}?{urlencode(params)}" if params else path


def queue_query(
    status_: Annotated[str | None, Query(alias="status", max_length=32)] = None,
    outcome: Annotated[str | None, Query(max_length=32)] = None,
    received_from: Annotated[str | None, Query(max_length=10)] = None,
    received_to: Annotated[str | None, Query(max_length=10)] = None,
    q: ShortText = None,
    page: Annotated[str | None, Query(max_length=6)] = None,
) -> QueueQuery:
    """The queue page's filters, as the filter form sends them (empty fields included)."""
    return QueueQuery(
        status=status_ if status_ in queue.STATUSES else None,
        outcome=outcome if outcome in OUTCOMES else None,
        received_from=_day(received_from),
        received_to=_day(received_to),
        q=(q or "").strip() or None,
        page=page_number(page),
    )
