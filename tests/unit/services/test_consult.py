"""Consultation transfer and conference (services/inbound/consult.py) over the fakes:
what Asterisk is asked, the agents' states, the call's agent and the segments."""

from __future__ import annotations

import pytest

from callcenter.core.calls.live import LiveCall
from callcenter.core.calls.state import CallState
from callcenter.core.dialplan import Context, Var
from callcenter.core.events import CallSegmentEnded, CallTransferred
from callcenter.services.inbound import consult as consult_module
from callcenter.services.inbound.consult import Consultations
from callcenter.services.ports import LiveChannel
from tests.fakes.center import Center
from tests.unit.services.test_call_control import queue, refused, talking
from tests.unit.services.test_nailed import line_up


def _target_leg(channel_id: str, context: str, bridge: str) -> LiveChannel:
    return LiveChannel(
        unique_id=channel_id, name="PJSIP/bob-000000ff", state="Up", context=context,
        exten="s", application="Bridge", caller_num="ann", linked_id=channel_id,
        bridge_id=bridge,
    )  # fmt: skip


@pytest.fixture(autouse=True)
def _quick_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consult_module, "SETTLE_SECONDS", 0.05)


async def _consulting(center: Center) -> tuple[Consultations, LiveCall, tuple[str, str], str]:
    center.configure([queue("support")], {"ann": {"support": 3}, "bob": {"support": 3}})
    await center.ready("ann")
    call, leg = await talking(center, "ann")
    await center.ready("bob")
    consults = Consultations(center.call_control, center.pbx)
    await refused(consults.start("ann", "ann"), "same-agent")
    await refused(consults.start("ann", "zed"), "unknown-agent")
    center.pbx.actions.clear()
    started = await consults.start("ann", "bob")
    [request] = center.pbx.originations
    assert (request.endpoint, request.context, request.channel_id) == (
        "bob", Context.CONSULT.value, started.channel_id,
    )  # fmt: skip
    assert dict(request.variables) == {
        Var.HOLD_PEER.value: leg[0],
        Var.CONSULT_CALLER.value: call.channel,
        Var.CONSULT_TARGET.value: "bob",
        Var.CONSULT_AGENT.value: "ann",
    }
    assert call.holds.on_hold and call.state is CallState.TALKING
    await refused(consults.start("ann", "bob"), "consulting")
    await refused(consults.complete("ann"), "not-answered")  # bob's leg not up yet
    return consults, call, leg, started.channel_id


async def test_complete_hands_the_caller_to_the_target_and_ends_the_first_segment(
    center: Center,
) -> None:
    consults, call, leg, channel_id = await _consulting(center)
    await center.advance(12)
    center.pbx.live = [_target_leg(channel_id, Context.CONSULT.value, "b1")]
    center.pbx.actions.clear()
    await consults.complete("ann", "billing")
    target = "PJSIP/bob-000000ff"
    assert ("set_var", call.channel, Var.HOLD_PEER.value, target) in center.pbx.actions
    assert ("hangup", leg[0]) in center.pbx.actions
    assert center.pbx.redirects[-1] == (call.channel, Context.RESUME.value, "s")
    assert (call.agent, call.agent_channel, call.state) == ("bob", target, CallState.TALKING)
    assert not call.holds.on_hold and call.transferred_from == "ann"
    assert center.state("bob") == "on_call" and center.state("ann") != "on_call"
    [segment] = center.of(CallSegmentEnded)
    assert (segment.agent, segment.reason, segment.target, segment.holds) == (
        "ann", "consult-complete", "bob", 1,
    )  # fmt: skip
    assert segment.hold == 12.0
    [transfer] = center.of(CallTransferred)
    assert (transfer.kind, transfer.target, transfer.reason) == ("agent", "bob", "billing")
    # The first agent's leg hanging up ends nothing; the target's ends the call.
    await center.hangup(*leg)
    assert call.state is CallState.TALKING and center.state("bob") == "on_call"
    await center.advance(5)
    await center.hangup(target, channel_id)
    await center.ring_ended(call, "ANSWER")
    segments = center.of(CallSegmentEnded)
    assert [(s.agent, s.reason, s.talk) for s in segments][1] == ("bob", "completed", 5.0)
    assert center.state("bob") != "on_call"
    assert consults.of("ann") is None


