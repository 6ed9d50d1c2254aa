"""The ACD as callers and agents live it (services/inbound/acd.py, queueing.py,
offering.py, wait_timers.py): who is rung, when, and what is reported."""

from __future__ import annotations

from callcenter.core import pbx_events as ev
from callcenter.core.calls.state import CallState
from callcenter.core.dialplan import Context, Decision, Status, Var
from callcenter.core.events import (
    AgentStateChanged,
    CallAbandoned,
    CallAnswered,
    CallCompleted,
    CallEnded,
    CallFellBack,
    CallOffered,
    CallOverflowed,
    CallQueued,
    CallRingNoAnswer,
)
from callcenter.core.hours import load_schedule
from callcenter.core.queues import Announce, Overflow, QueueSettings, Relax
from callcenter.services.inbound.offering import STUCK_RING
from tests.fakes.center import Center

QUIET = Announce(on_entry=False, interval=0)  # no announcements unless a test wants them


def queue(name: str = "support", **settings: object) -> QueueSettings:
    return QueueSettings.model_validate({"name": name, "announce": QUIET, **settings})


def connect(agent: str, ring: float = 15.0) -> Decision:
    return Decision(Status.CONNECT, agent, ring_timeout=ring)


def moved_to_agent(channel: str, agent: str, ring: str = "15") -> list[tuple[object, ...]]:
    """What the Pbx is asked to move a waiting caller to an agent's phone."""
    return [
        ("set_var", channel, Var.RING_TIMEOUT.value, ring),
        ("redirect", channel, Context.CONNECT.value, agent, 1),
    ]


def pbx_moves(center: Center) -> list[tuple[object, ...]]:
    return [a for a in center.pbx.actions if a[0] in ("set_var", "redirect")]


# -- an agent at once, or a wait -------------------------------------------------------------
async def test_a_caller_is_rung_through_at_once_to_a_free_agent(center: Center) -> None:
    center.configure([queue(ring_timeout=20)], {"agent1": {}})
    await center.ready("agent1")
    call = center.caller()
    assert await center.enqueue(call, "support") == connect("agent1", 20.0)
    assert center.kinds(call.call_id) == ["CallQueued", "CallOffered"]
    [queued] = center.of(CallQueued)
    assert (queued.queue, queued.position, queued.caller) == ("support", 1, "+12125550100")
    assert center.state("agent1") == "ringing"
    assert call.state is CallState.RINGING and call.agent == "agent1"
    assert pbx_moves(center) == []  # the route's decision rings the agent, not a Redirect


async def test_with_nobody_free_the_caller_waits_and_is_moved_when_an_agent_is_ready(
    center: Center,
) -> None:
    center.configure([queue()], {"agent1": {}})
    await center.ready("agent1")
    await center.agents.pause("agent1", "lunch", center.now)
    call = center.caller()
    assert await center.enqueue(call, "support") == Decision(Status.WAIT)
    assert call.state is CallState.WAITING
    await center.advance(40)
    await center.agents.ready("agent1", center.now)
    assert pbx_moves(center) == moved_to_agent(call.channel, "agent1")
    [offered] = center.of(CallOffered)
    assert (offered.agent, offered.wait) == ("agent1", 40.0)
    assert center.state("agent1") == "ringing"


async def test_a_ready_agent_on_a_personal_call_is_rung_once_the_phone_hangs_up(
    center: Center,
) -> None:
    center.configure([queue()], {"agent1": {}})
    await center.ready("agent1")
    personal = center.agent_channel("agent1")
    await center.emit(ev.Newchannel(channel=personal[0], unique_id=personal[1]))
    call = center.caller()
    assert await center.enqueue(call, "support") == Decision(Status.WAIT)
    await center.hangup(*personal)
    assert pbx_moves(center) == moved_to_agent(call.channel, "agent1")


async def test_the_longest_idle_agent_is_rung_first(center: Center) -> None:
    center.configure([queue()], {"agent1": {}, "agent2": {}})
    await center.ready("agent2")
    await center.advance(5)
    await center.ready("agent1")
    first = center.caller()
    assert await center.enqueue(first, "support") == connect("agent2")
    # agent2 talks and is ready again: now agent1 has been idle the longest.
    leg = await center.ring(first, "agent2")
    await center.dial_end(first, leg, "ANSWER")
    await center.advance(60)
    await center.hangup(*leg)
    assert center.state("agent2") == "ready"
    second = center.caller()
    assert await center.enqueue(second, "support") == connect("agent1")


