"""A three-way conference survives the controller: a stop, then kill -9, during it.

The caller talks with ann, who consults bob and makes it a conference (the caller, ann
and bob in one ConfBridge). The controller stops there; a controller of its own process
(so the kill is real) adopts the conference and is killed (-9) in turn. The controller
started again adopts it too: ann leaves it, the caller goes on with bob, who hangs up.
The caller hears the conference before and after the restarts (RTP counted); the
record has ann's segment ending ``conference-left`` to bob and bob's ``completed``,
the call ended when bob hung up.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from callcenter.adapters.db.models import CallEventRow, CallRow
from callcenter.core.acd.model import AgentState
from callcenter.simulate.capture import Capture
from callcenter.simulate.loop_thread import ControllerThread
from callcenter.simulate.procs import stop_process, wait_for
from tests.e2e.conftest import CallCenter
from tests.e2e.console import record_figures
from tests.e2e.outage_support import controller_process, wait_running
from tests.e2e.test_call_control import CALLER_MEDIA_PORT, Api, _legs, _packets_to_caller, _site
from tests.e2e.test_call_control import _state as state
from tests.e2e.test_consult import _conference_or_fail, _phone_legs, _window

pytestmark = pytest.mark.e2e


def test_a_conference_is_adopted_after_a_stop_and_a_kill_and_the_agent_leaves(
    callcenter: CallCenter, tmp_path: Path
) -> None:
    center = callcenter
    center.load_site(_site())
    ann = center.softphone(center.account("ann"))
    bob = center.softphone(center.account("bob"))
    center.login("ann", "bob")
    center.wait_available("ann", "bob")
    ann_api = Api(center, "ann")

    capture = Capture(tmp_path / "caller.pcap", f"udp and dst port {CALLER_MEDIA_PORT}")
    capture.start()
    try:
        placed = center.place_call([1000, "1"], "+15550193", end="await")
        seen_bob = len(bob.events)
        ann.wait_event("CALL_INCOMING", 15)
        ann.accept()
        ann.wait_event("CALL_ESTABLISHED", 5)
        wait_for(lambda: state(center, "ann") is AgentState.ON_CALL, 5, "ann on the call")
        ann_api.post("/api/desktop/consult", {"target": "bob"})
        bob.wait_event("CALL_INCOMING", 15, after=seen_bob)
        bob.accept()
        bob.wait_event("CALL_ESTABLISHED", 5, after=seen_bob)
        wait_for(
            lambda: any(ctx == "cc-consult" and bridge for ctx, bridge in _legs(center).values()),
            5,
            "ann and bob bridged",
        )
        ann_api.post("/api/desktop/consult/conference", {})
        _conference_or_fail(center)
        windows = {"before": _window(1.5)}
        legs = _phone_legs(center)

        settings = center.thread.settings
        center.thread.stop()  # the conference goes on in Asterisk
        process = controller_process(settings, tmp_path)
        try:
            wait_running(tmp_path, process)
            assert _phone_legs(center) == legs  # adopted as it was: nobody moved
            process.send_signal(signal.SIGKILL)
            process.wait(5)
        finally:
            stop_process(process)
        center.thread = ControllerThread(settings)
        center.start()
        wait_for(lambda: center.get(lambda c: c.recovery.runs) >= 1, 15, "a recovery run")
        wait_for(lambda: center.get(lambda c: c.consults.of("ann")), 5, "the conference")
        assert center.get(lambda c: c.consults.of("ann").conference)
        assert state(center, "ann") is AgentState.ON_CALL
        assert _phone_legs(center) == legs
        windows["after"] = _window(1.5)

        # ann leaves: the caller goes on with bob.
        seen_ann = len(ann.events)
        center.thread.run(center.controller.consults.complete("ann"))
        ann.wait_event("CALL_CLOSED", 5, after=seen_ann)
        wait_for(lambda: state(center, "bob") is AgentState.ON_CALL, 5, "bob has the call")
        time.sleep(0.5)
        windows["bob"] = _window(1.5)
        contexts = {ctx for ctx, _ in _phone_legs(center).values()}
        assert not contexts & {"cc-conference", "cc-conference-member"}, contexts
        seen_bob = len(bob.events)
        bob.hangup()
        hung_up = time.time()
        bob.wait_event("CALL_CLOSED", 5, after=seen_bob)
        assert placed.finish(15).successful == 1
        center.wait_no_calls(15)
    finally:
        capture.stop()

    counts = {name: _packets_to_caller(capture, *w) for name, w in windows.items()}
    record_figures("conference-restart", {"rtp_packets_to_caller": counts})
    for name, (start, end) in windows.items():
        assert counts[name] >= 0.6 * 50 * (end - start), counts

    (call,) = center.rows(CallRow, CallRow.caller_number == "+15550193")
    assert (call.outcome, call.agent) == ("completed", "bob"), (call.outcome, call.agent)
    assert call.ended_at is not None and abs(call.ended_at - hung_up) < 3.0
    events = center.rows(CallEventRow, CallEventRow.call_id == call.id)
    segments = [{**e.detail, "agent": e.agent} for e in events if e.kind == "segment"]
    assert [(s["agent"], s["reason"], s["target"]) for s in segments] == [
        ("ann", "conference-left", "bob"),
        ("bob", "completed", ""),
    ], segments
