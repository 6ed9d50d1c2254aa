"""Hold, resume and blind transfers (services/inbound/call_control.py) over the fakes:
what Asterisk is asked, the agents' states, the segments, and the caller's place."""

from __future__ import annotations

from callcenter.core.calls.live import LiveCall
from callcenter.core.calls.state import CallState
from callcenter.core.dialplan import Context, Decision, Status, Var
from callcenter.core.events import (
    CallCompleted,
    CallHeld,
    CallOverflowed,
    CallResumed,
    CallSegmentEnded,
    CallTransferred,
)
from callcenter.core.queues import Announce, QueueSettings
from callcenter.services.inbound.call_control import CallControlError
from tests.fakes.center import Center
from tests.fakes.pbx import FakeCallerLine

QUIET = Announce(on_entry=False, interval=0)
SKILLED = {"support": 1}


def queue(name: str, **settings: object) -> QueueSettings:
    return QueueSettings.model_validate(
        {"name": name, "announce": QUIET, "requirements": SKILLED, **settings}
    )


async def talking(
    center: Center, agent: str, queue_name: str = "support"
) -> tuple[LiveCall, tuple[str, str]]:
    call = center.caller()
    await center.enqueue(call, queue_name)
    leg = await center.ring(call, agent)
    await center.dial_end(call, leg, "ANSWER")
    assert call.state is CallState.TALKING and center.state(agent) == "on_call"
    return call, leg


async def refused(coro: object, code: str) -> None:
    try:
        await coro  # type: ignore[misc]
    except CallControlError as exc:
        assert exc.code == code, exc
    else:
        raise AssertionError(f"not refused: {code}")


async def test_hold_moves_both_legs_resume_bridges_back_and_hold_time_is_not_talk(
    center: Center,
) -> None:
    center.configure([queue("support")], {"ann": {"support": 3}})
    await center.ready("ann")
    call, leg = await talking(center, "ann")
    center.pbx.actions.clear()
    await center.call_control.hold("ann")
    assert center.pbx.actions == [
        ("set_var", call.channel, Var.HOLD_PEER.value, leg[0]),
        ("set_var", call.channel, Var.HOLD_AGENT.value, "ann"),
        ("set_var", leg[0], Var.HOLD_PEER.value, call.channel),
        ("redirect_both", call.channel, Context.HOLD.value, leg[0], Context.HOLD_AGENT.value),
    ]
    await refused(center.call_control.hold("ann"), "on-hold")
    await center.advance(20)
    assert center.state("ann") == "on_call"
    await center.call_control.resume("ann")
    assert center.pbx.redirects[-1] == (call.channel, Context.RESUME.value, "s")
    await refused(center.call_control.resume("ann"), "not-on-hold")
    await center.advance(10)
    # The agent hangs up after the resume: cc-resume reports it as after Dial.
    await center.hangup(*leg)
    await center.ring_ended(call, "ANSWER")
    [resumed] = center.of(CallResumed)
    assert resumed.held == 20.0 and len(center.of(CallHeld)) == 1
    [segment] = center.of(CallSegmentEnded)
    assert (segment.talk, segment.hold, segment.holds, segment.reason) == (
        10.0,
        20.0,
        1,
        "completed",
    )
    [completed] = center.of(CallCompleted)
    assert (completed.talk, completed.hold, completed.ended_by) == (10.0, 20.0, "agent")


async def test_only_the_agent_talking_with_a_caller_can_hold_or_transfer(center: Center) -> None:
    center.configure([queue("support")], {"ann": {"support": 3}, "bob": {"support": 3}})
    await center.ready("ann", "bob")
    await refused(center.call_control.hold("ann"), "no-call")
    await refused(center.call_control.hold("zed"), "unknown-agent")
    await talking(center, "ann")
    await refused(center.call_control.to_queue("ann", "nowhere"), "unknown-queue")
    await refused(center.call_control.to_agent("ann", "ann"), "same-agent")
    await center.agents.pause("bob", "lunch", center.now)
    await refused(center.call_control.to_agent("ann", "bob"), "agent-busy")
    await refused(center.call_control.to_queue("ann", "support", "x" * 201), "reason-too-long")
    assert center.state("ann") == "on_call"


