"""The coordinators' referral queue (JSON): list, detail, status, notes, delete, exports (CSV, FHIR, REDCap), statistics."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response, status
from pydantic import BaseModel, Field

from api.core.openapi import Responses
from api.core.texts import text
from api.deps import CurrentCoordinator, SessionDep, SettingsDep
from api.models import Referral, ScreeningResult
from api.schemas_coordinator import (
    DeletedOut,
    DeleteIn,
    ErrorOut,
    NoteIn,
    NoteOut,
    ReferralDetail,
    ReferralOutcome,
    ReferralPage,
    ReferralStatus,
    ReferralSummary,
    ScreeningIn,
    ScreeningOut,
    StatsOut,
    StatusIn,
    StatusOut,
)
from api.services import (
    audit,
    csv_export,
    fhir_export,
    queue,
    redcap_export,
    screening,
    stats,
    stats_csv,
    tracker,
)

router = APIRouter(prefix="/coordinator", tags=["coordinator"])

ReferralId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]

SIGNED_IN: Responses = {
    401: {"model": ErrorOut, "description": "Not logged in, or the session expired."}
}
CHANGES: Responses = {
    **SIGNED_IN,
    403: {"model": ErrorOut, "description": "Missing or wrong CSRF token."},
    422: {"model": ErrorOut, "description": "Invalid request."},
}
NOT_FOUND: Responses = {
    404: {"model": ErrorOut, "description": "No such referral (or it was deleted)."}
}
INVALID: Responses = {422: {"model": ErrorOut, "description": "Invalid request."}}
ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}


class CSVResponse(Response):
    media_type = "text/csv"
    charset = "utf-8"


class FHIRResponse(Response):
    media_type = fhir_export.MEDIA_TYPE
    charset = "utf-8"


def queue_filters(
    status_: Annotated[ReferralStatus | None, Query(alias="status")] = None,
    outcome: ReferralOutcome | None = None,
    received_from: Annotated[date | None, Query(description="First UTC day, inclusive")] = None,
    received_to: Annotated[date | None, Query(description="Last UTC day, inclusive")] = None,
) -> queue.QueueFilters:
    """The queue's filters in the address, shared by the list and the export.

    No search text here: an address ends up in proxy logs and browser history
    (security review, finding 7); POST .../search and .../search.csv take it in the body.
    """
    return queue.QueueFilters(
        status=status_, outcome=outcome, received_from=received_from, received_to=received_to
    )


Filters = Annotated[queue.QueueFilters, Depends(queue_filters)]


class ReferralSearchIn(BaseModel):
    """The queue's filters and search in a request body, so that no search text is in an address."""

    q: str | None = Field(
        default=None, max_length=200, description="Part of a name, email or phone number"
    )
    status: ReferralStatus | None = None
    outcome: ReferralOutcome | None = None
    received_from: date | None = Field(default=None, description="First UTC day, inclusive")
    received_to: date | None = Field(default=None, description="Last UTC day, inclusive")
    page: int = Field(default=1, ge=1, le=100_000)
    page_size: int = Field(default=25, ge=1, le=100)

    def filters(self) -> queue.QueueFilters:
        return queue.QueueFilters(
            status=self.status,
            outcome=self.outcome,
            received_from=self.received_from,
            received_to=self.received_to,
            q=self.q,
        )


def _found(session: SessionDep, referral_id: str) -> Referral:
    try:
        return queue.get_referral(session, referral_id)
    except queue.ReferralNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, text("referral_not_found")) from None


def _screening_out(
    referral: Referral, result: ScreeningResult, emails: dict[int, str]
) -> ScreeningOut:
    return ScreeningOut(
        referral_id=referral.id,
        status=referral.status,
        allowed_transitions=queue.allowed_transitions(referral.status),
        determination=result.determination,
        criteria=result.criteria,  # type: ignore[arg-type]
        recorded_by=result.recorded_by,
        recorded_by_email=emails.get(result.recorded_by),
        recorded_at=result.recorded_at,
    )