async def test_only_an_agent_with_the_required_skills_is_rung(center: Center) -> None:
    center.configure(
        [queue("spanish", requirements={"spanish": 3})],
        {"agent1": {"spanish": 2}, "agent2": {"spanish": 4}},
    )
    await center.ready("agent1")  # the longest idle, but not fluent enough
    await center.advance(1)
    await center.ready("agent2")
    assert await center.enqueue(center.caller(), "spanish") == connect("agent2")


async def test_the_ivr_adds_requirements_to_the_queue_s_own(center: Center) -> None:
    center.configure([queue()], {"agent1": {}, "agent2": {"french": 2}})
    await center.ready("agent1", "agent2")
    decision = await center.enqueue(center.caller(), "support", extra={"french": 2})
    assert decision == connect("agent2")


async def test_a_higher_priority_caller_is_served_before_an_older_one(center: Center) -> None:
    center.configure([queue()], {"agent1": {}})
    await center.ready("agent1")
    await center.agents.pause("agent1", "meeting", center.now)
    old, vip = center.caller(), center.caller("+12125550199")
    await center.enqueue(old, "support")
    await center.advance(30)
    await center.enqueue(vip, "support", priority=5)
    [_, vip_queued] = center.of(CallQueued)
    assert vip_queued.position == 1  # told they are next, ahead of the older caller
    await center.agents.ready("agent1", center.now)
    assert pbx_moves(center) == moved_to_agent(vip.channel, "agent1")
    assert old.state is CallState.WAITING


async def test_most_proficient_strategy_rings_the_best_skilled_agent(center: Center) -> None:
    center.configure(
        [queue("tech", requirements={"linux": 1}, strategy="most_proficient")],
        {"agent1": {"linux": 2}, "agent2": {"linux": 5}},
    )
    await center.ready("agent1", "agent2")
    assert await center.enqueue(center.caller(), "tech") == connect("agent2")


# -- the agent's phone: no answer, answer, hang-ups -----------------------------------------------
async def test_ring_no_answer_pauses_the_agent_and_keeps_the_caller_first_in_line(
    center: Center,
) -> None:
    center.configure([queue()], {"agent1": {}, "agent2": {}})
    await center.ready("agent1", "agent2")
    await center.agents.pause("agent2", "break", center.now)
    await center.agents.pause("agent1", "break", center.now)
    first, second = center.caller(), center.caller("+12125550111")
    await center.enqueue(first, "support")
    await center.advance(10)
    await center.enqueue(second, "support")
    await center.agents.ready("agent1", center.now)
    leg = await center.ring(first, "agent1")
    await center.advance(15)
    await center.dial_end(first, leg, "NOANSWER")
    await center.hangup(*leg)
    assert await center.ring_ended(first, "NOANSWER") == Decision(Status.WAIT)
    [missed] = center.of(CallRingNoAnswer)
    assert (missed.agent, missed.ring_seconds, missed.status) == ("agent1", 15.0, "NOANSWER")
    status = center.agents.status("agent1")
    assert (status.state.value, status.reason) == ("paused", "ring-no-answer")
    assert ("queue_pause", "cc-fallback", "PJSIP/agent1", True, "ring-no-answer") in (
        center.pbx.actions
    )
    assert first.state is CallState.WAITING and first.agent == ""
    # The next agent free takes the first caller, who kept their place (and their wait);
    # the channel has its ring timeout from the first ring: a Redirect alone.
    center.pbx.actions.clear()
    await center.agents.ready("agent2", center.now)
    assert pbx_moves(center) == moved_to_agent(first.channel, "agent2")[1:]
    assert center.of(CallOffered)[-1].wait == 25.0


async def test_ring_no_answer_offers_the_caller_at_once_to_another_free_agent(
    center: Center,
) -> None:
    center.configure([queue()], {"agent1": {}, "agent2": {}})
    await center.ready("agent1")
    await center.advance(1)
    await center.ready("agent2")
    call = center.caller()
    assert await center.enqueue(call, "support") == connect("agent1")
    leg = await center.ring(call, "agent1")
    await center.dial_end(call, leg, "NOANSWER")
    await center.hangup(*leg)
    assert await center.ring_ended(call, "NOANSWER") == connect("agent2")
    assert call.offers == 2


