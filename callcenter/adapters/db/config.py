"""The call center's configuration in the database: skills, agents' skills,
queues, business hours, IVR flows. Documents are validated before they are
stored and again when they are read, so a bad row never reaches the ACD."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.call_records import call_record
from callcenter.adapters.db.models import (
    AgentRow,
    AgentSkillRow,
    AgentStatusRow,
    CallEventRow,
    CallRow,
    IvrFlowRow,
    QueueRow,
    ScheduleRow,
    SkillRow,
)
from callcenter.core.acd.agent_state import AgentStatus
from callcenter.core.acd.model import AgentState
from callcenter.core.calls.record import CallRecord
from callcenter.core.queues import QueueSettings
from callcenter.core.site import SiteDocuments


class ConfigRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # -- skills ------------------------------------------------------------------------
    def skills(self) -> list[str]:
        with self._sessions() as session:
            return list(session.scalars(select(SkillRow.name).order_by(SkillRow.name)))

    def skill_descriptions(self, session: Session) -> dict[str, str]:
        rows = session.scalars(select(SkillRow).order_by(SkillRow.name))
        return {row.name: row.description for row in rows}

    def skill_names(self, session: Session) -> set[str]:
        return set(session.scalars(select(SkillRow.name)))

    def upsert_skill(self, session: Session, name: str, description: str) -> None:
        row = session.scalars(select(SkillRow).where(SkillRow.name == name)).first()
        if row is None:
            session.add(SkillRow(name=name, description=description))
        else:
            row.description = description

    def ensure_skills(self, session: Session, names: set[str]) -> dict[str, int]:
        existing = {row.name: row.id for row in session.scalars(select(SkillRow))}
        for name in sorted(names - set(existing)):
            row = SkillRow(name=name, description="")
            session.add(row)
            session.flush()
            existing[name] = row.id
        return existing

    def set_agent_skills(self, session: Session, username: str, levels: Mapping[str, int]) -> None:
        agent = session.scalars(select(AgentRow).where(AgentRow.username == username)).one()
        ids = self.ensure_skills(session, set(levels))
        session.execute(delete(AgentSkillRow).where(AgentSkillRow.agent_id == agent.id))
        for skill, level in levels.items():
            session.add(AgentSkillRow(agent_id=agent.id, skill_id=ids[skill], level=level))

    def agent_skills(self) -> dict[str, dict[str, int]]:
        """Every active agent (even with no skills) and their skill levels."""
        with self._sessions() as session:
            agents: dict[str, dict[str, int]] = {
                name: {}
                for name in session.scalars(select(AgentRow.username).where(AgentRow.active))
            }
            rows = session.execute(
                select(AgentRow.username, SkillRow.name, AgentSkillRow.level)
                .join(AgentSkillRow, AgentSkillRow.agent_id == AgentRow.id)
                .join(SkillRow, SkillRow.id == AgentSkillRow.skill_id)
                .where(AgentRow.active)
            )
            for username, skill, level in rows:
                agents[username][skill] = level
            return agents

    def all_agent_skills(self, session: Session) -> dict[str, dict[str, int]]:
        """Skill levels of every agent, active or not (administration)."""
        rows = session.execute(
            select(AgentRow.username, SkillRow.name, AgentSkillRow.level)
            .join(AgentSkillRow, AgentSkillRow.agent_id == AgentRow.id)
            .join(SkillRow, SkillRow.id == AgentSkillRow.skill_id)
        )
        levels: dict[str, dict[str, int]] = {}
        for username, skill, level in rows:
            levels.setdefault(username, {})[skill] = level
        return levels

    def static_contacts(self) -> set[str]:
        with self._sessions() as session:
            return set(
                session.scalars(select(AgentRow.username).where(AgentRow.static_contact != ""))
            )

    # -- queues, schedules, flows ---------------------------------------------------------
    def queues(self) -> dict[str, QueueSettings]:
        with self._sessions() as session:
            return {
                row.name: QueueSettings.model_validate(row.settings)
                for row in session.scalars(select(QueueRow))
            }

    def upsert_queue(self, session: Session, settings: QueueSettings) -> None:
        row = session.scalars(select(QueueRow).where(QueueRow.name == settings.name)).first()
        document = settings.model_dump(mode="json")
        if row is None:
            session.add(QueueRow(name=settings.name, settings=document, updated_at=time.time()))
        else:
            row.settings, row.updated_at = document, time.time()

    def schedule_documents(self) -> dict[str, dict[str, Any]]:
        with self._sessions() as session:
            return {row.name: dict(row.document) for row in session.scalars(select(ScheduleRow))}

    def upsert_schedule(self, session: Session, name: str, document: Mapping[str, Any]) -> None:
        row = session.scalars(select(ScheduleRow).where(ScheduleRow.name == name)).first()
        if row is None:
            session.add(ScheduleRow(name=name, document=dict(document), updated_at=time.time()))
        else:
            row.document, row.updated_at = dict(document), time.time()

    def flow_documents(self) -> dict[str, tuple[dict[str, Any], list[str]]]:
        with self._sessions() as session:
            return {
                row.name: (dict(row.document), [str(n) for n in row.numbers])
                for row in session.scalars(select(IvrFlowRow))
            }

    def upsert_flow(
        self, session: Session, name: str, document: Mapping[str, Any], numbers: list[str]
    ) -> None:
        row = session.scalars(select(IvrFlowRow).where(IvrFlowRow.name == name)).first()
        if row is None:
            session.add(
                IvrFlowRow(
                    name=name, document=dict(document), numbers=numbers, updated_at=time.time()
                )
            )
        else:
            row.document, row.numbers, row.updated_at = dict(document), numbers, time.time()

    def site_documents(self, session: Session) -> SiteDocuments:
        """Queues, schedules and flows as stored, read inside the caller's transaction
        (administration validates a change against the rest of the site before writing)."""
        return SiteDocuments(
            queues={row.name: dict(row.settings) for row in session.scalars(select(QueueRow))},
            schedules={
                row.name: dict(row.document) for row in session.scalars(select(ScheduleRow))
            },
            flows={
                row.name: (dict(row.document), [str(n) for n in row.numbers])
                for row in session.scalars(select(IvrFlowRow))
            },
        )

    # -- runtime state ---------------------------------------------------------------------
    def agent_statuses(self) -> dict[str, AgentStatus]:
        with self._sessions() as session:
            return {
                row.agent: AgentStatus(
                    state=AgentState(row.state),
                    since=row.since,
                    reason=row.reason,
                    pending_pause=row.pending_pause,
                    call_id=row.call_id,
                )
                for row in session.scalars(select(AgentStatusRow))
            }

    def open_calls(self, since: float) -> list[tuple[str, str]]:
        """(call id, unique id) of the calls entered since then whose record is not closed."""
        with self._sessions() as session:
            query = select(CallRow.id, CallRow.unique_id).where(
                CallRow.ended_at.is_(None), CallRow.entered_at >= since
            )
            return [(call_id, unique_id) for call_id, unique_id in session.execute(query)]

    def by_unique_ids(self, unique_ids: list[str]) -> dict[str, CallRecord]:
        found: dict[str, CallRecord] = {}
        with self._sessions() as session:
            for start in range(0, len(unique_ids), 500):
                chunk = unique_ids[start : start + 500]
                rows = session.scalars(select(CallRow).where(CallRow.unique_id.in_(chunk)))
                found.update((row.unique_id, call_record(row)) for row in rows)
        return found

    def last_event_at(self) -> float | None:
        with self._sessions() as session:
            at = session.scalar(select(func.max(CallEventRow.at)))
            return float(at) if at is not None else None

    def recent_talks(self, per_queue: int) -> list[tuple[str, str, float]]:
        talked = (CallRow.talk_seconds.is_not(None), CallRow.answered_at.is_not(None))
        found: list[tuple[float, str, str, float]] = []
        with self._sessions() as session:
            queues = session.scalars(
                select(CallRow.queue).where(CallRow.queue != "", *talked).distinct()
            ).all()
            for queue in queues:
                query = (
                    select(CallRow.answered_at, CallRow.agent, CallRow.talk_seconds)
                    .where(CallRow.queue == queue, *talked)
                    .order_by(CallRow.answered_at.desc())
                    .limit(per_queue)
                )
                found += [
                    (at, queue, agent, talk)
                    for at, agent, talk in session.execute(query)
                    if at is not None and talk is not None  # as the query says
                ]
        return [(queue, agent, talk) for _, queue, agent, talk in sorted(found)]

    def call(self, call_id: str) -> CallRecord | None:
        with self._sessions() as session:
            row = session.get(CallRow, call_id)
            return call_record(row) if row is not None else None
