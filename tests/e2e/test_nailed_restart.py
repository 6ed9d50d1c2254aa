"""Always-connected agents' lines survive the controller: a stop, then kill -9, during
a consultation, each followed by a restart.

ann and bob work always-connected. The first controller puts a caller through to
ann's line; ann consults bob (his line taken into the consultation) and the
controller stops there. A controller of its own process (so the kill is real) adopts
both lines and carries the consultation on (the caller stays on hold meanwhile). It
is killed too. The controller started again adopts the lines and the consultation:
ann cancels it, bob's line goes back to wait, the caller is back with ann. She ends
the call from the desktop, her line stays, and the next caller reaches her on it.
Each phone saw one call in all: its line.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from callcenter.adapters.db.models import CallRow
from callcenter.core.acd.model import AgentState
from callcenter.simulate.capture import Capture
from callcenter.simulate.loop_thread import ControllerThread
from callcenter.simulate.procs import stop_process, wait_for
from tests.e2e.conftest import CallCenter, Pbx, nailed_callcenter
from tests.e2e.outage_support import controller_process, wait_running
from tests.e2e.sites import one_queue_site
from tests.e2e.test_call_control import _legs
from tests.e2e.test_nailed_agents import _calls_to, _channels_of
from tests.e2e.test_nailed_control import _bridged

pytestmark = pytest.mark.e2e


@pytest.fixture
def nailed_center(pbx: Pbx, e2e_database: str, tmp_path: Path) -> Iterator[CallCenter]:
    yield from nailed_callcenter(pbx, e2e_database, tmp_path, "ann", "bob")


def _consulting(center: CallCenter, line: str, bob_line: str) -> bool:
    """ann's line bridged with bob's in cc-consult, the caller alone in the music."""
    legs = _legs(center)
    held = [name for name, (context, _) in legs.items() if context == "cc-hold"]
    bridge = legs.get(line, ("", ""))[1]
    return (
        len(held) == 1
        and bool(bridge)
        and legs.get(bob_line) == ("cc-consult", bridge)
        and legs[held[0]][1] == ""
    )


def _state(center: CallCenter) -> AgentState:
    return center.get(lambda c: c.agents.status("ann").state)  # type: ignore[no-any-return]


def test_lines_and_a_consultation_are_adopted_after_a_stop_and_a_kill(
    nailed_center: CallCenter, tmp_path: Path
) -> None:
    center = nailed_center
    center.load_site(one_queue_site("ann", "bob"))
    ann = center.softphone(center.account("ann"), auto_answer=True)
    bob = center.softphone(center.account("bob"), auto_answer=True)
    capture = Capture(
        tmp_path / "wire.pcap", f"udp and (dst host {ann.address} or dst host {bob.address})"
    )
    capture.start()
    time.sleep(1.0)  # dumpcap sees every packet a moment after it says it captures
    try:
        center.login("ann")
        ann.wait_event("CALL_ESTABLISHED", 15)
        center.wait_available("ann")
        center.login("bob")
        bob.wait_event("CALL_ESTABLISHED", 15)
        center.wait_available("bob")
        (line,) = _channels_of(center, "ann")
        (bob_line,) = _channels_of(center, "bob")
        center.thread.run(center.controller.agents.pause("bob", "break", time.time()))
        first = center.place_call([1000, "1"], "+15550191", end="await")
        wait_for(lambda: _bridged(center, line), 15, "the caller on ann's line")
        center.thread.run(center.controller.agents.ready("bob", time.time()))
        center.wait_available("bob")
        center.thread.run(center.controller.consults.start("ann", "bob"))
        wait_for(lambda: _bridged(center, bob_line), 5, "ann consulting bob, line to line")
        assert _legs(center)[bob_line][1] == _legs(center)[line][1]
        settings = center.thread.settings
        center.thread.stop()  # the lines and the consultation stay up in Asterisk

        process = controller_process(settings, tmp_path)
        try:
            wait_running(tmp_path, process)
            # This controller called neither phone: it found both lines and the
            # consultation still whole (the caller kept on hold while nobody heard the
            # controller, ann and bob still talking), and carries it on.
            time.sleep(1.0)
            assert _consulting(center, line, bob_line), _legs(center)
            process.send_signal(signal.SIGKILL)  # during the consultation again
            process.wait(5)
        finally:
            stop_process(process)

        center.thread = ControllerThread(settings)
        center.start()
        wait_for(lambda: center.get(lambda c: c.recovery.runs) >= 1, 15, "a recovery run")
        wait_for(lambda: center.get(lambda c: c.consults.of("ann")), 5, "the consultation")
        assert _consulting(center, line, bob_line), _legs(center)
        assert center.get(lambda c: not c.agents.available("bob"))  # his line is lent
        # Cancel works as before the restarts: bob's line back to wait, the caller back
        # with ann on her line.
        center.thread.run(center.controller.consults.cancel("ann"))
        wait_for(lambda: _bridged(center, line), 10, "the caller back on ann's line")
        wait_for(lambda: _legs(center).get(bob_line) == ("cc-nailed", ""), 5, "bob's line")
        # The conversation under way is hers again, on the same line.
        wait_for(lambda: _state(center) is AgentState.ON_CALL, 5, "ann on the call")
        assert center.get(lambda c: c.nailed.lines["ann"].channel) == line
        center.thread.run(center.controller.call_control.end("ann"))
        assert first.finish().successful == 1
        center.wait_no_calls(10)
        center.wait_available("ann")

        center.thread.run(center.controller.agents.pause("bob", "break", time.time()))
        second = center.place_call([1000, "1"], "+15550192", end="await")
        wait_for(lambda: _state(center) is AgentState.ON_CALL, 15, "ann takes the next caller")
        wait_for(lambda: _bridged(center, line), 5, "the next caller on ann's line")
        time.sleep(1.0)  # the caller's script (its key's sound) is over before the BYE
        center.thread.run(center.controller.call_control.end("ann"))
        assert second.finish().successful == 1
        center.wait_no_calls(10)
        center.wait_available("ann")
        assert _channels_of(center, "ann") == [line]
    finally:
        capture.stop()

    # Each phone's line only, never dialled again.
    assert len(_calls_to(capture, ann.address)) == len(_calls_to(capture, bob.address)) == 1
    assert "CALL_CLOSED" not in ann.event_types() + bob.event_types()
    for number in ("+15550191", "+15550192"):
        (call,) = center.rows(CallRow, CallRow.caller_number == number)
        assert (call.outcome, call.agent) == ("completed", "ann"), number
        assert call.talk_seconds is not None and call.talk_seconds > 0.5, number
