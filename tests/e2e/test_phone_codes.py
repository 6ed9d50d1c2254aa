"""Call control by codes pressed on the agent's phone, with a real Asterisk, a SIPp
caller and baresip agents.

The agents' phones send the codes as RFC 4733 DTMF (baresip's ``sndcode``): ann holds
the caller (*1) and resumes (*1 again, keyed while the caller is on hold), keys a
transfer to a short number (refused by the dial policy: an error tone), then transfers
them blind to bob by his extension (*2, 1002#); bob consults the billing
queue (*3, *1#: the first queue by name), whose first free agent is ann, and
completes (*4). The records have one segment per agent, ended by
the same reasons as the desktop's buttons give.
"""

from __future__ import annotations

import time

import pytest

from callcenter.adapters.db.models import CallEventRow, CallRow
from callcenter.core.acd.model import AgentState
from callcenter.simulate.procs import wait_for
from callcenter.simulate.softphone import Softphone
from tests.e2e.conftest import CallCenter
from tests.e2e.console import record_figures
from tests.e2e.test_call_control import HELD, Api, _legs, _on_call_with_ann, _state

pytestmark = pytest.mark.e2e


def _press(phone: Softphone, keys: str) -> None:
    phone.send("sndcode", keys)


def _in_code(center: CallCenter, agent: str) -> bool:
    """The agent's leg is inside a code's Gosub (asking for the target)."""

    async def read() -> bool:
        call = center.controller.call_control.talking(agent)
        value = await center.controller.pbx.get_var(call.agent_channel, "CC_IN_CODE")
        return value == "1"

    return bool(center.thread.run(read()))


def _key_target(center: CallCenter, phone: Softphone, agent: str, code: str, keys: str) -> None:
    """A code that asks for a target, then the target once the prompt is on."""
    _press(phone, code)
    wait_for(lambda: _in_code(center, agent), 5, f"{agent}'s code asking for a target")
    time.sleep(0.4)  # the AGI's GET DATA starts after the Gosub; keys before it are lost
    _press(phone, keys)


def _holding(center: CallCenter) -> bool:
    return sorted(c for c, _ in _legs(center).values()) == HELD


def test_codes_on_the_agents_phone_hold_resume_transfer_consult_and_complete(
    callcenter: CallCenter,
) -> None:
    center = callcenter
    ann, placed = _on_call_with_ann(center, [1000, "1"], "+15550191")
    bob = center.softphone(center.account("bob"))
    center.login("bob")
    center.wait_available("bob")

    pressed = time.monotonic()
    _press(ann, "*1")  # hold
    wait_for(lambda: _holding(center), 5, "the caller held by ann's code")
    held_in = time.monotonic() - pressed
    call = center.get(lambda c: c.call_control.talking("ann"))
    assert call.holds.on_hold
    time.sleep(0.5)
    pressed = time.monotonic()
    _press(ann, "*1")  # resume, keyed while the caller is on hold
    wait_for(lambda: not call.holds.on_hold, 5, "resumed by ann's code")
    resumed_in = time.monotonic() - pressed
    wait_for(lambda: "cc-resume" in {c for c, _ in _legs(center).values()}, 5, "bridged again")

    # A short number keyed after *2 (no agent has it as extension): the dial policy
    # refuses it (audited), the agent hears an error tone, the call stays hers. (Each key
    # takes baresip a fraction of a second to send: short keys keep the test short.)
    _key_target(center, ann, "ann", "*2", "112#")
    wait_for(lambda: not _in_code(center, "ann"), 10, "ann's refused code over")
    assert _state(center, "ann") is AgentState.ON_CALL and not call.holds.on_hold
    refusals = Api(center).get("/api/dial-refusals")["refusals"]
    assert [r["where"] for r in refusals] == ["transfer"], refusals

    seen_ann = len(ann.events)
    _key_target(center, ann, "ann", "*2", "1002#")  # blind transfer to bob's extension
    bob.wait_event("CALL_INCOMING", 15)
    ann.wait_event("CALL_CLOSED", 5, after=seen_ann)
    bob.accept()
    bob.wait_event("CALL_ESTABLISHED", 5)
    wait_for(lambda: _state(center, "bob") is AgentState.ON_CALL, 5, "bob has the call")
    wait_for(lambda: center.get(lambda c: c.agents.available("ann")), 10, "ann free")

    seen_ann = len(ann.events)
    _key_target(center, bob, "bob", "*3", "*1#")  # consult the billing queue: ann is free
    ann.wait_event("CALL_INCOMING", 15, after=seen_ann)
    ann.accept()
    ann.wait_event("CALL_ESTABLISHED", 5, after=seen_ann)
    wait_for(
        lambda: any(ctx == "cc-consult" and bridge for ctx, bridge in _legs(center).values()),
        5,
        "bob and ann bridged",
    )
    seen_bob = len(bob.events)
    _press(bob, "*4")  # complete: the caller goes on with ann
    bob.wait_event("CALL_CLOSED", 5, after=seen_bob)
    wait_for(lambda: _state(center, "ann") is AgentState.ON_CALL, 5, "ann has the call")
    wait_for(lambda: "cc-resume" in {c for c, _ in _legs(center).values()}, 5, "caller with ann")

    seen_ann = len(ann.events)
    ann.hangup()
    ann.wait_event("CALL_CLOSED", 5, after=seen_ann)
    assert placed.finish(15).successful == 1
    center.wait_no_calls(10)

    (row,) = center.rows(CallRow, CallRow.caller_number == "+15550191")
    events = center.rows(CallEventRow, CallEventRow.call_id == row.id)
    segments = [{**e.detail, "agent": e.agent} for e in events if e.kind == "segment"]
    ends = [(s["agent"], s["reason"], s["target"]) for s in segments]
    assert ends == [
        ("ann", "transfer-agent", "bob"),
        ("bob", "consult-complete", "ann"),
        ("ann", "completed", ""),
    ], segments
    assert segments[0]["holds"] == 1, segments[0]
    record_figures(
        "phone_codes",
        {
            "hold_code_to_caller_held_seconds": round(held_in, 3),
            "resume_code_to_resumed_seconds": round(resumed_in, 3),
        },
    )
