"""Domain events: what happened to calls and agents, as the services report it.

Services publish them on the Notifier; the call records, the queue_log, the
console's live updates and the CRM webhooks each subscribe. Times are epoch
seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from callcenter.core.calls.segments import Segment


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    at: float
    # Rebuilt after the fact from Asterisk's log (core/calls/outage.py), not seen as it
    # happened: records take it; what acts on a call now (queue_log, recording) does not.
    recovered: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEntered(Event):
    call_id: str
    unique_id: str
    caller: str
    caller_name: str
    dialled: str
    flow: str
    node: str = ""  # the Asterisk node the caller is on ([[pbx.nodes]]); '' on one box


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrFinished(Event):
    call_id: str
    path: tuple[str, ...]
    data: dict[str, str]
    outcome: str  # queued | voicemail | hangup | caller-hangup | failed
    customer_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallQueued(Event):
    call_id: str
    unique_id: str
    queue: str
    priority: int
    extra: dict[str, int]  # skill requirements the IVR added to the queue's own
    caller: str
    position: int
    estimate: float | None  # seconds (core/acd/waits.py), logged with the actual wait
    reliable: bool = False  # whether the product stands by the estimate


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitAnnounced(Event):
    call_id: str
    queue: str
    position: int
    estimate: float | None
    reliable: bool = False
    why_not: str = ""  # why the product does not stand by the estimate (core/acd/waits.Why)
    told: str = ""  # what the caller heard of the wait: "3 minutes", "a few minutes", ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallOffered(Event):
    call_id: str
    unique_id: str
    queue: str
    agent: str
    wait: float


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRingNoAnswer(Event):
    call_id: str
    unique_id: str
    queue: str
    agent: str
    ring_seconds: float
    status: str  # Asterisk's DIALSTATUS: NOANSWER, BUSY, CHANUNAVAIL, ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAnswered(Event):
    call_id: str
    unique_id: str
    queue: str
    agent: str
    wait: float
    ring_seconds: float
    agent_channel: str
    # The node the agent's phone is on ([[pbx.nodes]]: core/nodes.py); '' on one box.
    agent_node: str = ""
    # Answered again after a transfer: the call's first answer (its wait, its service
    # level) stays what the records keep; this one is the next segment's.
    transferred: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAbandoned(Event):
    call_id: str
    unique_id: str
    queue: str
    wait: float
    position: int
    while_ringing: str = ""  # the agent whose phone was ringing, if any


@dataclass(frozen=True, slots=True, kw_only=True)
class CallOverflowed(Event):
    call_id: str
    unique_id: str
    queue: str
    reason: str  # max-wait | unstaffed | closed
    action: str  # queue | voicemail | hangup
    target: str
    wait: float


@dataclass(frozen=True, slots=True, kw_only=True)
class CallCompleted(Event):
    call_id: str
    unique_id: str
    queue: str
    agent: str
    wait: float
    talk: float  # the last segment's, hold excluded
    ended_by: str  # agent | caller
    hold: float = 0.0  # the last segment's hold time


@dataclass(frozen=True, slots=True, kw_only=True)
class CallHeld(Event):
    call_id: str
    agent: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallResumed(Event):
    call_id: str
    agent: str
    held: float  # seconds this hold lasted


@dataclass(frozen=True, slots=True, kw_only=True)
class CallTransferred(Event):
    """An agent sent the caller on (blind): to a queue's line or to another agent."""

    call_id: str
    agent: str  # who transferred
    kind: str  # queue | agent | number
    target: str
    reason: str
    queue: str  # the queue the caller was in with that agent
    unique_id: str = ""
    wait: float = 0.0  # the caller's wait before that agent answered
    talk: float = 0.0  # that agent's segment (talk and hold)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallSegmentEnded(Event):
    """One agent's part of a call is over (core/calls/segments.py)."""

    call_id: str
    agent: str
    queue: str
    answered_at: float
    talk: float
    hold: float
    holds: int
    reason: str  # completed | transfer-queue | transfer-agent
    target: str = ""


def segment_ended(call_id: str, segment: Segment) -> CallSegmentEnded:
    return CallSegmentEnded(
        at=segment.ended_at,
        call_id=call_id,
        agent=segment.agent,
        queue=segment.queue,
        answered_at=segment.answered_at,
        talk=segment.talk,
        hold=segment.hold,
        holds=segment.holds,
        reason=segment.reason,
        target=segment.target,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEnded(Event):
    """The caller's channel is gone, whatever the reason; closes the call record."""

    call_id: str
    unique_id: str
    outcome: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallFellBack(Event):
    """The call went to the plain Asterisk queue (controller unreachable or failed)."""

    call_id: str
    unique_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentStateChanged(Event):
    agent: str
    state: str
    reason: str = ""
    call_id: str | None = None
    previous: str = ""
    previous_seconds: float = 0.0  # time spent in the previous state


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingStarted(Event):
    call_id: str
    agent: str
    queue: str
    path: str
    caller: str
    node: str = ""  # the node whose recordings folder holds it ([[pbx.nodes]])


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingMuted(Event):
    call_id: str
    muted: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingStopped(Event):
    call_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallDataChanged(Event):
    """Something was attached to a call (e.g. a wrap-up disposition)."""

    call_id: str
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveyFinished(Event):
    """A post-call survey is over (core/survey.py): rated, partly, or the caller hung up."""

    call_id: str
    queue: str
    agent: str
    scores: tuple[int | None, ...]  # one per question; None: skipped or never asked
    comment: str = ""  # the recorded comment, relative to the recordings folder


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackRequested(Event):
    """A caller kept their place (keep-place), or a callback was booked (scheduled)."""

    call_id: str  # the call it belongs to (keep-place: the caller's; scheduled: the booking call)
    callback_id: int
    kind: str  # keep-place | scheduled
    queue: str
    number: str
    due_at: float
    booked_by: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackAttempted(Event):
    """One try at a callback: dialled (and what came of it) or refused before dialling."""

    call_id: str
    callback_id: int
    attempt: int
    number: str
    agent: str
    outcome: str  # reached | machine | no-answer | busy | failed | dnc | out-of-hours
    next_status: str  # done | pending | failed | dnc
    retry_at: float | None = None
