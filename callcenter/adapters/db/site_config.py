"""The site's configuration inside one transaction: administration's reads and saves,
and a whole site file written at once (``apply_site``).

``SiteConfig`` works in the session it is given, so everything a save reads,
checks and writes (and its audit row) commits together or not at all.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.agents import AgentRepository
from callcenter.adapters.db.config import ConfigRepository
from callcenter.adapters.db.customers import CustomerRepository
from callcenter.adapters.db.models import AgentRow, AuditRow
from callcenter.core.callerid import vet_number
from callcenter.core.model import AgentRecord
from callcenter.core.queues import QueueSettings
from callcenter.core.site import SiteDocuments
from callcenter.services.site import Site


def _agent(row: AgentRow) -> AgentRecord:
    return AgentRecord(row.username, row.display_name, row.extension, row.active,
                       row.static_contact)  # fmt: skip


class SiteConfig:
    def __init__(self, session: Session, sessions: sessionmaker[Session]) -> None:
        self._session = session
        self._agents = AgentRepository(sessions)
        self._config = ConfigRepository(sessions)
        self._customers = CustomerRepository(sessions)

    # -- agents ------------------------------------------------------------------------
    def agents(self) -> list[AgentRecord]:
        return [_agent(row) for row in self._agents.listing(self._session)]

    def agent(self, username: str) -> AgentRecord | None:
        row = self._agents.find(self._session, username)
        return _agent(row) if row is not None else None

    def agent_with_extension(self, extension: str) -> AgentRecord | None:
        row = self._agents.by_extension(self._session, extension)
        return _agent(row) if row is not None else None

    def upsert_agent(
        self,
        username: str,
        display_name: str,
        extension: str,
        password: str,
        static_contact: str = "",
    ) -> None:
        self._agents.upsert(
            self._session, username, display_name, extension, password, static_contact
        )

    def set_agent_active(self, username: str, active: bool) -> bool:
        row = self._agents.find(self._session, username)
        if row is not None:
            row.active = active
        return row is not None

    def set_agent_password(self, username: str, password: str) -> bool:
        row = self._agents.find(self._session, username)
        if row is not None:
            row.sip_password = password
        return row is not None

    def agent_skills(self) -> dict[str, dict[str, int]]:
        return self._config.all_agent_skills(self._session)

    def set_agent_skills(self, username: str, levels: Mapping[str, int]) -> None:
        self._config.set_agent_skills(self._session, username, levels)

    # -- skills, queues, business hours, flows ------------------------------------------
    def skill_names(self) -> set[str]:
        return self._config.skill_names(self._session)

    def skill_descriptions(self) -> dict[str, str]:
        return self._config.skill_descriptions(self._session)

    def upsert_skill(self, name: str, description: str) -> None:
        self._config.upsert_skill(self._session, name, description)

    def site_documents(self) -> SiteDocuments:
        return self._config.site_documents(self._session)

    def upsert_queue(self, settings: QueueSettings) -> None:
        self._config.upsert_queue(self._session, settings)

    def upsert_schedule(self, name: str, document: Mapping[str, Any]) -> None:
        self._config.upsert_schedule(self._session, name, document)

    def upsert_flow(self, name: str, document: Mapping[str, Any], numbers: list[str]) -> None:
        self._config.upsert_flow(self._session, name, document, numbers)

    # -- customers (site files), the audit log -------------------------------------------
    def add_customer(
        self, name: str, account: str | None, pin: str, tier: str, numbers: list[str], notes: str
    ) -> int:
        return self._customers.add(self._session, name, account, pin, tier, numbers, notes)

    def audit(self, actor: str, action: str, target: str, detail: dict[str, Any]) -> None:
        self._session.add(
            AuditRow(at=time.time(), actor=actor, action=action, target=target, detail=detail)
        )


class SiteConfigStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @contextmanager
    def reading(self) -> Iterator[SiteConfig]:
        with self._sessions() as session:
            yield SiteConfig(session, self._sessions)

    @contextmanager
    def writing(self) -> Iterator[SiteConfig]:
        with self._sessions.begin() as session:
            yield SiteConfig(session, self._sessions)


def apply_site(site: Site, sessions: sessionmaker[Session], region: str = "US") -> dict[str, int]:
    """Write a validated site (services/site.py) in one transaction; returns counts.

    Customers' numbers are kept as incoming caller IDs are (core/callerid.py: E.164,
    national numbers read in ``region``, the site's country), so a caller is found
    whichever way either was written."""
    with SiteConfigStore(sessions).writing() as config:
        for entry in site.agents:
            config.upsert_agent(
                entry.username, entry.name, entry.extension, entry.password, entry.static_contact
            )
            config.set_agent_skills(entry.username, entry.skills)
        for name, document in site.schedules.items():
            config.upsert_schedule(name, document)
        for queue in site.queues:
            config.upsert_queue(queue)
        for name, (document, numbers) in site.flows.items():
            config.upsert_flow(name, document, numbers)
        for customer in site.customers:
            config.add_customer(
                customer.name,
                customer.account,
                customer.pin,
                customer.tier,
                [vet_number(number, region)[0] or number for number in customer.numbers],
                customer.notes,
            )
    return {
        "agents": len(site.agents),
        "queues": len(site.queues),
        "schedules": len(site.schedules),
        "flows": len(site.flows),
        "customers": len(site.customers),
    }
