"""Always-connected agents (services/inbound/nailed.py) over the fakes: the phone is
called once when the agent is ready, callers go to the waiting line without a ring,
and a line that drops pauses the agent."""

from __future__ import annotations

from callcenter.core import pbx_events as ev
from callcenter.core.acd.agent_state import AgentStatus
from callcenter.core.acd.model import AgentState
from callcenter.core.calls.live import LiveCall
from callcenter.core.calls.state import CallState
from callcenter.core.dialplan import Context, Var
from callcenter.core.events import (
    AgentStateChanged,
    CallAnswered,
    CallCompleted,
    CallSegmentEnded,
)
from callcenter.core.queues import Announce, QueueSettings
from callcenter.services.inbound.nailed import LINE_DROPPED, LINE_NOT_ANSWERED, line_global
from callcenter.services.ports import LiveChannel
from tests.fakes.center import Center

QUIET = Announce(on_entry=False, interval=0)
LINE = ("PJSIP/ann-0000000a", "1700000000.900")


def queue(name: str = "support") -> QueueSettings:
    return QueueSettings.model_validate(
        {"name": name, "announce": QUIET, "requirements": {"support": 1}}
    )


async def line_up(center: Center, agent: str = "ann", line: tuple[str, str] = LINE) -> None:
    """cc-nailed: the phone answered, its leg waits (on the agent's endpoint)."""
    await center.emit(ev.Newchannel(channel=line[0], unique_id=line[1], channel_state=6))
    await center.emit(
        ev.UserEvent(
            channel=line[0],
            unique_id=line[1],
            user_event="CcNailedUp",
            raw={"agent": agent},
        )
    )


async def connected(center: Center, caller_unique_id: str, agent: str = "ann") -> None:
    """cc-connect: the caller is about to be bridged to the agent's line."""
    await center.emit(
        ev.UserEvent(
            channel="PJSIP/carrier",
            unique_id=caller_unique_id,
            user_event="CcNailedConnect",
            raw={"agent": agent},
        )
    )


async def nailed_ready(center: Center) -> None:
    center.configure([queue()], {"ann": {"support": 3}})
    center.nailed_agents.add("ann")
    await center.ready("ann")
    await center.settle()  # the line is called from the agent's state change


async def test_ready_calls_the_phone_once_and_offers_nobody_until_the_line_is_up(
    center: Center,
) -> None:
    await nailed_ready(center)
    [request] = center.pbx.originations
    assert (request.endpoint, request.context, request.exten) == ("ann", Context.NAILED, "s")
    assert request.variables == ((Var.NAILED_AGENT, "ann"),)
    call = center.caller()
    await center.enqueue(call, "support")
    assert call.state is CallState.WAITING  # the line is not up: not offered
    await line_up(center)
    # Up: the waiting caller goes to cc-connect (which bridges, no ring).
    assert center.pbx.redirects[-1] == (call.channel, Context.CONNECT.value, "ann")
    assert call.state is CallState.RINGING
    await connected(center, call.unique_id)
    assert call.state is CallState.TALKING and center.state("ann") == "on_call"
    assert call.agent_channel == LINE[0]
    [answered] = center.of(CallAnswered)
    assert answered.agent == "ann" and answered.agent_channel == LINE[0]
    assert len(center.pbx.originations) == 1  # no new call to the phone


async def test_after_the_caller_hangs_up_the_line_waits_for_the_next_caller(
    center: Center,
) -> None:
    await nailed_ready(center)
    await line_up(center)
    first = center.caller()
    await center.enqueue(first, "support")
    await connected(center, first.unique_id)
    second = center.caller()
    await center.enqueue(second, "support")
    assert second.state is CallState.WAITING  # ann talks
    await center.advance(12)
    await center.caller_hangs_up(first)
    [completed] = center.of(CallCompleted)
    assert completed.ended_by == "caller" and completed.talk == 12.0
    assert center.state("ann") == "ready"  # no wrap-up in this queue
    # Not offered until the line is back in cc-nailed (Bridge's F option).
    assert second.state is CallState.WAITING
    await line_up(center)
    assert second.state is CallState.RINGING
    await connected(center, second.unique_id)
    assert center.state("ann") == "on_call"
    assert len(center.pbx.originations) == 1
    assert ("hangup", LINE[0]) not in center.pbx.actions


