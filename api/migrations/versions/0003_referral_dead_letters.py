"""referral dead letters: bodies /referrals refused for good, kept for an admin (issue 11)

Revision ID: 0003_dead_letters
Revises: 0002_contract
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_dead_letters"
down_revision = "0002_contract"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "referral_dead_letters",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("resolution_note", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_dead_letters")),
    )
    with op.batch_alter_table("referral_dead_letters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referral_dead_letters_received_at"), ["received_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_referral_dead_letters_resolved_at"), ["resolved_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("referral_dead_letters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_dead_letters_resolved_at"))
        batch_op.drop_index(batch_op.f("ix_referral_dead_letters_received_at"))
    op.drop_table("referral_dead_letters")