def _detail(session: SessionDep, referral: Referral) -> ReferralDetail:
    emails = queue.coordinator_emails(
        session,
        {c.actor_id for c in referral.status_changes}
        | {n.author_id for n in referral.notes}
        | ({referral.screening.recorded_by} if referral.screening else set()),
    )
    # The stored JSON and the dicts below become their models in pydantic's validation;
    # mypy sees dicts where models are declared, hence the arg-type and misc ignores.
    return ReferralDetail(
        id=referral.id,
        received_at=referral.received_at,
        updated_at=referral.updated_at,
        status=referral.status,
        allowed_transitions=queue.allowed_transitions(referral.status),
        outcome=referral.outcome,
        trial_id=referral.trial_id,
        trial_version=referral.trial_version,
        trial_checksum=referral.trial_checksum,
        respondent=referral.respondent,
        criteria=referral.criteria,  # type: ignore[arg-type]
        linden=referral.linden,
        spine_levels=referral.spine_levels or [],
        warning_signs=referral.warning_signs or [],
        contact={  # type: ignore[arg-type]
            "name": referral.contact_name,
            "phone": referral.contact_phone,
            "email": referral.contact_email,
            "best_time": referral.best_time,
            "language": referral.language,
        },
        helper=None
        if referral.patient_name is None
        else {  # type: ignore[arg-type]
            "patient_name": referral.patient_name,
            "relationship": referral.helper_relationship,
            "standing": referral.helper_standing,
        },
        consent={  # type: ignore[arg-type]
            "text_version": referral.consent_version,
            "given_at": referral.consent_given_at,
        },
        status_history=[
            {  # type: ignore[misc]
                "from_status": c.from_status,
                "to_status": c.to_status,
                "reason": c.reason,
                "actor_id": c.actor_id,
                "actor_email": emails.get(c.actor_id),
                "at": c.at,
            }
            for c in referral.status_changes
        ],
        notes=[
            {  # type: ignore[misc]
                "id": n.id,
                "author_id": n.author_id,
                "author_email": emails.get(n.author_id),
                "created_at": n.created_at,
                "text": n.text,
            }
            for n in referral.notes
        ],
        screening_criteria=screening.judged_criteria(referral),
        screening=_screening_out(referral, referral.screening, emails)
        if referral.screening
        else None,
    )


@router.get("/referrals", response_model=ReferralPage, responses={**SIGNED_IN, **INVALID})
def list_referrals(
    session: SessionDep,
    coordinator: CurrentCoordinator,
    filters: Filters,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 25,
) -> ReferralPage:
    """The referral queue, newest first, with filters (search by name, email or phone: POST .../search)."""
    return _page(session, coordinator.id, filters, page=page, page_size=page_size)


@router.post("/referrals/search", response_model=ReferralPage, responses=CHANGES)
def search_referrals(
    body: ReferralSearchIn, session: SessionDep, coordinator: CurrentCoordinator
) -> ReferralPage:
    """The referral queue, newest first, searched by name, email or phone without putting them in the URL."""
    return _page(session, coordinator.id, body.filters(), page=body.page, page_size=body.page_size)


def _page(
    session: SessionDep,
    actor_id: int,
    filters: queue.QueueFilters,
    *,
    page: int,
    page_size: int,
) -> ReferralPage:
    rows, total = queue.list_referrals(session, filters, page=page, page_size=page_size)
    # Which referrals were shown, by id (finding 7).
    audit.record_shown(session, action="list", actor_id=actor_id, referral_ids=[r.id for r in rows])
    session.commit()
    return ReferralPage(
        items=[ReferralSummary.model_validate(r, from_attributes=True) for r in rows],
        total=total,
        page=page,
        page_size=page_size,
    )


def _csv_answers(
    errors: Responses, what: str = "The matching referrals as CSV (formula-safe)."
) -> Responses:
    return {
        200: {"description": what},
        # Errors are JSON even here; without `content` they would be listed as text/csv.
        **{
            code: {
                "description": answer["description"],
                "content": {"application/json": {"schema": ERROR_REF}},
            }
            for code, answer in errors.items()
        },
    }


def _export(session: SessionDep, actor_id: int, filters: queue.QueueFilters) -> CSVResponse:
    rows = queue.all_referrals(session, filters)
    body = csv_export.export(session, rows, actor_id=actor_id)
    session.commit()
    return CSVResponse(body, headers=csv_export.download_headers())


@router.get(
    "/referrals.csv", response_class=CSVResponse, responses=_csv_answers({**SIGNED_IN, **INVALID})
)
def export_referrals(
    session: SessionDep, coordinator: CurrentCoordinator, filters: Filters
) -> CSVResponse:
    """Download the matching referrals as a spreadsheet-safe CSV file."""
    return _export(session, coordinator.id, filters)


@router.post("/referrals/search.csv", response_class=CSVResponse, responses=_csv_answers(CHANGES))
def export_searched_referrals(
    body: ReferralSearchIn, session: SessionDep, coordinator: CurrentCoordinator
) -> CSVResponse:
    """Download the referrals matching a search (in the body, never the URL) as a spreadsheet-safe CSV."""
    return _export(session, coordinator.id, body.filters())


