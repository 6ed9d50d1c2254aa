"""qa_forms, qa_evaluations: quality scoring of recorded calls

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-07 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qa_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_forms")),
        sa.UniqueConstraint("name", "version", name="uq_qa_forms_name_version"),
    )
    op.create_index("ix_qa_forms_name", "qa_forms", ["name"])
    op.create_table(
        "qa_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(32), nullable=False),
        sa.Column("agent", sa.String(32), nullable=False),
        sa.Column("queue", sa.String(32), nullable=False),
        sa.Column("call_at", sa.Float(), nullable=False),
        sa.Column("evaluator", sa.String(64), nullable=False),
        sa.Column("evaluated_at", sa.Float(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("critical_failed", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("acknowledged_at", sa.Float(), nullable=True),
        sa.Column("agent_comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_id"], ["qa_forms.id"], name=op.f("fk_qa_evaluations_form_id_qa_forms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_evaluations")),
        sa.UniqueConstraint("recording_id", name=op.f("uq_qa_evaluations_recording_id")),
    )
    op.create_index("ix_qa_evaluations_form_id", "qa_evaluations", ["form_id"])
    op.create_index("ix_qa_evaluations_agent", "qa_evaluations", ["agent"])
    op.create_index("ix_qa_evaluations_call_at", "qa_evaluations", ["call_at"])


def downgrade() -> None:
    op.drop_table("qa_evaluations")
    op.drop_table("qa_forms")
