"""Hold, resume and blind transfers for an always-connected agent, with a real
Asterisk, a SIPp caller and a baresip phone that answers by itself.

ann works always-connected: her phone is called once at log-in. A caller reaches her
line; she holds (the caller in the music, her line waiting in cc-hold-agent), resumes
(the two bridged again), transfers the caller to another queue (her line goes back
to wait in cc-nailed, not hung up), takes them again from that queue without a ring,
holds and transfers once more (from hold), and ends the call from the desktop. Her
phone saw one call in all: the line. The records have one segment per pass with its
hold and the reasons.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from callcenter.adapters.db.models import CallEventRow, CallRow
from callcenter.core.acd.model import AgentState
from callcenter.simulate.capture import Capture
from callcenter.simulate.procs import wait_for
from tests.e2e.conftest import CallCenter
from tests.e2e.sites import one_queue_site, quiet_queue
from tests.e2e.test_call_control import _legs
from tests.e2e.test_nailed_agents import _calls_to, _channels_of

pytestmark = pytest.mark.e2e


def _site() -> dict[str, Any]:
    site = one_queue_site("ann")
    site["queues"].append(quiet_queue("billing", requirements={"support": 1}))
    return site


def _talking(center: CallCenter, transfers: int) -> bool:
    status = center.get(lambda c: c.agents.status("ann"))
    if status.state is not AgentState.ON_CALL:
        return False
    call = center.get(lambda c: c.calls.get(status.call_id))
    return call is not None and call.transfers == transfers and call.answered_at is not None


def _bridged(center: CallCenter, line: str) -> bool:
    """The line in a bridge with one other channel (the caller)."""
    legs = _legs(center)
    bridge = legs.get(line, ("", ""))[1]
    return bool(bridge) and [b for _, b in legs.values()].count(bridge) == 2


def test_an_always_connected_agent_holds_resumes_and_transfers_on_one_line(
    nailed_center: CallCenter, tmp_path: Path
) -> None:
    center = nailed_center
    center.load_site(_site())
    ann = center.softphone(center.account("ann"), auto_answer=True)
    capture = Capture(tmp_path / "wire.pcap", f"udp and dst host {ann.address}")
    capture.start()
    time.sleep(1.0)  # dumpcap sees every packet a moment after it says it captures
    control = center.controller.call_control
    try:
        center.login("ann")
        ann.wait_event("CALL_ESTABLISHED", 15)
        center.wait_available("ann")
        (line,) = _channels_of(center, "ann")

        placed = center.place_call([1000, "1"], "+15550181", end="await")
        wait_for(lambda: _talking(center, 0), 15, "ann talks")
        wait_for(lambda: _bridged(center, line), 5, "the caller bridged to ann's line")
        time.sleep(1.0)

        center.thread.run(control.hold("ann"))
        wait_for(
            lambda: sorted(_legs(center).values()) == [("cc-hold", ""), ("cc-hold-agent", "")],
            5,
            "the caller in the music, ann's line waiting",
        )
        assert _legs(center)[line] == ("cc-hold-agent", "")
        time.sleep(1.0)
        center.thread.run(control.resume("ann"))
        wait_for(lambda: _bridged(center, line), 5, "the caller back on ann's line")
        time.sleep(0.5)

        # To another queue: the caller leaves, ann's line waits again, then (the only
        # agent, no wrap-up) takes the caller from that queue on the same line (at once:
        # no passing over the agent who transferred, [transfers] avoid_sender = 0).
        control.avoid_sender = 0
        center.thread.run(control.to_queue("ann", "billing", reason="wrong queue"))
        wait_for(lambda: _talking(center, 1), 10, "ann takes the transferred caller")
        wait_for(lambda: _bridged(center, line), 5, "the caller on ann's line again")
        assert _channels_of(center, "ann") == [line]
        time.sleep(0.5)

        # Held, then transferred from hold: the line leaves cc-hold-agent for cc-nailed.
        center.thread.run(control.hold("ann"))
        wait_for(lambda: _legs(center).get(line) == ("cc-hold-agent", ""), 5, "line held")
        center.thread.run(control.to_queue("ann", "support"))
        wait_for(lambda: _talking(center, 2), 10, "ann takes the caller a third time")
        wait_for(lambda: _bridged(center, line), 5, "the caller on ann's line a third time")
        time.sleep(0.5)

        center.thread.run(control.end("ann"))  # the desktop's End call: the line stays
        assert placed.finish().successful == 1
        center.wait_no_calls(10)
        center.wait_available("ann")
        assert _channels_of(center, "ann") == [line]
    finally:
        capture.stop()

    assert len(_calls_to(capture, ann.address)) == 1  # the line's only: no ring after
    assert "CALL_CLOSED" not in ann.event_types()

    (call,) = center.rows(CallRow, CallRow.caller_number == "+15550181")
    assert (call.outcome, call.agent) == ("completed", "ann")
    events = center.rows(CallEventRow, CallEventRow.call_id == call.id)
    segments = [{**e.detail, "agent": e.agent} for e in events if e.kind == "segment"]
    assert [(s["agent"], s["reason"], s["target"], s["holds"]) for s in segments] == [
        ("ann", "transfer-queue", "billing", 1),
        ("ann", "transfer-queue", "support", 1),
        ("ann", "completed", "", 0),
    ], segments
    assert segments[0]["hold"] >= 1.0 and segments[0]["talk"] >= 1.0
    assert [e.kind for e in events].count("held") == 2
