"""A real call: SIPp caller -> Asterisk -> FastAGI route reads a digit -> baresip agent."""

from __future__ import annotations

import pytest

from callcenter.simulate.procs import wait_for
from callcenter.simulate.sipp import caller_scenario
from tests.e2e.conftest import CallCenter


@pytest.mark.e2e
@pytest.mark.parametrize("e2e_database", ["sqlite", "postgresql"], indirect=True)
def test_caller_digit_reaches_registered_agent(callcenter: CallCenter) -> None:
    account = callcenter.add_agent("agent1", "1001", "Alice Agent")
    phone = callcenter.softphone(account)
    view = callcenter.controller.view
    wait_for(
        lambda: callcenter.thread.call(lambda: view.table.registered("agent1")),
        10,
        "the controller to see agent1 registered",
    )

    caller = callcenter.caller()
    # Answered by the IVR; press 7 for the menu; talk; press 5 to the agent; hang up.
    sipp = caller.start(
        caller_scenario([1000, "7", 3000, "5", 1500]), [("Bob Caller", "+15551234567")]
    )

    incoming = phone.wait_event("CALL_INCOMING", 15)
    assert incoming["peerdisplayname"] == "Bob Caller"
    assert incoming["peeruri"].startswith("sip:+15551234567@")
    phone.accept()
    phone.wait_event("CALL_ESTABLISHED", 5)
    phone.wait_event("CALL_CLOSED", 20)

    result = caller.finish(sipp)
    assert (result.successful, result.failed) == (1, 0), result.log

    traces = callcenter.thread.call(lambda: list(callcenter.controller.calls.traces.values()))
    assert len(traces) == 1
    trace = traces[0]
    assert trace.caller == "+15551234567"
    assert trace.choice == "7"
    assert trace.target == "agent1"
    assert trace.dial_status == "ANSWER"
    assert trace.ended is not None and trace.hangup_cause
    # The digit pressed while talking went through Asterisk to the softphone.
    assert "received event: '5'" in (phone.workdir / "baresip.log").read_text(errors="replace")