async def test_a_phone_that_cannot_be_reached_pauses_its_agent_with_its_own_reason(
    center: Center,
) -> None:
    center.configure([queue()], {"agent1": {}})
    await center.ready("agent1")
    call = center.caller()
    await center.enqueue(call, "support")
    assert await center.ring_ended(call, "CHANUNAVAIL") == Decision(Status.WAIT)
    assert center.agents.status("agent1").reason == "phone-unavailable"


async def test_an_agent_who_answers_is_on_call_and_the_caller_answered(center: Center) -> None:
    center.configure([queue(max_wait=60)], {"agent1": {}})
    await center.ready("agent1")
    await center.agents.pause("agent1", "break", center.now)
    call = center.caller()
    await center.enqueue(call, "support")
    await center.advance(20)
    await center.agents.ready("agent1", center.now)
    leg = await center.ring(call, "agent1")
    await center.advance(4)
    await center.dial_end(call, leg, "ANSWER")
    [answered] = center.of(CallAnswered)
    assert (answered.agent, answered.wait, answered.ring_seconds) == ("agent1", 24.0, 4.0)
    assert answered.agent_channel == leg[0]
    assert center.state("agent1") == "on_call"
    assert call.state is CallState.TALKING
    # queue_log: CONNECT holdtime|bridged channel|ringtime, as app_queue writes it.
    assert center.pbx.done("queue_log")[-1] == (
        "support", call.unique_id, "agent1", "CONNECT", ["24", leg[0], "4"],
    )  # fmt: skip
    center.pbx.actions.clear()
    await center.advance(120)  # past the maximum wait: a caller with an agent stays
    assert pbx_moves(center) == [] and center.of(CallOverflowed) == []


async def test_the_agent_hangs_up_first_wrap_up_then_ready(center: Center) -> None:
    center.configure([queue(wrapup=30)], {"agent1": {}})
    await center.ready("agent1")
    call = center.caller()
    await center.enqueue(call, "support")
    leg = await center.ring(call, "agent1")
    await center.dial_end(call, leg, "ANSWER")
    await center.advance(90)
    await center.hangup(*leg)  # the agent's leg first
    assert center.state("agent1") == "wrap_up"
    assert await center.ring_ended(call, "ANSWER") == Decision(Status.HANGUP)
    await center.caller_hangs_up(call)
    [completed] = center.of(CallCompleted)
    assert (completed.ended_by, completed.agent, completed.talk) == ("agent", "agent1", 90.0)
    assert center.of(CallEnded)[-1].outcome == "ended"
    acd_events = [k for k in center.kinds(call.call_id) if not k.startswith("Recording")]
    assert acd_events == [
        "CallQueued", "CallOffered", "CallAnswered", "CallSegmentEnded", "CallCompleted",
        "CallEnded",
    ]  # fmt: skip
    assert center.wait_history.calls("support") == 1  # talk time only: wrap-up is the queue's
    assert 90.0 <= center.wait_history.fit("support", 180.0).mean < 120.0
    await center.advance(29)
    assert center.state("agent1") == "wrap_up"
    await center.advance(1)
    assert center.state("agent1") == "ready"
    assert [e.state for e in center.of(AgentStateChanged)][-3:] == ["on_call", "wrap_up", "ready"]


async def test_the_caller_hangs_up_first_the_call_is_completed_by_the_caller(
    center: Center,
) -> None:
    center.configure([queue()], {"agent1": {}})
    await center.ready("agent1")
    call = center.caller()
    await center.enqueue(call, "support")
    leg = await center.ring(call, "agent1")
    await center.dial_end(call, leg, "ANSWER")
    await center.advance(45)
    await center.caller_hangs_up(call)
    [completed] = center.of(CallCompleted)
    assert (completed.ended_by, completed.talk) == ("caller", 45.0)
    assert center.state("agent1") == "on_call"  # until the agent's own leg is gone
    await center.hangup(*leg)
    assert center.state("agent1") == "ready"
    assert center.calls.get(call.call_id) is None


