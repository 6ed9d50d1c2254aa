"""Call-control codes on the agent's phone beyond queued calls in ringing mode: on a
campaign's call (the customer dialled by the product), on a callback that rings the
agent first, and on an always-connected agent's line, with a real Asterisk, SIPp
customers or callers and baresip agents.

In each, the agent keys ``*1`` (the customer or caller goes on hold: both legs out
of their bridge), ``*1`` again (resumed), then the call ends; the record counts the
hold. The codes are the same dynamic features as on queued calls (cc-agent-leg for a
campaign's call, set once on the always-connected line in cc-nailed).
"""

from __future__ import annotations

import time

import pytest

from callcenter.adapters.db.models import CallbackRow, CallEventRow, CallRow
from callcenter.core.acd.model import AgentState
from callcenter.simulate.procs import wait_for
from callcenter.simulate.softphone import Softphone
from tests.e2e.conftest import CallCenter
from tests.e2e.outbound_support import Outbound, window_around, zone_in_hours
from tests.e2e.sites import one_queue_site
from tests.e2e.test_call_control import HELD, _legs
from tests.e2e.test_callbacks import (
    book,
    callback_site,
    person_number,
    start_alice,
    wait_talking_to,
)
from tests.e2e.test_nailed_agents import _channels_of

pytestmark = pytest.mark.e2e


def _held(center: CallCenter) -> bool:
    return sorted(c for c, _ in _legs(center).values()) == HELD


def _bridged(center: CallCenter) -> bool:
    """Two channels in one bridge (the agent and the other party), nothing else."""
    bridges = [b for _, b in _legs(center).values()]
    return len(bridges) == 2 and bool(bridges[0]) and bridges[0] == bridges[1]


def _talking(center: CallCenter, agent: str) -> str:
    """The call id the agent is talking on, or ""."""
    status = center.get(lambda c: c.agents.status(agent))
    return status.call_id or "" if status.state is AgentState.ON_CALL else ""


def _hold_and_resume_by_codes(center: CallCenter, phone: Softphone, agent: str) -> None:
    call = center.get(lambda c: c.call_control.talking(agent))
    time.sleep(0.5)
    phone.send("sndcode", "*1")
    wait_for(lambda: _held(center), 8, f"the other party held by {agent}'s code")
    assert call.holds.on_hold
    time.sleep(0.5)
    phone.send("sndcode", "*1")  # keyed while on hold: the held leg reads it
    wait_for(lambda: not call.holds.on_hold, 8, f"resumed by {agent}'s code")
    wait_for(lambda: _bridged(center), 5, "bridged again")


def _holds_on_record(center: CallCenter, call_id: str) -> int:
    center.controller.records.flush(10)
    events = center.rows(CallEventRow, CallEventRow.call_id == call_id)
    segments = [e.detail for e in events if e.kind == "segment"]
    assert len(segments) == 1, segments
    return int(segments[0]["holds"])


def test_codes_hold_and_resume_a_campaigns_customer(outbound: Outbound) -> None:
    center = outbound.center
    outbound.site("ann")
    ann = outbound.phones["ann"]
    zone = zone_in_hours()
    campaign = outbound.campaign(
        "codes", [("+12125550130", zone)], mode="progressive", windows=window_around(zone)
    )
    wait_for(lambda: bool(_talking(center, "ann")), 30, "ann connected to the customer")
    call_id = _talking(center, "ann")
    wait_for(lambda: _bridged(center), 5, "customer and ann bridged")

    _hold_and_resume_by_codes(center, ann, "ann")

    ann.hangup()
    outbound.settle(campaign)
    (row,) = outbound.attempts(campaign)
    assert row.outcome == "connected" and row.agent == "ann"
    (call,) = center.rows(CallRow, CallRow.id == call_id)
    assert call.direction == "outbound" and call.agent == "ann"
    assert _holds_on_record(center, call_id) == 1
    assert outbound.customer_calls(1) == 1


def test_codes_hold_and_resume_on_an_always_connected_line(nailed_center: CallCenter) -> None:
    center = nailed_center
    center.load_site(one_queue_site("ann"))
    ann = center.softphone(center.account("ann"), auto_answer=True)
    center.login("ann")
    ann.wait_event("CALL_ESTABLISHED", 15)
    center.wait_available("ann")
    (line,) = _channels_of(center, "ann")

    placed = center.place_call([1000, "1"], "+15550182", end="await")
    wait_for(lambda: bool(_talking(center, "ann")), 15, "ann talks")
    call_id = _talking(center, "ann")
    wait_for(lambda: _bridged(center), 5, "the caller bridged to ann's line")

    _hold_and_resume_by_codes(center, ann, "ann")
    assert line in _legs(center)  # the line from log-in carries the call still

    center.thread.run(center.controller.call_control.end("ann"))
    assert placed.finish().successful == 1
    center.wait_no_calls(10)
    center.wait_available("ann")
    assert _channels_of(center, "ann") == [line]  # one call to her phone in all
    assert _holds_on_record(center, call_id) == 1


def test_codes_hold_and_resume_a_callback_dialled_agent_first(
    callcenter: CallCenter, outbound: Outbound
) -> None:
    center = callcenter
    phone = start_alice(center, callback_site(dial_first="agent"))
    number = person_number("1")
    callback_id = book(center, number, after=1)
    call_id = wait_talking_to(center, number, timeout=60)
    wait_for(lambda: _bridged(center), 5, "alice and the customer bridged")

    _hold_and_resume_by_codes(center, phone, "alice")

    phone.hangup()
    center.wait_available("alice", timeout=20)
    center.wait_no_calls(20)
    (row,) = center.rows(CallbackRow, CallbackRow.id == callback_id)
    assert (row.status, row.last_outcome) == ("done", "reached")
    (call,) = center.rows(CallRow, CallRow.id == call_id)
    assert call.outcome == "completed" and call.agent == "alice"
    assert _holds_on_record(center, call_id) == 1
    assert outbound.customer_calls(1) == 1