async def test_cancel_hangs_the_target_up_and_resumes(center: Center) -> None:
    consults, call, leg, channel_id = await _consulting(center)
    center.pbx.live = [
        _target_leg(channel_id, Context.CONSULT.value, "b1"),
    ]
    center.pbx.actions.clear()
    await consults.cancel("ann")
    assert center.pbx.done("hangup") == [("PJSIP/bob-000000ff",)]
    assert center.pbx.redirects[-1] == (call.channel, Context.RESUME.value, "s")
    assert (call.agent, call.agent_channel) == ("ann", leg[0])
    assert not call.holds.on_hold and center.state("ann") == "on_call"
    assert center.of(CallSegmentEnded) == [] and consults.of("ann") is None
    await refused(consults.cancel("ann"), "no-consult")


async def test_conference_then_the_agent_leaves(center: Center) -> None:
    consults, call, leg, channel_id = await _consulting(center)
    target = "PJSIP/bob-000000ff"
    center.pbx.live = [_target_leg(channel_id, Context.CONSULT.value, "b1")]
    center.pbx.actions.clear()
    await consults.conference("ann")
    assert ("set_var", call.channel, Var.CONF.value, channel_id) in center.pbx.actions
    assert center.pbx.redirects == [(call.channel, Context.CONFERENCE.value, "s")]
    assert center.pbx.done("redirect_both") == [
        (leg[0], Context.CONFERENCE_MEMBER.value, target, Context.CONFERENCE_MEMBER.value)
    ]
    assert not call.holds.on_hold and call.agent == "ann"
    await refused(consults.cancel("ann"), "in-conference")
    await refused(consults.conference("ann"), "in-conference")
    center.pbx.actions.clear()
    await consults.complete("ann")
    assert center.pbx.redirects == [
        (target, Context.CONSULT_WAIT.value, "s"),
        (call.channel, Context.RESUME.value, "s"),
    ]
    [segment] = center.of(CallSegmentEnded)
    assert (segment.agent, segment.reason, segment.target) == ("ann", "conference-left", "bob")
    assert call.agent == "bob" and center.state("bob") == "on_call"


async def test_an_always_connected_target_is_consulted_on_their_line(center: Center) -> None:
    """Their phone is on their always-connected line: the line is lent, not rung."""
    bob_line = ("PJSIP/bob-000000ee", "1700000000.901")
    center.configure([queue("support")], {"ann": {"support": 3}, "bob": {"support": 3}})
    await center.ready("ann")
    call, leg = await talking(center, "ann")
    center.nailed_agents.add("bob")
    await center.ready("bob")
    await center.settle()
    await line_up(center, "bob", bob_line)
    assert center.agents.available("bob")
    consults = Consultations(center.call_control, center.pbx)
    center.pbx.originations.clear()
    await consults.start("ann", "bob")
    assert center.pbx.originations == []  # bob's phone is not rung
    assert ("set_var", bob_line[0], Var.HOLD_PEER.value, leg[0]) in center.pbx.actions
    assert center.pbx.redirects[-1] == (bob_line[0], Context.CONSULT.value, "s")
    assert not center.agents.available("bob")  # his line is busy consulting
    center.pbx.live = [
        LiveChannel(
            unique_id=bob_line[1], name=bob_line[0], state="Up", context=Context.CONSULT.value,
            exten="s", application="Bridge", caller_num="bob", linked_id="", bridge_id="b1",
        )
    ]  # fmt: skip
    await consults.complete("ann")
    assert (call.agent, call.agent_channel) == ("bob", bob_line[0])
    assert ("hangup", bob_line[0]) not in center.pbx.actions
    # The caller hangs up: bob's conversation is over, his line goes back to wait.
    await center.caller_hangs_up(call)
    assert center.state("bob") != "on_call"
    await line_up(center, "bob", bob_line)
    assert center.agents.available("bob")


