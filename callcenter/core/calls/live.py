"""Calls in progress, as the controller tracks them (in memory; the database
keeps the record). Looked up by our call id, Asterisk's unique id or channel."""

from __future__ import annotations

from dataclasses import dataclass, field

from callcenter.core.calls.segments import Holds
from callcenter.core.calls.state import BEGIN, CallState


@dataclass(slots=True)
class LiveCall:
    call_id: str
    unique_id: str
    channel: str
    caller: str
    caller_name: str
    dialled: str
    entered_at: float
    state: CallState = CallState.IVR
    data: dict[str, str] = field(default_factory=dict)
    path: tuple[str, ...] = ()
    customer_id: int | None = None
    queue: str = ""
    priority: int = 0
    extra: dict[str, int] = field(default_factory=dict)
    enqueued_at: float | None = None
    agent: str = ""
    agent_channel: str = ""
    offered_at: float | None = None
    answered_at: float | None = None
    offers: int = 0
    # When the caller joined the queue they are in now (its maximum wait counts from
    # there), and how many times they overflowed from one queue to another.
    joined_at: float | None = None
    overflows: int = 0
    recording: str = ""
    # CC_RING_TIMEOUT as the caller's channel has it (set with the queue's other
    # variables): a Redirect to an agent needs no Setvar before it when it is right.
    ring_timeout_set: str = ""
    muted_since: float | None = None
    # A callback's id (services/callbacks/places.py). While its customer is not on the
    # line (channel ""), the call holds a place in line with no channel: virtual.
    callback_id: int | None = None
    # Call control (services/inbound/call_control.py): the holds of the agent's segment
    # in progress, transfers so far, and the agent who last transferred the caller.
    holds: Holds = field(default_factory=Holds)
    transfers: int = 0
    transferred_from: str = ""
    previous_agents: tuple[str, ...] = ()  # who had the call before ``agent``, in order
    # The agent ended the call from the desktop (the caller's leg hung up for them).
    ended_by_agent: bool = False
    # Where an agent's blind transfer sends the caller, ("queue" | "agent", name), until
    # the caller reaches cc-transfer and the controller places them.
    transfer_to: tuple[str, str] | None = None
    # (agent, until): the agent who transferred the caller, whom the ACD passes over
    # until then (core/acd/router.py, ``avoid``).
    avoid: tuple[str, float] | None = None
    node: str = ""  # the Asterisk node the caller is on ([[pbx.nodes]]); '' on one box

    def __post_init__(self) -> None:
        if self.state not in BEGIN:
            raise ValueError(f"call {self.call_id} cannot begin {self.state}")

    @property
    def virtual(self) -> bool:
        return self.callback_id is not None and not self.channel

    def wait(self, now: float) -> float:
        if self.enqueued_at is None:
            return 0.0
        return max(0.0, (self.answered_at or now) - self.enqueued_at)


class CallBook:
    def __init__(self) -> None:
        self._calls: dict[str, LiveCall] = {}
        self._by_unique: dict[str, str] = {}
        # Kept past the caller's end: the agent's leg may outlive the caller's.
        self._by_agent_channel: dict[str, LiveCall] = {}

    def add(self, call: LiveCall) -> None:
        self._calls[call.call_id] = call
        if call.unique_id:
            self._by_unique[call.unique_id] = call.call_id

    def get(self, call_id: str) -> LiveCall | None:
        return self._calls.get(call_id)

    def by_unique_id(self, unique_id: str) -> LiveCall | None:
        call_id = self._by_unique.get(unique_id)
        return self._calls.get(call_id) if call_id else None

    def by_agent_channel(self, channel: str) -> LiveCall | None:
        return self._by_agent_channel.get(channel)

    def set_agent_channel(self, call: LiveCall, channel: str) -> None:
        if call.agent_channel:
            self._by_agent_channel.pop(call.agent_channel, None)
        call.agent_channel = channel
        if channel:
            self._by_agent_channel[channel] = call

    def attach(self, call: LiveCall, unique_id: str, channel: str) -> None:
        """The call's customer leg is now this channel (a callback answered)."""
        self._by_unique.pop(call.unique_id, None)
        call.unique_id, call.channel = unique_id, channel
        if unique_id:
            self._by_unique[unique_id] = call.call_id

    def detach(self, call: LiveCall) -> None:
        """The caller's channel leaves, the call stays (kept place in line)."""
        self.attach(call, "", "")

    def remove(self, call_id: str) -> LiveCall | None:
        call = self._calls.pop(call_id, None)
        if call is not None:
            self._by_unique.pop(call.unique_id, None)
        return call

    def all(self) -> list[LiveCall]:
        return list(self._calls.values())

    def in_state(self, *states: CallState) -> list[LiveCall]:
        return [call for call in self._calls.values() if call.state in states]

    def __len__(self) -> int:
        return len(self._calls)
