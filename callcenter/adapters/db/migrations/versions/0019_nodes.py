"""calls.node, calls.agent_node, recordings.node: several Asterisk nodes ([[pbx.nodes]])

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("node", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("agent_node", sa.String(32), nullable=False, server_default=""))
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("node", sa.String(32), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.drop_column("node")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("agent_node")
        batch.drop_column("node")
