"""Callbacks as customers and agents live them (services/callbacks/places.py and
dialer.py): a kept place keeps its turn among live callers, a booked one joins
the line at its time, and when its turn comes the agent is held and the
customer called; what becomes of each attempt, and of the callback."""

from __future__ import annotations

from typing import Any

import pytest

from callcenter.core import pbx_events as ev
from callcenter.core.callbacks.policy import CallbackSettings
from callcenter.core.callbacks.records import Attempt, Callback, NewCallback
from callcenter.core.calls.live import LiveCall
from callcenter.core.calls.state import CallState
from callcenter.core.dialplan import Context, Decision, Status, Var, inherited
from callcenter.core.events import (
    CallAbandoned,
    CallAnswered,
    CallbackAttempted,
    CallbackRequested,
    CallEnded,
    CallEntered,
    CallOffered,
    CallQueued,
)
from callcenter.core.queues import Announce, QueueSettings
from callcenter.services.callbacks.dialer import ANSWER_GRACE, Answer
from callcenter.services.callbacks.places import GRACE_SECONDS, CallbackError
from callcenter.services.ports import OriginateUncertain, Origination, PbxUnavailable
from tests.fakes.center import RECORDINGS, TRUNK, Center

AGENT1 = ("agent", "agent1")
CALLER = ("caller", "+12125550100")
NUMBER = "+12125550100"  # New York: 11:00 there at the tests' start
RETRY = 300.0


def queue(**callback: Any) -> QueueSettings:
    rules = CallbackSettings(enabled=True, retry_delay=RETRY, max_attempts=2, **callback)
    return QueueSettings(
        name="support", announce=Announce(on_entry=False, interval=0), callback=rules
    )


@pytest.fixture
def site(center: Center) -> Center:
    """agent1 and agent2 staff "support"; both paused, so callers wait."""
    center.configure([queue()], {"agent1": {}, "agent2": {}})
    return center


async def paused(center: Center, *agents: str) -> None:
    await center.ready(*agents)
    for agent in agents:
        await center.agents.pause(agent, "break", center.now)


async def waiting(center: Center, number: str = NUMBER) -> LiveCall:
    call = center.caller(number)
    await center.enqueue(call, "support")
    assert call.state is CallState.WAITING
    return call


async def keep_place(center: Center, call: LiveCall, number: str = NUMBER) -> Callback:
    """The caller takes keep-my-place, then their channel hangs up."""
    unique_id, channel = call.unique_id, call.channel
    callback = await center.callbacks.keep_place(call, number, center.now)
    await center.hangup(channel, unique_id)
    return callback


def last_dial(center: Center) -> Origination:
    return center.pbx.originations[-1]


def attempts(center: Center) -> list[dict[str, Any]]:
    return list(center.callback_repo.attempts.values())


async def answered(center: Center, amd: str, channel: str = "PJSIP/carrier-00000abc") -> Answer:
    """The customer picked up: Originate succeeded, then the callback-answer route."""
    dial = last_dial(center)
    await center.emit(
        ev.OriginateResponse(
            action_id=dial.action_id, response="Success", channel=channel, unique_id=dial.channel_id
        )
    )
    answer = await center.callback_dialer.answered(dial.channel_id, channel, amd, "")
    await center.settle()
    return answer


async def not_reached(center: Center, reason: int) -> None:
    """Originate failed; Asterisk's reason says why (1, 3: no answer; 5: busy)."""
    dial = last_dial(center)
    await center.emit(
        ev.OriginateResponse(action_id=dial.action_id, response="Failure", reason=reason)
    )


