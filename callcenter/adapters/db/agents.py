"""Agents' softphone accounts in the database."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.models import AgentRow
from callcenter.core.model import DuplicateAgent, SipAccount
from callcenter.core.sip_auth import sip_ha1


class AgentRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def add(self, username: str, display_name: str, extension: str, password: str) -> SipAccount:
        """A new agent; only the password's digest is kept (core/sip_auth.py)."""
        row = AgentRow(
            username=username,
            display_name=display_name,
            extension=extension,
            sip_ha1=sip_ha1(username, password),
            active=True,
        )
        try:
            with self._sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            raise DuplicateAgent(
                f"an agent with username {username!r} or extension {extension!r} exists"
            ) from None
        return _account(row)

    def upsert(
        self,
        session: Session,
        username: str,
        display_name: str,
        extension: str,
        password: str,
        static_contact: str = "",
    ) -> None:
        """Create or update an agent inside the caller's transaction (site files)."""
        row = session.scalars(select(AgentRow).where(AgentRow.username == username)).first()
        if row is None:
            password = password or secrets.token_urlsafe(12)
            row = AgentRow(username=username, sip_ha1=sip_ha1(username, password), active=True)
            session.add(row)
        elif password:
            row.sip_ha1 = sip_ha1(username, password)
        row.display_name, row.extension, row.static_contact = (
            display_name,
            extension,
            static_contact,
        )
        session.flush()

    def accounts(self) -> list[SipAccount]:
        with self._sessions() as session:
            rows = session.scalars(select(AgentRow).where(AgentRow.active).order_by(AgentRow.id))
            return [_account(row) for row in rows]

    def find(self, session: Session, username: str) -> AgentRow | None:
        return session.scalars(select(AgentRow).where(AgentRow.username == username)).first()

    def by_extension(self, session: Session, extension: str) -> AgentRow | None:
        return session.scalars(select(AgentRow).where(AgentRow.extension == extension)).first()

    def listing(self, session: Session) -> list[AgentRow]:
        """Every agent, active or not, without detaching (read inside a session)."""
        return list(session.scalars(select(AgentRow).order_by(AgentRow.username)))

    def remove(self, username: str) -> bool:
        with self._sessions.begin() as session:
            row = session.scalars(select(AgentRow).where(AgentRow.username == username)).first()
            if row is None:
                return False
            session.delete(row)
            return True


def _account(row: AgentRow) -> SipAccount:
    return SipAccount(
        username=row.username,
        ha1=row.sip_ha1,
        display_name=row.display_name,
        extension=row.extension,
        static_contact=row.static_contact,
    )
