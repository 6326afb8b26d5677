"""The statistics as CSV: the funnel and the validity figures, one figure a row, counts beside each.

Long format (period, measure, criterion, count, n, value), so a spreadsheet or
a script reads every figure the same way: `count` of `n` gives `value` (a
share, or the median hours for first contact). Counts and codes only, never
patient data; cells go through the referral export's formula guard (S5).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import Any

from api.services.csv_export import neutralise

COLUMNS = ("period", "measure", "criterion", "count", "n", "value")
OVERALL = "overall"
# The validity figures that are shares, by the name of their row.
SHARES = (
    ("ppv_likely_eligible", "ppv_likely_eligible"),
    ("ppv_needs_review", "ppv_needs_review"),
    ("agreement", "agreement_all_criteria"),
    ("enrolment", "referral_to_enrolment"),
)


def _validity_rows(period: str, figures: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = [
        [period, "screening_results", "", figures["screening_results"], "", ""]
    ]
    for determination, count in figures["determinations"].items():
        rows.append([period, f"determination_{determination}", "", count, "", ""])
    for key, measure in SHARES:
        part = figures[key]
        rows.append([period, measure, "", part["count"], part["n"], part["value"]])
    contact = figures["first_contact"]
    rows.append(
        [period, "first_contact_median_hours", "", "", contact["n"], contact["median_hours"]]
    )
    return rows


def rows(data: dict[str, Any]) -> list[list[Any]]:
    """Every figure of stats.everything() as a row."""
    out: list[list[Any]] = []
    for week in data["weeks"]:
        period = week["week"]
        for measure in ("conversations_started", "conversations_finished"):
            out.append([period, measure, "", week[measure], "", ""])
        for outcome, count in sorted(week["outcomes"].items()):
            out.append([period, f"outcome_{outcome}", "", count, "", ""])
        out.append([period, "referrals_received", "", week["referrals_received"], "", ""])
        out.append([period, "enrolled", "", week["enrolled"], "", ""])
    for outcome, reasons in data["top_reasons"].items():
        for reason in reasons:
            out.append(
                [OVERALL, f"top_reason_{outcome}", reason["criterion"], reason["count"], "", ""]
            )
    validity = data["validity"]
    for week in validity["weeks"]:
        out.extend(_validity_rows(week["week"], week))
    out.extend(_validity_rows(OVERALL, validity["overall"]))
    for criterion in validity["criteria"]:
        name = criterion["criterion"]
        part = criterion["agreement"]
        out.append([OVERALL, "criterion_agreement", name, part["count"], part["n"], part["value"]])
        out.append([OVERALL, "criterion_disagree", name, criterion["disagree"], "", ""])
        out.append([OVERALL, "criterion_not_checked", name, criterion["not_checked"], "", ""])
    for rank, most in enumerate(validity["most_disagreed"], start=1):
        out.append(
            [OVERALL, f"most_disagreed_{rank}", most["criterion"], most["disagree"], most["n"], ""]
        )
    return out


def render(data: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows(data):
        writer.writerow([neutralise(cell) for cell in row])
    return "\ufeff" + buffer.getvalue()


def download_headers(weeks: int, now: datetime | None = None) -> dict[str, str]:
    moment = now or datetime.now(timezone.utc)
    return {
        "Content-Disposition": f'attachment; filename="statistics-{weeks}w-{moment:%Y%m%d-%H%M}.csv"',
        "Cache-Control": "no-store",
    }