# -- keep my place ---------------------------------------------------------------------------
async def test_a_kept_place_keeps_its_turn_among_live_callers(site: Center) -> None:
    await paused(site, "agent1")
    first = await waiting(site)
    await site.advance(10)
    second = await waiting(site, "+12125550111")
    await site.advance(10)
    callback = await keep_place(site, first)
    assert first.virtual and site.calls.get(first.call_id) is first
    assert site.of(CallAbandoned) == [] and site.of(CallEnded) == []  # not an abandon
    [requested] = site.of(CallbackRequested)
    assert (requested.kind, requested.number, requested.call_id) == (
        "keep-place",
        NUMBER,
        first.call_id,
    )
    stored = site.callback_repo.get(callback.id)
    assert stored is not None and (stored.enqueued_at, stored.status) == (
        first.enqueued_at,
        "pending",
    )
    await site.advance(10)
    await waiting(site, "+12125550122")
    await site.agents.ready("agent1", site.now)
    # The first caller's place got the agent: the agent is held and the customer called.
    assert site.state("agent1") == "ringing"
    assert site.of(CallOffered)[-1].call_id == first.call_id
    assert site.pbx.redirects == []  # nobody on the line to move
    assert second.state is CallState.WAITING
    dial = last_dial(site)
    assert (dial.endpoint, dial.context, dial.exten, dial.ring_seconds) == (
        f"{NUMBER}@{TRUNK}",
        Context.CALLBACK.value,
        "s",
        30,
    )
    assert dial.action_id == dial.channel_id and dial.channel_id.startswith(f"cb{callback.id}a1")
    assert dial.caller_id == '"Callback" <5000>'
    assert dict(dial.variables) == {
        inherited(Var.CALL_ID): first.call_id,
        Var.MOH.value: "default",
        inherited(Var.REC_FILE): f"{RECORDINGS}/2025/06/17/{first.call_id}.wav",
    }
    stored = site.callback_repo.get(callback.id)
    assert stored is not None and (stored.status, stored.attempts) == ("dialing", 1)
    [row] = attempts(site)
    assert (row["dialled"], row["dnc_check"], row["hours_check"], row["number"]) == (
        True,
        "clear",
        "inside",
        NUMBER,
    )


async def test_a_kept_place_never_hears_announcements_nor_hits_the_maximum_wait(
    center: Center,
) -> None:
    settings = queue().model_copy(update={"max_wait": 60.0, "announce": Announce(interval=20)})
    center.configure([settings], {"agent1": {}})
    await paused(center, "agent1")
    call = await waiting(center)
    await keep_place(center, call)
    await center.advance(600)
    assert center.pbx.redirects == [] and call.state is CallState.WAITING


async def test_keep_my_place_is_refused_for_a_number_on_the_do_not_call_list(
    site: Center,
) -> None:
    await paused(site, "agent1")
    call = await waiting(site)
    site.store.dnc.add(("site", NUMBER))
    with pytest.raises(CallbackError) as refused:
        await site.callbacks.keep_place(call, NUMBER, site.now)
    assert refused.value.code == "dnc"
    assert site.callback_repo.callbacks == {} and not call.virtual


async def test_keep_my_place_needs_a_caller_in_line(site: Center) -> None:
    await site.ready("agent1")
    call = site.caller()
    await site.enqueue(call, "support")  # rung at once: not waiting
    with pytest.raises(CallbackError) as refused:
        await site.callbacks.keep_place(call, NUMBER, site.now)
    assert refused.value.code == "not-waiting"


# -- the customer answers, or does not ------------------------------------------------------------
async def test_a_person_who_answers_is_put_through_to_the_held_agent(site: Center) -> None:
    await paused(site, "agent1")
    call = await waiting(site)
    callback = await keep_place(site, call)
    await site.agents.ready("agent1", site.now)
    await site.advance(8)
    answer = await answered(site, "HUMAN")
    assert answer == Answer("agent1", 15.0)
    dial = last_dial(site)
    assert (call.unique_id, call.channel) == (dial.channel_id, "PJSIP/carrier-00000abc")
    [attempted] = site.of(CallbackAttempted)
    assert (attempted.outcome, attempted.next_status, attempted.agent) == (
        "reached",
        "done",
        "agent1",
    )
    stored = site.callback_repo.get(callback.id)
    assert stored is not None and (stored.status, stored.last_outcome) == ("done", "reached")
    [row] = attempts(site)
    assert (row["answered_at"], row["amd_result"], row["agent"], row["outcome"]) == (
        site.now,
        "HUMAN",
        "agent1",
        "reached",
    )
    # cc-connect rings the agent for the customer, as for any caller.
    leg = await site.ring(call, "agent1")
    await site.dial_end(call, leg, "ANSWER")
    [talking] = site.of(CallAnswered)
    assert (talking.call_id, talking.agent) == (call.call_id, "agent1")
    assert site.state("agent1") == "on_call"