async def test_an_always_connected_target_on_another_node_is_reached_over_the_trunk(
    center: Center,
) -> None:
    """Several nodes: bob's line waits on the other node; cc-consult cannot bridge it
    with ann's leg there, so the trunk to that node is rung from ann's node (where
    cc-internode bridges it to the line): the line itself is not moved."""
    bob_line = ("PJSIP/bob-000000ee", "beta-1700000000.901")
    center.configure([queue("support")], {"ann": {"support": 3}, "bob": {"support": 3}})
    await center.ready("ann")
    _call, leg = await talking(center, "ann")
    center.nailed_agents.add("bob")
    await center.ready("bob")
    await center.settle()
    await line_up(center, "bob", bob_line)
    asked: list[tuple[str, str]] = []

    def via(channel: str, agent: str) -> str:
        asked.append((channel, agent))
        return "node-beta"

    consults = Consultations(center.call_control, center.pbx, via)
    center.pbx.originations.clear()
    consult = await consults.start("ann", "bob")
    assert asked == [(leg[0], "bob")]
    (placed,) = center.pbx.originations
    assert (placed.endpoint, placed.via, placed.near) == ("bob", "node-beta", leg[0])
    assert placed.context == Context.CONSULT.value
    assert (bob_line[0], Context.CONSULT.value, "s") not in center.pbx.redirects
    assert consult.line == ""
    assert not center.agents.available("bob")  # his line is busy until it is back
    # Cancelled: the trunk's leg is hung up; the line comes back to wait (Bridge's F).
    trunk_leg = ("PJSIP/node-beta-00000001", consult.channel_id)
    center.pbx.live = [
        LiveChannel(
            unique_id=trunk_leg[1], name=trunk_leg[0], state="Up", context=Context.CONSULT.value,
            exten="s", application="Bridge", caller_num="bob", linked_id="", bridge_id="b1",
        )
    ]  # fmt: skip
    await consults.cancel("ann")
    assert ("hangup", trunk_leg[0]) in center.pbx.actions
    await line_up(center, "bob", bob_line)
    assert center.agents.available("bob")


async def test_cancel_sends_an_always_connected_target_back_to_their_line(
    center: Center,
) -> None:
    bob_line = ("PJSIP/bob-000000ee", "1700000000.901")
    center.configure([queue("support")], {"ann": {"support": 3}, "bob": {"support": 3}})
    await center.ready("ann")
    await talking(center, "ann")
    center.nailed_agents.add("bob")
    await center.ready("bob")
    await center.settle()
    await line_up(center, "bob", bob_line)
    consults = Consultations(center.call_control, center.pbx)
    await consults.start("ann", "bob")
    center.pbx.live = [
        LiveChannel(
            unique_id=bob_line[1], name=bob_line[0], state="Up", context=Context.CONSULT.value,
            exten="s", application="Bridge", caller_num="bob", linked_id="", bridge_id="b1",
        )
    ]  # fmt: skip
    await consults.cancel("ann")
    assert (bob_line[0], Context.NAILED.value, "s") in center.pbx.redirects
    assert ("hangup", bob_line[0]) not in center.pbx.actions


async def test_after_a_restart_a_consultation_is_ended_and_the_caller_resumed(
    center: Center,
) -> None:
    """The last controller left a consultation: the next one cannot know its end."""
    _, call, leg, channel_id = await _consulting(center)
    target = _target_leg(channel_id, Context.CONSULT.value, "b1")
    caller = LiveChannel(
        unique_id=call.unique_id, name=call.channel, state="Up", context=Context.HOLD.value,
        exten="s", application="Wait", caller_num="", linked_id="", bridge_id="",
    )  # fmt: skip
    center.pbx.live = [target, caller]
    center.pbx.variables[(target.name, Var.CONSULT_CALLER.value)] = call.channel
    center.pbx.actions.clear()
    await Consultations(center.call_control, center.pbx).recover(center.pbx.live)
    assert ("hangup", target.name) in center.pbx.actions
    assert center.pbx.redirects[-1] == (call.channel, Context.RESUME.value, "s")
    assert not call.holds.on_hold and call.agent == "ann" and leg[0] == call.agent_channel


async def test_after_a_restart_a_whole_consultation_is_carried_on_then_completed(
    center: Center,
) -> None:
    """The caller still on hold, ann's leg still bridged with bob's: the next controller
    takes the consultation over; complete then works as before the restart."""
    _, call, leg, channel_id = await _consulting(center)
    target = _target_leg(channel_id, Context.CONSULT.value, "b1")
    caller = LiveChannel(
        unique_id=call.unique_id, name=call.channel, state="Up", context=Context.HOLD.value,
        exten="s", application="Wait", caller_num="", linked_id="", bridge_id="",
    )  # fmt: skip
    agent = LiveChannel(
        unique_id=leg[1], name=leg[0], state="Up", context=Context.HOLD_AGENT.value,
        exten="s", application="AppDial", caller_num="", linked_id="", bridge_id="b1",
    )  # fmt: skip
    center.pbx.live = [target, caller, agent]
    center.pbx.variables[(target.name, Var.CONSULT_CALLER.value)] = call.channel
    center.pbx.variables[(target.name, Var.CONSULT_TARGET.value)] = "bob"
    center.pbx.actions.clear()
    restarted = Consultations(center.call_control, center.pbx)
    await restarted.recover(center.pbx.live)
    assert center.pbx.actions == []  # nothing hung up, nobody resumed
    found = restarted.of("ann")
    assert found is not None and (found.target, found.kind, found.channel_id) == (
        "bob", "agent", channel_id,
    )  # fmt: skip
    await refused(restarted.start("ann", "bob"), "consulting")
    await restarted.complete("ann", "billing")
    assert call.agent == "bob" and call.agent_channel == target.name
    assert ("hangup", leg[0]) in center.pbx.actions


