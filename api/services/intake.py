"""Storing a referral exactly once, whatever the number of deliveries."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from api.models import AuditEvent, Referral
from api.schemas import ReferralIn
from contract.names import NEW


class IdempotencyConflict(Exception):
    """The key was already used with another body."""


def body_digest(body: ReferralIn) -> str:
    dumped = body.model_dump(mode="json")
    # A record without a helper digests as it did before the field existed, so a
    # delivery retried across the upgrade is still the same referral, not a conflict.
    if dumped.get("helper") is None:
        dumped.pop("helper", None)
    canonical = json.dumps(dumped, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def store_referral(session: Session, body: ReferralIn) -> bool:
    """True when this delivery created the referral.

    INSERT ... ON CONFLICT DO NOTHING, not select-then-insert: concurrent
    deliveries of one referral race on the primary key, and exactly one wins.
    """
    digest = body_digest(body)
    # A delivery retried after a lost acknowledgement can arrive after the
    # patient withdrew: acknowledge it, but never bring the referral back.
    withdrawn = session.scalar(
        select(AuditEvent.id)
        .where(AuditEvent.referral_id == body.referral_id, AuditEvent.action == "delete")
        .limit(1)
    )
    if withdrawn is not None:
        return False
    row = {
        "id": body.referral_id,
        "body_sha256": digest,
        "status": NEW,
        "outcome": body.outcome,
        "trial_id": body.trial_id,
        "trial_version": body.trial_version,
        "trial_checksum": body.trial_checksum,
        "conversation_id": body.conversation_id,
        "respondent": body.respondent,
        "consent_version": body.consent.text_version,
        "consent_given_at": body.consent.given_at,
        "contact_name": body.contact.name,
        "contact_phone": body.contact.phone,
        "contact_email": body.contact.email,
        "best_time": body.contact.best_time,
        "language": body.contact.language,
        "patient_name": body.helper.patient_name if body.helper else None,
        "helper_relationship": body.helper.relationship if body.helper else None,
        "helper_standing": body.helper.standing if body.helper else None,
        "criteria": [c.model_dump(mode="json") for c in body.criteria],
        "linden": body.linden.model_dump(mode="json"),
        "spine_levels": body.spine_levels,
        "warning_signs": body.warning_signs,
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # RETURNING, not rowcount: psycopg reports -1 rows for this statement.
    inserted = session.execute(
        insert(Referral)
        .values(**row)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(Referral.id)
    ).first()
    created = inserted is not None
    if created:
        session.add(
            AuditEvent(action="received", referral_id=body.referral_id, detail=body.outcome)
        )
    session.commit()
    if not created:
        stored = session.scalar(select(Referral.body_sha256).where(Referral.id == body.referral_id))
        if stored != digest:
            raise IdempotencyConflict(body.referral_id)
    return created
