"""wait estimate confidence: whether the product stood by each estimate logged

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-07 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wait_estimates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reliable", sa.Boolean(), nullable=True))
        batch_op.create_index(batch_op.f("ix_wait_estimates_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("wait_estimates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wait_estimates_at"))
        batch_op.drop_column("reliable")