async def test_after_a_restart_a_conference_is_carried_on_and_the_agent_may_leave(
    center: Center,
) -> None:
    """The caller in cc-conference, ann's and bob's legs in cc-conference-member: the next
    controller (its recovery adopted the caller as ann's call) takes the conference over."""
    _, call, leg, channel_id = await _consulting(center)
    call.holds.stop(center.now)  # in a conference the caller is not on hold
    target = _target_leg(channel_id, Context.CONFERENCE_MEMBER.value, "conf1")
    caller = LiveChannel(
        unique_id=call.unique_id, name=call.channel, state="Up",
        context=Context.CONFERENCE.value, exten="s", application="ConfBridge",
        caller_num="", linked_id="", bridge_id="conf1",
    )  # fmt: skip
    agent = LiveChannel(
        unique_id=leg[1], name=leg[0], state="Up", context=Context.CONFERENCE_MEMBER.value,
        exten="s", application="ConfBridge", caller_num="", linked_id="", bridge_id="conf1",
    )  # fmt: skip
    center.pbx.live = [caller, agent, target]
    center.pbx.variables[(target.name, Var.CONSULT_CALLER.value)] = call.channel
    center.pbx.variables[(target.name, Var.CONSULT_TARGET.value)] = "bob"
    center.pbx.actions.clear()
    restarted = Consultations(center.call_control, center.pbx)
    await restarted.recover(center.pbx.live)
    assert center.pbx.actions == []
    found = restarted.of("ann")
    assert found is not None and found.conference and found.target == "bob"
    await refused(restarted.cancel("ann"), "in-conference")
    await restarted.complete("ann")  # ann leaves: the caller goes on with bob
    assert call.agent == "bob" and call.agent_channel == target.name
    [segment] = center.of(CallSegmentEnded)
    assert (segment.agent, segment.reason, segment.target) == ("ann", "conference-left", "bob")


async def test_after_a_restart_a_consultation_with_the_caller_back_is_not_carried_on(
    center: Center,
) -> None:
    """The caller left cc-hold (cc-resume took them back): the consultation is over."""
    _, call, leg, channel_id = await _consulting(center)
    target = _target_leg(channel_id, Context.CONSULT.value, "b1")
    agent = LiveChannel(
        unique_id=leg[1], name=leg[0], state="Up", context=Context.HOLD_AGENT.value,
        exten="s", application="AppDial", caller_num="", linked_id="", bridge_id="b1",
    )  # fmt: skip
    center.pbx.live = [target, agent]
    center.pbx.variables[(target.name, Var.CONSULT_CALLER.value)] = call.channel
    restarted = Consultations(center.call_control, center.pbx)
    await restarted.recover(center.pbx.live)
    assert ("hangup", target.name) in center.pbx.actions and restarted.of("ann") is None


async def test_after_a_restart_a_caller_already_back_with_the_agent_is_not_resumed_again(
    center: Center,
) -> None:
    """cc-hold took the caller back itself (the controller was silent for too long)."""
    _, call, _, channel_id = await _consulting(center)
    target = _target_leg(channel_id, Context.CONSULT_WAIT.value, "")
    center.pbx.live = [target]  # the caller is in cc-resume now, bridged with the agent
    center.pbx.variables[(target.name, Var.CONSULT_CALLER.value)] = call.channel
    center.pbx.actions.clear()
    await Consultations(center.call_control, center.pbx).recover(center.pbx.live)
    assert ("hangup", target.name) in center.pbx.actions
    assert center.pbx.redirects == []
    assert not call.holds.on_hold
