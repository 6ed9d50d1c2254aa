"""What the reports read: call events, agents' state changes and wait estimates in a period.

Blocking reads: the console runs reports in its own threads, never on the loop.
"""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.models import AgentStateLogRow, CallEventRow, CallRow, WaitEstimateRow
from callcenter.core.acd.waits import EstimateRecord
from callcenter.core.repeat_contacts import Contact, caller_key
from callcenter.core.stats import CallEventRecord


class ReportQueries:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def call_events(
        self, since: float, until: float, kinds: tuple[str, ...]
    ) -> list[CallEventRecord]:
        """Every event of the calls that had an event of ``kinds`` in [since, until)."""
        wanted = (
            select(CallEventRow.call_id)
            .where(CallEventRow.kind.in_(kinds), CallEventRow.at >= since, CallEventRow.at < until)
            .distinct()
        )
        query = (
            select(CallEventRow.call_id, CallEventRow.at, CallEventRow.kind, CallEventRow.agent,
                   CallEventRow.detail)
            .where(CallEventRow.call_id.in_(wanted))
            .order_by(CallEventRow.call_id, CallEventRow.at, CallEventRow.id)
        )  # fmt: skip
        with self._sessions() as session:
            return [
                CallEventRecord(c, at, kind, agent or "", detail or {})
                for c, at, kind, agent, detail in session.execute(query)
            ]

    def state_rows(self, since: float, until: float) -> list[tuple[str, str, float]]:
        """Each agent's state changes in [since, until), led by the state it was in at ``since``."""
        before = (
            select(AgentStateLogRow.agent, func.max(AgentStateLogRow.at).label("at"))
            .where(AgentStateLogRow.at < since)
            .group_by(AgentStateLogRow.agent)
            .subquery()
        )
        leading = and_(AgentStateLogRow.agent == before.c.agent, AgentStateLogRow.at == before.c.at)
        query = (
            select(AgentStateLogRow.agent, AgentStateLogRow.state, AgentStateLogRow.at)
            .outerjoin(before, leading)
            .where(or_(and_(AgentStateLogRow.at >= since, AgentStateLogRow.at < until),
                       before.c.agent.is_not(None)))
            .order_by(AgentStateLogRow.agent, AgentStateLogRow.at, AgentStateLogRow.id)
        )  # fmt: skip
        with self._sessions() as session:
            rows = session.execute(query).all()
        # The state held at ``since`` starts there, not when it was entered.
        return [(agent, state, max(at, since)) for agent, state, at in rows]

    def wait_estimates(self, since: float, until: float) -> list[EstimateRecord]:
        """Estimates made in [since, until) whose caller then reached an agent."""
        row = WaitEstimateRow
        query = (
            select(row.queue, row.estimate_seconds, row.actual_seconds, row.reliable)
            .where(row.at >= since, row.at < until)
            .where(row.estimate_seconds.is_not(None), row.actual_seconds.is_not(None))
            .order_by(row.at, row.id)
        )
        with self._sessions() as session:
            return [
                EstimateRecord(queue, estimate, actual, reliable)
                for queue, estimate, actual, reliable in session.execute(query)
                if estimate is not None and actual is not None  # as the query says
            ]

    def contacts(self, since: float, until: float) -> list[Contact]:
        """Calls that entered a queue in [since, until), as repeat-contact rules read them."""
        row = CallRow
        query = (
            select(row.id, row.caller_number, row.customer_id, row.queue, row.entered_at,
                   row.answered_at, row.agent, row.disposition)
            .where(row.entered_at >= since, row.entered_at < until, row.queue != "")
            .order_by(row.entered_at, row.id)
        )  # fmt: skip
        with self._sessions() as session:
            return [
                Contact(call_id, caller_key(number, customer), queue, at,
                        answered is not None and bool(agent), agent, disposition)
                for call_id, number, customer, queue, at, answered, agent, disposition
                in session.execute(query)
            ]  # fmt: skip
