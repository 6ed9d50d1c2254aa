"""voicemails: messages left in the queues' boxes, as the console works them

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 14:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voicemails",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("msg_id", sa.String(64), nullable=False, unique=True),
        sa.Column("box", sa.String(32), nullable=False),
        sa.Column("queue", sa.String(32), nullable=False, server_default=""),
        sa.Column("call_id", sa.String(32), nullable=False, server_default=""),
        sa.Column("caller_number", sa.String(24), nullable=False, server_default=""),
        sa.Column("caller_name", sa.String(40), nullable=False, server_default=""),
        sa.Column("left_at", sa.Float(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False, server_default="0"),
        sa.Column("path", sa.String(200), nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default="new"),
        sa.Column("owner", sa.String(64), nullable=False, server_default=""),
        sa.Column("handled_by", sa.String(64), nullable=False, server_default=""),
        sa.Column("handled_at", sa.Float(), nullable=True),
        sa.Column("callback_id", sa.Integer(), nullable=True),
    )
    op.create_index("ix_voicemails_queue", "voicemails", ["queue"])
    op.create_index("ix_voicemails_call_id", "voicemails", ["call_id"])
    op.create_index("ix_voicemails_left_at", "voicemails", ["left_at"])
    op.create_index("ix_voicemails_status", "voicemails", ["status"])


def downgrade() -> None:
    op.drop_table("voicemails")