async def test_the_agent_s_leg_reported_gone_first_does_not_make_the_agent_the_one_who_hung_up(
    center: Center,
) -> None:
    """A caller's BYE hangs the bridged agent leg up too, and Asterisk may report that
    leg first: only the dialplan's step after Dial (ANSWER) says the agent hung up."""
    center.configure([queue()], {"agent1": {}})
    await center.ready("agent1")
    call = center.caller()
    await center.enqueue(call, "support")
    leg = await center.ring(call, "agent1")
    await center.dial_end(call, leg, "ANSWER")
    await center.advance(30)
    await center.hangup(*leg)
    await center.caller_hangs_up(call)
    [completed] = center.of(CallCompleted)
    assert (completed.ended_by, completed.talk) == ("caller", 30.0)


async def test_in_the_fallback_queue_asterisk_s_agent_complete_says_who_hung_up(
    center: Center,
) -> None:
    center.configure([queue()], {"agent1": {}})
    await center.ready("agent1")
    call = center.caller()
    await center.enqueue(call, "support")
    await center.emit(ev.UserEvent(user_event="CcFallback", unique_id=call.unique_id))
    await center.acd.fallback_answered(call, "agent1", "PJSIP/agent1-0001")
    await center.advance(20)
    done = ev.AgentComplete(unique_id=call.unique_id, queue="cc-fallback", reason="agent")
    await center.emit(done)
    await center.caller_hangs_up(call)
    [completed] = center.of(CallCompleted)
    assert (completed.ended_by, completed.agent, completed.talk) == ("agent", "agent1", 20.0)


async def test_at_the_end_of_wrap_up_the_next_waiting_caller_is_rung(center: Center) -> None:
    center.configure([queue(wrapup=20)], {"agent1": {}})
    await center.ready("agent1")
    first, second = center.caller(), center.caller("+12125550111")
    await center.enqueue(first, "support")
    await center.enqueue(second, "support")
    leg = await center.ring(first, "agent1")
    await center.dial_end(first, leg, "ANSWER")
    await center.caller_hangs_up(first)
    await center.hangup(*leg)
    assert pbx_moves(center) == []
    await center.advance(20)
    assert pbx_moves(center) == moved_to_agent(second.channel, "agent1")


async def test_an_agent_ends_wrap_up_early(center: Center) -> None:
    center.configure([queue(wrapup=60)], {"agent1": {}})
    await center.ready("agent1")
    call = center.caller()
    await center.enqueue(call, "support")
    leg = await center.ring(call, "agent1")
    await center.dial_end(call, leg, "ANSWER")
    await center.hangup(*leg)
    await center.agents.finish_wrapup("agent1", center.now + 5)
    assert center.state("agent1") == "ready"
    assert not center.timers.pending(("wrapup", "agent1"))


# -- callers who hang up ---------------------------------------------------------------------
async def test_a_caller_who_hangs_up_in_line_is_abandoned_with_their_position(
    center: Center,
) -> None:
    center.configure([queue()], {"agent1": {}})
    await center.ready("agent1")
    await center.agents.pause("agent1", "break", center.now)
    first, second = center.caller(), center.caller("+12125550111")
    await center.enqueue(first, "support")
    await center.enqueue(second, "support")
    await center.advance(33)
    await center.caller_hangs_up(second)
    [abandoned] = center.of(CallAbandoned)
    assert (abandoned.call_id, abandoned.position, abandoned.wait) == (second.call_id, 2, 33.0)
    assert abandoned.while_ringing == ""
    assert center.of(CallEnded)[-1].outcome == "waiting"
    assert center.calls.get(second.call_id) is None
    await center.agents.ready("agent1", center.now)
    assert pbx_moves(center) == moved_to_agent(first.channel, "agent1")
    abandon = [a for a in center.pbx.done("queue_log") if a[3] == "ABANDON"]
    assert abandon == [("support", second.unique_id, "NONE", "ABANDON", ["2", "2", "33"])]


