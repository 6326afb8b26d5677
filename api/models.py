"""The API's tables (SQLAlchemy 2). Created and changed only by Alembic migrations."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from contract.names import NEW

# Named constraints, so migrations can refer to them on every database.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def now() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ChatSession(Base):
    """One patient conversation as the gateway knows it; no answers are kept here."""

    __tablename__ = "chat_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Only a hash of the cookie token is stored: a database leak cannot resume chats.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The id Rasa sees; never sent to the browser.
    conversation_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    last_asks: Mapped[str | None] = mapped_column(String(64))
    # Payloads of the buttons the bot offered last: only these may be sent back.
    offered_payloads: Mapped[list[str]] = mapped_column(JSON, default=list)
    outcome: Mapped[str | None] = mapped_column(String(32))
    # Criterion ids behind the outcome (no answers, no text): for the funnel statistics.
    outcome_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Referral(Base):
    __tablename__ = "referrals"

    # The referral id from the action server: also the idempotency key.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    body_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, onupdate=now)
    status: Mapped[str] = mapped_column(String(32), default=NEW, index=True)
    outcome: Mapped[str] = mapped_column(String(32), index=True)
    trial_id: Mapped[str] = mapped_column(String(32))
    trial_version: Mapped[str] = mapped_column(String(32))
    # sha256 of the trial file that judged the answers (None: received before migration 0002_contract).
    trial_checksum: Mapped[str | None] = mapped_column(String(64))
    conversation_id: Mapped[str | None] = mapped_column(String(64))
    respondent: Mapped[str | None] = mapped_column(String(16))
    consent_version: Mapped[str] = mapped_column(String(32))
    consent_given_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    best_time: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(100))
    # When a helper answered (migration 0005): the patient's own name, the helper's
    # relationship and standing (I1); contact_* are then the helper's. None otherwise.
    patient_name: Mapped[str | None] = mapped_column(String(200))
    helper_relationship: Mapped[str | None] = mapped_column(String(100))
    helper_standing: Mapped[str | None] = mapped_column(String(32))
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    linden: Mapped[dict[str, Any]] = mapped_column(JSON)
    spine_levels: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Same-day warning signs mentioned (ids); None: received before migration 0002_contract.
    warning_signs: Mapped[list[str] | None] = mapped_column(JSON)

    notes: Mapped[list[ReferralNote]] = relationship(
        back_populates="referral", cascade="all, delete-orphan", order_by="ReferralNote.created_at"
    )
    status_changes: Mapped[list[StatusChange]] = relationship(
        back_populates="referral", cascade="all, delete-orphan", order_by="StatusChange.at"
    )
    screening: Mapped[ScreeningResult | None] = relationship(
        back_populates="referral", cascade="all, delete-orphan", uselist=False
    )


class ReferralNote(Base):
    __tablename__ = "referral_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[str] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("coordinators.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    text: Mapped[str] = mapped_column(Text)

    referral: Mapped[Referral] = relationship(back_populates="notes")


class StatusChange(Base):
    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[str] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int] = mapped_column(ForeignKey("coordinators.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)

    referral: Mapped[Referral] = relationship(back_populates="status_changes")


class ScreeningResult(Base):
    """The study team's screening of one referral (migration 0006): codes only, never free text.

    `criteria` holds one {question_id, agreement, reason} per criterion the bot
    judged for this referral (names: contract/names.py). Deleted with the referral.
    """

    __tablename__ = "screening_results"

    referral_id: Mapped[str] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), primary_key=True
    )
    determination: Mapped[str] = mapped_column(String(16), index=True)
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("coordinators.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)

    referral: Mapped[Referral] = relationship(back_populates="screening")


class Coordinator(Base):
    __tablename__ = "coordinators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="coordinator")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class CoordinatorSession(Base):
    """Server-side login session: the cookie holds a random token, the table its hash."""

    __tablename__ = "coordinator_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    coordinator_id: Mapped[int] = mapped_column(
        ForeignKey("coordinators.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    coordinator: Mapped[Coordinator] = relationship()


class AuditEvent(Base):
    """Append-only (triggers refuse UPDATE and DELETE). Never holds patient data."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32), index=True)
    # No foreign key: the audit row must outlive a deleted referral.
    referral_id: Mapped[str | None] = mapped_column(String(64), index=True)
    detail: Mapped[str | None] = mapped_column(String(200))


class ReferralDeadLetter(Base):
    """A referral body /referrals refused for a reason a retry cannot fix, kept until an admin resolves it.

    `reason` names the JSON paths and the rules that failed, never a value. On
    "Resolved by hand" the body is cleared; id, reason, who and when stay.
    """

    __tablename__ = "referral_dead_letters"

    # The Idempotency-Key of the refused delivery (the action server's referral id).
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    reason: Mapped[str] = mapped_column(String(1000))
    # The request body as received (bounded by the intake's size limit); None once resolved.
    body: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    # No foreign key, like the audit log: the record outlives an account.
    resolved_by: Mapped[int | None] = mapped_column(Integer)
    resolution_note: Mapped[str | None] = mapped_column(String(500))


class LoginAttempt(Base):
    """One coordinator login attempt, for the login limits (api/services/login_limit.py).

    Written *before* the password is checked, so concurrent attempts count each
    other. Keeps only keyed hashes of the e-mail+address pair and of the
    address; rows older than the limits' window are deleted as logins go on.
    """

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    pair_key: Mapped[str] = mapped_column(String(32), index=True)
    address_key: Mapped[str] = mapped_column(String(32), index=True)
    # pending (password being checked) | failed | ok
    outcome: Mapped[str] = mapped_column(String(8), default="pending")
