"""Funnel statistics by ISO week, from data that holds no patient information.

Conversations come from the gateway's chat sessions (times, outcome, criterion
ids); referrals received and enrolments come from the audit log, so a
referral deleted on withdrawal still counts in the weeks it happened.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api.models import AuditEvent, ChatSession
from contract.names import NEEDS_REVIEW, NOT_ELIGIBLE

REASON_OUTCOMES = (NOT_ELIGIBLE, NEEDS_REVIEW)
TOP_REASONS = 10


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _monday(day: date) -> date:
    return day - timedelta(days=day.isoweekday() - 1)


def week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def funnel(session: Session, *, weeks: int, today: date | None = None) -> dict[str, Any]:
    """The last `weeks` ISO weeks (oldest first, empty weeks included) and the most common reasons."""
    today = today or datetime.now(timezone.utc).date()
    first_monday = _monday(today) - timedelta(weeks=weeks - 1)
    since = datetime.combine(first_monday, time.min, tzinfo=timezone.utc)
    mondays = [first_monday + timedelta(weeks=i) for i in range(weeks)]
    rows: dict[str, dict[str, Any]] = {
        week_label(m): {
            "week": week_label(m),
            "starts_on": m,
            "conversations_started": 0,
            "conversations_finished": 0,
            "outcomes": defaultdict(int),
            "referrals_received": 0,
            "enrolled": 0,
        }
        for m in mondays
    }

    def bucket(moment: datetime | None) -> dict[str, Any] | None:
        if moment is None:
            return None
        return rows.get(week_label(_utc(moment).date()))

    reasons: dict[str, Counter[str]] = {outcome: Counter() for outcome in REASON_OUTCOMES}
    chats = session.execute(
        select(
            ChatSession.created_at,
            ChatSession.finished_at,
            ChatSession.outcome,
            ChatSession.outcome_reasons,
        ).where(or_(ChatSession.created_at >= since, ChatSession.finished_at >= since))
    ).all()
    for created_at, finished_at, outcome, outcome_reasons in chats:
        if (row := bucket(created_at)) is not None:
            row["conversations_started"] += 1
        if (row := bucket(finished_at)) is not None:
            row["conversations_finished"] += 1
        if outcome and (row := bucket(finished_at or created_at)) is not None:
            row["outcomes"][outcome] += 1
            if outcome in reasons:
                reasons[outcome].update(str(r) for r in outcome_reasons or [])

    events = session.execute(
        select(AuditEvent.at, AuditEvent.action, AuditEvent.detail).where(
            AuditEvent.at >= since,
            or_(
                AuditEvent.action == "received",
                (AuditEvent.action == "status_change") & AuditEvent.detail.like("%->enrolled"),
            ),
        )
    ).all()
    for at, action, _detail in events:
        if (row := bucket(at)) is not None:
            row["referrals_received" if action == "received" else "enrolled"] += 1

    for row in rows.values():
        row["outcomes"] = dict(row["outcomes"])
    return {
        "weeks": list(rows.values()),
        "top_reasons": {
            outcome: [
                {"criterion": criterion, "count": count}
                for criterion, count in sorted(
                    counter.items(), key=lambda item: (-item[1], item[0])
                )[:TOP_REASONS]
            ]
            for outcome, counter in reasons.items()
        },
    }
