"""In-memory fakes of the PBX ports (callcenter/services/ports.py).

- ``FakePbx``: ``Pbx`` and ``Originator``. Every request is kept in ``actions``
  in the order made; the channel variables it sets can be read back (as
  ``get_var`` does), and the fallback queue's members follow queue_add/remove/
  pause as Asterisk's would. ``unavailable`` names the requests that raise
  PbxUnavailable (the link is down); ``originate_error`` is raised by
  ``originate`` after the request is kept (OriginateUncertain: maybe placed).
- ``FakePbxEvents``: ``PbxEvents``. ``emit`` hands one event to its handlers
  in the order they subscribed, each awaited before the next, as the AMI
  adapter's dispatch does for the events of one call.
- ``FakeCallerLine``: ``CallerLine``, scripted per test. It steps the real IVR
  session, answering each action from ``ivr_results`` (a Play or Say is
  answered Done, a Collect with no scripted result NoInput), and keeps what
  the caller heard and what was asked of the dialplan in ``steps``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from callcenter.core.callbacks.policy import CallbackSettings
from callcenter.core.calls.outage import CelEvent
from callcenter.core.dialplan import Decision, Status
from callcenter.core.ivr.engine import IvrSession
from callcenter.core.ivr.events import (
    BookCallback,
    Done,
    Enqueue,
    Hangup,
    NoInput,
    Play,
    Result,
    Say,
    Voicemail,
)
from callcenter.core.queues import Announce, SpokenWait
from callcenter.services.ports import (
    IvrEnd,
    LiveChannel,
    Origination,
    PbxUnavailable,
    QueueMember,
)


class FakePbx:
    def __init__(self) -> None:
        self.actions: list[tuple[Any, ...]] = []
        self.variables: dict[tuple[str, str], str] = {}  # (channel, name) -> value
        self.globals: dict[str, str] = {}
        self.live: list[LiveChannel] = []  # what ``channels`` reports
        self.members: dict[str, dict[str, QueueMember]] = {}  # queue -> interface -> member
        self.originations: list[Origination] = []
        self.originate_error: Exception | None = None
        self.unavailable: set[str] = set()  # names of requests that raise PbxUnavailable

    def _do(self, name: str, *args: Any) -> None:
        if name in self.unavailable:
            raise PbxUnavailable(f"{name}: not connected")
        self.actions.append((name, *args))

    def done(self, name: str) -> list[tuple[Any, ...]]:
        """The arguments of each ``name`` request, in order."""
        return [action[1:] for action in self.actions if action[0] == name]

    @property
    def redirects(self) -> list[tuple[str, str, str]]:
        return [(channel, context, exten) for channel, context, exten, _ in self.done("redirect")]

    # -- Pbx --------------------------------------------------------------------------------
    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> None:
        self._do("redirect", channel, str(context), exten, priority)

    async def redirect_both(
        self, channel: str, context: str, extra_channel: str, extra_context: str
    ) -> None:
        self._do("redirect_both", channel, str(context), extra_channel, str(extra_context))

    async def set_var(self, channel: str, name: str, value: str) -> None:
        self._do("set_var", channel, str(name), value)
        self.variables[(channel, str(name))] = value

    async def get_var(self, channel: str, name: str) -> str | None:
        if "get_var" in self.unavailable:
            raise PbxUnavailable("get_var: not connected")
        return self.variables.get((channel, str(name)))

    async def set_global(self, name: str, value: str) -> None:
        self._do("set_global", name, value)
        self.globals[name] = value

    async def hangup(self, channel: str) -> None:
        self._do("hangup", channel)

    async def channels(self) -> list[LiveChannel]:
        if "channels" in self.unavailable:
            raise PbxUnavailable("channels: not connected")
        return list(self.live)

    async def queue_members(self, queue: str) -> list[QueueMember]:
        if "queue_members" in self.unavailable:
            raise PbxUnavailable("queue_members: not connected")
        return list(self.members.get(queue, {}).values())

    async def queue_add(self, queue: str, interface: str, name: str, paused: bool) -> None:
        self._do("queue_add", queue, interface, name, paused)
        self.members.setdefault(queue, {})[interface] = QueueMember(interface, name, paused)

    async def queue_remove(self, queue: str, interface: str) -> None:
        self._do("queue_remove", queue, interface)
        self.members.get(queue, {}).pop(interface, None)

    async def queue_pause(self, queue: str, interface: str, paused: bool, reason: str) -> None:
        self._do("queue_pause", queue, interface, paused, reason)
        member = self.members.get(queue, {}).get(interface)
        if member is not None:
            self.members[queue][interface] = QueueMember(interface, member.name, paused)

    async def queue_log(
        self, queue: str, unique_id: str, agent: str, event: str, fields: list[str]
    ) -> None:
        self._do("queue_log", queue, unique_id, agent, event, list(fields))

    async def mute_recording(self, channel: str, muted: bool) -> None:
        self._do("mute_recording", channel, muted)

    async def reload(self, module: str) -> None:
        self._do("reload", module)

    # -- Originator -------------------------------------------------------------------------
    async def originate(self, request: Origination) -> None:
        self._do("originate", request)
        self.originations.append(request)
        if self.originate_error is not None:
            raise self.originate_error


Handler = Callable[[Any], Awaitable[None] | None]


class FakePbxEvents:
    def __init__(self) -> None:
        self.handlers: dict[type[Any], list[Handler]] = {}
        self.hooks: list[Callable[[], Awaitable[None]]] = []

    @property
    def connected(self) -> bool:
        return True

    def subscribe(self, event_type: type[Any], handler: Handler) -> None:
        self.handlers.setdefault(event_type, []).append(handler)

    def on_connected(self, hook: Callable[[], Awaitable[None]]) -> None:
        self.hooks.append(hook)

    async def emit(self, event: object) -> None:
        for handler in self.handlers.get(type(event), []):
            result = handler(event)
            if inspect.isawaitable(result):
                await result


@dataclass
class FakeCallerLine:
    """One caller's line. Script it: ``ivr_results`` (fed to the IVR in turn),
    ``customer_id`` (the IVR identified them), ``presses_callback`` (takes the
    keep-my-place offer), ``callback_to`` (the number they confirm or key in;
    None: no valid number). ``on_offer`` runs while the offer is made (something
    happening meanwhile, e.g. an agent freeing up)."""

    ivr_results: list[Result] = field(default_factory=list)
    customer_id: int | None = None
    presses_callback: bool = False
    # The survey: keys the caller gives, one entry per question asked (None: hangs up).
    survey_keys: list[str | None] = field(default_factory=list)
    comment: bool | None = True  # recorded, not (False), or the caller hung up (None)
    callback_to: str | None = None
    on_offer: Callable[[], Awaitable[None]] | None = None
    steps: list[tuple[Any, ...]] = field(default_factory=list)

    def heard(self, name: str) -> list[tuple[Any, ...]]:
        return [step[1:] for step in self.steps if step[0] == name]

    @property
    def decisions(self) -> list[Decision]:
        return [step[1] for step in self.steps if step[0] == "carry_out"]

    async def identify(self, call_id: str, number: str, name: str) -> None:
        self.steps.append(("identify", call_id, number, name))

    async def answer(self) -> None:
        self.steps.append(("answer",))

    async def run_ivr(self, ivr: IvrSession) -> IvrEnd:
        action = ivr.start()
        results = list(self.ivr_results)
        while not isinstance(action, Enqueue | BookCallback | Voicemail | Hangup):
            self.steps.append(("ivr", action))
            if results:
                result = results.pop(0)
            else:
                result = Done() if isinstance(action, Play | Say) else NoInput()
            action = ivr.feed(result)
        return IvrEnd(action, self.customer_id)

    async def tag_fallback(self, queue: str, rank: int) -> None:
        self.steps.append(("tag_fallback", queue, rank))

    async def prepare_queue(self, recording: str, moh: str | None, ring_timeout: str) -> None:
        self.steps.append(("prepare_queue", recording, moh, ring_timeout))

    async def say_position(self, position: int, wait: SpokenWait, announce: Announce) -> None:
        self.steps.append(("say_position", position, wait))

    async def wants_callback(self, rules: CallbackSettings) -> bool:
        self.steps.append(("offer_callback", rules.key))
        if self.on_offer is not None:
            await self.on_offer()
        return self.presses_callback

    async def callback_number(self, caller: str, rules: CallbackSettings) -> str | None:
        self.steps.append(("callback_number", caller))
        return self.callback_to

    async def play(self, prompts: tuple[str, ...]) -> None:
        self.steps.append(("play", prompts))

    async def rate(self, prompts: tuple[str, ...], timeout: float) -> str | None:
        self.steps.append(("rate", prompts))
        return self.survey_keys.pop(0) if self.survey_keys else None

    async def record_comment(self, prompt: str, path: str, seconds: int) -> bool | None:
        self.steps.append(("record_comment", prompt, path, seconds))
        return self.comment

    async def carry_out(self, decision: Decision) -> Status:
        self.steps.append(("carry_out", decision))
        return decision.status


class FakeChannelLog:
    """Asterisk's channel event log (``ChannelLog``): the events a test puts in."""

    def __init__(self) -> None:
        self.events: list[CelEvent] = []

    def since(self, at: float) -> list[CelEvent]:
        return sorted((e for e in self.events if e.at >= at), key=lambda e: e.at)