async def test_an_answering_machine_frees_the_agent_and_the_callback_is_tried_later(
    site: Center,
) -> None:
    await paused(site, "agent1")
    call = await waiting(site)
    callback = await keep_place(site, call)
    live = await waiting(site, "+12125550111")
    await site.agents.ready("agent1", site.now)
    assert await answered(site, "MACHINE") == Answer()
    # The agent goes to the next caller in line at once.
    assert site.pbx.redirects == [(live.channel, Context.CONNECT.value, "agent1")]
    [attempted] = site.of(CallbackAttempted)
    assert (attempted.outcome, attempted.next_status, attempted.retry_at) == (
        "machine",
        "pending",
        site.now + RETRY,
    )
    stored = site.callback_repo.get(callback.id)
    assert stored is not None
    assert (stored.status, stored.attempts, stored.due_at) == ("pending", 1, site.now + RETRY)
    assert call.state is CallState.WAITING and call.virtual
    assert site.router.waiting() == []  # out of line until its retry time
    # The retry: back in line with its original place, and agent2 is free by then.
    await site.ready("agent2")
    await site.advance(RETRY)
    assert len(site.pbx.originations) == 2
    assert last_dial(site).channel_id.startswith(f"cb{callback.id}a2")
    assert site.state("agent2") == "ringing"


async def test_no_answer_and_busy_are_retried_then_the_callback_is_given_up(
    site: Center,
) -> None:
    await paused(site, "agent1")
    call = await waiting(site)
    callback = await keep_place(site, call)
    await site.agents.ready("agent1", site.now)
    await not_reached(site, 3)  # no answer
    assert site.state("agent1") == "ready"
    assert [(a.outcome, a.next_status) for a in site.of(CallbackAttempted)] == [
        ("no-answer", "pending")
    ]
    await site.advance(RETRY)
    assert site.state("agent1") == "ringing"
    await not_reached(site, 5)  # busy: the second and last attempt (max_attempts 2)
    assert [(a.outcome, a.next_status) for a in site.of(CallbackAttempted)] == [
        ("no-answer", "pending"),
        ("busy", "failed"),
    ]
    stored = site.callback_repo.get(callback.id)
    assert stored is not None and (stored.status, stored.attempts) == ("failed", 2)
    assert site.calls.get(call.call_id) is None
    assert site.of(CallEnded)[-1].outcome == "callback-failed"
    assert site.state("agent1") == "ready"
    await site.advance(RETRY * 10)
    assert len(site.pbx.originations) == 2


async def test_an_uninformative_failure_waits_for_the_hangup_cause(site: Center) -> None:
    await paused(site, "agent1")
    call = await waiting(site)
    await keep_place(site, call)
    await site.agents.ready("agent1", site.now)
    await not_reached(site, 0)  # "failed": the channel's Hangup says more
    assert site.of(CallbackAttempted) == []
    await site.hangup("PJSIP/carrier-00000abc", last_dial(site).channel_id, cause=17)
    assert [a.outcome for a in site.of(CallbackAttempted)] == ["busy"]


async def test_an_attempt_nobody_reports_on_is_failed_after_the_ring_time(site: Center) -> None:
    await paused(site, "agent1")
    call = await waiting(site)
    await keep_place(site, call)
    site.pbx.originate_error = OriginateUncertain("no answer to the Originate")
    await site.agents.ready("agent1", site.now)
    assert site.state("agent1") == "ringing"
    await site.advance(30 + 15 + ANSWER_GRACE)  # the customer's ring, the agent's, the grace
    assert [(a.outcome, a.next_status) for a in site.of(CallbackAttempted)] == [
        ("failed", "pending")
    ]
    assert site.state("agent1") == "ready"


async def test_when_asterisk_cannot_be_reached_the_attempt_fails_at_once(site: Center) -> None:
    await paused(site, "agent1")
    call = await waiting(site)
    await keep_place(site, call)
    site.pbx.originate_error = PbxUnavailable("not connected")
    await site.agents.ready("agent1", site.now)
    assert [a.outcome for a in site.of(CallbackAttempted)] == ["failed"]
    assert site.state("agent1") == "ready"


# -- checked before dialling: do-not-call, calling hours -------------------------------------
async def test_a_number_put_on_the_do_not_call_list_is_never_dialled(site: Center) -> None:
    await paused(site, "agent1")
    call = await waiting(site)
    callback = await keep_place(site, call)
    site.store.dnc.add(("site", NUMBER))  # listed after the booking
    await site.agents.ready("agent1", site.now)
    assert site.pbx.originations == []
    assert site.state("agent1") == "ready"
    [row] = attempts(site)
    assert (row["dialled"], row["dnc_check"], row["outcome"]) == (
        False,
        "listed-site",
        "not-dialled",
    )
    [attempted] = site.of(CallbackAttempted)
    assert (attempted.outcome, attempted.next_status, attempted.attempt) == ("dnc", "dnc", 0)
    stored = site.callback_repo.get(callback.id)
    assert stored is not None and stored.status == "dnc"
    assert site.of(CallEnded)[-1].outcome == "callback-dnc"


