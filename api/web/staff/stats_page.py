"""The statistics page: the funnel (bar chart, weekly numbers, top reasons) and the validity figures."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse

from api.deps import CurrentCoordinator, SessionDep
from api.services import stats
from api.web.staff.criteria_words import stored_question_texts
from api.web.staff.html_errors import page_router
from api.web.staff.page import signed_in_page, viewer_for
from api.web.staff.responses import HTML, INVALID, SIGNED_IN
from contract.names import LIKELY_ELIGIBLE, NEEDS_REVIEW, NOT_ELIGIBLE, URGENT_CARE
from contract.names import OUTCOMES as ALL_OUTCOMES

WEEK_CHOICES = (4, 12, 26, 52)
# Below this many counted, a share is marked "few" on the page (small numbers are unstable).
SMALL = 10

router = page_router()


OUTCOME_LABELS = {
    LIKELY_ELIGIBLE: "Likely a fit",
    NEEDS_REVIEW: "Team needs to check",
    NOT_ELIGIBLE: "Not a fit",
    URGENT_CARE: "Urgent care",
}


def funnel_bars(data: dict[str, Any]) -> list[dict[str, Any]]:
    """conversations -> finished -> outcomes -> referrals -> enrolled, summed over the weeks."""
    weeks = data["weeks"]
    outcomes: dict[str, int] = {}
    for week in weeks:
        for outcome, count in week["outcomes"].items():
            outcomes[outcome] = outcomes.get(outcome, 0) + count
    bars = [
        ("Conversations started", sum(w["conversations_started"] for w in weeks), "bar"),
        ("Conversations finished", sum(w["conversations_finished"] for w in weeks), "bar"),
    ]
    for outcome in ALL_OUTCOMES + tuple(sorted(set(outcomes) - set(ALL_OUTCOMES))):
        bars.append(
            (
                f"Outcome: {OUTCOME_LABELS.get(outcome, outcome)}",
                outcomes.get(outcome, 0),
                "bar bar-outcome",
            )
        )
    bars.append(("Referrals received", sum(w["referrals_received"] for w in weeks), "bar bar-end"))
    bars.append(("Enrolled", sum(w["enrolled"] for w in weeks), "bar bar-end"))
    return _layout(bars)


CHART = {"width": 760, "label_width": 250, "bar_area": 440, "row": 34, "bar": 22}


def _layout(bars: list[tuple[str, int, str]]) -> list[dict[str, Any]]:
    largest = max([count for _, count, _ in bars] + [1])
    laid = []
    for index, (label, count, css) in enumerate(bars):
        width = round(CHART["bar_area"] * count / largest) if count else 0
        y = index * CHART["row"]
        laid.append(
            {
                "label": label,
                "count": count,
                "css": css,
                "y": y,
                "text_y": y + CHART["bar"] - 6,
                "width": max(width, 2 if count else 0),
                "value_x": CHART["label_width"] + max(width, 0) + 8,
            }
        )
    return laid


@router.get(
    "/stats",
    response_class=HTMLResponse,
    responses={200: {**HTML, "description": "The funnel statistics."}, **SIGNED_IN, **INVALID},
)
def stats_page(
    request: Request,
    session: SessionDep,
    coordinator: CurrentCoordinator,
    weeks: Annotated[str | None, Query(max_length=3)] = None,
) -> HTMLResponse:
    """Statistics: the funnel, the top reasons and the validity figures, by week (no patient data)."""
    viewer = viewer_for(request, session, coordinator)
    chosen = int(weeks) if weeks and weeks.isdigit() and int(weeks) in WEEK_CHOICES else 12
    data = stats.everything(session, weeks=chosen)
    bars = funnel_bars(data)
    questions = stored_question_texts(session)
    reasons = {
        outcome: [
            {
                "criterion": r["criterion"],
                "question": questions.get(r["criterion"], r["criterion"]),
                "count": r["count"],
            }
            for r in data["top_reasons"].get(outcome, [])
        ]
        for outcome in stats.REASON_OUTCOMES
    }
    return signed_in_page(
        "staff/stats.html",
        viewer,
        "stats",
        weeks=chosen,
        week_choices=WEEK_CHOICES,
        data=data,
        bars=bars,
        chart=CHART,
        chart_height=len(bars) * CHART["row"],
        outcome_labels=OUTCOME_LABELS,
        all_outcomes=ALL_OUTCOMES,
        reasons=reasons,
        validity=data["validity"],
        questions=questions,
        csv_url=f"/coordinator/stats.csv?weeks={chosen}",
        small=SMALL,
    )
