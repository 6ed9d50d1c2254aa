"""The reports' database reads (SQLite and PostgreSQL) give the figures of the pure fold."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.models import AgentStateLogRow, CallEventRow, WaitEstimateRow
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

# (queue, minutes after T0, estimate, actual, reliable): the wait estimates of the hour.
ESTIMATES = [
    ("sales", 1, 30.0, 20.0, True),  # error 0.5
    ("sales", 2, 60.0, 60.0, True),  # 0
    ("sales", 3, 100.0, 50.0, False),  # 1.0, not stood by
    ("sales", 4, 90.0, None, True),  # the caller gave up: no actual wait, left out
    ("support", 5, 5.0, 2.0, True),  # |5 - 2| / 10 (short waits count as 10 s) = 0.3
    ("support", 61, 5.0, 500.0, True),  # after the hour: left out
    ("support", -1, 5.0, 500.0, True),  # before it: left out
]
# Median and 90th percentile (interpolated) of the errors, by hand.
ESTIMATE_FIGURES = {
    "sales": {"estimates": 3, "median_error": 0.5, "p90_error": 0.9, "reliable": 2,
              "reliable_median_error": 0.25, "reliable_p90_error": 0.45},
    "support": {"estimates": 1, "median_error": 0.3, "p90_error": 0.3, "reliable": 1,
                "reliable_median_error": 0.3, "reliable_p90_error": 0.3},
    "all": {"estimates": 4, "median_error": 0.4, "p90_error": 0.85, "reliable": 3,
            "reliable_median_error": 0.3, "reliable_p90_error": 0.46},
}  # fmt: skip


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
        for queue, minute, estimate, actual, reliable in ESTIMATES:
            session.add(
                WaitEstimateRow(
                    call_id=f"w{minute}", queue=queue, at=T0 + 60 * minute, position=1,
                    estimate_seconds=estimate, actual_seconds=actual, reliable=reliable,
                )
            )  # fmt: skip
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

        estimates = reports.estimates(period())
        assert estimates.queues == {q: ESTIMATE_FIGURES[q] for q in ("sales", "support")}
        assert estimates.totals == ESTIMATE_FIGURES["all"]
        assert reports.estimates(period(), "support").totals == ESTIMATE_FIGURES["support"]
    finally:
        sessions.kw["bind"].dispose()