async def test_outside_the_customer_s_calling_hours_the_callback_waits_for_the_morning(
    site: Center,
) -> None:
    tokyo = "+81312345678"  # midnight there
    await paused(site, "agent1")
    call = await waiting(site, tokyo)
    callback = await keep_place(site, call, tokyo)
    await site.agents.ready("agent1", site.now)
    assert site.pbx.originations == [] and site.state("agent1") == "ready"
    [row] = attempts(site)
    assert (row["dialled"], row["hours_check"]) == (False, "outside-calling-hours")
    assert row["lead_local_time"] == "2025-06-18T00:00+09:00 JST"
    eight_in_tokyo = site.now + 8 * 3600
    [attempted] = site.of(CallbackAttempted)
    assert (attempted.outcome, attempted.next_status, attempted.retry_at) == (
        "out-of-hours",
        "pending",
        eight_in_tokyo,
    )
    stored = site.callback_repo.get(callback.id)
    assert stored is not None and (stored.attempts, stored.due_at) == (0, eight_in_tokyo)
    await site.advance(8 * 3600)
    assert [d.endpoint for d in site.pbx.originations] == [f"{tokyo}@{TRUNK}"]


# -- booked for a time ----------------------------------------------------------------------
async def test_a_booked_callback_enters_the_line_at_its_time(site: Center) -> None:
    await site.ready("agent1")
    due = site.now + 3600
    callback = await site.callbacks.book(
        "support", NUMBER, due, site.now, booked_by="agent1", origin=AGENT1, where="api"
    )
    [requested] = site.of(CallbackRequested)
    assert (requested.kind, requested.due_at, requested.booked_by) == ("scheduled", due, "agent1")
    await site.advance(3599)
    assert site.pbx.originations == [] and len(site.calls) == 0
    await site.advance(1)
    [entered] = site.of(CallEntered)
    assert (entered.flow, entered.caller) == ("callback", NUMBER)
    [queued] = site.of(CallQueued)
    assert (queued.call_id, queued.position) == (entered.call_id, 1)
    assert last_dial(site).channel_id.startswith(f"cb{callback.id}a1")
    assert site.state("agent1") == "ringing"


async def test_booking_is_refused_for_an_unknown_queue_a_bad_time_or_a_listed_number(
    site: Center,
) -> None:
    book = site.callbacks.book
    with pytest.raises(CallbackError) as refused:
        await book(
            "nowhere",
            NUMBER,
            site.now + 60,
            site.now,
            booked_by="ivr",
            origin=CALLER,
            where="ivr-callback",
        )
    assert refused.value.code == "unknown-queue"
    with pytest.raises(CallbackError) as refused:
        await book(
            "support",
            NUMBER,
            site.now - 3600,
            site.now,
            booked_by="ivr",
            origin=CALLER,
            where="ivr-callback",
        )
    assert refused.value.code == "bad-time"
    site.store.dnc.add(("site", NUMBER))
    with pytest.raises(CallbackError) as refused:
        await book(
            "support",
            NUMBER,
            site.now + 60,
            site.now,
            booked_by="ivr",
            origin=CALLER,
            where="ivr-callback",
        )
    assert refused.value.code == "dnc"
    assert site.callback_repo.callbacks == {}


async def test_a_cancelled_callback_leaves_the_line(site: Center) -> None:
    await paused(site, "agent1")
    call = await waiting(site)
    callback = await keep_place(site, call)
    await site.callbacks.cancel(callback.id)
    assert site.of(CallEnded)[-1].outcome == "callback-cancelled"
    await site.agents.ready("agent1", site.now)
    assert site.pbx.originations == [] and site.state("agent1") == "ready"
    with pytest.raises(CallbackError) as refused:
        await site.callbacks.cancel(callback.id)
    assert refused.value.code == "not-pending"


async def test_a_booked_callback_cancelled_before_its_time_never_rings(site: Center) -> None:
    await site.ready("agent1")
    callback = await site.callbacks.book(
        "support", NUMBER, site.now + 60, site.now, booked_by="agent1", origin=AGENT1, where="api"
    )
    await site.callbacks.cancel(callback.id)
    await site.advance(120)
    assert site.pbx.originations == [] and len(site.calls) == 0


