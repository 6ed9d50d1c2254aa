"""A call's life: every state a call can be in and every allowed step. Only
``advance`` changes a call's state; nothing else in the code assigns it.

Choices worth knowing:

* A call begins in the IVR (an inbound caller), WAITING (a callback's place in
  line, or a call found waiting after a restart), RINGING (an outbound call
  whose agent was held for it, or one found ringing) or TALKING / FALLBACK
  (found so after a restart). ``BEGIN`` lists these.
* QUEUE is joining a line, and also re-joining one: an overflow to another
  queue, a callback's retry. A caller whose agent did not answer RETURNs to
  the line with their original place (the router keeps their enqueue time).
* The dialplan decides a fallback (controller silent, route failed), so
  FALL_BACK is allowed from any state before the conversation.
* TRANSFER puts a caller who was talking back in line (a blind transfer to a queue
  or to an agent: services/inbound/call_control.py); QUEUE or OFFER follows. Hold is
  no state: a held call is still TALKING (``LiveCall.held_since``).
* END is every end that is not a completed conversation (hang-up in the IVR
  or in line, overflow to goodbye, a callback given up, a vanished channel);
  it is allowed from every state and idempotent. A call record's outcome is
  the state the call ended *from* ("ended" there means a completed conversation).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from callcenter.core.calls.live import LiveCall


class CallState(StrEnum):
    IVR = "ivr"
    WAITING = "waiting"
    RINGING = "ringing"
    TALKING = "talking"
    VOICEMAIL = "voicemail"
    FALLBACK = "fallback"
    ENDED = "ended"


class CallEvent(StrEnum):
    QUEUE = "queue"  # joins (or re-joins) a queue's line
    OFFER = "offer"  # an agent is chosen: their phone rings (or is held for a callback)
    RETURN = "return"  # the ring ended unanswered or failed: back in line, same place
    ANSWER = "answer"  # the agent answered
    COMPLETE = "complete"  # the conversation is over (either side hung up)
    TRANSFER = "transfer"  # the agent sent the caller on (a queue, another agent)
    VOICEMAIL = "voicemail"  # sent to leave a message
    FALL_BACK = "fall-back"  # sent to the plain Asterisk queue
    END = "end"  # over, without (more) conversation


IVR: Final = CallState.IVR
WAITING: Final = CallState.WAITING
RINGING: Final = CallState.RINGING
TALKING: Final = CallState.TALKING
VOICEMAIL: Final = CallState.VOICEMAIL
FALLBACK: Final = CallState.FALLBACK
ENDED: Final = CallState.ENDED

BEGIN: Final = frozenset({IVR, WAITING, RINGING, TALKING, FALLBACK})

_STEPS: Final[Mapping[tuple[CallState, CallEvent], CallState]] = {
    (IVR, CallEvent.QUEUE): WAITING,
    (IVR, CallEvent.VOICEMAIL): VOICEMAIL,
    (WAITING, CallEvent.QUEUE): WAITING,
    (WAITING, CallEvent.OFFER): RINGING,
    (WAITING, CallEvent.VOICEMAIL): VOICEMAIL,
    (RINGING, CallEvent.ANSWER): TALKING,
    (RINGING, CallEvent.RETURN): WAITING,
    (FALLBACK, CallEvent.ANSWER): TALKING,  # an agent took it from the fallback queue
    (TALKING, CallEvent.COMPLETE): ENDED,
    (TALKING, CallEvent.TRANSFER): WAITING,
}
TABLE: Final[Mapping[tuple[CallState, CallEvent], CallState]] = {
    **_STEPS,
    **{(state, CallEvent.FALL_BACK): FALLBACK for state in (IVR, WAITING, RINGING, FALLBACK)},
    **{(state, CallEvent.END): ENDED for state in CallState},
}


class IllegalCallTransition(Exception):
    def __init__(self, call_id: str, state: CallState, event: CallEvent) -> None:
        super().__init__(f"call {call_id}: {event} is not allowed while {state}")
        self.state = state
        self.event = event


def allowed(state: CallState, event: CallEvent) -> bool:
    """Whether ``event`` is a step from ``state`` (for news that may come late)."""
    return (state, event) in TABLE


def advance(call: LiveCall, event: CallEvent) -> CallState:
    """The one place a call's state changes; raises IllegalCallTransition."""
    target = TABLE.get((call.state, event))
    if target is None:
        raise IllegalCallTransition(call.call_id, call.state, event)
    call.state = target
    return target
