"""Consultation with an outside number, with a real Asterisk, a SIPp caller, a baresip
agent and a SIPp server as the outside party behind the trunk (as the dialer's
customers): the dial policy refuses a premium number (422, audited), then ann
consults a UK number, talks with it, and completes; the caller goes on with the
outside party and the call is complete for the call center (ended by transfer).
"""

from __future__ import annotations

from typing import Any

import pytest

from callcenter.adapters.db.models import CallEventRow, CallRow
from callcenter.core.acd.model import AgentState
from callcenter.simulate.procs import wait_for
from tests.e2e.conftest import CallCenter
from tests.e2e.outbound_support import Outbound
from tests.e2e.test_call_control import Api, _legs, _on_call_with_ann, _state

pytestmark = pytest.mark.e2e


def test_a_consultation_with_an_outside_number_then_complete(
    callcenter: CallCenter, outbound: Outbound
) -> None:
    center = callcenter
    ann, placed = _on_call_with_ann(center, [1000, "1", 9000], "+15550192", end="bye")
    api = Api(center)
    asked: dict[str, Any] = {"agent": "ann", "to": "number", "target": "+1 900 555 0123"}
    refused = api.post("/api/desktop/consult", asked, status=422)
    assert refused["code"] == "refused", refused
    assert not center.get(lambda c: c.call_control.talking("ann").holds.on_hold)
    started = api.post(
        "/api/desktop/consult", {**asked, "target": "+44 20 7946 0101"}
    )  # a person who answers within 3 s
    assert started["target"] == "+442079460101" and started["on_hold"] is True
    wait_for(
        lambda: any(ctx == "cc-consult" and bridge for ctx, bridge in _legs(center).values()),
        10,
        "ann and the outside party bridged",
    )
    seen = len(ann.events)
    done = api.post("/api/desktop/consult/complete", {"agent": "ann"})
    assert done["transfers"] == 1 and done["on_hold"] is False, done
    ann.wait_event("CALL_CLOSED", 5, after=seen)
    assert outbound.customer_calls(1) == 1
    wait_for(lambda: "cc-resume" in {c for c, _ in _legs(center).values()}, 5, "caller bridged")
    wait_for(lambda: _state(center, "ann") is not AgentState.ON_CALL, 5, "ann left")
    assert placed.finish(20).successful == 1  # the caller talked on, then hung up
    center.wait_no_calls(10)
    (row,) = center.rows(CallRow, CallRow.caller_number == "+15550192")
    events = center.rows(CallEventRow, CallEventRow.call_id == row.id)
    (completed,) = [e.detail for e in events if e.kind == "completed"]
    (segment,) = [e.detail for e in events if e.kind == "segment"]
    assert completed["ended_by"] == "transfer", completed
    assert (segment["reason"], segment["target"]) == ("consult-complete", "+442079460101")
    refusals = api.get("/api/dial-refusals")
    assert any(r["where"] == "consult" for r in refusals["refusals"]), refusals
