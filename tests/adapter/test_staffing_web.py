"""Forecast and staffing over HTTP (Flask's test client, a real database, no
Asterisk): five weeks of a regular history go in, the forecast gives them back,
the agents needed are the Erlang answers for them, and the CSV is the JSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.migrate import upgrade
from callcenter.adapters.db.models import AgentStateLogRow, CallEventRow
from callcenter.adapters.web.areas.staffing import COLUMNS
from callcenter.adapters.web.csv_export import cell
from callcenter.core.queues import QueueSettings
from callcenter.core.workforce.erlang import Goal, agents_needed
from tests.support.console import ConsoleRig, console, login

PARIS = ZoneInfo("Europe/Paris")
TODAY = datetime(2026, 1, 14, tzinfo=PARIS)  # a Wednesday
NOW = (TODAY + timedelta(hours=10, minutes=45)).timestamp()
TALK, WRAPUP, WAIT, GAVE_UP_AFTER = 170.0, 10.0, 5.0, 60.0
ANSWERED = 6  # each weekday 10:00-10:30, plus one caller who gives up


def event(call: str, at: float, kind: str, agent: str = "", **detail: object) -> CallEventRow:
    return CallEventRow(call_id=call, at=at, kind=kind, agent=agent, detail=detail)


def state(at: float, name: str) -> AgentStateLogRow:
    return AgentStateLogRow(agent="alice", state=name, at=at, reason="")


def history() -> tuple[list[CallEventRow], list[AgentStateLogRow]]:
    """Weekdays: alice logged in 09:00-17:00; 10:00-10:30, six calls answered after
    5 s and one caller who gives up after 60 s. Today: alice in since 09:00."""
    events, states = [], []
    for back in range(35, -1, -1):
        day = (TODAY - timedelta(days=back)).timestamp()
        if (TODAY - timedelta(days=back)).weekday() >= 5:
            continue
        states.append(state(day + 9 * 3600, "ready"))
        if not back:
            continue
        states.append(state(day + 17 * 3600, "logged_out"))
        start = day + 10 * 3600
        for n in range(ANSWERED):
            call, at = f"{back}-{n}", start + n * 240 + WAIT
            events += [
                event(call, at - WAIT, "queued", queue="sales"),
                event(call, at, "answered", "alice"),
                event(call, at + TALK, "completed", "alice", talk=TALK),
                event(call, at + TALK + WRAPUP, "wrapup", "alice", seconds=WRAPUP),
            ]
        events += [
            event(f"{back}-gone", start + 60, "queued", queue="sales"),
            event(f"{back}-gone", start + 60 + GAVE_UP_AFTER, "abandoned"),
        ]
    return events, states


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[ConsoleRig]:
    url = f"sqlite:///{tmp_path / 'callcenter.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_sessions(engine).begin() as session:
        events, states = history()
        session.add_all([*events, *states])
    engine.dispose()
    with console(url, timezone="Europe/Paris") as found:
        found.admin.save_queue(QueueSettings(name="sales", service_level_target=20.0), True)
        found.clock_at = NOW
        yield found


QUERY = "queue=sales&days=7&interval=30&weeks=4"


def test_the_forecast_and_the_staffing_follow_the_history(rig: ConsoleRig) -> None:
    client, headers = rig.client(), rig.token("supervisor")
    body = client.get(f"/api/reports/staffing?{QUERY}", headers=headers).get_json()
    assert body["queue"] == "sales" and body["timezone"] == "Europe/Paris"
    assert body["history_days"] == 35
    assert "weighted seasonal average" in body["method"]
    # A history that repeats exactly is forecast exactly, held-out week included.
    assert body["forecast_error"]["wape"] == 0.0
    assert body["forecast_error"]["actual_calls"] == 5 * (ANSWERED + 1)
    # (6 answered x 5 s + 1 x 60 s) of waiting per abandon.
    assert body["patience_seconds"] == pytest.approx(ANSWERED * WAIT + GAVE_UP_AFTER)
    assert body["patience_measured"] is True
    rows = {row["start"]: row for row in body["intervals"]}
    assert len(rows) == 7 * 48
    busy = rows["2026-01-15T10:00+01:00"]  # tomorrow, a Thursday
    assert busy["calls"] == ANSWERED + 1 and busy["aht_seconds"] == TALK + WRAPUP
    rate = (ANSWERED + 1) / 1800
    c = agents_needed(rate, TALK + WRAPUP, Goal(0.8, 20.0, 0.85))
    a = agents_needed(rate, TALK + WRAPUP, Goal(0.8, 20.0, 0.85), patience=90.0)
    assert busy["agents_erlang_c"] == c.agents and busy["agents_erlang_a"] == a.agents
    assert busy["service_level_erlang_c"] == round(c.service_level, 4)
    assert a.agents <= c.agents
    assert busy["logged_in"] is None  # not yet
    assert busy["logged_in_week_before"] == 1.0
    saturday = rows["2026-01-17T10:00+01:00"]
    assert saturday["calls"] == 0 and saturday["agents_erlang_c"] == 0
    today = rows["2026-01-14T10:00+01:00"]
    assert today["logged_in"] == 1.0  # alice, ready since 09:00
    assert rows["2026-01-14T08:00+01:00"]["logged_in"] == 0.0


def test_csv_is_the_json_and_only_for_supervisors(rig: ConsoleRig) -> None:
    client, headers = rig.client(), rig.token("supervisor")
    body = client.get(f"/api/reports/staffing?{QUERY}", headers=headers).get_json()
    response = client.get(f"/api/reports/staffing.csv?{QUERY}", headers=headers)
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["queue", *COLUMNS]
    assert len(rows) == 1 + 7 * 48
    first = dict(zip(rows[0], rows[1], strict=True))
    expected = body["intervals"][0]
    assert first["start"] == expected["start"]
    assert first["agents_erlang_c"] == str(expected["agents_erlang_c"])
    assert first["logged_in"] == (
        "" if expected["logged_in"] is None else str(expected["logged_in"])
    )

    agent = rig.client()
    rig.users.add("al", "a long agent password", "agent", agent="alice")
    login(agent, "al", "a long agent password", page=None)
    assert agent.get(f"/api/reports/staffing?{QUERY}").status_code == 403
    assert agent.get(f"/api/reports/staffing.csv?{QUERY}").status_code == 403


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("queue=nosuch", "queue"),
        ("queue=sales&interval=20", "interval"),
        ("queue=sales&days=15", "days"),
        ("queue=sales&level=1", "level"),
        ("queue=sales&patience=-3", "patience"),
        ("queue=Sales!", "queue"),
        ("queue=sales&max_occupancy=0.00001", "max_occupancy"),
    ],
)
def test_bad_queries_name_the_field(rig: ConsoleRig, query: str, field: str) -> None:
    response = rig.client().get(f"/api/reports/staffing?{query}", headers=rig.token("supervisor"))
    assert response.status_code == 422
    assert field in response.get_json()["detail"]["query"]


def test_a_given_patience_replaces_the_measured_one(rig: ConsoleRig) -> None:
    body = (
        rig.client()
        .get(f"/api/reports/staffing?{QUERY}&patience=600", headers=rig.token("supervisor"))
        .get_json()
    )
    assert body["patience_seconds"] == 600 and body["patience_measured"] is False


def test_cells_that_a_spreadsheet_would_run_are_neutralised() -> None:
    assert cell('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert [cell(t) for t in ("+1", "-1", "@SUM(A1)", "\tx")] == ["'+1", "'-1", "'@SUM(A1)", "'\tx"]
    assert cell("sales") == "sales" and cell(None) == ""
    assert cell(-2.5) == -2.5  # a number is written as a number


def test_the_reports_page_has_the_section(rig: ConsoleRig) -> None:
    rig.users.add("sue", "a long supervisor password", "supervisor")
    supervisor = rig.client()
    login(supervisor, "sue", "a long supervisor password", page="/reports")
    html = supervisor.get("/reports").get_data(as_text=True)
    for element in ("staffing-form", "staffing-queue", "staffing-table", "staffing-csv"):
        assert f'id="{element}"' in html, element
    assert "weighted seasonal average" in html and 'src="/static/staffing.js"' in html
    assert '<option value="sales">sales</option>' in html
