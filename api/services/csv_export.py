"""The referral CSV export, safe to open in a spreadsheet (S5)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.orm import Session

from api.models import Referral
from api.services import audit

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

COLUMNS = (
    "referral_id",
    "received_at",
    "status",
    "outcome",
    "trial_version",
    "respondent",
    "name",
    "phone",
    "email",
    "best_time",
    "language",
    "patient_name",
    "helper_relationship",
    "helper_standing",
    "consent_version",
    "consent_given_at",
    "linden_points_min",
    "linden_points_max",
    "linden_may_be_group_a",
    "spine_levels",
    "criteria_not_passed",
)


def neutralise(value: Any) -> str:
    """The cell as text; one that a spreadsheet would run as a formula gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _row(referral: Referral) -> list[Any]:
    linden = referral.linden or {}
    not_passed = [
        c.get("question_id", "") for c in referral.criteria or [] if c.get("status") != "pass"
    ]
    return [
        referral.id,
        referral.received_at,
        referral.status,
        referral.outcome,
        referral.trial_version,
        referral.respondent,
        referral.contact_name,
        referral.contact_phone,
        referral.contact_email,
        referral.best_time,
        referral.language,
        referral.patient_name,
        referral.helper_relationship,
        referral.helper_standing,
        referral.consent_version,
        referral.consent_given_at,
        linden.get("points_min"),
        linden.get("points_max"),
        linden.get("may_be_group_a"),
        " ".join(referral.spine_levels or []),
        " ".join(str(q) for q in not_passed),
    ]


def render(referrals: Iterable[Referral]) -> str:
    """UTF-8 CSV text with a byte-order mark, so spreadsheets read accented names right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for referral in referrals:
        writer.writerow([neutralise(cell) for cell in _row(referral)])
    return "\ufeff" + buffer.getvalue()


def export(session: Session, referrals: Sequence[Referral], *, actor_id: int) -> str:
    """The CSV of these referrals, audited with the id of every referral in it (S6, finding 7).

    The audit rows join the caller's transaction; the caller commits.
    """
    body = render(referrals)
    audit.record_shown(
        session, action="export", actor_id=actor_id, referral_ids=[r.id for r in referrals]
    )
    return body


def download_headers(now: datetime | None = None) -> dict[str, str]:
    """A download with a dated file name, never kept in a cache."""
    moment = now or datetime.now(timezone.utc)
    return {
        "Content-Disposition": f'attachment; filename="referrals-{moment:%Y%m%d-%H%M}.csv"',
        "Cache-Control": "no-store",
    }
