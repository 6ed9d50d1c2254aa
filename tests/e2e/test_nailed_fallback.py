"""While the controller is down, the fallback queue reaches an always-connected agent
through their line, not by ringing their phone.

ann works always-connected: her phone is called once at log-in and waits in cc-nailed.
The controller stops. A caller arrives: no FastAGI answers, the caller goes to the
fallback queue, whose member for ann is Local/ann@cc-fallback-line (core/acd/
fallback.py): the caller is bridged to her waiting line. Her phone saw one call in
all (its line), the caller hears her (RTP counted), and when the caller hangs up the
line goes back to wait. A controller started again finds the line and ann ready.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from callcenter.core.acd.model import AgentState
from callcenter.simulate.capture import Capture
from callcenter.simulate.loop_thread import ControllerThread
from callcenter.simulate.procs import wait_for
from tests.e2e.conftest import CallCenter
from tests.e2e.outage_support import fallback_callers
from tests.e2e.sites import one_queue_site
from tests.e2e.test_call_control import CALLER_MEDIA_PORT, _legs, _packets_to_caller
from tests.e2e.test_nailed_agents import _calls_to, _channels_of

pytestmark = pytest.mark.e2e


def test_the_fallback_queue_bridges_a_caller_to_an_always_connected_agent_s_line(
    nailed_center: CallCenter, tmp_path: Path
) -> None:
    center = nailed_center
    center.load_site(one_queue_site("ann"))
    ann = center.softphone(center.account("ann"), auto_answer=True)
    capture = Capture(
        tmp_path / "wire.pcap", f"udp and (dst host {ann.address} or dst port {CALLER_MEDIA_PORT})"
    )
    capture.start()
    time.sleep(1.0)  # dumpcap sees every packet a moment after it says it captures
    try:
        center.login("ann")
        ann.wait_event("CALL_ESTABLISHED", 15)
        center.wait_available("ann")
        (line,) = _channels_of(center, "ann")
        members = center.pbx.cli("queue show cc-fallback")
        assert "Local/ann@cc-fallback-line/n" in members and "PJSIP/ann" not in members

        settings = center.thread.settings
        center.thread.stop()  # no controller: no FastAGI, the heartbeat silent
        placed = center.place_call([4000], "+15550195", end="bye")
        wait_for(lambda: _bridged_to_local(center, line), 20, "the caller on ann's line")
        assert fallback_callers(center.pbx) == 0
        talk = (time.time() + 0.5, time.time() + 2.5)
        time.sleep(2.6)
        result = placed.finish(20)
        assert (result.successful, result.failed) == (1, 0), result.log
        # The caller gone, the line waits again (Bridge's F), still the same call.
        wait_for(lambda: _legs(center).get(line) == ("cc-nailed", ""), 5, "ann's line back")

        center.thread = ControllerThread(settings)
        center.start()
        wait_for(lambda: center.get(lambda c: c.recovery.runs) >= 1, 15, "a recovery run")
        center.wait_available("ann")
        assert center.get(lambda c: c.nailed.lines["ann"].channel) == line
        assert center.get(lambda c: c.agents.status("ann").state) is AgentState.READY
    finally:
        capture.stop()

    assert len(_calls_to(capture, ann.address)) == 1  # her line only: never rung again
    heard = _packets_to_caller(capture, *talk)
    assert heard >= 0.6 * 50 * (talk[1] - talk[0]), heard


def _bridged_to_local(center: CallCenter, line: str) -> bool:
    """ann's line bridged with the fallback queue's Local channel (its ;2 half)."""
    legs = _legs(center)
    bridge = legs.get(line, ("", ""))[1]
    return bool(bridge) and any(
        name.startswith("Local/ann@cc-fallback-line-") and b == bridge
        for name, (_, b) in legs.items()
    )
