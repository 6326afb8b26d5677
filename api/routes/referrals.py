"""Referral intake for the action server (service credential, idempotent)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Response, status

from api.deps import SessionDep, require_service
from api.schemas import ReferralAccepted, ReferralIn
from api.schemas_coordinator import ErrorOut
from api.services.intake import IdempotencyConflict, store_referral

router = APIRouter(tags=["referrals"])


@router.post(
    "/referrals",
    response_model=ReferralAccepted,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_service)],
    responses={
        200: {"model": ReferralAccepted, "description": "Already received (same key, same body)."},
        401: {"model": ErrorOut, "description": "Missing or wrong service credential."},
        422: {"model": ErrorOut, "description": "Invalid body, or the key was used with another body."},
    },
)
def receive_referral(
    body: ReferralIn,
    session: SessionDep,
    response: Response,
    idempotency_key: Annotated[str, Header(min_length=8, max_length=64)],
) -> ReferralAccepted:
    """Store a consented referral once; the same key and body again is a no-op."""
    if idempotency_key != body.referral_id:
        raise HTTPException(422, "Idempotency-Key must equal referral_id.")
    try:
        created = store_referral(session, body)
    except IdempotencyConflict:
        raise HTTPException(422, "This Idempotency-Key was used with a different body.") from None
    if not created:
        response.status_code = status.HTTP_200_OK
    return ReferralAccepted(referral_id=body.referral_id, created=created)