async def test_a_transfer_to_an_agent_rings_them_and_the_first_agent_is_done(
    center: Center,
) -> None:
    center.configure([queue("support", wrapup=30)], {"ann": {"support": 3}, "bob": {"support": 3}})
    await center.ready("ann")
    call, ann_leg = await talking(center, "ann")
    await center.ready("bob")
    await center.advance(40)
    center.pbx.actions.clear()
    await center.call_control.to_agent("ann", "bob", "billing", "VIP")
    assert center.pbx.redirects == [(call.channel, Context.TRANSFER.value, "s")]
    assert center.state("ann") == "wrap_up" and call.state is CallState.WAITING
    # The caller reaches cc-transfer; its route answers: ring bob.
    assert await center.transferred(call) == Decision(Status.CONNECT, "bob", ring_timeout=15.0)
    assert center.state("bob") == "ringing"
    assert call.state is CallState.RINGING and call.agent == "bob"
    assert call.data["transferred_from"] == "ann" and call.data["transfer_note"] == "VIP"
    await center.hangup(*ann_leg)  # Asterisk hangs ann's leg up: nothing more happens
    assert center.state("ann") == "wrap_up" and call.state is CallState.RINGING
    bob_leg = await center.ring(call, "bob")
    await center.dial_end(call, bob_leg, "ANSWER")
    assert center.state("bob") == "on_call"
    await center.advance(5)
    await center.caller_hangs_up(call)
    segments = [(s.agent, s.talk, s.reason, s.target) for s in center.of(CallSegmentEnded)]
    assert segments == [("ann", 40.0, "transfer-agent", "bob"), ("bob", 5.0, "completed", "")]
    [transferred] = center.of(CallTransferred)
    assert (transferred.kind, transferred.target, transferred.reason) == ("agent", "bob", "billing")


async def test_a_caller_transferred_to_a_queue_keeps_their_arrival_for_their_place(
    center: Center,
) -> None:
    center.configure(
        [queue("support"), queue("billing")],
        {"ann": {"support": 3}, "bob": {"support": 3}, "cat": {"support": 3}},
    )
    await center.ready("ann", "cat")
    first, _ = await talking(center, "ann")
    await talking(center, "cat")  # busy: nobody free for billing
    await center.advance(30)
    later = center.caller("+12125550199")  # arrives after the first caller, waits in billing
    await center.enqueue(later, "billing")
    await center.advance(30)
    await center.call_control.to_queue("ann", "billing", "wrong queue")
    assert await center.transferred(first) == Decision(Status.WAIT)
    assert first.state is CallState.WAITING and first.queue == "billing"
    await center.ready("bob")  # logs in: the router offers bob the most deserving caller
    assert first.state is CallState.RINGING and first.agent == "bob"  # ahead of the later one
    assert later.state is CallState.WAITING


async def test_without_keep_arrival_the_transferred_caller_joins_the_back_of_the_line(
    center: Center,
) -> None:
    center.call_control.keep_arrival = False
    center.configure(
        [queue("support"), queue("billing")], {"ann": {"support": 3}, "bob": {"support": 3}}
    )
    await center.ready("ann")
    first, _ = await talking(center, "ann")
    await center.advance(30)
    later = center.caller("+12125550199")
    await center.enqueue(later, "billing")
    await center.advance(30)
    await center.call_control.to_queue("ann", "billing")
    await center.transferred(first)
    await center.ready("bob")
    assert later.state is CallState.RINGING and first.state is CallState.WAITING


async def test_a_caller_transferred_to_the_agent_s_own_queue_does_not_come_back_to_them(
    center: Center,
) -> None:
    # ann sends the caller to a queue she belongs to: the ACD passes her over for
    # avoid_sender seconds (60), even free and the longest idle, and gives the caller to
    # the next agent; ann gets the next caller in line instead.
    center.configure([queue("support", wrapup=5)], {"ann": {"support": 3}, "bob": {"support": 3}})
    await center.ready("ann")
    first, leg = await talking(center, "ann")
    await center.call_control.to_queue("ann", "support", "second opinion")
    assert await center.transferred(first) == Decision(Status.WAIT)
    await center.hangup(*leg)  # Asterisk hangs ann's leg up
    await center.advance(10)  # ann's wrap-up is over: ready, and the only one
    assert center.state("ann") == "ready" and first.state is CallState.WAITING
    later = center.caller("+12125550199")
    await center.enqueue(later, "support")
    assert later.state is CallState.RINGING and later.agent == "ann"
    await center.ready("bob")
    assert first.state is CallState.RINGING and first.agent == "bob"


async def test_after_avoid_sender_the_agent_who_transferred_may_take_the_caller_back(
    center: Center,
) -> None:
    center.configure([queue("support", wrapup=5)], {"ann": {"support": 3}})
    await center.ready("ann")
    first, leg = await talking(center, "ann")
    await center.call_control.to_queue("ann", "support")
    await center.transferred(first)
    await center.hangup(*leg)
    await center.advance(50)
    assert center.state("ann") == "ready" and first.state is CallState.WAITING
    await center.advance(15)  # 60 s after the transfer: nobody else took the caller
    assert first.state is CallState.RINGING and first.agent == "ann"


