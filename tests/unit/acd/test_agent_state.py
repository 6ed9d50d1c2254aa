"""The agent state machine: every (state, event) pair, legal or not, plus the rules."""

from __future__ import annotations

import itertools

import pytest

from callcenter.core.acd.agent_state import (
    TABLE,
    AgentStatus,
    Event,
    IllegalTransition,
    available,
    transition,
)
from callcenter.core.acd.model import AgentState

S = AgentState
E = Event

# Written from the specification, independently of the implementation's table:
# the next state with no pending pause and no wrap-up time.
EXPECTED: dict[tuple[AgentState, Event], AgentState] = {
    (S.LOGGED_OUT, E.LOGIN): S.READY,
    (S.READY, E.PAUSE): S.PAUSED,
    (S.READY, E.OFFER): S.RINGING,
    (S.READY, E.LOGOUT): S.LOGGED_OUT,
    (S.PAUSED, E.PAUSE): S.PAUSED,
    (S.PAUSED, E.UNPAUSE): S.READY,
    (S.PAUSED, E.LOGOUT): S.LOGGED_OUT,
    (S.RINGING, E.ANSWER): S.ON_CALL,
    (S.RINGING, E.RING_NO_ANSWER): S.PAUSED,
    (S.RINGING, E.UNAVAILABLE): S.PAUSED,
    (S.RINGING, E.HANGUP): S.READY,
    (S.RINGING, E.PAUSE): S.RINGING,
    (S.RINGING, E.UNPAUSE): S.RINGING,
    (S.ON_CALL, E.HANGUP): S.READY,
    (S.ON_CALL, E.PAUSE): S.ON_CALL,
    (S.ON_CALL, E.UNPAUSE): S.ON_CALL,
    (S.WRAP_UP, E.WRAPUP_DONE): S.READY,
    (S.WRAP_UP, E.PAUSE): S.WRAP_UP,
    (S.WRAP_UP, E.UNPAUSE): S.WRAP_UP,
    (S.WRAP_UP, E.LOGOUT): S.LOGGED_OUT,
    # On a call the controller did not give (fallback queue, found after a restart).
    (S.READY, E.FOUND_ON_CALL): S.ON_CALL,
    (S.PAUSED, E.FOUND_ON_CALL): S.ON_CALL,
    (S.RINGING, E.FOUND_ON_CALL): S.ON_CALL,
    (S.ON_CALL, E.FOUND_ON_CALL): S.ON_CALL,
    (S.WRAP_UP, E.FOUND_ON_CALL): S.ON_CALL,
}
ALL_PAIRS = list(itertools.product(AgentState, Event))
ILLEGAL = [pair for pair in ALL_PAIRS if pair not in EXPECTED]
BUSY = (S.RINGING, S.ON_CALL, S.WRAP_UP)


def status_in(state: AgentState, pending: str | None = None) -> AgentStatus:
    call_id = "call-1" if state in BUSY else None
    return AgentStatus(state, since=10.0, pending_pause=pending, call_id=call_id)


def fire(status: AgentStatus, event: Event, now: float = 50.0, wrapup: float = 0.0) -> AgentStatus:
    return transition(status, event, now, reason="lunch", call_id="call-2", wrapup=wrapup)


def test_the_table_holds_exactly_the_legal_pairs() -> None:
    assert set(TABLE) == set(EXPECTED)
    assert len(EXPECTED) + len(ILLEGAL) == len(AgentState) * len(Event) == 66


@pytest.mark.parametrize(("state", "event"), list(EXPECTED))
def test_legal_transition(state: AgentState, event: Event) -> None:
    after = fire(status_in(state), event)
    assert after.state is EXPECTED[state, event]
    renewed = {(S.PAUSED, E.PAUSE), (S.ON_CALL, E.FOUND_ON_CALL)}  # a new period, same state
    changed = after.state is not state or (state, event) in renewed
    assert after.since == (50.0 if changed else 10.0)


@pytest.mark.parametrize(("state", "event"), ILLEGAL)
def test_illegal_transition(state: AgentState, event: Event) -> None:
    before = status_in(state)
    with pytest.raises(IllegalTransition) as raised:
        fire(before, event)
    assert raised.value.state is state
    assert raised.value.event is event
    assert isinstance(raised.value, ValueError)
    assert str(raised.value) == f"agent cannot '{event.value}' while '{state.value}'"


def test_login_makes_the_agent_ready() -> None:
    assert fire(AgentStatus(S.LOGGED_OUT, 0.0), E.LOGIN) == AgentStatus(S.READY, 50.0)


def test_pause_keeps_its_reason_and_unpause_clears_it() -> None:
    paused = fire(AgentStatus(S.READY, 0.0), E.PAUSE)
    assert paused == AgentStatus(S.PAUSED, 50.0, reason="lunch")
    again = transition(paused, E.PAUSE, 60.0, reason="meeting")
    assert again == AgentStatus(S.PAUSED, 60.0, reason="meeting")
    assert transition(again, E.UNPAUSE, 70.0) == AgentStatus(S.READY, 70.0)


@pytest.mark.parametrize("state", BUSY)
def test_pause_while_busy_is_remembered_without_changing_since(state: AgentState) -> None:
    after = fire(status_in(state), E.PAUSE)
    assert after == AgentStatus(state, 10.0, pending_pause="lunch", call_id="call-1")