async def test_a_caller_who_hangs_up_while_the_agent_rings_frees_the_agent(
    center: Center,
) -> None:
    center.configure([queue()], {"agent1": {}})
    await center.ready("agent1")
    first, second = center.caller(), center.caller("+12125550111")
    await center.enqueue(first, "support")
    await center.enqueue(second, "support")
    leg = await center.ring(first, "agent1")
    await center.advance(6)
    await center.caller_hangs_up(first)
    [abandoned] = center.of(CallAbandoned)
    assert (abandoned.position, abandoned.while_ringing, abandoned.wait) == (1, "agent1", 6.0)
    assert center.state("agent1") == "ready"  # not paused: they did nothing wrong
    assert pbx_moves(center) == []  # their phone still rings until Asterisk ends the leg
    await center.hangup(*leg)
    assert pbx_moves(center) == moved_to_agent(second.channel, "agent1")


# -- the line's clocks: maximum wait, announcements, relaxation ---------------------------------
async def test_after_the_maximum_wait_the_caller_overflows_to_another_queue(
    center: Center,
) -> None:
    center.configure(
        [
            queue(
                requirements={"support": 1},
                max_wait=60,
                on_max_wait=Overflow(action="queue", target="general"),
            ),
            queue("general", default_priority=2),
        ],
        {"agent1": {"support": 1}, "agent2": {}},
    )
    await center.ready("agent1", "agent2")
    await center.agents.pause("agent1", "break", center.now)
    call = center.caller()
    assert await center.enqueue(call, "support") == Decision(Status.WAIT)  # agent2 lacks the skill
    await center.advance(59)
    assert pbx_moves(center) == []
    await center.advance(1)
    [overflowed] = center.of(CallOverflowed)
    assert (overflowed.reason, overflowed.action, overflowed.target) == (
        "max-wait",
        "queue",
        "general",
    )
    assert overflowed.wait == 60.0
    assert pbx_moves(center) == moved_to_agent(call.channel, "agent2")
    assert (call.queue, call.priority) == ("general", 2)
    assert center.kinds(call.call_id) == [
        "CallQueued", "CallOverflowed", "CallQueued", "CallOffered",
    ]  # fmt: skip


async def test_after_the_maximum_wait_the_caller_may_leave_a_message(center: Center) -> None:
    overflow = Overflow(action="voicemail", target="sales-box")
    center.configure([queue(max_wait=90, on_max_wait=overflow)], {"agent1": {}})
    await center.ready("agent1")
    await center.agents.pause("agent1", "break", center.now)
    call = center.caller()
    await center.enqueue(call, "support")
    await center.advance(90)
    assert pbx_moves(center) == [
        ("set_var", call.channel, Var.VM_BOX.value, "sales-box"),
        ("redirect", call.channel, Context.VOICEMAIL.value, "s", 1),
    ]
    assert call.state is CallState.VOICEMAIL
    await center.agents.ready("agent1", center.now)
    assert center.state("agent1") == "ready"  # the caller left the line


async def test_after_the_maximum_wait_the_caller_hears_goodbye(center: Center) -> None:
    center.configure([queue(max_wait=90)], {"agent1": {}})  # default: hang up, vm-nobodyavail
    await center.ready("agent1")
    await center.agents.pause("agent1", "break", center.now)
    call = center.caller()
    await center.enqueue(call, "support")
    await center.advance(90)
    assert pbx_moves(center) == [
        ("set_var", call.channel, Var.PROMPT.value, "vm-nobodyavail"),
        ("redirect", call.channel, Context.GOODBYE.value, "s", 1),
    ]
    assert call.state is CallState.ENDED


async def test_a_closed_queue_turns_callers_away_as_configured(center: Center) -> None:
    monday_only = load_schedule(
        {"name": "office", "timezone": "UTC", "weekly": {"mon": ["09:00-17:00"]}}
    )
    closed = Overflow(action="voicemail", target="after-hours", prompt="custom/closed")
    center.configure(
        [queue(schedule="office", on_closed=closed)], {"agent1": {}}, {"office": monday_only}
    )
    await center.ready("agent1")  # it is Tuesday: an agent being free changes nothing
    call = center.caller()
    decision = await center.enqueue(call, "support")
    assert decision == Decision(Status.VOICEMAIL, "after-hours", "custom/closed")
    [overflowed] = center.of(CallOverflowed)
    assert (overflowed.reason, overflowed.action) == ("closed", "voicemail")
    assert center.of(CallQueued) == [] and center.state("agent1") == "ready"


