"""agents' SIP passwords kept as PJSIP md5_cred digests, never in plain text

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 13:00:00

Each agent's ``sip_password`` becomes ``sip_ha1`` = MD5(username:callcenter:password)
(the realm the rendered pjsip.conf challenges with, callcenter/core/sip_auth.py):
phones keep working with their passwords. A downgrade cannot bring the passwords
back: every agent gets a new random one, to be reset from the console.
"""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_REALM = "callcenter"  # as core/sip_auth.py's SIP_REALM when this was written
_agents = sa.table(
    "agents",
    sa.column("id", sa.Integer),
    sa.column("username", sa.String),
    sa.column("sip_password", sa.String),
    sa.column("sip_ha1", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sip_ha1", sa.String(length=32), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.select(_agents.c.id, _agents.c.username, _agents.c.sip_password))
    for row_id, username, password in rows.all():
        digest = hashlib.md5(f"{username}:{_REALM}:{password}".encode(), usedforsecurity=False)
        connection.execute(
            _agents.update().where(_agents.c.id == row_id).values(sip_ha1=digest.hexdigest())
        )
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.alter_column("sip_ha1", existing_type=sa.String(length=32), nullable=False)
        batch_op.drop_column("sip_password")


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sip_password", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    for (row_id,) in connection.execute(sa.select(_agents.c.id)).all():
        connection.execute(
            _agents.update()
            .where(_agents.c.id == row_id)
            .values(sip_password=secrets.token_urlsafe(12))
        )
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.alter_column("sip_password", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("sip_ha1")
