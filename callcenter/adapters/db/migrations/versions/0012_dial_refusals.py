"""dial refusals: every number the dial policy refused, with its reason

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dial_refusals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("origin_kind", sa.String(length=16), nullable=False),
        sa.Column("origin_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("place", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dial_refusals")),
    )
    with op.batch_alter_table("dial_refusals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dial_refusals_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dial_refusals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dial_refusals_at"))
    op.drop_table("dial_refusals")