async def test_a_line_that_drops_pauses_a_ready_agent_and_clears_the_line(
    center: Center,
) -> None:
    await nailed_ready(center)
    await line_up(center)
    await center.hangup(*LINE)
    status = center.agents.status("ann")
    assert (status.state.value, status.reason) == ("paused", LINE_DROPPED)
    assert center.pbx.globals[line_global("ann")] == ""
    call = center.caller()
    await center.enqueue(call, "support")
    assert call.state is CallState.WAITING  # no call sent to a dead line
    # Ready again: the phone is called again.
    await center.agents.ready("ann", center.now)
    await center.settle()
    assert len(center.pbx.originations) == 2


async def test_a_channel_of_the_same_name_on_another_node_is_not_the_line(
    center: Center,
) -> None:
    """Several nodes: channel names are unique on their own node only (the agent's
    login call on beta may be named as the line on alpha); the line is its unique id."""
    await nailed_ready(center)
    await line_up(center, line=(LINE[0], "alpha-1700000000.900"))
    await center.hangup(LINE[0], "beta-1700000000.12")
    assert "ann" in center.nailed.lines
    assert center.agents.status("ann").state is AgentState.READY
    await center.hangup(LINE[0], "alpha-1700000000.900")
    assert center.agents.status("ann").reason == LINE_DROPPED


async def test_a_line_dropped_during_a_call_pauses_the_agent_once_the_call_is_over(
    center: Center,
) -> None:
    await nailed_ready(center)
    await line_up(center)
    call = center.caller()
    await center.enqueue(call, "support")
    await connected(center, call.unique_id)
    await center.advance(5)
    await center.hangup(*LINE)  # the agent hung the phone up
    decision = await center.ring_ended(call, "ANSWER")  # cc-connect after Bridge
    assert decision.status.value == "HANGUP"
    await center.caller_hangs_up(call)
    status = center.agents.status("ann")
    assert (status.state.value, status.reason) == ("paused", LINE_DROPPED)
    assert len(center.pbx.originations) == 1


async def test_a_phone_that_does_not_take_the_line_pauses_the_agent(center: Center) -> None:
    await nailed_ready(center)
    [request] = center.pbx.originations
    await center.emit(ev.OriginateResponse(action_id=request.action_id, response="Failure"))
    status = center.agents.status("ann")
    assert (status.state.value, status.reason) == ("paused", LINE_NOT_ANSWERED)


async def test_ringing_agents_are_unchanged(center: Center) -> None:
    center.configure([queue()], {"bob": {"support": 3}})
    await center.ready("bob")
    assert center.pbx.originations == []
    decision = await center.enqueue(center.caller(), "support")
    assert (decision.status.value, decision.target) == ("CONNECT", "bob")


async def _talking(center: Center) -> LiveCall:
    await nailed_ready(center)
    await line_up(center)
    call = center.caller()
    await center.enqueue(call, "support")
    await connected(center, call.unique_id)
    return call


async def test_hold_and_resume_move_the_caller_and_keep_the_line(center: Center) -> None:
    call = await _talking(center)
    await center.call_control.hold("ann")
    # Both legs leave the bridge; the line waits in cc-hold-agent (back to cc-nailed
    # from there if the caller goes), nothing is hung up.
    assert center.pbx.done("redirect_both")[-1] == (
        call.channel, Context.HOLD.value, LINE[0], Context.HOLD_AGENT.value,
    )  # fmt: skip
    await center.advance(4)
    await center.call_control.resume("ann")
    assert center.pbx.redirects[-1] == (call.channel, Context.RESUME.value, "s")
    await center.advance(6)
    await center.caller_hangs_up(call)
    [completed] = center.of(CallCompleted)
    assert (completed.talk, completed.hold) == (6.0, 4.0)
    assert ("hangup", LINE[0]) not in center.pbx.actions
    await line_up(center)  # cc-resume's F: the line back in cc-nailed
    assert center.agents.available("ann") and len(center.pbx.originations) == 1


