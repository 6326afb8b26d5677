"""referral helper: a helper's referral names the patient apart, with the helper's relationship and standing (issue 13, I1)

Revision ID: 0005_referral_helper
Revises: 0004_login_attempts
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_referral_helper"
down_revision = "0004_login_attempts"
branch_labels = None
depends_on = None

COLUMNS = (
    ("patient_name", 200),
    ("helper_relationship", 100),
    ("helper_standing", 32),
)


def upgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        for name, length in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
