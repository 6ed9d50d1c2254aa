"""What happened to inbound calls while the controller could not watch (pure).

Asterisk logs every call's channel events (CEL, asterisk/cel.conf) whether or
not the controller is up. After a restart the controller reads the events of
the outage and, for each caller, ``history`` says what the caller lived
through: when they came in, when they went to the fallback queue, which agent
answered and when, when the call ended and who hung up. ``completion`` then
turns that into the domain events the records would have had, had the
controller been there, for the part of the call the records lack.

A call is one linked id; the caller is its first channel, which entered the
dialplan in ``cc-inbound``. Agents are channels of a known agent endpoint
bridged with the caller. Calls the controller placed (callbacks, campaigns)
are not reconstructed here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from callcenter.core.channels import endpoint_of
from callcenter.core.events import (
    CallAbandoned,
    CallAnswered,
    CallCompleted,
    CallEnded,
    CallEntered,
    CallFellBack,
    Event,
)

INBOUND_CONTEXT = "cc-inbound"
FALLBACK_CONTEXT = "cc-fallback"
ANSWER_CONTEXTS = {"cc-connect", FALLBACK_CONTEXT}


@dataclass(frozen=True, slots=True)
class CelEvent:
    """One line of Asterisk's channel event log."""

    kind: str  # CHAN_START, ANSWER, HANGUP, BRIDGE_ENTER, BRIDGE_EXIT, APP_START, LINKEDID_END
    at: float
    unique_id: str
    linked_id: str
    channel: str
    context: str = ""
    exten: str = ""
    app: str = ""
    caller: str = ""
    caller_name: str = ""
    peer: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CallHistory:
    """One inbound caller's call as Asterisk logged it."""

    unique_id: str
    channel: str
    caller: str
    caller_name: str
    dialled: str
    entered_at: float
    fell_back_at: float | None = None
    agent: str = ""
    answered_at: float | None = None
    voicemail_at: float | None = None
    ended_at: float | None = None  # None: the caller is still on the line
    talk_ended_at: float | None = None  # the first of the two sides to hang up
    ended_by: str = ""  # agent | caller (of an answered call)

    @property
    def outcome(self) -> str:
        """completed | abandoned | voicemail | ivr-hangup, or "" while the call lasts."""
        if self.ended_at is None:
            return ""
        if self.answered_at is not None:
            return "completed"
        if self.voicemail_at is not None:
            return "voicemail"
        if self.fell_back_at is not None:
            return "abandoned"
        return "ivr-hangup"


def history(events: Iterable[CelEvent], is_agent: Callable[[str], bool]) -> dict[str, CallHistory]:
    """Every inbound caller's history in ``events`` (any order), by the caller's unique id."""
    by_call: dict[str, list[CelEvent]] = defaultdict(list)
    for event in events:
        by_call[event.linked_id].append(event)
    found = {}
    for linked_id, logged in by_call.items():
        logged.sort(key=lambda e: e.at)
        told = _one(linked_id, logged, is_agent)
        if told is not None:
            found[told.unique_id] = told
    return found


def _one(
    linked_id: str, logged: list[CelEvent], is_agent: Callable[[str], bool]
) -> CallHistory | None:
    mine = [e for e in logged if e.unique_id == linked_id]
    start = next((e for e in mine if e.kind == "CHAN_START"), None)
    if start is None or start.context != INBOUND_CONTEXT:
        return None
    told: dict[str, Any] = {}
    for event in mine:
        if event.kind == "APP_START" and event.app == "Queue" and event.context == FALLBACK_CONTEXT:
            told.setdefault("fell_back_at", event.at)
        elif event.kind == "APP_START" and event.app == "VoiceMail":
            told.setdefault("voicemail_at", event.at)
        elif event.kind == "BRIDGE_ENTER" and "answered_at" not in told:
            agent = _agent_bridged(event, logged, is_agent)
            if agent:
                told.update(agent=agent, answered_at=event.at)
        elif event.kind == "HANGUP":
            told["ended_at"] = event.at
            if "answered_at" in told:
                source = endpoint_of(str(event.extra.get("hangupsource", ""))) or ""
                told["ended_by"] = "agent" if source == told["agent"] else "caller"
    if "answered_at" in told:
        sides = {start.unique_id} | {
            e.unique_id for e in logged if endpoint_of(e.channel) == told["agent"]
        }
        hangups = [
            e.at
            for e in logged
            if e.kind == "HANGUP" and e.unique_id in sides and e.at >= told["answered_at"]
        ]
        told["talk_ended_at"] = min(hangups) if hangups else None
    return CallHistory(
        unique_id=start.unique_id,
        channel=start.channel,
        caller=start.caller,
        caller_name=start.caller_name,
        dialled="".join(ch for ch in start.exten if ch in "+0123456789"),
        entered_at=start.at,
        **told,
    )


