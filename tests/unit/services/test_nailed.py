"""Always-connected agents (services/inbound/nailed.py) over the fakes: the phone is
called once when the agent is ready, callers go to the waiting line without a ring,
and a line that drops pauses the agent."""

from __future__ import annotations

from callcenter.core import pbx_events as ev
from callcenter.core.calls.state import CallState
from callcenter.core.dialplan import Context, Var
from callcenter.core.events import CallAnswered, CallCompleted
from callcenter.core.queues import Announce, QueueSettings
from callcenter.services.inbound.call_control import CallControlError
from callcenter.services.inbound.nailed import LINE_DROPPED, LINE_NOT_ANSWERED, line_global
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


async def test_hold_and_transfers_are_refused_for_an_always_connected_agent(
    center: Center,
) -> None:
    await nailed_ready(center)
    await line_up(center)
    call = center.caller()
    await center.enqueue(call, "support")
    await connected(center, call.unique_id)
    for attempt in (
        center.call_control.hold("ann"),
        center.call_control.to_queue("ann", "support"),
    ):
        try:
            await attempt
        except CallControlError as exc:
            assert exc.code == "always-connected"
        else:
            raise AssertionError("not refused")


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
