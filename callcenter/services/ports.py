"""What the services need from the outside world, as protocols.

The AMI adapter implements ``Pbx``; tests of services can hand in a fake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class PbxUnavailable(Exception):
    """Asterisk cannot be reached right now; the action was not carried out."""


class OriginateUncertain(Exception):
    """An Originate went out but its answer never came (link lost, timeout).

    Asterisk may or may not be placing the call: whoever asked must wait for
    the call's own events, and never send the Originate again.
    """


@dataclass(frozen=True, slots=True)
class LiveChannel:
    """A channel as Asterisk reports it when asked (resynchronisation)."""

    unique_id: str
    name: str
    state: str
    context: str
    exten: str
    application: str
    caller_num: str
    linked_id: str
    bridge_id: str


@dataclass(frozen=True, slots=True)
class QueueMember:
    interface: str
    name: str
    paused: bool


@dataclass(frozen=True, slots=True)
class Origination:
    """A call the controller places: ring ``endpoint``; once answered, run ``context``.

    ``action_id`` and ``channel_id`` are ours, so Asterisk's later events
    (OriginateResponse, Hangup) can be matched to the request.
    """

    endpoint: str  # a PJSIP endpoint (already validated by the caller)
    context: str
    exten: str
    action_id: str
    channel_id: str  # becomes the new channel's unique id
    caller_id: str
    ring_seconds: int
    variables: tuple[tuple[str, str], ...] = ()
    # A trunk (configured name): ``endpoint`` is then a number dialled through it.
    via: str = ""


class Originator(Protocol):
    """Placing calls from the controller, and ending them."""

    async def originate(self, request: Origination) -> None:
        """Raise PbxUnavailable (nothing placed) or OriginateUncertain (maybe placed)."""
        ...

    async def hangup(self, channel: str) -> None: ...


class Pbx(Protocol):
    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> None: ...

    async def set_var(self, channel: str, name: str, value: str) -> None: ...

    async def get_var(self, channel: str, name: str) -> str | None: ...

    async def set_global(self, name: str, value: str) -> None: ...

    async def hangup(self, channel: str) -> None: ...

    async def channels(self) -> list[LiveChannel]: ...

    async def queue_members(self, queue: str) -> list[QueueMember]: ...

    async def queue_add(self, queue: str, interface: str, name: str, paused: bool) -> None: ...

    async def queue_remove(self, queue: str, interface: str) -> None: ...

    async def queue_pause(self, queue: str, interface: str, paused: bool, reason: str) -> None: ...

    async def queue_log(
        self, queue: str, unique_id: str, agent: str, event: str, fields: list[str]
    ) -> None: ...

    async def mute_recording(self, channel: str, muted: bool) -> None: ...

    async def reload(self, module: str) -> None: ...
