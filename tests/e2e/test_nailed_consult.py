"""Consultation between two always-connected agents, with a real Asterisk, a SIPp
caller and two baresip phones that answer by themselves.

ann and bob work always-connected. The caller talks with ann on her line; ann consults
bob: his line is taken into the consultation (his phone does not ring), then ann
cancels (bob's line goes back to wait, the caller is back with ann), consults again
and completes: the caller goes on with bob on his line, ann's line goes back to wait
and she takes the next caller at once. Their phones saw one call each: their lines.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from callcenter.adapters.db.models import CallEventRow, CallRow
from callcenter.core.acd.model import AgentState
from callcenter.simulate.capture import Capture
from callcenter.simulate.procs import wait_for
from tests.e2e.conftest import CALLER_PORT, CallCenter, Pbx, nailed_callcenter
from tests.e2e.sites import one_queue_site
from tests.e2e.test_call_control import _legs
from tests.e2e.test_nailed_agents import _calls_to, _channels_of
from tests.e2e.test_nailed_control import _bridged

pytestmark = pytest.mark.e2e


def _state(center: CallCenter, agent: str) -> AgentState:
    return center.get(lambda c: c.agents.status(agent).state)  # type: ignore[no-any-return]


@pytest.fixture
def nailed_pair(pbx: Pbx, e2e_database: str, tmp_path: Path) -> Iterator[CallCenter]:
    yield from nailed_callcenter(pbx, e2e_database, tmp_path, "ann", "bob")


def test_two_always_connected_agents_consult_cancel_and_complete_on_their_lines(
    nailed_pair: CallCenter, tmp_path: Path
) -> None:
    center = nailed_pair
    center.load_site(one_queue_site("ann", "bob"))
    ann = center.softphone(center.account("ann"), auto_answer=True)
    bob = center.softphone(center.account("bob"), auto_answer=True)
    capture = Capture(
        tmp_path / "wire.pcap", f"udp and (dst host {ann.address} or dst host {bob.address})"
    )
    capture.start()
    time.sleep(1.0)  # dumpcap sees every packet a moment after it says it captures
    consults = center.controller.consults
    try:
        center.login("ann")
        ann.wait_event("CALL_ESTABLISHED", 15)
        center.wait_available("ann")
        center.login("bob")
        bob.wait_event("CALL_ESTABLISHED", 15)
        center.wait_available("bob")
        (ann_line,) = _channels_of(center, "ann")
        (bob_line,) = _channels_of(center, "bob")
        center.thread.run(center.controller.agents.pause("bob", "break", time.time()))

        placed = center.place_call([1000, "1"], "+15550193", end="await")
        wait_for(lambda: _bridged(center, ann_line), 15, "the caller on ann's line")
        center.thread.run(center.controller.agents.ready("bob", time.time()))
        center.wait_available("bob")
        time.sleep(0.5)

        def consulting() -> bool:
            legs = _legs(center)
            return (
                legs.get(bob_line, ("", ""))[0] == "cc-consult"
                and legs[bob_line][1] != ""
                and legs[bob_line][1] == legs.get(ann_line, ("", ""))[1]
            )

        center.thread.run(consults.start("ann", "bob"))
        wait_for(consulting, 5, "ann and bob bridged, line to line")
        assert not center.get(lambda c: c.agents.available("bob"))
        time.sleep(0.5)
        center.thread.run(consults.cancel("ann"))
        wait_for(lambda: _bridged(center, ann_line), 5, "the caller back with ann")
        wait_for(lambda: _legs(center).get(bob_line) == ("cc-nailed", ""), 5, "bob's line home")
        center.wait_available("bob")

        center.thread.run(consults.start("ann", "bob"))
        wait_for(consulting, 5, "ann and bob bridged again")
        time.sleep(0.5)
        center.thread.run(consults.complete("ann", "billing"))
        wait_for(lambda: _bridged(center, bob_line), 5, "the caller on bob's line")
        wait_for(lambda: _legs(center).get(ann_line) == ("cc-nailed", ""), 5, "ann's line home")
        assert _state(center, "bob") is AgentState.ON_CALL
        center.wait_available("ann")
        time.sleep(0.5)

        # ann takes the next caller at once, on her line; bob ends his call.
        second = center.place_call([1000, "1"], "+15550194", port=CALLER_PORT + 10)
        wait_for(lambda: _state(center, "ann") is AgentState.ON_CALL, 15, "ann's next caller")
        time.sleep(1.0)
        center.thread.run(center.controller.call_control.end("bob"))
        center.thread.run(center.controller.call_control.end("ann"))
        assert placed.finish().successful == 1
        assert second.finish().successful == 1
        center.wait_no_calls(10)
        center.wait_available("ann", "bob")
        assert _channels_of(center, "ann") == [ann_line]
        assert _channels_of(center, "bob") == [bob_line]
    finally:
        capture.stop()

    assert len(_calls_to(capture, ann.address)) == 1
    assert len(_calls_to(capture, bob.address)) == 1
    (call,) = center.rows(CallRow, CallRow.caller_number == "+15550193")
    assert (call.outcome, call.agent) == ("completed", "bob")
    events = center.rows(CallEventRow, CallEventRow.call_id == call.id)
    segments = [{**e.detail, "agent": e.agent} for e in events if e.kind == "segment"]
    assert [(s["agent"], s["reason"], s["target"]) for s in segments] == [
        ("ann", "consult-complete", "bob"),
        ("bob", "completed", ""),
    ], segments
    assert segments[0]["holds"] == 2 and segments[0]["hold"] >= 1.0
