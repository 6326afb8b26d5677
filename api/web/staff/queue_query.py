"""The queue page's filters (lenient: an empty or wrong filter is ignored).

Status, outcome, received dates and the page number are in the address; they
are not patient data. The search text never is (finding 7): the search form
posts it (QueueSearchIn), the server keeps it (searches.py) and the address
carries only the search's handle (`search`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from api.services import queue
from api.web.staff.page import page_number
from contract.names import REFERABLE_OUTCOMES

OUTCOMES = REFERABLE_OUTCOMES


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
    # The handle of a search kept on the server (searches.py), never the text itself.
    search: str | None
    page: int
    # The search text behind `search`, once looked up; never put in an address.
    q: str | None = None

    def filters(self) -> queue.QueueFilters:
        return queue.QueueFilters(
            status=self.status,
            outcome=self.outcome,
            received_from=self.received_from,
            received_to=self.received_to,
            q=self.q,
        )

    def with_text(self, text: str | None) -> QueueQuery:
        """This query with its search text (None: the handle is not known, so no search)."""
        return replace(self, q=text, search=self.search if text else None)

    def params(self, **changes: Any) -> dict[str, str]:
        values = {
            "status": self.status,
            "outcome": self.outcome,
            "received_from": self.received_from.isoformat() if self.received_from else None,
            "received_to": self.received_to.isoformat() if self.received_to else None,
            "search": self.search,
        }
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v not in (None, "")}

    def url(self, path: str, **changes: Any) -> str:
        params = self.params(**changes)
        return f"{path}?{urlencode(params)}" if params else path


def _lenient(
    status: str | None,
    outcome: str | None,
    received_from: str | None,
    received_to: str | None,
    search: str | None,
    page: str | None,
) -> QueueQuery:
    return QueueQuery(
        status=status if status in queue.STATUSES else None,
        outcome=outcome if outcome in OUTCOMES else None,
        received_from=_day(received_from),
        received_to=_day(received_to),
        search=(search or "").strip() or None,
        page=page_number(page),
    )


def queue_query(
    status_: Annotated[str | None, Query(alias="status", max_length=32)] = None,
    outcome: Annotated[str | None, Query(max_length=32)] = None,
    received_from: Annotated[str | None, Query(max_length=10)] = None,
    received_to: Annotated[str | None, Query(max_length=10)] = None,
    search: Annotated[
        str | None, Query(max_length=64, description="The handle of a search the form posted")
    ] = None,
    page: Annotated[str | None, Query(max_length=6)] = None,
) -> QueueQuery:
    """The queue page's filters from its address."""
    return _lenient(status_, outcome, received_from, received_to, search, page)


class QueueSearchIn(BaseModel):
    """The queue's filter form as static/staff.js posts it (every field as typed, empty ones too)."""

    model_config = ConfigDict(extra="ignore")

    q: str | None = Field(
        default=None, max_length=200, description="Part of a name, email or phone"
    )
    status: str | None = Field(default=None, max_length=32)
    outcome: str | None = Field(default=None, max_length=32)
    received_from: str | None = Field(default=None, max_length=10)
    received_to: str | None = Field(default=None, max_length=10)

    def query(self) -> QueueQuery:
        """The filters (page 1), without a search handle yet."""
        return _lenient(self.status, self.outcome, self.received_from, self.received_to, None, None)

    def text(self) -> str | None:
        return (self.q or "").strip() or None


class QueueSearchOut(BaseModel):
    """Where the browser goes next: the queue with these filters (the text only as a handle)."""

    next: str
