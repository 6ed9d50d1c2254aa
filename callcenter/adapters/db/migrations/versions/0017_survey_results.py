"""survey_results: post-call surveys (CSAT), one per call offered one

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-07 16:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey_results",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("call_id", sa.String(32), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("queue", sa.String(32), nullable=False, server_default=""),
        sa.Column("agent", sa.String(32), nullable=False, server_default=""),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("responded", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("comment", sa.String(200), nullable=False, server_default=""),
    )
    op.create_index("ix_survey_results_call_id", "survey_results", ["call_id"])
    op.create_index("ix_survey_results_at", "survey_results", ["at"])
    op.create_index("ix_survey_results_queue", "survey_results", ["queue"])
    op.create_index("ix_survey_results_agent", "survey_results", ["agent"])


def downgrade() -> None:
    op.drop_table("survey_results")