async def test_a_blind_transfer_sends_the_line_back_to_wait(center: Center) -> None:
    center.call_control.avoid_sender = 0  # ann, the only agent, may have the caller back
    call = await _talking(center)
    await center.advance(5)
    await center.call_control.to_queue("ann", "support", reason="billing")
    assert center.pbx.redirects[-1] == (call.channel, Context.TRANSFER.value, "s")
    assert ("hangup", LINE[0]) not in center.pbx.actions
    [segment] = center.of(CallSegmentEnded)
    assert (segment.agent, segment.reason, segment.talk) == ("ann", "transfer-queue", 5.0)
    assert call.state is CallState.WAITING and not center.agents.available("ann")
    ended = len(center.of(AgentStateChanged))
    await line_up(center)  # Bridge's F: back in cc-nailed; ends nothing a second time
    assert [e.state for e in center.of(AgentStateChanged)[ended:]] == []
    assert center.agents.available("ann")
    decision = await center.transferred(call)  # cc-transfer asks: ann's line again
    assert (decision.status.value, decision.target) == ("CONNECT", "ann")
    assert len(center.pbx.originations) == 1


async def test_a_held_caller_transferred_sends_the_line_back_to_cc_nailed(
    center: Center,
) -> None:
    call = await _talking(center)
    await center.call_control.hold("ann")
    await center.call_control.to_queue("ann", "support")
    assert (LINE[0], Context.NAILED.value, "s") in center.pbx.redirects
    assert ("hangup", LINE[0]) not in center.pbx.actions
    assert call.state is CallState.WAITING


async def test_after_a_restart_the_line_still_up_is_adopted(center: Center) -> None:
    center.configure(
        [queue()], {"ann": {"support": 3}, "bob": {"support": 3}},
        statuses={
            "ann": AgentStatus(AgentState.READY, center.now - 60),
            "bob": AgentStatus(AgentState.READY, center.now - 60),
        },
    )  # fmt: skip
    center.nailed_agents.update({"ann", "bob"})
    center.register("ann")
    center.register("bob")
    line = LiveChannel(
        unique_id=LINE[1], name=LINE[0], state="Up", context=Context.NAILED.value,
        exten="s", application="Wait", caller_num="ann", linked_id=LINE[1], bridge_id="",
    )  # fmt: skip
    center.pbx.live.append(line)
    center.pbx.variables[(LINE[0], Var.NAILED_AGENT.value)] = "ann"
    await center.emit(ev.Newchannel(channel=LINE[0], unique_id=LINE[1], channel_state=6))
    await center.recovery.run()
    assert center.nailed.lines["ann"].channel == LINE[0]
    assert center.agents.available("ann")
    assert center.pbx.originations == []  # her phone is not called again
    # bob's line is gone (Asterisk restarted, his phone hung up meanwhile): paused.
    status = center.agents.status("bob")
    assert (status.state, status.reason) == (AgentState.PAUSED, LINE_DROPPED)
    call = center.caller()
    decision = await center.enqueue(call, "support")
    assert (decision.status.value, decision.target) == ("CONNECT", "ann")


async def test_logging_out_hangs_the_line_up(center: Center) -> None:
    await nailed_ready(center)
    await line_up(center)
    await center.agents.logout("ann", center.now)
    await center.settle()
    assert ("hangup", LINE[0]) in center.pbx.actions


async def test_the_agent_ends_the_call_from_the_desktop_and_the_line_stays(
    center: Center,
) -> None:
    await nailed_ready(center)
    await line_up(center)
    call = center.caller()
    await center.enqueue(call, "support")
    await connected(center, call.unique_id)
    await center.call_control.end("ann")
    assert ("hangup", call.channel) in center.pbx.actions
    assert ("hangup", LINE[0]) not in center.pbx.actions
    await center.caller_hangs_up(call)
    await line_up(center)  # Bridge's F: the line back in cc-nailed
    assert center.agents.available("ann")
