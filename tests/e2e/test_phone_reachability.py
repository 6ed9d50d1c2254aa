"""An agent is offered calls only while Asterisk can reach their phone.

Ann's softphone dies (SIGKILL: no unregistration, its registration still
valid). Asterisk's qualify finds the contact unreachable; from then on the
controller agrees within seconds: Ann is paused with the reason
``phone-offline``, the agents API says her phone is not registered, and the
next caller rings Bob, never Ann's dead phone.
"""

from __future__ import annotations

import os
import re
import signal
import time

import pytest

from callcenter.adapters.db.models import CallEventRow, CallRow
from callcenter.core.acd.model import AgentState
from callcenter.core.pause_reasons import PHONE_OFFLINE
from callcenter.simulate.procs import wait_for
from tests.e2e.conftest import CallCenter
from tests.e2e.outbound_support import Outbound, window_around, zone_in_hours
from tests.e2e.sites import one_queue_site

pytestmark = pytest.mark.e2e


def contact_status(center: CallCenter, agent: str) -> str:
    """The status Asterisk shows for the agent's contact (pjsip show contacts)."""
    for line in center.pbx.cli("pjsip show contacts").splitlines():
        found = re.match(rf"\s*Contact:\s+{agent}/\S+\s+\S+\s+(\w+)", line)
        if found:
            return found.group(1)
    return ""


@pytest.mark.parametrize("learnt", ["from-events", "from-resync"])
def test_a_dead_phone_is_paused_and_never_rung(callcenter: CallCenter, learnt: str) -> None:
    center = callcenter
    center.load_site(one_queue_site("ann", "bob"))
    ann = center.softphone(center.account("ann"))
    bob = center.softphone(center.account("bob"))
    center.login("ann", "bob")
    center.wait_available("ann", "bob")
    assert contact_status(center, "ann") == "Avail"
    if learnt == "from-resync":
        # The phones as a restarted controller learns them: from PJSIPShowContacts.
        center.thread.run(center.controller.view.resync())
        center.wait_available("ann", "bob")

    assert ann.process is not None
    os.kill(ann.process.pid, signal.SIGKILL)
    ann.process.wait(5)
    # Asterisk's qualify (every 15 s, 3 s timeout) notices first...
    wait_for(lambda: contact_status(center, "ann") == "Unavail", 40, "Asterisk: ann unreachable")
    noticed = time.monotonic()
    # ...and the controller follows it: paused with the reason, not offered calls.
    wait_for(
        lambda: center.get(lambda c: c.agents.status("ann")).state is AgentState.PAUSED,
        5,
        "ann paused",
    )
    assert time.monotonic() - noticed < 5
    status = center.get(lambda c: c.agents.status("ann"))
    assert status.reason == PHONE_OFFLINE
    assert not center.get(lambda c: c.agents.available("ann"))
    assert center.get(lambda c: c.agents.available("bob"))

    seen = len(bob.events)
    call = center.place_call([1000, "1", 2000], "+15550301", end="bye")
    bob.wait_event("CALL_INCOMING", 15, after=seen)
    bob.accept()
    bob.wait_event("CALL_CLOSED", 20, after=seen)
    assert call.finish().successful == 1
    (row,) = center.rows(CallRow, CallRow.caller_number == "+15550301")
    events = center.rows(CallEventRow, CallEventRow.call_id == row.id)
    assert [e.agent for e in events if e.kind == "offered"] == ["bob"]
    assert row.agent == "bob" and row.outcome == "completed"


def test_a_customer_whose_held_agent_lost_the_phone_is_put_through_to_another(
    outbound: Outbound,
) -> None:
    center = outbound.center
    outbound.site("ann", "bob")
    zone = zone_in_hours()
    # A person who answers after 5 s (last digit 8); a predictive campaign with no
    # history paces progressively: one agent is held for the call as it is placed.
    campaign = outbound.campaign(
        "reach", [("+12125550188", zone)], mode="predictive", windows=window_around(zone)
    )
    held = wait_for(
        lambda: next(
            (
                name
                for name in ("ann", "bob")
                if center.get(lambda c, n=name: c.agents.status(n)).state is AgentState.RINGING
            ),
            None,
        ),
        15,
        "an agent held for the call",
    )
    other = "bob" if held == "ann" else "ann"
    outbound.phones.pop(held).stop()  # unregisters: Asterisk forgets the contact at once
    wait_for(lambda: contact_status(center, held) in ("", "Unavail"), 10, f"{held} gone")

    outbound.work(lambda: outbound.leads(campaign)["+12125550188"].status == "done")
    outbound.settle(campaign)
    (attempt,) = [row for row in outbound.attempts(campaign) if row.call_id]
    assert attempt.outcome == "connected" and not attempt.abandoned
    assert attempt.agent == other
    (call,) = center.rows(CallRow, CallRow.id == attempt.call_id)
    assert call.agent == other
    status = center.get(lambda c: c.agents.status(held))
    assert status.state is AgentState.PAUSED and status.reason in (
        "phone-unavailable",
        PHONE_OFFLINE,
    )
