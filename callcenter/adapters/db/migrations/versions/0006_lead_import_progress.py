"""lead import progress: file size and bytes read (progress bar), encoding, warning

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lead_imports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("size_bytes", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("read_bytes", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("encoding", sa.String(length=16), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("warning", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("lead_imports", schema=None) as batch_op:
        batch_op.drop_column("warning")
        batch_op.drop_column("encoding")
        batch_op.drop_column("read_bytes")
        batch_op.drop_column("size_bytes")
