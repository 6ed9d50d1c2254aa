"""A real call: SIPp caller -> Asterisk -> IVR over FastAGI -> queue -> baresip agent."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from callcenter.adapters.db.models import CallEventRow, CallRow
from callcenter.simulate.procs import wait_for
from callcenter.simulate.sipp import caller_scenario
from tests.e2e.conftest import CallCenter
from tests.e2e.sites import menu_flow, queue_node, quiet_queue


@pytest.mark.e2e
@pytest.mark.parametrize("e2e_database", ["sqlite", "postgresql"], indirect=True)
def test_caller_digit_reaches_registered_agent(callcenter: CallCenter) -> None:
    callcenter.load_site(
        {
            "agents": [
                {
                    "username": "agent1",
                    "name": "Alice Agent",
                    "extension": "1001",
                    "skills": {"support": 3},
                }
            ],
            "queues": [quiet_queue("support", requirements={"support": 1})],
            "flows": {
                "main": {
                    "document": menu_flow({"7": "support"}, {"support": queue_node("support")})
                }
            },
        }
    )
    phone = callcenter.softphone(callcenter.account("agent1"))
    callcenter.login("agent1")
    controller = callcenter.controller
    wait_for(
        lambda: callcenter.thread.call(lambda: controller.agents.available("agent1")),
        10,
        "agent1 ready and registered",
    )

    caller = callcenter.caller()
    # Answered by the IVR; press 7 for support; talk; hang up.
    sipp = caller.start(caller_scenario([1000, "7", 4500]), [("Bob Caller", "+15551234567")])

    incoming = phone.wait_event("CALL_INCOMING", 15)
    assert incoming["peerdisplayname"] == "Bob Caller"
    assert incoming["peeruri"].startswith("sip:+15551234567@")
    phone.accept()
    phone.wait_event("CALL_ESTABLISHED", 5)
    phone.wait_event("CALL_CLOSED", 20)

    result = caller.finish(sipp)
    assert (result.successful, result.failed) == (1, 0), result.log

    assert controller.records.flush(10)
    with controller.storage.sessions() as session:
        call = session.scalars(select(CallRow)).one()
        kinds = [
            e.kind
            for e in session.scalars(
                select(CallEventRow)
                .where(CallEventRow.call_id == call.id)
                .order_by(CallEventRow.id)
            )
        ]
    assert call.caller_number == "+15551234567"
    assert call.data["menu.welcome"] == "7"
    assert call.queue == "support"
    assert call.agent == "agent1"
    assert call.outcome == "completed"
    assert call.answered_at is not None and call.ended_at is not None
    assert kinds[:4] == ["entered", "ivr", "queued", "offered"]
    assert "answered" in kinds and "completed" in kinds and kinds[-1] == "ended"