@router.get(
    "/referrals/{referral_id}",
    response_model=ReferralDetail,
    responses={**SIGNED_IN, **NOT_FOUND, **INVALID},
)
def referral_detail(
    referral_id: ReferralId, session: SessionDep, coordinator: CurrentCoordinator
) -> ReferralDetail:
    """One referral: criteria, Linden hint, contact, consent, history and notes."""
    referral = _found(session, referral_id)
    detail = _detail(session, referral)
    audit.record(session, action="view", actor_id=coordinator.id, referral_id=referral_id)
    session.commit()
    return detail


def _fhir_answers(what: str, errors: Responses) -> Responses:
    return {
        200: {
            "description": what,
            "content": {fhir_export.MEDIA_TYPE: {"schema": {"type": "object"}}},
        },
        **{
            code: {
                "description": answer["description"],
                "content": {"application/json": {"schema": ERROR_REF}},
            }
            for code, answer in errors.items()
        },
    }


@router.get(
    "/referrals/{referral_id}/fhir",
    response_class=FHIRResponse,
    responses=_fhir_answers(
        "The referral as a FHIR R4B collection Bundle.", {**SIGNED_IN, **NOT_FOUND, **INVALID}
    ),
)
def referral_fhir(
    referral_id: ReferralId, session: SessionDep, coordinator: CurrentCoordinator
) -> FHIRResponse:
    """Download one referral as a FHIR Bundle (Patient, ResearchStudy, ResearchSubject, QuestionnaireResponse)."""
    referral = _found(session, referral_id)
    body = fhir_export.export(session, referral, actor_id=coordinator.id)
    session.commit()
    return FHIRResponse(body, headers=fhir_export.download_headers(referral_id))


@router.get(
    "/fhir/Questionnaire",
    response_class=FHIRResponse,
    responses=_fhir_answers("The trial file's questions as a FHIR R4B Questionnaire.", SIGNED_IN),
)
def fhir_questionnaire(session: SessionDep, coordinator: CurrentCoordinator) -> FHIRResponse:
    """The FHIR Questionnaire generated from the trial file (its version), which the exported answers link to."""
    body = fhir_export.to_json(fhir_export.questionnaire())
    audit.record(session, action="export", actor_id=coordinator.id, detail="fhir_questionnaire")
    session.commit()
    return FHIRResponse(body, headers={"Cache-Control": "no-store"})


@router.get(
    "/redcap/dictionary.csv",
    response_class=CSVResponse,
    responses=_csv_answers(SIGNED_IN, "The REDCap data dictionary generated from the trial file."),
)
def redcap_dictionary(session: SessionDep, coordinator: CurrentCoordinator) -> CSVResponse:
    """Download the REDCap data dictionary (from the trial file) that the screening log import matches."""
    body = redcap_export.export_dictionary(session, actor_id=coordinator.id)
    session.commit()
    return CSVResponse(body, headers=redcap_export.download_headers("dictionary"))


@router.get(
    "/redcap/records.csv",
    response_class=CSVResponse,
    responses=_csv_answers(
        {**SIGNED_IN, **INVALID}, "The screening log as a REDCap import CSV (codes only)."
    ),
)
def redcap_records(
    session: SessionDep, coordinator: CurrentCoordinator, filters: Filters
) -> CSVResponse:
    """Download the matching referrals as a REDCap import CSV: codes and dates only, no names or free text."""
    rows = queue.all_referrals(session, filters)
    body = redcap_export.export_records(session, rows, actor_id=coordinator.id)
    session.commit()
    return CSVResponse(body, headers=redcap_export.download_headers("records"))


@router.post(
    "/referrals/{referral_id}/status",
    response_model=StatusOut,
    responses={
        **CHANGES,
        **NOT_FOUND,
        409: {"model": ErrorOut, "description": "Not allowed from the referral's current status."},
    },
)
def change_status(
    referral_id: ReferralId, body: StatusIn, session: SessionDep, coordinator: CurrentCoordinator
) -> StatusOut:
    """Move a referral along the workflow, with a reason."""
    _found(session, referral_id)
    try:
        referral = queue.change_status(
            session,
            referral_id=referral_id,
            to_status=body.status,
            reason=body.reason,
            actor=coordinator,
        )
    except queue.TransitionNotAllowed:
        raise HTTPException(status.HTTP_409_CONFLICT, text("transition_not_allowed")) from None
    return StatusOut(
        referral_id=referral.id,
        status=referral.status,
        allowed_transitions=queue.allowed_transitions(referral.status),
    )


