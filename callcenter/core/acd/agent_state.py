"""The agent state machine. Everything that decides an agent's next state lives here.

Choices worth knowing:

* Agents log in READY: logging in is the agent saying "I am here to take
  calls". An agent who wants to log in paused sends LOGIN then PAUSE.
* A pause asked for while busy (ringing, on a call, in wrap-up) is remembered
  as ``pending_pause`` and applied when the agent would otherwise become READY,
  so a supervisor's "pause after this call" never interrupts a caller.
* Ring-no-answer and an unreachable phone pause the agent with a fixed reason:
  sending the next caller to a phone that just failed would fail again. That
  fixed reason replaces any pending pause (the agent must act either way).
* LOGOUT is refused while RINGING or ON_CALL (a caller is at stake; there is no
  "pending logout") and while already LOGGED_OUT (a stale client, worth seeing).
* WRAP_UP keeps the call id: the wrap-up (disposition, notes) is about that call.
* FOUND_ON_CALL: the agent is talking on a call the controller did not give
  them (taken from the fallback queue while it was down, or found bridged
  after a restart). From any logged-in state; a pause they were in comes back
  after that call (as a remembered pause).
* ``since`` changes on every state change, including a new pause reason while
  PAUSED (a new pause period for reporting), but not on pending-only changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum, StrEnum
from typing import Final

from callcenter.core.acd.model import AgentState

READY: Final = AgentState.READY
PAUSED: Final = AgentState.PAUSED
RINGING: Final = AgentState.RINGING
ON_CALL: Final = AgentState.ON_CALL
WRAP_UP: Final = AgentState.WRAP_UP
LOGGED_OUT: Final = AgentState.LOGGED_OUT


class Event(StrEnum):
    LOGIN = "login"
    LOGOUT = "logout"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    OFFER = "offer"
    ANSWER = "answer"
    RING_NO_ANSWER = "ring_no_answer"
    UNAVAILABLE = "unavailable"
    HANGUP = "hangup"
    WRAPUP_DONE = "wrapup_done"
    FOUND_ON_CALL = "found_on_call"


class Rule(Enum):
    """Table targets that depend on more than (state, event)."""

    PAUSE_LATER = "stay, remember the pause reason for when the agent is free"
    CANCEL_PAUSE = "stay, forget a remembered pause"
    END_CALL = "WRAP_UP if the queue has wrap-up time, else RELEASE"
    RELEASE = "PAUSED with the remembered reason if any, else READY"
    FOUND = "ON_CALL on that call; a pause becomes a remembered one"


TABLE: Final[Mapping[tuple[AgentState, Event], AgentState | Rule]] = {
    (LOGGED_OUT, Event.LOGIN): READY,
    (READY, Event.PAUSE): PAUSED,
    (READY, Event.OFFER): RINGING,
    (READY, Event.LOGOUT): LOGGED_OUT,
    (PAUSED, Event.PAUSE): PAUSED,
    (PAUSED, Event.UNPAUSE): READY,
    (PAUSED, Event.LOGOUT): LOGGED_OUT,
    (RINGING, Event.ANSWER): ON_CALL,
    (RINGING, Event.RING_NO_ANSWER): PAUSED,
    (RINGING, Event.UNAVAILABLE): PAUSED,
    (RINGING, Event.HANGUP): Rule.RELEASE,
    (RINGING, Event.PAUSE): Rule.PAUSE_LATER,
    (RINGING, Event.UNPAUSE): Rule.CANCEL_PAUSE,
    (ON_CALL, Event.HANGUP): Rule.END_CALL,
    (ON_CALL, Event.PAUSE): Rule.PAUSE_LATER,
    (ON_CALL, Event.UNPAUSE): Rule.CANCEL_PAUSE,
    (WRAP_UP, Event.WRAPUP_DONE): Rule.RELEASE,
    (WRAP_UP, Event.PAUSE): Rule.PAUSE_LATER,
    (WRAP_UP, Event.UNPAUSE): Rule.CANCEL_PAUSE,
    (WRAP_UP, Event.LOGOUT): LOGGED_OUT,
    **{
        (state, Event.FOUND_ON_CALL): Rule.FOUND
        for state in (READY, PAUSED, RINGING, ON_CALL, WRAP_UP)
    },
}

# Pauses the system imposes; a PAUSE event carries the agent's own reason instead.
FORCED_REASONS: Final[Mapping[Event, str]] = {
    Event.RING_NO_ANSWER: "ring-no-answer",
    Event.UNAVAILABLE: "phone-unavailable",
}


class IllegalTransition(ValueError):
    """The event makes no sense in the agent's current state (the caller's bug)."""

    def __init__(self, state: AgentState, event: Event) -> None:
        super().__init__(f"agent cannot {event.value!r} while {state.value!r}")
        self.state = state
        self.event = event


@dataclass(frozen=True, slots=True)
class AgentStatus:
    state: AgentState
    since: float
    reason: str = ""
    pending_pause: str | None = None
    call_id: str | None = None


def available(status: AgentStatus) -> bool:
    """May the router offer this agent a call?"""
    return status.state is READY


def transition(
    status: AgentStatus,
    event: Event,
    now: float,
    reason: str = "",
    call_id: str | None = None,
    wrapup: float = 0.0,
) -> AgentStatus:
    """The agent's status after ``event`` at ``now``; raises IllegalTransition."""
    target = TABLE.get((status.state, event))
    if target is None:
        raise IllegalTransition(status.state, event)
    _check_arguments(event, reason, call_id, wrapup)
    if isinstance(target, Rule):
        return _apply_rule(target, status, now, reason, wrapup, call_id)
    if target is PAUSED:
        return AgentStatus(PAUSED, now, reason=FORCED_REASONS.get(event, reason))
    if target is RINGING:
        return AgentStatus(RINGING, now, call_id=call_id)
    if target is ON_CALL:
        return replace(status, state=ON_CALL, since=now)
    return AgentStatus(target, now)


def _check_arguments(event: Event, reason: str, call_id: str | None, wrapup: float) -> None:
    if event is Event.PAUSE and not reason:
        raise ValueError("PAUSE needs a reason (supervisors and reports show it)")
    if event in (Event.OFFER, Event.FOUND_ON_CALL) and not call_id:
        raise ValueError(f"{event.name} needs the id of the call")
    if wrapup < 0:
        raise ValueError(f"wrapup must be >= 0, got {wrapup}")


def _apply_rule(
    rule: Rule, status: AgentStatus, now: float, reason: str, wrapup: float, call_id: str | None
) -> AgentStatus:
    if rule is Rule.FOUND:
        paused = status.reason if status.state is PAUSED else status.pending_pause
        return AgentStatus(ON_CALL, now, call_id=call_id, pending_pause=paused)
    if rule is Rule.PAUSE_LATER:
        return replace(status, pending_pause=reason)
    if rule is Rule.CANCEL_PAUSE:
        return replace(status, pending_pause=None)
    if rule is Rule.END_CALL and wrapup > 0:
        return replace(status, state=WRAP_UP, since=now)
    if status.pending_pause is not None:
        return AgentStatus(PAUSED, now, reason=status.pending_pause)
    return AgentStatus(READY, now)
