"""Calls of an outage, rebuilt from Asterisk's channel event log (core/calls/outage.py).

The events are shaped as Asterisk 22's cel_custom JSON lines of real calls
(tests/e2e runs the same calls for real).
"""

from __future__ import annotations

from callcenter.core.calls.outage import CallHistory, CelEvent, Known, completion, history
from callcenter.core.events import (
    CallAbandoned,
    CallAnswered,
    CallCompleted,
    CallEnded,
    CallEntered,
    CallFellBack,
)

AGENTS = {"ann", "bob"}
is_agent = AGENTS.__contains__


def ev(kind: str, at: float, uid: str, linked: str, chan: str, **more: object) -> CelEvent:
    return CelEvent(kind=kind, at=at, unique_id=uid, linked_id=linked, channel=chan, **more)  # type: ignore[arg-type]


def answered_call(hung_up_by: str) -> list[CelEvent]:
    """A caller put through to Ann by the controller (cc-connect); ``hung_up_by`` ends it."""
    caller, agent = "PJSIP/sipp-00000000", "PJSIP/ann-00000001"
    bridge = {"bridge_id": "b1"}
    source = agent if hung_up_by == "agent" else caller
    return [
        ev("CHAN_START", 100.0, "c1", "c1", caller, context="cc-inbound", exten="5000",
           caller="+15550101", caller_name="Caller"),
        ev("ANSWER", 100.1, "c1", "c1", caller, context="cc-entry"),
        ev("APP_START", 104.0, "c1", "c1", caller, context="cc-connect", app="Dial"),
        ev("CHAN_START", 104.0, "a1", "c1", agent, context="cc-agents"),
        ev("BRIDGE_ENTER", 106.0, "a1", "c1", agent, extra=bridge),
        ev("BRIDGE_ENTER", 106.1, "c1", "c1", caller, peer=agent, extra=bridge),
        ev("HANGUP", 136.0, "c1" if hung_up_by == "caller" else "a1", "c1",
           caller if hung_up_by == "caller" else agent, extra={"hangupsource": source}),
        ev("HANGUP", 136.1, "a1" if hung_up_by == "caller" else "c1", "c1",
           agent if hung_up_by == "caller" else caller, extra={"hangupsource": source}),
    ]  # fmt: skip


def fallback_call(answered: bool) -> list[CelEvent]:
    """A caller who arrived while the controller was down: straight to the fallback queue."""
    caller, agent = "PJSIP/sipp-00000002", "PJSIP/bob-00000003"
    steps = [
        ev("CHAN_START", 200.0, "c2", "c2", caller, context="cc-inbound", exten="+15005550000",
           caller="+15550102"),
        ev("ANSWER", 202.0, "c2", "c2", caller, context="cc-fallback"),
        ev("APP_START", 202.1, "c2", "c2", caller, context="cc-fallback", app="Queue"),
    ]  # fmt: skip
    if answered:
        steps += [
            ev("CHAN_START", 210.0, "a2", "c2", agent),
            ev("BRIDGE_ENTER", 212.0, "a2", "c2", agent, extra={"bridge_id": "b2"}),
            ev("BRIDGE_ENTER", 212.0, "c2", "c2", caller, extra={"bridge_id": "b2"}),
            ev("HANGUP", 240.0, "a2", "c2", agent, extra={"hangupsource": agent}),
            ev("HANGUP", 240.1, "c2", "c2", caller, extra={"hangupsource": agent}),
        ]
    else:
        steps.append(ev("HANGUP", 230.0, "c2", "c2", caller, extra={"hangupsource": caller}))
    return steps


def test_an_answered_call_says_who_answered_when_and_who_hung_up() -> None:
    for side in ("agent", "caller"):
        (told,) = history(answered_call(side), is_agent).values()
        assert told.caller == "+15550101" and told.dialled == "5000"
        assert (told.agent, told.answered_at) == ("ann", 106.1)
        assert (told.talk_ended_at, told.ended_at) == (136.0, 136.0 if side == "caller" else 136.1)
        assert told.ended_by == side and told.outcome == "completed"


def test_fallback_calls_abandoned_or_answered_in_the_plain_queue() -> None:
    (gone,) = history(fallback_call(answered=False), is_agent).values()
    assert (gone.fell_back_at, gone.ended_at, gone.outcome) == (202.1, 230.0, "abandoned")
    (taken,) = history(fallback_call(answered=True), is_agent).values()
    assert (taken.agent, taken.answered_at, taken.ended_by) == ("bob", 212.0, "agent")


def test_a_call_still_up_has_no_end_and_other_calls_are_not_inbound() -> None:
    up = [e for e in answered_call("agent") if e.kind != "HANGUP"]
    originated = [ev("CHAN_START", 300.0, "o1", "o1", "PJSIP/12125550100@customers-0001",
                     context="cc-callback")]  # fmt: skip
    found = history(up + originated, is_agent)
    assert list(found) == ["c1"] and found["c1"].ended_at is None and found["c1"].outcome == ""


def test_a_call_talking_at_the_kill_gets_its_real_end_and_talk_time() -> None:
    (told,) = history(answered_call("agent"), is_agent).values()
    known = Known("C1", queue="support", enqueued_at=101.0, answered_at=106.1, agent="ann")
    steps = completion(told, known)
    assert [type(s) for s in steps] == [CallCompleted, CallEnded]
    completed = steps[0]
    assert isinstance(completed, CallCompleted)
    assert (completed.at, completed.talk, completed.ended_by, completed.agent) == (
        136.0, 136.0 - 106.1, "agent", "ann",
    )  # fmt: skip
    assert steps[1].at == 136.1  # the caller's channel went a moment after the agent's


def test_a_call_the_controller_never_saw_is_recorded_whole() -> None:
    (told,) = history(fallback_call(answered=True), is_agent).values()
    steps = completion(told, Known("NEW1", recorded=False))
    assert [type(s) for s in steps] == [
        CallEntered, CallFellBack, CallAnswered, CallCompleted, CallEnded,
    ]  # fmt: skip
    entered, fell, answered, completed, ended = steps
    assert isinstance(entered, CallEntered) and entered.caller == "+15550102"
    assert isinstance(fell, CallFellBack) and fell.at == 202.1
    assert isinstance(answered, CallAnswered) and (answered.agent, answered.at) == ("bob", 212.0)
    assert answered.wait == 212.0 - 202.1
    assert isinstance(completed, CallCompleted) and completed.talk == 240.0 - 212.0
    assert isinstance(ended, CallEnded) and ended.outcome == "ended"


def test_a_waiting_caller_who_left_during_the_outage_is_abandoned_at_their_real_time() -> None:
    (told,) = history(fallback_call(answered=False), is_agent).values()
    known = Known("C2", queue="support", enqueued_at=203.0)
    steps = completion(told, known)
    assert [type(s) for s in steps] == [CallFellBack, CallAbandoned, CallEnded]
    abandoned = steps[1]
    assert isinstance(abandoned, CallAbandoned) and abandoned.wait == 230.0 - 203.0
    assert isinstance(steps[2], CallEnded) and steps[2].outcome == "waiting"


def test_nothing_is_added_for_what_the_records_already_have() -> None:
    told = CallHistory("c9", "PJSIP/sipp-9", "+1555", "", "5000", entered_at=1.0)
    assert completion(told, Known("C9", queue="support", enqueued_at=2.0)) == []