@router.post(
    "/referrals/{referral_id}/screening",
    response_model=ScreeningOut,
    responses={
        **CHANGES,
        **NOT_FOUND,
        409: {
            "model": ErrorOut,
            "description": "The referral is neither contacting (being marked screened) nor screened.",
        },
    },
)
def record_screening(
    referral_id: ReferralId, body: ScreeningIn, session: SessionDep, coordinator: CurrentCoordinator
) -> ScreeningOut:
    """Record the team's screening result (determination, per-criterion agreement); from contacting, mark it screened."""
    _found(session, referral_id)
    try:
        result = screening.record(
            session,
            referral_id=referral_id,
            determination=body.determination,
            agreement=body.agreement,
            reason={k: v or None for k, v in body.reason.items()},
            status_reason=body.status_reason,
            actor=coordinator,
        )
    except screening.ScreeningNotAllowed:
        raise HTTPException(status.HTTP_409_CONFLICT, text("screening_not_allowed")) from None
    except queue.TransitionNotAllowed:
        raise HTTPException(status.HTTP_409_CONFLICT, text("transition_not_allowed")) from None
    except screening.ScreeningInvalid as invalid:
        raise HTTPException(422, text(f"screening_{invalid.kind}")) from None
    referral = queue.get_referral(session, referral_id)
    return _screening_out(referral, result, {coordinator.id: coordinator.email})


@router.post(
    "/referrals/{referral_id}/notes",
    response_model=NoteOut,
    status_code=status.HTTP_201_CREATED,
    responses={**CHANGES, **NOT_FOUND},
)
def add_note(
    referral_id: ReferralId, body: NoteIn, session: SessionDep, coordinator: CurrentCoordinator
) -> NoteOut:
    """Add a note to a referral."""
    _found(session, referral_id)
    note = queue.add_note(session, referral_id=referral_id, text=body.text, actor=coordinator)
    return NoteOut(
        id=note.id,
        author_id=note.author_id,
        author_email=coordinator.email,
        created_at=note.created_at,
        text=note.text,
    )


@router.delete(
    "/referrals/{referral_id}",
    response_model=DeletedOut,
    responses={
        **CHANGES,
        **NOT_FOUND,
        503: {
            "model": ErrorOut,
            "description": "The tracker store is unreachable; nothing was deleted.",
        },
    },
)
def delete_referral(
    referral_id: ReferralId,
    body: DeleteIn,
    session: SessionDep,
    settings: SettingsDep,
    coordinator: CurrentCoordinator,
) -> DeletedOut:
    """Delete a referral, its notes, its history and its conversation (a patient's withdrawal)."""
    _found(session, referral_id)
    try:
        events = queue.delete_referral(
            session, settings, referral_id=referral_id, reason=body.reason, actor=coordinator
        )
    except tracker.TrackerStoreUnavailable:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, text("tracker_unavailable")
        ) from None
    return DeletedOut(referral_id=referral_id, tracker_events_deleted=events)


@router.get("/stats", response_model=StatsOut, responses={**SIGNED_IN, **INVALID})
def funnel_stats(
    session: SessionDep,
    coordinator: CurrentCoordinator,
    weeks: Annotated[
        int, Query(ge=1, le=104, description="How many ISO weeks, ending with this one")
    ] = 12,
) -> StatsOut:
    """Funnel counts and validity figures by ISO week, and the most common reasons, without patient data."""
    return StatsOut.model_validate(stats.everything(session, weeks=weeks))


StatsWeeks = Annotated[
    int, Query(ge=1, le=104, description="How many ISO weeks, ending with this one")
]


@router.get(
    "/stats.csv",
    response_class=CSVResponse,
    responses=_csv_answers({**SIGNED_IN, **INVALID}, "The statistics as CSV (counts only)."),
)
def stats_csv_export(
    session: SessionDep, coordinator: CurrentCoordinator, weeks: StatsWeeks = 12
) -> CSVResponse:
    """Download the statistics (funnel and validity figures, with their counts) as CSV, without patient data."""
    body = stats_csv.render(stats.everything(session, weeks=weeks))
    audit.record(session, action="export", actor_id=coordinator.id, detail=f"stats weeks={weeks}")
    session.commit()
    return CSVResponse(body, headers=stats_csv.download_headers(weeks))
