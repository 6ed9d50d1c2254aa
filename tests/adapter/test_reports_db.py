"""The reports' database reads (SQLite and PostgreSQL) give the figures of the pure fold."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.models import AgentStateLogRow, CallEventRow
from callcenter.adapters.db.report_queries import ReportQueries
from callcenter.core.stats import spans_from_log
from callcenter.services.console.reports import Reports, agent_report, queue_report
from tests.unit.test_reports import (
    CALL_EVENTS,
    NOW,
    PARIS,
    STATE_LOG,
    T0,
    TARGETS,
    period,
    records,
)


def stored(url: str) -> sessionmaker[Session]:
    sessions = make_sessions(make_engine(url))
    with sessions.begin() as session:
        # Rows land in arrival order, not per call: the query must sort them.
        for call_id, at, kind, agent, detail in sorted(CALL_EVENTS, key=lambda e: e[1]):
            session.add(CallEventRow(call_id=call_id, at=at, kind=kind, agent=agent, detail=detail))
        # Outside the period on both sides: ignored.
        session.add(CallEventRow(call_id="old", at=T0 - 10, kind="queued", detail={"queue": "x"}))
        session.add(CallEventRow(call_id="new", at=T0 + 3600, kind="queued", detail={"queue": "x"}))
        for agent, state, at in STATE_LOG:
            session.add(AgentStateLogRow(agent=agent, state=state, at=at, reason=""))
        # Logged out before the period and all through it: not in the report.
        session.add(AgentStateLogRow(agent="carol", state="ready", at=T0 - 900, reason=""))
        session.add(AgentStateLogRow(agent="carol", state="logged_out", at=T0 - 800, reason=""))
    return sessions


def test_reports_read_from_the_database_match_the_fold(database_url: str) -> None:
    sessions = stored(database_url)
    try:
        reports = Reports(ReportQueries(sessions), lambda: TARGETS, PARIS, lambda: NOW)
        from_db = reports.queues(period())
        expected = queue_report(records(), TARGETS, period(), PARIS, NOW)
        assert [(s.name, [ln.figures for ln in s.lines]) for s in from_db.series] == [
            (s.name, [ln.figures for ln in s.lines]) for s in expected.series
        ]
        assert from_db.totals == expected.totals

        agents = reports.agents(period())
        spans = spans_from_log([r for r in STATE_LOG if r[2] < NOW], NOW)
        wanted = agent_report(records(), spans, period(), PARIS)
        assert [s.name for s in agents.series] == ["alice", "bob"]
        assert [[ln.figures for ln in s.lines] for s in agents.series] == [
            [ln.figures for ln in s.lines] for s in wanted.series
        ]
        assert agents.totals == wanted.totals
    finally:
        sessions.kw["bind"].dispose()
