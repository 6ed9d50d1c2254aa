"""No lost calls: the controller is killed (SIGKILL) while callers wait.

The controller that dies runs as its own process (`callcenter run`), so the
kill is real: its AMI and FastAGI sockets vanish at once. The waiting callers
notice the silent heartbeat and move to the plain Asterisk fallback queue,
whose members the controller kept in step; a call arriving meanwhile finds
no FastAGI server and goes there too. Agents are baresip softphones in
manual answer mode. Then a controller starts again (in-process, to look
inside it) and its view is compared with what Asterisk shows.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from callcenter.adapters.db.models import CallEventRow
from callcenter.core.acd.model import AgentState
from callcenter.core.calls.state import CallState
from callcenter.simulate.loop_thread import ControllerThread
from callcenter.simulate.procs import stop_process, wait_for
from tests.e2e.conftest import CALLER_PORT, CallCenter, Pbx, PlacedCall
from tests.e2e.outage_support import (
    answer,
    call_row,
    channels,
    controller_process,
    fallback_callers,
    hang_up_then_answer,
    wait_running,
)
from tests.e2e.sites import direct_queue_site

pytestmark = pytest.mark.e2e


def test_waiting_callers_reach_agents_through_the_fallback_queue_when_the_controller_dies(
    callcenter: CallCenter, pbx: Pbx, tmp_path: Path
) -> None:
    center = callcenter
    center.load_site(direct_queue_site("ann", "bob"))
    ann = center.softphone(center.account("ann"))
    bob = center.softphone(center.account("bob"))
    center.login("ann")  # ann first: the longest idle takes the first call
    center.login("bob")
    center.wait_available("ann", "bob")
    # This controller stops cleanly; the one that dies is a process of its own.
    settings = center.settings
    center.thread.stop()
    process = controller_process(settings, tmp_path)
    placed: dict[str, PlacedCall] = {}

    def call(number: str, index: int) -> None:
        placed[number] = center.place_call([500], number, number, port=CALLER_PORT + 10 * index)

    try:
        wait_running(tmp_path, process)
        call("5553001", 0)
        answer(ann, "5553001")
        call("5553002", 1)
        answer(bob, "5553002")
        call("5553003", 2)
        call("5553004", 3)
        wait_for(
            lambda: list(channels(pbx).values()).count("cc-wait") == 2, 15, "two callers waiting"
        )

        process.send_signal(signal.SIGKILL)
        process.wait(5)
        # The heartbeat falls silent: both waiting callers move to the fallback queue.
        wait_for(lambda: fallback_callers(pbx) == 2, 15, "two callers in the fallback queue")
        # A call arriving now finds no controller at all and goes there too.
        call("5553005", 4)
        wait_for(lambda: fallback_callers(pbx) == 3, 15, "the new caller in the fallback queue")
        # Agents freed by their callers get the fallback queue's callers, first
        # the two who waited (in the order they noticed the silence), then the new one.
        first = hang_up_then_answer(ann, "5553003", "5553004")
        second = hang_up_then_answer(bob, *({"5553003", "5553004"} - {first}))
        assert fallback_callers(pbx) == 1
    finally:
        stop_process(process)

    # A controller again: its view is rebuilt from Asterisk and the database.
    center.thread = ControllerThread(settings)
    center.start()
    view = center.controller.view
    wait_for(lambda: center.get(lambda c: c.recovery.runs) >= 1, 15, "a recovery run")
    # The caller who came meanwhile (no menu heard) is taken back through the IVR into
    # our line: the only one waiting, in cc-wait, the fallback queues empty.
    wait_for(
        lambda: (
            center.get(lambda c: [x.caller for x in c.calls.in_state(CallState.WAITING)])
            == ["5553005"]
            and list(channels(pbx).values()).count("cc-wait") == 1
        ),
        10,
        "the new caller back in our line",
    )
    asterisk = channels(pbx)
    seen = {c.name for c in center.get(lambda c: view.table.channels())}
    assert seen == set(asterisk), (seen, asterisk)
    assert fallback_callers(pbx) == 0
    for agent in ("ann", "bob"):
        assert center.get(lambda c, a=agent: c.agents.status(a).state) is AgentState.ON_CALL
    # The calls the fallback queue connected are known again, with their agents.
    talking = {
        (call.caller, call.agent)
        for call in center.get(lambda c: c.calls.in_state(CallState.TALKING))
    }
    assert talking == {(first, "ann"), (second, "bob")}

    # The caller who arrived while the controller was down reaches an agent too.
    hang_up_then_answer(ann, "5553005")
    # ann's fallback call ended: the controller saw it and released her from that call.
    bob.hangup()
    wait_for(
        lambda: center.get(lambda c: c.agents.status("bob").state) is not AgentState.ON_CALL,
        10,
        "bob released after his fallback call",
    )
    ann.hangup()
    for number, caller in placed.items():
        result = caller.finish(20)
        assert (result.successful, result.failed) == (1, 0), (number, result.log)

    for number in ("5553003", "5553004"):
        row = call_row(center, number)
        kinds = [e.kind for e in center.rows(CallEventRow, CallEventRow.call_id == row.id)]
        assert "fallback" in kinds, (number, kinds)
        assert row.outcome == "completed", row.outcome  # seen to its end after the restart
    # The calls that ended while no controller ran are completed at the restart from
    # Asterisk's channel event log: answered by their agent, who ended them.
    for number, agent in (("5553001", "ann"), ("5553002", "bob")):
        row = call_row(center, number)
        assert (row.agent, row.outcome) == (agent, "completed")
        assert row.ended_at is not None and row.answered_at is not None
        assert row.talk_seconds and row.talk_seconds > 1.0
