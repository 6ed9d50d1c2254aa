"""What the services need from the PBX, as protocols.

The AMI adapter implements ``Pbx``, ``Originator`` and ``PbxEvents``; the
FastAGI adapter implements ``CallerLine``. Tests of services hand in fakes.
Storage ports are in services/repositories.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from callcenter.core.callbacks.policy import CallbackSettings
from callcenter.core.calls.outage import CelEvent
from callcenter.core.dialplan import Decision, Status
from callcenter.core.ivr.engine import IvrSession
from callcenter.core.ivr.events import BookCallback, Enqueue, Voicemail
from callcenter.core.ivr.events import Hangup as IvrHangup
from callcenter.core.ivr.first import FirstMenu
from callcenter.core.queues import Announce, SpokenWait


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
    node: str = ""  # the Asterisk node it is on ([[pbx.nodes]]); '' on one box


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
    # Several nodes ([[pbx.nodes]]): the node that places the call ('' : where the
    # endpoint's phone is, or the first node; on a single box always '').
    node: str = ""
    # A channel the new call will be bridged with (a consultation's agent leg): with
    # several nodes it is placed on that channel's node when that node reaches the
    # endpoint (NodeLinks.node_beside).
    near: str = ""


class Originator(Protocol):
    """Placing calls from the controller, and ending them."""

    async def originate(self, request: Origination) -> None:
        """Raise PbxUnavailable (nothing placed) or OriginateUncertain (maybe placed)."""
        ...

    async def hangup(self, channel: str) -> None: ...


class Pbx(Protocol):
    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> None: ...

    async def redirect_both(
        self, channel: str, context: str, extra_channel: str, extra_context: str
    ) -> None:
        """Both channels to extension s of their contexts at once: two bridged channels
        leave their bridge and neither is hung up (hold). Raises PbxUnavailable."""
        ...

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


@dataclass(frozen=True, slots=True)
class IvrEnd:
    """How a caller's IVR ended: its last action, and the customer it identified."""

    final: Enqueue | BookCallback | Voicemail | IvrHangup
    customer_id: int | None = None


class CallerLine(Protocol):
    """A caller's channel while the controller has it (FastAGI): what the inbound
    use case (services/inbound/arrival.py) asks of it. Every method is one step
    the caller hears or the dialplan sees; none decides anything."""

    async def identify(self, call_id: str, number: str, name: str) -> None:
        """Tag the channel with our call id and the vetted caller ID."""
        ...

    async def answer(self) -> None: ...

    async def run_ivr(self, ivr: IvrSession) -> IvrEnd: ...

    async def prepare_queue(self, recording: str, moh: str | None, ring_timeout: str) -> None:
        """Where the recording goes (inherited by the agent's leg), the music in line and
        how long an agent's phone rings (CC_RING_TIMEOUT)."""
        ...

    async def tag_fallback(self, queue: str, rank: int) -> None:
        """Where the caller goes, and their rank there, should the controller fall silent."""
        ...

    async def say_position(self, position: int, wait: SpokenWait, announce: Announce) -> None: ...

    async def wants_callback(self, rules: CallbackSettings) -> bool:
        """Offer keep-my-place; True when the caller pressed the key."""
        ...

    async def callback_number(self, caller: str, rules: CallbackSettings) -> str | None:
        """The number to call back: the caller's own (E.164) confirmed, or one keyed in
        (as keyed, a valid number in ``rules.region``); None if none was given."""
        ...

    async def play(self, prompts: tuple[str, ...]) -> None: ...

    async def rate(self, prompts: tuple[str, ...], timeout: float) -> str | None:
        """Play ``prompts`` and read one key, in one command inside Asterisk (a key
        pressed during the prompts counts): the key, "" for none, None once the caller
        has hung up."""
        ...

    async def record_comment(self, prompt: str, path: str, seconds: int) -> bool | None:
        """Play ``prompt``, then record the caller to ``path`` (Asterisk's, with its
        format's extension) until silence, '#' or ``seconds``: True if recorded,
        False if not, None once the caller has hung up."""
        ...

    async def carry_out(self, decision: Decision) -> Status:
        """Hand the decision to the dialplan (variables, a prompt) and say its status."""
        ...


class PbxEvents(Protocol):
    """Asterisk's events (core/pbx_events.py) to handlers, and the link's (re)logins."""

    @property
    def connected(self) -> bool: ...

    def subscribe(
        self, event_type: type[Any], handler: Callable[[Any], Awaitable[None] | None]
    ) -> None: ...

    def on_connected(self, hook: Callable[[], Awaitable[None]]) -> None:
        """``hook`` runs after every (re)login, before events are trusted again."""
        ...


class PbxConfig(Protocol):
    """Configuration that follows the queues into the running Asterisk."""

    async def publish_voicemail(self, boxes: set[str]) -> None: ...

    async def publish_fallback_queues(self, wrapups: Mapping[str, float]) -> None:
        """Each queue's plain twin, with its wrap-up time (core/acd/fallback.py)."""
        ...

    async def publish_first_menus(
        self, default: FirstMenu | None, by_number: Mapping[str, FirstMenu | None]
    ) -> None:
        """The flows' first menus, run by the dialplan before the controller is asked
        (core/ivr/first.py): the default flow's, and each dialled number's."""
        ...


class ChannelLog(Protocol):
    """Asterisk's own log of every call's channel events (blocking reads)."""

    def since(self, at: float) -> list[CelEvent]:
        """Every event logged at or after ``at``, oldest first."""
        ...
