"""Repeat contacts read from the database (SQLite and PostgreSQL): the report's
contacts carry the caller's key, and the screen pop's earlier calls are found
however the caller's number was written on them."""

from __future__ import annotations

from callcenter.adapters.db.customers import CustomerRepository
from callcenter.adapters.db.desktop_records import DesktopRecords
from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.models import CallRow
from callcenter.adapters.db.report_queries import ReportQueries

T0 = 1_768_000_000.0


def row(call: str, at: float, number: str, queue: str = "billing", agent: str = "") -> CallRow:
    answered = at + 5 if agent else None
    return CallRow(
        id=call, unique_id=call, caller_number=number, queue=queue, entered_at=at,
        answered_at=answered, agent=agent, disposition="resolved" if agent else "",
    )  # fmt: skip


def test_contacts_and_earlier_calls_match_one_number_written_two_ways(database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = make_sessions(engine)
    try:
        with sessions.begin() as session:
            session.add_all([
                row("a", T0, "+12025550143", agent="alice"),
                row("b", T0 + 3600, "2025550143"),
                row("c", T0 + 7200, "+12025550199", agent="bob"),
                row("d", T0 + 7300, "2025550143", queue=""),  # never entered a queue
            ])  # fmt: skip
        contacts = ReportQueries(sessions).contacts(T0, T0 + 86400)
        assert [(c.call_id, c.caller, c.answered, c.agent) for c in contacts] == [
            ("a", "number:+12025550143", True, "alice"),
            ("b", "number:+12025550143", False, ""),
            ("c", "number:+12025550199", True, "bob"),
        ]
        records = DesktopRecords(sessions, CustomerRepository(sessions))
        now = records.call("d")
        assert now is not None
        earlier = records.earlier_calls(now, None)
        assert [r.id for r in earlier] == ["b", "a"]  # newest first, both spellings
    finally:
        engine.dispose()