# -- agent first -------------------------------------------------------------------------------
async def test_agent_first_rings_the_agent_then_the_customer(center: Center) -> None:
    center.configure([queue(dial_first="agent")], {"agent1": {}})
    await paused(center, "agent1")
    call = await waiting(center)
    callback = await keep_place(center, call)
    await center.agents.ready("agent1", center.now)
    dial = last_dial(center)
    assert (dial.endpoint, dial.context, dial.ring_seconds) == (
        "agent1",
        Context.CALLBACK_AGENT.value,
        15,
    )
    variables = dict(dial.variables)
    assert (variables[Var.CB_NUMBER.value], variables[Var.CB_TRUNK.value]) == (NUMBER, TRUNK)
    assert variables[Var.RING_TIMEOUT.value] == "30"
    # The agent answers; the dialplan dials the customer, who answers a person.
    agent_channel = "PJSIP/agent1-00000042"
    await center.emit(
        ev.OriginateResponse(
            action_id=dial.action_id,
            response="Success",
            channel=agent_channel,
            unique_id=dial.channel_id,
        )
    )
    answer = await center.callback_dialer.answered(
        "1750172400.99", "PJSIP/carrier-00000099", "HUMAN", "", call_id=call.call_id
    )
    await center.settle()
    assert answer.connect_to == "agent1"
    assert center.state("agent1") == "on_call"
    [talking] = center.of(CallAnswered)
    assert (talking.call_id, talking.agent_channel) == (call.call_id, agent_channel)
    stored = center.callback_repo.get(callback.id)
    assert stored is not None and stored.status == "done"
    await center.hangup(agent_channel, dial.channel_id)
    assert center.state("agent1") == "ready"


async def test_agent_first_an_agent_who_does_not_answer_costs_the_customer_nothing(
    center: Center,
) -> None:
    center.configure([queue(dial_first="agent")], {"agent1": {}, "agent2": {}})
    await paused(center, "agent1", "agent2")
    call = await waiting(center)
    callback = await keep_place(center, call)
    await center.agents.ready("agent1", center.now)
    await center.emit(
        ev.OriginateResponse(action_id=last_dial(center).action_id, response="Failure", reason=3)
    )
    status = center.agents.status("agent1")
    assert (status.state.value, status.reason) == ("paused", "ring-no-answer")
    [attempted] = center.of(CallbackAttempted)
    assert (attempted.outcome, attempted.next_status) == ("agent-missed", "pending")
    stored = center.callback_repo.get(callback.id)
    assert stored is not None and stored.attempts == 0  # the customer's phone never rang
    [row] = attempts(center)
    assert row["dialled"] is False
    # Back in line at once: the next agent free takes it.
    await center.agents.ready("agent2", center.now)
    await center.advance(0)
    assert last_dial(center).endpoint == "agent2"


# -- after a restart ------------------------------------------------------------------------------
def stored_callback(center: Center, kind: str, enqueued_at: float, due_at: float) -> Callback:
    return center.callback_repo.add(
        NewCallback(
            kind=kind,
            queue="support",
            number=NUMBER,
            requested_at=enqueued_at,
            enqueued_at=enqueued_at,
            due_at=due_at,
            max_attempts=2,
            origin_call_id=f"{kind[:4]}{int(enqueued_at)}",
            data={"callback": kind},
        )
    )


async def test_after_a_restart_kept_places_are_back_in_line_with_their_place(
    site: Center,
) -> None:
    kept = stored_callback(site, "keep-place", site.now - 600, site.now - 590)
    await paused(site, "agent1")
    await site.callbacks.restore()
    await site.advance(0)
    await waiting(site, "+12125550111")  # a live caller, later than the kept place
    await site.agents.ready("agent1", site.now)
    assert last_dial(site).channel_id.startswith(f"cb{kept.id}a1")
    assert site.of(CallOffered)[-1].call_id == kept.origin_call_id
    assert site.of(CallOffered)[-1].wait == 600.0


async def test_after_a_restart_booked_callbacks_are_armed_and_long_missed_ones_expire(
    site: Center,
) -> None:
    soon = stored_callback(site, "scheduled", site.now, site.now + 600)
    missed = stored_callback(
        site, "scheduled", site.now - GRACE_SECONDS - 60, site.now - GRACE_SECONDS - 60
    )
    await site.ready("agent1")
    await site.callbacks.restore()
    expired = site.callback_repo.get(missed.id)
    assert expired is not None and (expired.status, expired.last_outcome) == ("failed", "missed")
    assert site.scheduler.pending(f"callback-{soon.id}")
    await site.advance(600)
    assert [d.channel_id[: len(f"cb{soon.id}a")] for d in site.pbx.originations] == [
        f"cb{soon.id}a"
    ]


