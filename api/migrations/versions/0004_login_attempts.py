"""login attempts: the login limits count per e-mail+address pair, atomically (issue 12, finding 2)

Revision ID: 0004_login_attempts
Revises: 0003_dead_letters
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_login_attempts"
down_revision = "0003_dead_letters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pair_key", sa.String(length=32), nullable=False),
        sa.Column("address_key", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_attempts_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_attempts_pair_key"), ["pair_key"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_login_attempts_address_key"), ["address_key"], unique=False
        )


def downgrade() -> None:
    op.drop_table("login_attempts")
