"""A standby controller takes over when the active one is killed (SIGKILL).

Two `callcenter run` processes with `[ha] enabled` on one PostgreSQL and one
Asterisk: the first holds PostgreSQL's advisory lock and serves FastAGI, the
second stands by (no FastAGI, no AMI link; its metrics say it is not active).
Agents are baresip softphones in manual answer mode, callers SIPp. With two
callers talking and two waiting, the active controller is killed; the standby
must hold the lock and run within 5 s, and every caller, those who waited and
one who comes after, reaches an agent; every call has its record.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.models import CallRow, CampaignRow, DialAttemptRow, LeadRow
from callcenter.config import Settings
from callcenter.simulate.procs import stop_process, wait_for
from tests.e2e.conftest import CALLER_PORT, PORT_BASE, CallCenter, Pbx, PlacedCall
from tests.e2e.outage_support import (
    answer,
    channels,
    controller_process,
    hang_up_then_answer,
)
from tests.e2e.outbound_support import (
    Outbound,
    window_around,
    zone_in_hours,
)
from tests.e2e.standby_support import (
    SITE,
    controller_settings,
    end_sessions,
    log_has,
    metrics_active,
)

pytestmark = pytest.mark.e2e

TAKEOVER_LIMIT = 5.0


@pytest.mark.parametrize("e2e_database", ["postgresql"], indirect=True)
def test_the_standby_takes_over_within_5s_and_every_waiting_caller_reaches_an_agent(
    callcenter: CallCenter, pbx: Pbx, tmp_path: Path
) -> None:
    center = callcenter
    center.load_site(SITE)
    ann = center.softphone(center.account("ann"))
    bob = center.softphone(center.account("bob"))
    center.login("ann")  # ann first: the longest idle takes the first call
    center.login("bob")
    center.wait_available("ann", "bob")
    settings: Settings = center.settings
    center.thread.stop()  # the two controllers of this test are processes of their own
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a_settings = controller_settings(settings, "node-a", PORT_BASE + 470)
    b_settings = controller_settings(settings, "node-b", PORT_BASE + 471)
    active = controller_process(a_settings, tmp_path / "a")
    standby = None
    placed: dict[str, PlacedCall] = {}

    def call(number: str, index: int) -> None:
        placed[number] = center.place_call([500], number, number, port=CALLER_PORT + 10 * index)

    try:
        wait_for(lambda: log_has(tmp_path / "a", "controller running"), 30, "node-a running")
        standby = controller_process(b_settings, tmp_path / "b")
        wait_for(lambda: log_has(tmp_path / "b", "standing by"), 30, "node-b standing by")
        # Which one is active: PostgreSQL's lock says, the metrics show it.
        wait_for(lambda: metrics_active(PORT_BASE + 470) == ("node-a", 1), 10, "node-a active")
        wait_for(lambda: metrics_active(PORT_BASE + 471) == ("node-b", 0), 10, "node-b standby")
        time.sleep(2.0)  # node-a's AMI login and first resynchronisation
        call("5554001", 0)
        answer(ann, "5554001")
        call("5554002", 1)
        answer(bob, "5554002")
        call("5554003", 2)
        call("5554004", 3)
        wait_for(
            lambda: list(channels(pbx).values()).count("cc-wait") == 2, 15, "two callers waiting"
        )
        assert "FastAGI listening" not in (tmp_path / "b" / "controller.log").read_text()

        active.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        active.wait(5)
        wait_for(
            lambda: log_has(tmp_path / "b", "controller running"), TAKEOVER_LIMIT, "node-b running"
        )
        takeover = time.monotonic() - killed
        assert takeover < TAKEOVER_LIMIT, takeover
        assert metrics_active(PORT_BASE + 471) == ("node-b", 1)
        # The agents hang up at once, while node-b is still re-reading Asterisk and
        # adopting the calls: calls that end during the resynchronisation are recorded.

        # The two who waited reach the agents as they free up, then a new caller too.
        first = hang_up_then_answer(ann, "5554003", "5554004", timeout=20)
        hang_up_then_answer(bob, *({"5554003", "5554004"} - {first}), timeout=20)
        call("5554005", 4)
        hang_up_then_answer(ann, "5554005", timeout=20)
        bob.hangup()
        ann.hangup()
        for number, caller in placed.items():
            result = caller.finish(20)
            assert (result.successful, result.failed) == (1, 0), (number, result.log)
        wait_for(lambda: not channels(pbx), 15, "every call over")
        stop_process(standby)  # a clean stop: every record written
        assert standby.returncode == 0, standby.returncode
    finally:
        stop_process(active)
        if standby is not None:
            stop_process(standby)

    engine = make_engine(center.database_url)
    try:
        with make_sessions(engine)() as session:
            rows = {row.caller_number: row for row in session.scalars(select(CallRow))}
    finally:
        engine.dispose()
    assert set(rows) == set(placed), sorted(rows)
    for number, row in rows.items():
        assert row.answered_at is not None and row.ended_at is not None, number
        assert row.agent in ("ann", "bob"), (number, row.agent)
        assert row.outcome == "completed", (number, row.outcome)
    assert {rows["5554001"].agent, rows["5554002"].agent} == {"ann", "bob"}
    print(f"takeover {takeover:.2f}s")


@pytest.mark.parametrize("e2e_database", ["postgresql"], indirect=True)
def test_an_active_controller_whose_lock_session_ends_stops_at_once_and_the_standby_serves(
    callcenter: CallCenter, pbx: Pbx, tmp_path: Path
) -> None:
    """Not killed: its PostgreSQL session is ended under it (what a network cut or a
    DBA does). It must stop acting and end, and the standby take the calls."""
    center = callcenter
    center.load_site(SITE)
    ann = center.softphone(center.account("ann"))
    center.login("ann")
    center.wait_available("ann")
    settings: Settings = center.settings
    center.thread.stop()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a_settings = controller_settings(settings, "node-a", PORT_BASE + 470)
    active = controller_process(a_settings, tmp_path / "a")
    standby = None
    try:
        wait_for(lambda: log_has(tmp_path / "a", "controller running"), 30, "node-a running")
        standby = controller_process(
            controller_settings(settings, "node-b", PORT_BASE + 471), tmp_path / "b"
        )
        wait_for(lambda: log_has(tmp_path / "b", "active controller is node-a"), 30, "a standby")
        cut = time.monotonic()
        end_sessions(center.database_url, "callcenter-controller:node-a")
        active.wait(10)
        stopped = time.monotonic() - cut
        print(f"stopped {stopped:.2f}s after its session ended")
        assert active.returncode != 0
        assert log_has(tmp_path / "a", "lost the lock")
        assert stopped < 5.0, stopped
        wait_for(lambda: log_has(tmp_path / "b", "controller running"), 5, "node-b running")
        time.sleep(1.0)  # node-b's AMI login and resynchronisation
        placed = center.place_call([500], "5554101", "5554101", port=CALLER_PORT)
        answer(ann, "5554101", timeout=20)
        ann.hangup()
        result = placed.finish(20)
        assert (result.successful, result.failed) == (1, 0), result.log
    finally:
        stop_process(active)
        if standby is not None:
            stop_process(standby)


def _set_campaign(url: str, campaign_id: int, status: str) -> None:
    engine = make_engine(url)
    try:
        with make_sessions(engine).begin() as session:
            session.execute(
                update(CampaignRow).where(CampaignRow.id == campaign_id).values(status=status)
            )
    finally:
        engine.dispose()


def _rows(url: str, model: Any, *where: Any) -> list[Any]:
    engine = make_engine(url)
    try:
        with make_sessions(engine)() as session:
            return list(session.scalars(select(model).where(*where)))
    finally:
        engine.dispose()


@pytest.mark.parametrize("e2e_database", ["postgresql"], indirect=True)
def test_a_campaign_goes_on_after_a_takeover_and_no_lead_is_dialled_twice(
    outbound: Outbound, pbx: Pbx, tmp_path: Path
) -> None:
    """A progressive campaign, two agents on auto-answer, customers who pick up (SIPp):
    the active controller is killed while both agents talk to customers. The standby
    goes on with the other leads; the two whose calls it did not see end are not
    dialled again (held for the quiet period); every customer got exactly one call."""
    center = outbound.center
    outbound.site("agent1", "agent2")
    zone = zone_in_hours()
    numbers = ["+12125550130", "+12125550141", "+12125550152", "+12125550163"]  # people
    campaign = outbound.campaign(
        "spring", [(n, zone) for n in numbers], status="paused", mode="progressive",
        windows=window_around(zone),
    )  # fmt: skip
    url = center.database_url
    settings: Settings = center.settings
    center.thread.stop()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    active = controller_process(
        controller_settings(settings, "node-a", PORT_BASE + 470), tmp_path / "a"
    )
    standby = None
    phones = list(outbound.phones.values())
    try:
        wait_for(lambda: log_has(tmp_path / "a", "controller running"), 30, "node-a running")
        standby = controller_process(
            controller_settings(settings, "node-b", PORT_BASE + 471), tmp_path / "b"
        )
        wait_for(lambda: log_has(tmp_path / "b", "active controller is node-a"), 30, "a standby")
        time.sleep(1.0)  # node-a's AMI login and resynchronisation
        _set_campaign(url, campaign, "running")
        for phone in phones:  # both agents talking to a customer
            phone.wait_event("CALL_ESTABLISHED", 30)
        talking = [lead.phone for lead in _rows(url, LeadRow, LeadRow.status == "dialing")]
        assert len(talking) == 2, talking
        active.send_signal(signal.SIGKILL)
        active.wait(5)
        wait_for(lambda: log_has(tmp_path / "b", "controller running"), 5, "node-b running")
        time.sleep(1.0)
        marks = []
        for phone in phones:  # the calls node-a placed end now
            seen = len(phone.events)
            phone.hangup()
            phone.wait_event("CALL_CLOSED", 10, after=seen)
            marks.append(len(phone.events))
        # node-b dials the two other leads, one per agent; each talks briefly.
        for phone, mark in zip(phones, marks, strict=True):
            phone.wait_event("CALL_ESTABLISHED", 30, after=mark)
        time.sleep(1.5)
        for phone in phones:
            phone.hangup()
        others = set(numbers) - set(talking)
        wait_for(
            lambda: all(
                lead.status == "done" for lead in _rows(url, LeadRow) if lead.phone in others
            ),
            30,
            "the other leads done",
        )
    finally:
        stop_process(active)
        if standby is not None:
            stop_process(standby)

    leads = {lead.phone: lead for lead in _rows(url, LeadRow)}
    attempts = _rows(url, DialAttemptRow, DialAttemptRow.campaign_id == campaign)
    dialled = sorted(a.number for a in attempts if a.dialled)
    assert dialled == sorted(numbers), dialled  # each customer dialled once
    for number in talking:  # placed by node-a, their end unseen by node-b
        assert (leads[number].status, leads[number].last_outcome) == ("scheduled", "unobserved")
        assert leads[number].next_attempt_at > time.time() + 70 * 3600
    for number in set(numbers) - set(talking):
        assert leads[number].status == "done", (number, leads[number].status)
    assert outbound.customer_calls(4) == 4
