"""The metrics endpoint after a real call: SIPp caller -> IVR -> queue -> baresip agent."""

from __future__ import annotations

import pytest

from callcenter.simulate.procs import wait_for
from callcenter.simulate.sipp import caller_scenario
from tests.e2e.conftest import CallCenter
from tests.e2e.metrics_support import sample, scrape
from tests.e2e.sites import menu_flow, queue_node, quiet_queue


@pytest.mark.e2e
def test_a_real_call_shows_on_the_metrics_endpoint(callcenter: CallCenter) -> None:
    callcenter.load_site(
        {
            "agents": [
                {"username": "agent1", "name": "Alice", "extension": "1001",
                 "skills": {"support": 3}},
            ],
            "queues": [quiet_queue("support", requirements={"support": 1})],
            "flows": {
                "main": {
                    "document": menu_flow({"7": "support"}, {"support": queue_node("support")})
                }
            },
        }
    )  # fmt: skip
    phone = callcenter.softphone(callcenter.account("agent1"))
    callcenter.login("agent1")
    controller = callcenter.controller
    wait_for(
        lambda: callcenter.thread.call(lambda: controller.agents.available("agent1")),
        10,
        "agent1 ready and registered",
    )
    before = scrape(callcenter)
    assert sample(before, "callcenter_ami_up") == 1.0
    assert sample(before, "callcenter_calls_total", step="answered") in (None, 0.0)

    caller = callcenter.caller()
    sipp = caller.start(caller_scenario([1000, "7", 4500]), [("Bob Caller", "+15551234567")])
    phone.wait_event("CALL_INCOMING", 15)
    # Ringing: the caller still waits in the queue, the agent's phone rings.
    wait_for(
        lambda: sample(scrape(callcenter), "callcenter_queue_waiting", queue="support") == 1,
        3,
        "one caller waiting in support while the agent's phone rings",
    )
    ringing = scrape(callcenter)
    assert sample(ringing, "callcenter_agents", state="ringing") == 1
    assert sample(ringing, "callcenter_queue_agents", queue="support", state="ringing") == 1
    longest = sample(ringing, "callcenter_queue_longest_wait_seconds", queue="support")
    assert longest is not None and 0 < longest < 15
    phone.accept()
    phone.wait_event("CALL_ESTABLISHED", 5)
    phone.wait_event("CALL_CLOSED", 20)
    result = caller.finish(sipp)
    assert (result.successful, result.failed) == (1, 0), result.log
    assert controller.records.flush(10)

    def completed() -> bool:
        return sample(scrape(callcenter), "callcenter_calls_total", step="completed") == 1

    wait_for(completed, 5, "the completed call counted")
    after = scrape(callcenter)
    for step in ("entered", "queued", "offered", "answered", "completed"):
        assert sample(after, "callcenter_calls_total", step=step) == 1, step
    assert sample(after, "callcenter_queue_waiting", queue="support") == 0
    assert sample(after, "callcenter_queue_longest_wait_seconds", queue="support") == 0
    # One offer: the agent was ready before the caller chose support, so the latency
    # runs from the caller queued to the offer, inside the controller: well under 1 s.
    assert sample(after, "callcenter_routing_latency_seconds_count") == 1
    latency = sample(after, "callcenter_routing_latency_seconds_sum")
    assert latency is not None and latency < 1.0, latency
    # FastAGI: the inbound request (the IVR and the queue decision), timed.
    inbound = [
        value
        for (name, labels), value in after.items()
        if name == "callcenter_agi_requests_total" and ("route", "inbound") in labels
    ]
    assert sum(inbound) >= 1, after
    assert (sample(after, "callcenter_agi_request_seconds_count", route="inbound") or 0) >= 1
    assert sample(after, "callcenter_records_backlog") == 0
    assert sample(after, "callcenter_records_lag_seconds") == 0
    assert sample(after, "callcenter_ami_up") == 1.0
    print(f"routing latency of the call: {latency * 1e6:.0f} us")
