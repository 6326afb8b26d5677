"""screening results: the study team's determination per referral and, per criterion the bot judged, whether the records agreed (issue 15)

Revision ID: 0006_screening_results
Revises: 0005_referral_helper
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_screening_results"
down_revision = "0005_referral_helper"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "screening_results",
        sa.Column("referral_id", sa.String(length=64), nullable=False),
        sa.Column("determination", sa.String(length=16), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["coordinators.id"],
            name=op.f("fk_screening_results_recorded_by_coordinators"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_screening_results_referral_id_referrals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_screening_results")),
    )
    with op.batch_alter_table("screening_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_screening_results_determination"), ["determination"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("screening_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screening_results_determination"))

    op.drop_table("screening_results")