async def test_a_queue_inside_its_closing_margin_takes_no_new_callers(center: Center) -> None:
    # Open until 15:01 UTC; it is 15:00 and callers are turned away 5 minutes before closing.
    tuesday = load_schedule(
        {"name": "office", "timezone": "UTC", "weekly": {"tue": ["08:00-15:01"]}}
    )
    center.configure(
        [queue(schedule="office", closing_margin=300)], {"agent1": {}}, {"office": tuesday}
    )
    await center.ready("agent1")
    decision = await center.enqueue(center.caller(), "support")
    assert decision == Decision(Status.HANGUP, prompt="vm-nobodyavail")
    assert center.of(CallOverflowed)[0].reason == "closed"


async def test_a_queue_nobody_staffs_sends_callers_elsewhere(center: Center) -> None:
    unstaffed = Overflow(action="queue", target="general")
    center.configure(
        [queue(requirements={"billing": 1}, on_unstaffed=unstaffed), queue("general")],
        {"agent1": {"billing": 1}, "agent2": {}},
    )
    await center.ready("agent2")  # agent1, the only one with billing, is logged out
    call = center.caller()
    assert await center.enqueue(call, "support") == connect("agent2")
    assert center.of(CallOverflowed)[0].reason == "unstaffed"
    assert call.queue == "general"


async def test_a_paused_agent_still_staffs_the_queue(center: Center) -> None:
    center.configure([queue(requirements={"billing": 1})], {"agent1": {"billing": 1}})
    await center.ready("agent1")
    await center.agents.pause("agent1", "break", center.now)
    assert await center.enqueue(center.caller(), "support") == Decision(Status.WAIT)


async def test_a_queue_staffed_only_after_relaxation_keeps_its_callers(center: Center) -> None:
    relaxed = [Relax(after=30, requirements={})]
    center.configure(
        [queue(requirements={"billing": 3}, relax=relaxed)], {"agent1": {"billing": 1}}
    )
    await center.ready("agent1")
    await center.agents.pause("agent1", "break", center.now)
    call = center.caller()
    assert await center.enqueue(call, "support") == Decision(Status.WAIT)
    assert center.of(CallOverflowed) == []


async def test_requirements_relax_as_the_caller_waits(center: Center) -> None:
    relaxed = [Relax(after=20, requirements={"billing": 1})]
    center.configure(
        [queue(requirements={"billing": 3}, relax=relaxed)],
        {"agent1": {"billing": 1}, "agent2": {"billing": 3}},
    )
    await center.ready("agent1", "agent2")
    await center.agents.pause("agent2", "break", center.now)
    call = center.caller()
    assert await center.enqueue(call, "support") == Decision(Status.WAIT)
    await center.advance(19)
    assert pbx_moves(center) == []
    await center.advance(1)
    assert pbx_moves(center) == moved_to_agent(call.channel, "agent1")
    assert center.of(CallOffered)[0].wait == 20.0


async def test_announcements_repeat_while_the_caller_waits_and_stop_when_rung(
    center: Center,
) -> None:
    center.configure([queue(announce=Announce(interval=30))], {"agent1": {}})
    await center.ready("agent1")
    await center.agents.pause("agent1", "break", center.now)
    call = center.caller()
    await center.enqueue(call, "support")
    await center.advance(61)
    announce = ("redirect", call.channel, Context.ANNOUNCE.value, "s", 1)
    assert center.pbx.actions.count(announce) == 2
    await center.agents.ready("agent1", center.now)  # rung: no announcement over the ring
    await center.advance(120)
    assert center.pbx.actions.count(announce) == 2


async def test_the_controller_is_told_of_a_fallback_and_forgets_the_caller_s_place(
    center: Center,
) -> None:
    center.configure([queue(max_wait=60)], {"agent1": {}})
    await center.ready("agent1")
    await center.agents.pause("agent1", "break", center.now)
    call = center.caller()
    await center.enqueue(call, "support")
    fallback = ev.UserEvent(
        user_event="CcFallback", unique_id=call.unique_id, raw={"reason": "heartbeat"}
    )
    await center.emit(fallback)
    [fell] = center.of(CallFellBack)
    assert (fell.call_id, fell.reason) == (call.call_id, "heartbeat")
    assert call.state is CallState.FALLBACK
    await center.agents.ready("agent1", center.now)
    await center.advance(120)
    assert pbx_moves(center) == []  # neither rung nor overflowed: Asterisk's queue has them


