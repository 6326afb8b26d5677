"""referral contract: trial checksum and warning signs kept

Revision ID: 0002_contract
Revises: 0001

The referral record (contract/referral.schema.json) carries the trial file's
checksum and the warning signs; before this the intake ignored both. The
self-describing criteria (question as asked, answer label) need no column:
they are new keys in the existing criteria JSON. Rows received before this
migration keep NULL here and render with raw ids.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_contract"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trial_checksum", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("warning_signs", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_column("warning_signs")
        batch_op.drop_column("trial_checksum")