def _agent_bridged(event: CelEvent, logged: list[CelEvent], is_agent: Callable[[str], bool]) -> str:
    """The agent in the bridge the caller entered, if the other party is an agent."""
    peer = endpoint_of(event.peer) if event.peer else None
    if peer and is_agent(peer):
        return peer
    bridge = event.extra.get("bridge_id")
    for other in logged:
        if other.kind == "BRIDGE_ENTER" and other.unique_id != event.unique_id and bridge:
            endpoint = endpoint_of(other.channel)
            if other.extra.get("bridge_id") == bridge and endpoint and is_agent(endpoint):
                return endpoint
    return ""


@dataclass(frozen=True, slots=True)
class Known:
    """What the records already say of a call (None: they never heard of it)."""

    call_id: str
    recorded: bool = True  # False: a call that arrived and went unseen
    queue: str = ""
    enqueued_at: float | None = None
    fell_back: bool = False
    answered_at: float | None = None
    agent: str = ""


def completion(told: CallHistory, known: Known, outage: str = "controller-down") -> list[Event]:
    """The domain events the records lack for a call, in order, dated when they happened.

    ``known`` is what the records hold; for a call they never heard of
    (``recorded`` False, a fresh call id) the entry is written too. Nothing is
    invented: a step Asterisk did not log is not recorded.
    """
    call_id, unique_id = known.call_id, told.unique_id
    steps: list[Event] = []
    if not known.recorded:
        steps.append(
            CallEntered(
                at=told.entered_at,
                call_id=call_id,
                unique_id=unique_id,
                caller=told.caller,
                caller_name=told.caller_name,
                dialled=told.dialled,
                flow="",
            )
        )
    if told.fell_back_at is not None and not known.fell_back and known.answered_at is None:
        steps.append(
            CallFellBack(at=told.fell_back_at, call_id=call_id, unique_id=unique_id, reason=outage)
        )
    waiting_since = known.enqueued_at or told.fell_back_at or told.entered_at
    if told.answered_at is not None and known.answered_at is None:
        steps.append(
            CallAnswered(
                at=told.answered_at,
                call_id=call_id,
                unique_id=unique_id,
                queue=known.queue,
                agent=told.agent,
                wait=max(0.0, told.answered_at - waiting_since),
                ring_seconds=0.0,
                agent_channel="",
            )
        )
    if told.ended_at is None:
        return [replace(step, recovered=True) for step in steps]
    answered_at = known.answered_at or told.answered_at
    if answered_at is not None:
        talk_end = told.talk_ended_at or told.ended_at
        steps.append(
            CallCompleted(
                at=talk_end,
                call_id=call_id,
                unique_id=unique_id,
                queue=known.queue,
                agent=known.agent or told.agent,
                wait=max(0.0, answered_at - waiting_since),
                talk=max(0.0, talk_end - answered_at),
                ended_by=told.ended_by or "caller",
            )
        )
    elif told.fell_back_at is not None or known.enqueued_at is not None:
        steps.append(
            CallAbandoned(
                at=told.ended_at,
                call_id=call_id,
                unique_id=unique_id,
                queue=known.queue,
                wait=max(0.0, told.ended_at - waiting_since),
                position=0,
            )
        )
    # The records' words for the state a call ended from (core/calls/state.py).
    if answered_at is not None:
        outcome = "ended"
    elif told.voicemail_at is not None:
        outcome = "voicemail"
    elif told.fell_back_at is not None or known.enqueued_at is not None:
        outcome = "waiting"
    else:
        outcome = "ivr"
    steps.append(CallEnded(at=told.ended_at, call_id=call_id, unique_id=unique_id, outcome=outcome))
    return [replace(step, recovered=True) for step in steps]