async def test_other_user_events_and_unknown_channels_change_nothing(center: Center) -> None:
    center.configure([queue()], {"agent1": {}})
    await center.emit(ev.UserEvent(user_event="CcFallback", unique_id="nobody"))
    await center.emit(ev.UserEvent(user_event="Other", unique_id="nobody"))
    assert center.published == []


async def test_a_queue_that_does_not_exist_sends_the_caller_to_the_fallback(
    center: Center,
) -> None:
    center.configure([queue()], {"agent1": {}})
    assert await center.enqueue(center.caller(), "nowhere") == Decision(Status.FALLBACK)


async def test_when_the_redirect_fails_the_agent_is_released_and_the_caller_keeps_waiting(
    center: Center,
) -> None:
    # The agent is freed before the caller goes back in line, so the failing Redirect
    # is not tried again at once (it used to recurse until RecursionError).
    center.configure([queue()], {"agent1": {}})
    await center.ready("agent1")
    await center.agents.pause("agent1", "break", center.now)
    call = center.caller()
    await center.enqueue(call, "support")
    center.pbx.unavailable.add("set_var")
    await center.agents.ready("agent1", center.now)
    assert center.state("agent1") == "ready"
    assert call.state is CallState.WAITING
    assert center.router.waiting("support") == [call.call_id]


async def test_queues_that_overflow_into_each_other_do_not_pass_a_caller_back_and_forth(
    center: Center,
) -> None:
    center.configure(
        [
            queue("support", max_wait=60, on_max_wait=Overflow(action="queue", target="general")),
            queue("general", max_wait=60, on_max_wait=Overflow(action="queue", target="support")),
        ],
        {"agent1": {}},
    )
    await center.ready("agent1")
    await center.agents.pause("agent1", "break", center.now)
    call = center.caller()
    await center.enqueue(call, "support")
    await center.advance(60)
    assert len(center.of(CallOverflowed)) <= 3  # MAX_OVERFLOW_HOPS


async def test_a_caller_passed_back_and_forth_hears_goodbye_after_three_hops(
    center: Center,
) -> None:
    center.configure(
        [
            queue("support", max_wait=60, on_max_wait=Overflow(action="queue", target="general")),
            queue("general", max_wait=60, on_max_wait=Overflow(action="queue", target="support")),
        ],
        {"agent1": {}},
    )
    await center.ready("agent1")
    await center.agents.pause("agent1", "break", center.now)
    call = center.caller()
    await center.enqueue(call, "support")
    await center.advance(600)
    hops = center.of(CallOverflowed)
    assert [h.queue for h in hops] == ["support", "general", "support", "general"]
    assert [h.at - hops[0].at for h in hops] == [0, 60, 120, 180]  # each queue's own wait
    assert center.pbx.redirects[-1] == (call.channel, Context.GOODBYE.value, "s")


async def test_a_fallback_while_the_agent_rings_releases_the_agent(center: Center) -> None:
    center.configure([queue()], {"agent1": {}})
    await center.ready("agent1")
    call = center.caller()
    await center.enqueue(call, "support")
    leg = await center.ring(call, "agent1")
    await center.dial_end(call, leg, "NOANSWER")
    await center.hangup(*leg)
    # The dial-result route failed (CC_STATUS empty, DIALSTATUS NOANSWER: FAIL), so
    # cc-route sends the caller to cc-fallback, which tells the controller.
    await center.emit(
        ev.UserEvent(user_event="CcFallback", unique_id=call.unique_id, raw={"reason": "x"})
    )
    await center.caller_hangs_up(call)  # later: the fallback queue's call ends
    assert center.state("agent1") != "ringing"


async def test_a_fallback_reported_for_a_talking_call_changes_nothing(center: Center) -> None:
    center.configure([queue()], {"agent1": {}})
    await center.ready("agent1")
    call = center.caller()
    await center.enqueue(call, "support")
    leg = await center.ring(call, "agent1")
    await center.dial_end(call, leg, "ANSWER")
    await center.emit(
        ev.UserEvent(user_event="CcFallback", unique_id=call.unique_id, raw={"reason": "x"})
    )
    assert call.state is CallState.TALKING and center.of(CallFellBack) == []
    assert center.state("agent1") == "on_call"


