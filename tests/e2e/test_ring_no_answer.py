"""A caller stuck on an agent's phone that nobody answers is not overtaken.

Ann's softphone rings and is never answered. While it rings (longer than
STUCK_RING), Bob frees up:
the caller on Ann's ring goes to Bob (Ann's ring is cancelled), not the
caller who came after. Counted on the agents' phones (baresip).
"""

from __future__ import annotations

import time

import pytest

from callcenter.adapters.db.models import CallEventRow, CallRow
from callcenter.core.calls.state import CallState
from callcenter.services.inbound.offering import STUCK_RING
from callcenter.simulate.procs import wait_for
from callcenter.simulate.softphone import Softphone
from tests.e2e.conftest import CALLER_PORT, CallCenter
from tests.e2e.sites import one_queue_site, quiet_queue

pytestmark = pytest.mark.e2e


def incoming_from(phone: Softphone, after: int, timeout: float = 15) -> str:
    event = phone.wait_event("CALL_INCOMING", timeout, after=after)
    return str(event["peeruri"]).removeprefix("sip:").split("@", 1)[0]


def test_a_caller_on_an_unanswered_ring_keeps_first_claim(callcenter: CallCenter) -> None:
    center = callcenter
    center.load_site(
        one_queue_site(
            "ann",
            "bob",
            queue=quiet_queue("support", requirements={"support": 1}, ring_timeout=30),
        )
    )
    bob = center.softphone(center.account("bob"))
    center.login("bob")
    center.wait_available("bob")

    # Bob is busy with a first caller.
    first = center.place_call([1000, "1"], "+15550100", end="await")
    seen_bob = len(bob.events)
    assert incoming_from(bob, seen_bob) == "+15550100"
    bob.accept()
    bob.wait_event("CALL_ESTABLISHED", 5, after=seen_bob)

    # Ann logs in; the next caller rings her phone, which she never answers.
    ann = center.softphone(center.account("ann"))
    center.login("ann")
    center.wait_available("ann")
    stuck = center.place_call([1000, "1"], "+15550101", end="await", port=CALLER_PORT + 10)
    assert incoming_from(ann, 0) == "+15550101"
    ann_rang = time.monotonic()
    # A later caller waits: nobody is free.
    later = center.place_call([1000, "1"], "+15550102", end="await", port=CALLER_PORT + 20)
    wait_for(
        lambda: center.get(lambda c: len(c.calls.in_state(CallState.WAITING))) == 1,
        15,
        "the later caller waiting",
    )

    # Bob frees up during Ann's ring, once it has rung long enough to count as stuck
    # (a shorter ring is left alone: it is most likely about to be answered): the stuck
    # caller is his, not the later one.
    time.sleep(max(0.0, STUCK_RING - (time.monotonic() - ann_rang)) + 0.2)
    seen_bob = len(bob.events)
    bob.hangup()
    assert incoming_from(bob, seen_bob) == "+15550101"
    bob.accept()
    bob.wait_event("CALL_ESTABLISHED", 5, after=seen_bob)
    assert first.finish().successful == 1

    # Ann's phone stopped ringing for that caller; the later caller is offered to her.
    assert incoming_from(ann, 1, timeout=10) == "+15550102"
    seen_bob = len(bob.events)
    bob.hangup()
    bob.wait_event("CALL_CLOSED", 5, after=seen_bob)
    assert stuck.finish().successful == 1

    (call,) = center.rows(CallRow, CallRow.caller_number == "+15550101")
    assert call.agent == "bob" and call.outcome == "completed"
    events = center.rows(CallEventRow, CallEventRow.call_id == call.id)
    unanswered = [e for e in events if e.kind == "ring-no-answer"]
    assert [(e.agent, e.detail.get("status")) for e in unanswered] == [("ann", "CANCEL")]
    assert later.process.poll() is None  # still waiting (on Ann's ring): ended by the fixture