@pytest.mark.parametrize("state", BUSY)
def test_unpause_while_busy_forgets_the_pending_pause(state: AgentState) -> None:
    after = fire(status_in(state, pending="lunch"), E.UNPAUSE)
    assert after == AgentStatus(state, 10.0, call_id="call-1")


def test_offer_rings_with_the_call_and_answer_keeps_it() -> None:
    ringing = fire(AgentStatus(S.READY, 0.0), E.OFFER)
    assert ringing == AgentStatus(S.RINGING, 50.0, call_id="call-2")
    assert transition(ringing, E.ANSWER, 55.0) == AgentStatus(S.ON_CALL, 55.0, call_id="call-2")


@pytest.mark.parametrize(
    ("event", "reason"),
    [(E.RING_NO_ANSWER, "ring-no-answer"), (E.UNAVAILABLE, "phone-unavailable")],
)
def test_a_failed_offer_pauses_with_a_fixed_reason(event: Event, reason: str) -> None:
    after = fire(status_in(S.RINGING, pending="lunch"), event)
    assert after == AgentStatus(S.PAUSED, 50.0, reason=reason)


def test_hangup_with_wrapup_time_goes_to_wrap_up_keeping_call_and_pending_pause() -> None:
    after = fire(status_in(S.ON_CALL, pending="lunch"), E.HANGUP, wrapup=30.0)
    assert after == AgentStatus(S.WRAP_UP, 50.0, pending_pause="lunch", call_id="call-1")
    done = transition(after, E.WRAPUP_DONE, 80.0)
    assert done == AgentStatus(S.PAUSED, 80.0, reason="lunch")


def test_wrapup_done_without_pending_pause_is_ready() -> None:
    assert fire(status_in(S.WRAP_UP), E.WRAPUP_DONE) == AgentStatus(S.READY, 50.0)


@pytest.mark.parametrize("state", [S.ON_CALL, S.RINGING])
def test_hangup_without_wrapup_applies_the_pending_pause(state: AgentState) -> None:
    after = fire(status_in(state, pending="lunch"), E.HANGUP)
    assert after == AgentStatus(S.PAUSED, 50.0, reason="lunch")


def test_caller_hanging_up_while_ringing_never_goes_to_wrap_up() -> None:
    after = fire(status_in(S.RINGING), E.HANGUP, wrapup=30.0)
    assert after == AgentStatus(S.READY, 50.0)


@pytest.mark.parametrize("state", [S.READY, S.PAUSED, S.WRAP_UP])
def test_logout_forgets_everything(state: AgentState) -> None:
    before = AgentStatus(state, 1.0, reason="x", pending_pause="y", call_id="z")
    assert fire(before, E.LOGOUT) == AgentStatus(S.LOGGED_OUT, 50.0)


def test_pause_needs_a_reason() -> None:
    with pytest.raises(ValueError, match="reason"):
        transition(AgentStatus(S.READY, 0.0), E.PAUSE, 1.0)


def test_offer_needs_a_call_id() -> None:
    with pytest.raises(ValueError, match="call"):
        transition(AgentStatus(S.READY, 0.0), E.OFFER, 1.0)


def test_negative_wrapup_is_refused() -> None:
    with pytest.raises(ValueError, match="wrapup"):
        transition(status_in(S.ON_CALL), E.HANGUP, 1.0, wrapup=-1.0)


@pytest.mark.parametrize("state", list(AgentState))
def test_only_ready_agents_are_available(state: AgentState) -> None:
    assert available(AgentStatus(state, 0.0)) is (state is S.READY)


def test_a_working_day() -> None:
    steps: list[tuple[Event, dict[str, object], AgentState]] = [
        (E.LOGIN, {}, S.READY),
        (E.OFFER, {"call_id": "c1"}, S.RINGING),
        (E.RING_NO_ANSWER, {}, S.PAUSED),
        (E.UNPAUSE, {}, S.READY),
        (E.OFFER, {"call_id": "c2"}, S.RINGING),
        (E.ANSWER, {}, S.ON_CALL),
        (E.PAUSE, {"reason": "coffee"}, S.ON_CALL),
        (E.HANGUP, {"wrapup": 15.0}, S.WRAP_UP),
        (E.WRAPUP_DONE, {}, S.PAUSED),
        (E.LOGOUT, {}, S.LOGGED_OUT),
    ]
    status = AgentStatus(S.LOGGED_OUT, 0.0)
    for now, (event, arguments, expected) in enumerate(steps, start=1):
        status = transition(status, event, float(now), **arguments)  # type: ignore[arg-type]
        assert status.state is expected, event
    assert status.since == len(steps)


def test_a_paused_agent_found_on_a_call_is_paused_again_after_it() -> None:
    found = transition(AgentStatus(S.PAUSED, 10.0, reason="lunch"), E.FOUND_ON_CALL, 20.0,
                       call_id="c9")  # fmt: skip
    assert (found.state, found.call_id, found.pending_pause, found.since) == (
        S.ON_CALL, "c9", "lunch", 20.0,
    )  # fmt: skip
    after = transition(found, E.HANGUP, 30.0)
    assert (after.state, after.reason) == (S.PAUSED, "lunch")
