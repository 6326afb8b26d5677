"""Funnel and validity statistics by ISO week, from data that holds no patient information.

Conversations come from the gateway's chat sessions (times, outcome, criterion
ids); referrals received and enrolments come from the audit log, so a
referral deleted on withdrawal still counts in the weeks it happened.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta, timezone
from statistics import median
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api.models import AuditEvent, ChatSession, Referral, ScreeningResult
from contract.names import (
    AGREE,
    CONTACTING,
    DETERMINATIONS,
    DETERMINED_ELIGIBLE,
    DISAGREE,
    LIKELY_ELIGIBLE,
    NEEDS_REVIEW,
    NEW,
    NOT_CHECKED,
    NOT_ELIGIBLE,
    UNDETERMINED,
)

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


# --- validity: how the pre-screener's outcomes hold up against the team's screening --------

MOST_DISAGREED = 5


def share(count: int, n: int) -> dict[str, Any]:
    """A proportion with its counts; value None when nothing was counted (never a made-up 0)."""
    return {"count": count, "n": n, "value": round(count / n, 4) if n else None}


def median_hours(hours: list[float]) -> dict[str, Any]:
    return {"n": len(hours), "median_hours": round(median(hours), 1) if hours else None}


def _figures(
    results: list[tuple[str, str, list[dict[str, Any]]]],
    received: list[str],
    enrolled: set[str],
    contact_hours: list[float],
) -> dict[str, Any]:
    """The validity figures of one period. `results`: (outcome, determination, criteria rows)."""

    def ppv(outcome: str) -> dict[str, Any]:
        determined = [d for o, d, _ in results if o == outcome and d != UNDETERMINED]
        return share(determined.count(DETERMINED_ELIGIBLE), len(determined))

    agreements = Counter(
        str(row.get("agreement")) for _, _, rows in results for row in rows if isinstance(row, dict)
    )
    return {
        "screening_results": len(results),
        "determinations": {d: sum(1 for _, got, _ in results if got == d) for d in DETERMINATIONS},
        "ppv_likely_eligible": ppv(LIKELY_ELIGIBLE),
        "ppv_needs_review": ppv(NEEDS_REVIEW),
        "agreement": share(agreements[AGREE], agreements[AGREE] + agreements[DISAGREE]),
        "enrolment": share(sum(1 for r in received if r in enrolled), len(received)),
        "first_contact": median_hours(contact_hours),
    }


def validity(session: Session, *, weeks: int, today: date | None = None) -> dict[str, Any]:
    """Validity figures of the referrals received in the last `weeks` ISO weeks, by week and overall.

    Each referral counts in the week it was received (its cohort), whatever week
    the team screened, contacted or enrolled it. PPV and agreement come from the
    screening results the team recorded (api/services/screening.py), so a
    deleted referral leaves them; the referral-to-enrolment rate and the time to
    first contact come from the audit log ("received", and the status changes
    new->contacting and ->enrolled), like the funnel, so it still counts there.
    Counts and codes only: no patient data.
    """
    today = today or datetime.now(timezone.utc).date()
    first_monday = _monday(today) - timedelta(weeks=weeks - 1)
    since = datetime.combine(first_monday, time.min, tzinfo=timezone.utc)
    labels = [week_label(first_monday + timedelta(weeks=i)) for i in range(weeks)]

    def week_of(moment: datetime) -> str:
        return week_label(_utc(moment).date())

    results: dict[str, list[tuple[str, str, list[dict[str, Any]]]]] = defaultdict(list)
    for received, outcome, determination, criteria in session.execute(
        select(
            Referral.received_at,
            Referral.outcome,
            ScreeningResult.determination,
            ScreeningResult.criteria,
        )
        .join(ScreeningResult, ScreeningResult.referral_id == Referral.id)
        .where(Referral.received_at >= since)
    ).all():
        results[week_of(received)].append((outcome, determination, list(criteria or [])))

    # First "received" row per referral (a redelivery is never written twice, but be sure).
    received_at: dict[str, datetime] = {}
    for referral_id, at in session.execute(
        select(AuditEvent.referral_id, AuditEvent.at)
        .where(AuditEvent.action == "received", AuditEvent.at >= since)
        .order_by(AuditEvent.at)
    ).all():
        if referral_id and referral_id not in received_at:
            received_at[referral_id] = _utc(at)
    enrolled: set[str] = set()
    first_contact: dict[str, datetime] = {}
    for referral_id, at, detail in session.execute(
        select(AuditEvent.referral_id, AuditEvent.at, AuditEvent.detail)
        .where(
            AuditEvent.action == "status_change",
            # Every change of a referral received since then is later than that.
            AuditEvent.at >= since,
            or_(AuditEvent.detail == f"{NEW}->{CONTACTING}", AuditEvent.detail.like("%->enrolled")),
        )
        .order_by(AuditEvent.at)
    ).all():
        if referral_id is None or referral_id not in received_at:
            continue
        if detail == f"{NEW}->{CONTACTING}":
            first_contact.setdefault(referral_id, _utc(at))
        else:
            enrolled.add(referral_id)
    cohorts: dict[str, list[str]] = defaultdict(list)
    for referral_id, at in received_at.items():
        cohorts[week_of(at)].append(referral_id)

    def hours(ids: list[str]) -> list[float]:
        return [
            (first_contact[i] - received_at[i]).total_seconds() / 3600
            for i in ids
            if i in first_contact
        ]

    weekly = []
    for i, label in enumerate(labels):
        monday = first_monday + timedelta(weeks=i)
        ids = cohorts.get(label, [])
        weekly.append(
            {
                "week": label,
                "starts_on": monday,
                **_figures(results.get(label, []), ids, enrolled, hours(ids)),
            }
        )
    everything = [r for label in labels for r in results.get(label, [])]
    all_ids = [i for label in labels for i in cohorts.get(label, [])]

    per_criterion: dict[str, Counter[str]] = defaultdict(Counter)
    for _, _, rows in everything:
        for row in rows:
            if isinstance(row, dict) and row.get("question_id"):
                per_criterion[str(row["question_id"])][str(row.get("agreement"))] += 1
    criteria = [
        {
            "criterion": criterion,
            "agree": counts[AGREE],
            "disagree": counts[DISAGREE],
            "not_checked": counts[NOT_CHECKED],
            "agreement": share(counts[AGREE], counts[AGREE] + counts[DISAGREE]),
        }
        for criterion, counts in sorted(per_criterion.items())
    ]
    most = sorted(
        (c for c in criteria if c["disagree"]), key=lambda c: (-c["disagree"], c["criterion"])
    )
    return {
        "weeks": weekly,
        "overall": _figures(everything, all_ids, enrolled, hours(all_ids)),
        "criteria": criteria,
        "most_disagreed": [
            {
                "criterion": c["criterion"],
                "disagree": c["disagree"],
                "n": c["agree"] + c["disagree"],
            }
            for c in most[:MOST_DISAGREED]
        ],
    }


def everything(session: Session, *, weeks: int, today: date | None = None) -> dict[str, Any]:
    """The funnel and the validity figures of one period (the statistics page, its CSV, the API)."""
    return {
        **funnel(session, weeks=weeks, today=today),
        "validity": validity(session, weeks=weeks, today=today),
    }
