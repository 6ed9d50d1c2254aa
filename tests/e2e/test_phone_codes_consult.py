"""A consultation driven from the agent's phone: cancel (*5) and conference (*6),
then the consulted agent's own codes, with a real Asterisk, a SIPp caller and
baresip agents.

ann consults bob by his extension (*3, 1002#) and cancels (*5): the caller is back
with ann. She consults him again and turns it into a three-way conference (*6);
she leaves it with *4 (in ConfBridge, a menu of its own: confbridge.conf), and bob,
whose leg was given the codes by the consultation's Originate, holds the caller with *1.
"""

from __future__ import annotations

import pytest

from callcenter.adapters.db.models import CallEventRow, CallRow
from callcenter.core.acd.model import AgentState
from callcenter.simulate.procs import wait_for
from tests.e2e.conftest import CallCenter
from tests.e2e.test_call_control import HELD, _legs, _on_call_with_ann, _state
from tests.e2e.test_consult import _conference_or_fail, _phone_legs
from tests.e2e.test_phone_codes import _key_target, _press

pytestmark = pytest.mark.e2e


def _consulting(center: CallCenter) -> bool:
    return any(ctx == "cc-consult" and bridge for ctx, bridge in _legs(center).values())


def test_codes_cancel_a_consultation_then_make_it_a_conference(callcenter: CallCenter) -> None:
    center = callcenter
    ann, placed = _on_call_with_ann(center, [1000, "1"], "+15550193")
    bob = center.softphone(center.account("bob"))
    center.login("bob")
    center.wait_available("bob")

    _key_target(center, ann, "ann", "*3", "1002#")  # consult bob
    bob.wait_event("CALL_INCOMING", 15)
    bob.accept()
    bob.wait_event("CALL_ESTABLISHED", 5)
    wait_for(lambda: _consulting(center), 5, "ann and bob bridged")
    seen_bob = len(bob.events)
    _press(ann, "*5")  # cancel: bob's leg hung up, the caller back with ann
    bob.wait_event("CALL_CLOSED", 5, after=seen_bob)
    wait_for(lambda: "cc-resume" in {c for c, _ in _legs(center).values()}, 5, "back with ann")
    wait_for(lambda: center.get(lambda c: c.agents.available("bob")), 5, "bob free")

    seen_bob = len(bob.events)
    _key_target(center, ann, "ann", "*3", "1002#")  # consult bob again
    bob.wait_event("CALL_INCOMING", 15, after=seen_bob)
    bob.accept()
    bob.wait_event("CALL_ESTABLISHED", 5, after=seen_bob)
    wait_for(lambda: _consulting(center), 5, "ann and bob bridged again")
    _press(ann, "*6")  # the three of them
    _conference_or_fail(center)
    assert len({b for _, b in _phone_legs(center).values()}) == 1, _legs(center)

    seen_ann = len(ann.events)
    _press(ann, "*4")  # leave: in ConfBridge, its menu's code (confbridge.conf)
    ann.wait_event("CALL_CLOSED", 8, after=seen_ann)
    wait_for(lambda: _state(center, "bob") is AgentState.ON_CALL, 5, "bob has the call")
    wait_for(lambda: "cc-resume" in {c for c, _ in _legs(center).values()}, 5, "caller and bob")

    _press(bob, "*1")  # bob's own leg has the codes: hold
    wait_for(lambda: sorted(c for c, _ in _phone_legs(center).values()) == HELD, 5, "held")
    seen_bob = len(bob.events)
    bob.hangup()
    bob.wait_event("CALL_CLOSED", 5, after=seen_bob)
    assert placed.finish(15).successful == 1
    center.wait_no_calls(10)

    (row,) = center.rows(CallRow, CallRow.caller_number == "+15550193")
    events = center.rows(CallEventRow, CallEventRow.call_id == row.id)
    segments = [{**e.detail, "agent": e.agent} for e in events if e.kind == "segment"]
    assert [(s["agent"], s["reason"], s["target"]) for s in segments] == [
        ("ann", "conference-left", "bob"),
        ("bob", "completed", ""),
    ], segments
    assert (segments[0]["holds"], segments[1]["holds"]) == (2, 1), segments