async def test_after_a_takeover_a_callback_the_dead_controller_was_dialling_is_not_redialled(
    site: Center,
) -> None:
    """The controller that dialled it died (a standby took over, or a restart): its
    customer may be talking to an agent now. Closed, never dialled on a guess; a kept
    place whose attempt had ended is back in line as usual."""
    dialled = stored_callback(site, "keep-place", site.now - 600, site.now - 590)
    back = stored_callback(site, "keep-place", site.now - 500, site.now - 490)
    site.callback_repo.update(dialled.id, status="dialing", attempts=1)
    site.callback_repo.attempt(
        Attempt(dialled.id, "c1", NUMBER, site.now - 60, "", "clear", "open", True)
    )
    await site.ready("agent1")
    await site.callbacks.restore()
    await site.advance(0)
    closed = site.callback_repo.get(dialled.id)
    assert closed is not None and (closed.status, closed.last_outcome) == ("failed", "unobserved")
    assert [d.channel_id[: len(f"cb{back.id}a")] for d in site.pbx.originations] == [
        f"cb{back.id}a"
    ]
    assert attempts(site)[0]["outcome"] == "unobserved"


async def test_agent_first_a_customer_who_does_not_answer_is_tried_again(center: Center) -> None:
    center.configure([queue(dial_first="agent")], {"agent1": {}})
    await paused(center, "agent1")
    call = await waiting(center)
    callback = await keep_place(center, call)
    await center.agents.ready("agent1", center.now)
    dial = last_dial(center)
    agent_channel = "PJSIP/agent1-00000042"
    await center.emit(
        ev.OriginateResponse(
            action_id=dial.action_id, response="Success", channel=agent_channel,
            unique_id=dial.channel_id,
        )
    )  # fmt: skip
    await center.callback_dialer.agent_result(dial.channel_id, "NOANSWER")
    await center.settle()
    assert center.state("agent1") == "ready"
    [attempted] = center.of(CallbackAttempted)
    assert (attempted.outcome, attempted.next_status) == ("no-answer", "pending")
    stored = center.callback_repo.get(callback.id)
    assert stored is not None and stored.attempts == 1
    await center.hangup(agent_channel, dial.channel_id)  # the agent's channel ends
    assert center.state("agent1") == "ready" and center.of(CallEnded) == []


async def test_a_reached_customer_whose_agent_does_not_answer_waits_for_the_next(
    site: Center,
) -> None:
    await paused(site, "agent1", "agent2")
    call = await waiting(site)
    callback = await keep_place(site, call)
    await site.agents.ready("agent1", site.now)
    await answered(site, "HUMAN")
    leg = await site.ring(call, "agent1")
    await site.dial_end(call, leg, "NOANSWER")
    await site.hangup(*leg)
    assert await site.ring_ended(call, "NOANSWER") == Decision(Status.WAIT)
    assert site.agents.status("agent1").reason == "ring-no-answer"
    stored = site.callback_repo.get(callback.id)
    assert stored is not None and stored.status == "done"  # the customer was reached
    await site.agents.ready("agent2", site.now)
    assert site.pbx.redirects == [(call.channel, Context.CONNECT.value, "agent2")]


async def test_a_callback_whose_customer_is_being_called_cannot_be_cancelled(
    site: Center,
) -> None:
    await paused(site, "agent1")
    call = await waiting(site)
    callback = await keep_place(site, call)
    await site.agents.ready("agent1", site.now)  # the customer's phone is ringing
    with pytest.raises(CallbackError) as refused:
        await site.callbacks.cancel(callback.id)
    assert refused.value.code == "not-pending"
    assert site.calls.get(call.call_id) is call and site.state("agent1") == "ringing"


async def test_with_several_nodes_the_customer_is_dialled_on_the_node_picked(
    site: Center,
) -> None:
    """[[pbx.nodes]]: the customer's Originate names the node picked (the least busy node
    that is up), which becomes the call's node (its recording, the trunk to the agent)."""
    site.callback_dialer.pick_node = lambda: "beta"
    await paused(site, "agent1")
    call = await waiting(site)
    await keep_place(site, call)
    await site.agents.ready("agent1", site.now)
    dial = last_dial(site)
    assert (dial.node, dial.endpoint, call.node) == ("beta", f"{NUMBER}@{TRUNK}", "beta")
