"""Post-call survey reports over HTTP (Flask's test client, a real database): CSAT and
response rate per interval, queue, agent and disposition, as JSON and CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.migrate import upgrade
from callcenter.adapters.db.models import CallRow
from callcenter.adapters.db.survey_results import SurveyRepository
from callcenter.core.survey import SurveyResult
from tests.support.console import ConsoleRig, console

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 1, 14, 18, 0, tzinfo=PARIS).timestamp()


def at(hour: int, minute: int = 0) -> float:
    return datetime(2026, 1, 14, hour, minute, tzinfo=PARIS).timestamp()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[ConsoleRig]:
    url = f"sqlite:///{tmp_path / 'callcenter.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_sessions(engine)
    with sessions.begin() as session:
        session.add(CallRow(id="c1", unique_id="u1", entered_at=at(9), disposition="resolved"))
    surveys = SurveyRepository(sessions)
    surveys.add(SurveyResult("c1", at(9, 10), "billing", "alice", (5, 4)))
    surveys.add(SurveyResult("c2", at(9, 40), "billing", "bob", (2, None)))
    surveys.add(SurveyResult("c3", at(10, 5), "billing", "alice", (None, None)))  # hung up
    surveys.add(SurveyResult("c4", at(10, 20), "sales", "=bob", (3,)))  # a risky CSV cell
    engine.dispose()
    with console(url, timezone="Europe/Paris") as found:
        found.clock_at = NOW
        yield found


def test_csat_per_interval_queue_agent_and_disposition(rig: ConsoleRig) -> None:
    client, headers = rig.client(), rig.token("supervisor")
    answer = client.get("/api/reports/csat?from=2026-01-14&to=2026-01-14", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    found = answer.get_json()
    totals = found["totals"]
    assert (totals["offered"], totals["responded"], totals["ratings"], totals["satisfied"]) == (
        4, 3, 4, 2,
    )  # fmt: skip
    assert (totals["response_rate"], totals["csat"], totals["mean_score"]) == (0.75, 0.5, 3.5)
    queues = {q["queue"]: q for q in found["queues"]}
    assert (queues["billing"]["offered"], queues["billing"]["response_rate"]) == (3, 0.667)
    agents = {a["agent"]: a for a in found["agents"]}
    assert (agents["alice"]["offered"], agents["alice"]["csat"]) == (2, 1.0)
    assert agents["alice"]["response_rate"] == 0.5  # c3 hung up instead
    codes = {d["disposition"]: d for d in found["dispositions"]}
    assert codes["resolved"]["offered"] == 1 and codes[""]["offered"] == 3
    hours = {i["start"][11:16]: i for i in found["intervals"]}
    assert len(hours) == 24 and hours["09:00"]["offered"] == 2 and hours["10:00"]["offered"] == 2
    assert hours["08:00"]["offered"] == 0 and hours["08:00"]["csat"] is None

    one = client.get("/api/reports/csat?from=2026-01-14&to=2026-01-14&agent=alice", headers=headers)
    assert one.get_json()["totals"]["offered"] == 2
    sales = client.get(
        "/api/reports/csat?from=2026-01-14&to=2026-01-14&queue=sales", headers=headers
    )
    assert sales.get_json()["totals"]["offered"] == 1


def test_the_csat_csv_has_the_same_numbers_and_no_formula(rig: ConsoleRig) -> None:
    client, headers = rig.client(), rig.token("supervisor")
    answer = client.get("/api/reports/csat.csv?from=2026-01-14&to=2026-01-14", headers=headers)
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    (total,) = [r for r in rows if r["kind"] == "total"]
    assert (total["offered"], total["response_rate"], total["csat"]) == ("4", "0.75", "0.5")
    agents = {r["name"]: r for r in rows if r["kind"] == "agent"}
    assert "'=bob" in agents and agents["alice"]["csat"] == "1.0"
    assert len([r for r in rows if r["kind"] == "interval"]) == 24


def test_csat_needs_a_supervisor(rig: ConsoleRig) -> None:
    client = rig.client()
    assert client.get("/api/reports/csat?from=2026-01-14&to=2026-01-14").status_code == 401
    agent = rig.token("agent")
    answer = client.get("/api/reports/csat?from=2026-01-14&to=2026-01-14", headers=agent)
    assert answer.status_code == 403