async def test_a_transfer_to_an_outside_number_passes_the_dial_policy_first(
    center: Center,
) -> None:
    center.configure([queue("support", wrapup=10)], {"ann": {"support": 3}})
    await center.ready("ann")
    call, leg = await talking(center, "ann")
    # A premium-rate number: refused, audited, and the call stays with ann.
    await refused(center.call_control.to_number("ann", "+1 900 555 0123"), "refused")
    assert [r.where for r in center.dial_refusals.rows] == ["transfer"]
    assert center.state("ann") == "on_call" and call.agent_channel == leg[0]
    await center.advance(30)
    center.pbx.actions.clear()
    await center.call_control.to_number("ann", "+44 20 7946 0000", "sales abroad")
    assert center.pbx.actions == [
        ("set_var", call.channel, Var.XFER_NUMBER.value, "+442079460000"),
        ("set_var", call.channel, Var.XFER_TRUNK.value, "carrier"),
        ("redirect", call.channel, Context.TRANSFER_OUT.value, "s", 1),
    ]
    assert call.state is CallState.ENDED and center.state("ann") == "wrap_up"
    [completed] = center.of(CallCompleted)
    assert (completed.ended_by, completed.talk) == ("transfer", 30.0)
    [segment] = center.of(CallSegmentEnded)
    assert (segment.reason, segment.target) == ("transfer-number", "+442079460000")
    await center.hangup(*leg)
    await center.caller_hangs_up(call)  # later, the outside call over
    assert center.calls.get(call.call_id) is None and center.state("ann") == "wrap_up"


async def test_a_target_agent_gone_meanwhile_leaves_the_caller_in_their_queues_line(
    center: Center,
) -> None:
    center.configure([queue("support", wrapup=30)], {"ann": {"support": 3}, "bob": {"support": 3}})
    await center.ready("ann")
    call, _ = await talking(center, "ann")
    await center.ready("bob")
    await center.call_control.to_agent("ann", "bob")
    await center.agents.pause("bob", "lunch", center.now)  # before the caller arrives
    assert await center.transferred(call) == Decision(Status.WAIT)  # ann is in wrap-up
    assert call.state is CallState.WAITING and call.queue == "support"
    assert center.router.is_available("ann") is False
    stranger = center.caller("+12125550111")
    line = FakeCallerLine()
    assert await center.inbound.transferred(line, stranger.unique_id) == Status.FALLBACK


async def test_queue_log_gets_a_blindtransfer_line_for_the_agent_s_part(center: Center) -> None:
    center.configure([queue("support"), queue("billing")], {"ann": {"support": 3}})
    await center.ready("ann")
    call, _ = await talking(center, "ann")
    await center.advance(42)
    await center.call_control.to_queue("ann", "billing", "wrong queue")
    await center.settle()
    lines = [line for line in center.pbx.done("queue_log") if line[3] == "BLINDTRANSFER"]
    assert lines == [
        ("support", call.unique_id, "ann", "BLINDTRANSFER", ["billing", "queue", "0", "42", "1"])
    ]


async def test_the_maximum_wait_of_the_line_counts_from_the_transfer(center: Center) -> None:
    center.configure([queue("support", max_wait=120)], {"ann": {"support": 3}})
    await center.ready("ann")
    call, _ = await talking(center, "ann")
    await center.advance(600)  # a long conversation: no wait
    await center.agents.pause("ann", "lunch", center.now)
    center.pbx.actions.clear()
    await center.call_control.to_queue("ann", "support")
    assert await center.transferred(call) == Decision(Status.WAIT)
    await center.advance(119)
    assert center.of(CallOverflowed) == []
    await center.advance(1)
    assert center.of(CallOverflowed)[-1].reason == "max-wait"


async def test_a_call_ended_from_the_desktop_is_ended_by_the_agent(center: Center) -> None:
    center.configure([queue("support")], {"ann": {"support": 3}})
    await center.ready("ann")
    call, leg = await talking(center, "ann")
    await center.advance(20)
    await center.call_control.end("ann")
    assert center.pbx.done("hangup")[-1] == (call.channel,)
    await center.caller_hangs_up(call)  # Asterisk reports the caller's leg gone first
    await center.hangup(*leg)
    [completed] = center.of(CallCompleted)
    assert (completed.ended_by, completed.talk) == ("agent", 20.0)
    await refused(center.call_control.end("ann"), "no-call")