async def test_a_late_ring_result_for_a_caller_already_back_in_line_is_not_a_second_miss(
    center: Center,
) -> None:
    # agent1's phone rings for the caller; agent2 frees up and deserves the caller, so
    # the ring is cancelled, but the Redirect fails: the caller is back in line while
    # Asterisk goes on ringing agent1, whose Dial then ends unanswered.
    center.configure([queue()], {"agent1": {}, "agent2": {}})
    await center.ready("agent1")
    await center.ready("agent2")
    await center.agents.pause("agent2", "break", center.now)
    call = center.caller()
    await center.enqueue(call, "support")
    await center.ring(call, "agent1")
    await center.advance(STUCK_RING)  # long enough to count as a dead ring
    center.pbx.unavailable.add("redirect")
    await center.agents.ready("agent2", center.now)
    assert call.state is CallState.WAITING
    misses = len(center.of(CallRingNoAnswer))
    decision = await center.ring_ended(call, "NOANSWER")
    # No second miss, nobody paused for it: the caller is simply offered again.
    assert len(center.of(CallRingNoAnswer)) == misses
    assert center.agents.status("agent1").reason != "ring-no-answer"
    assert decision.status is Status.CONNECT and call.state is CallState.RINGING


async def test_a_ring_shorter_than_stuck_ring_is_left_to_be_answered(center: Center) -> None:
    # agent1's phone has just started ringing when agent2 frees up: the ring is most
    # likely about to be answered, so it is not cancelled and agent2 simply waits.
    center.configure([queue()], {"agent1": {}, "agent2": {}})
    await center.ready("agent1")
    await center.ready("agent2")
    await center.agents.pause("agent2", "break", center.now)
    call = center.caller()
    await center.enqueue(call, "support")
    await center.ring(call, "agent1")
    await center.advance(STUCK_RING / 2)
    await center.agents.ready("agent2", center.now)
    assert call.state is CallState.RINGING and call.agent == "agent1"
    assert center.of(CallRingNoAnswer) == []
    assert center.state("agent2") == "ready"


async def test_one_agents_fallback_membership_is_their_line_of_the_whole_table(
    center: Center,
) -> None:
    # Each state change updates the twins from wanted_for(agent): it must say what the
    # whole table (wanted(), used at resync) says for that agent, member or not.
    center.configure(
        [queue(), queue("sales", requirements={"sales": 2})],
        {"agent1": {"sales": 3}, "agent2": {"sales": 1}, "agent3": {}},
    )
    await center.ready("agent1")
    await center.ready("agent2")
    await center.agents.pause("agent2", "break", center.now)
    table = center.fallback.wanted()
    for agent in ("agent1", "agent2", "agent3"):
        line = center.fallback.wanted_for(agent)
        assert line == {twin: members.get(f"PJSIP/{agent}") for twin, members in table.items()}
    assert center.fallback.wanted_for("agent2")["cc-fallback-support"] is True
    assert center.fallback.wanted_for("agent3")["cc-fallback-support"] is None


async def test_an_answer_from_a_cancelled_ring_does_not_count_for_the_agent_now_rung(
    center: Center,
) -> None:
    # The caller's stuck ring on agent1 is moved to agent2, but agent1 answers before
    # the Redirect takes the caller away: that answer is not agent2's (who would be put
    # on a call they never answered, and left on_call when it ends).
    center.configure([queue()], {"agent1": {}, "agent2": {}})
    await center.ready("agent1")
    await center.ready("agent2")
    await center.agents.pause("agent2", "break", center.now)
    call = center.caller()
    await center.enqueue(call, "support")
    first = await center.ring(call, "agent1")
    await center.advance(STUCK_RING)
    await center.agents.ready("agent2", center.now)
    assert call.state is CallState.RINGING and call.agent == "agent2"
    await center.dial_end(call, first, "ANSWER")
    assert call.state is CallState.RINGING and center.of(CallAnswered) == []
    assert center.state("agent2") == "ringing"
    second = await center.ring(call, "agent2")
    await center.dial_end(call, second, "ANSWER")
    assert call.state is CallState.TALKING
    assert [e.agent for e in center.of(CallAnswered)] == ["agent2"]
    assert center.state("agent2") == "on_call" and center.state("agent1") != "on_call"
