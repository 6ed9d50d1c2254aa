"""First-contact resolution over HTTP (Flask's test client, a real database): repeat
callers within and outside each queue's window, per queue, agent and disposition."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.migrate import upgrade
from callcenter.adapters.db.models import CallRow
from callcenter.core.queues import QueueSettings
from tests.support.console import ConsoleRig, console, login

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 1, 14, 10, 45, tzinfo=PARIS).timestamp()


def at(day: int) -> float:
    return datetime(2026, 1, day, 10, 0, tzinfo=PARIS).timestamp()


def answered(call: str, day: int, queue: str, number: str, agent: str, code: str) -> CallRow:
    when = at(day)
    return CallRow(
        id=call, unique_id=call, caller_number=number, queue=queue, entered_at=when,
        answered_at=when + 10, agent=agent, outcome="completed", disposition=code,
    )  # fmt: skip


def calls() -> list[CallRow]:
    """Fresh rows for each test (a row object belongs to the session that stored it)."""
    return [
        answered("c1", 5, "billing", "+12025550143", "alice", "follow-up"),
        # The same number written nationally, two days later: a repeat of c1 (7-day window).
        answered("c2", 7, "billing", "2025550143", "bob", "resolved"),
        answered("c3", 5, "sales", "1001", "alice", "resolved"),
        # Two days later in sales, whose window is 24 h: not a repeat.
        answered("c4", 7, "sales", "1001", "bob", "resolved"),
        answered("c5", 13, "billing", "+12025550199", "alice", "resolved"),  # window open: pending
    ]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[ConsoleRig]:
    url = f"sqlite:///{tmp_path / 'callcenter.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_sessions(engine).begin() as session:
        session.add_all(calls())
    engine.dispose()
    with console(url, timezone="Europe/Paris") as found:
        found.admin.save_queue(QueueSettings(name="billing"), True)
        found.admin.save_queue(QueueSettings(name="sales", repeat_window_hours=24), True)
        found.clock_at = NOW
        yield found


def figures(row: dict[str, object]) -> tuple[object, ...]:
    return tuple(row[k] for k in ("answered", "repeated", "pending", "resolved", "fcr"))


def test_fcr_per_queue_agent_and_disposition(rig: ConsoleRig) -> None:
    client, headers = rig.client(), rig.token("supervisor")
    body = client.get("/api/reports/fcr?from=2026-01-05&to=2026-01-13", headers=headers)
    found = body.get_json()
    queues = {q["name"]: q for q in found["queues"]}
    assert figures(queues["billing"]) == (3, 1, 1, 1, 0.5)
    assert queues["billing"]["window_hours"] == 168.0
    assert figures(queues["sales"]) == (2, 0, 0, 2, 1.0)
    assert queues["sales"]["window_hours"] == 24.0
    agents = {a["name"]: a for a in found["agents"]}
    assert figures(agents["alice"]) == (3, 1, 1, 1, 0.5)
    assert figures(agents["bob"]) == (2, 0, 0, 2, 1.0)
    codes = {d["name"]: d for d in found["dispositions"]}
    assert figures(codes["follow-up"]) == (1, 1, 0, 0, 0.0)
    assert figures(found["totals"]) == (5, 1, 1, 3, 0.75)

    only = client.get("/api/reports/fcr?from=2026-01-05&to=2026-01-13&queue=sales", headers=headers)
    assert [q["name"] for q in only.get_json()["queues"]] == ["sales"]


def test_a_repeat_after_the_period_still_counts(rig: ConsoleRig) -> None:
    # c1 alone in the period; its repeat (c2) came after it.
    body = rig.client().get(
        "/api/reports/fcr?from=2026-01-05&to=2026-01-06&queue=billing",
        headers=rig.token("supervisor"),
    )
    assert figures(body.get_json()["totals"]) == (1, 1, 0, 0, 0.0)


def test_fcr_is_for_supervisors_and_on_the_page(rig: ConsoleRig) -> None:
    rig.users.add("al", "a long agent password", "agent", agent="alice")
    agent = rig.client()
    login(agent, "al", "a long agent password", page=None)
    assert agent.get("/api/reports/fcr?from=2026-01-05&to=2026-01-13").status_code == 403
    rig.users.add("sue", "a long supervisor password", "supervisor")
    supervisor = rig.client()
    login(supervisor, "sue", "a long supervisor password", page="/reports")
    html = " ".join(supervisor.get("/reports").get_data(as_text=True).split())
    for element in ("fcr-queues", "fcr-agents", "fcr-dispositions"):
        assert f'id="{element}"' in html
    assert "A repeat contact: the same caller entering the same queue again" in html


def test_bad_dates_are_refused(rig: ConsoleRig) -> None:
    response = rig.client().get(
        "/api/reports/fcr?from=2026-01-13&to=2026-01-05", headers=rig.token("supervisor")
    )
    assert response.status_code == 422
