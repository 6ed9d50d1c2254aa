"""AMI link over panoramisk: login, reconnect with backoff, a ping watchdog,
resynchronisation after every login, typed events, actions with timeouts.

panoramisk traps handled here (see LAB.md):
- its pinger never checks the reply, so a half-open socket goes unnoticed:
  our watchdog awaits each Ping and aborts the transport when none comes;
- after a reconnect it re-sends actions that had no reply (an Originate could
  be placed twice): we fail those actions instead and let the caller decide;
- exceptions in event callbacks vanish in un-awaited tasks: every handler
  runs under our own guard that logs them (adapters/ami/dispatch.py, which
  also keeps each call's events and their handlers in order).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from panoramisk import Manager
from panoramisk.actions import Action

from callcenter.adapters.ami.dispatch import OrderedDispatch
from callcenter.adapters.ami.parse import normalise, parse_event
from callcenter.adapters.ami.protocol import FastAmiProtocol
from callcenter.config import AmiSettings
from callcenter.core.pbx_events import AmiEvent
from callcenter.tasks import cancel_and_wait

log = logging.getLogger(__name__)
# panoramisk logs every failed reconnect attempt; we report the link's state ourselves.
logging.getLogger("panoramisk").setLevel(logging.ERROR)

E = TypeVar("E", bound=AmiEvent)
Handler = Callable[[Any], "Awaitable[None] | None"]
ConnectHook = Callable[[], Awaitable[None]]


class AmiError(Exception):
    """Asterisk answered an action with an error."""


class AmiNotConnected(AmiError):
    """There is no logged-in AMI link right now."""


class AmiTimeout(AmiError):
    """Asterisk did not answer an action in time."""


@dataclass(frozen=True, slots=True)
class AmiResponse:
    success: bool
    headers: dict[str, str | list[str]]
    events: list[AmiEvent | dict[str, str | list[str]]] = field(default_factory=list)

    def get(self, key: str, default: str = "") -> str:
        value = self.headers.get(key.lower().replace("-", "").replace("_", ""), default)
        return value[-1] if isinstance(value, list) else value

    @property
    def message(self) -> str:
        return self.get("message")


class _Everything:
    """Stands for panoramisk's forgetable_actions: nothing is re-sent after a reconnect."""

    def __contains__(self, item: object) -> bool:
        return True


class _Manager(Manager):  # type: ignore[misc]
    """panoramisk's Manager with our backoff, watchdog and login handling."""

    def __init__(self, client: AmiClient, **config: Any) -> None:
        self._client = client
        self.stopped = False
        super().__init__(**config)
        self.forgetable_actions = _Everything()

    @property
    def reconnect_timeout(self) -> float:
        return self._client._next_backoff()

    @reconnect_timeout.setter
    def reconnect_timeout(self, _value: float) -> None:
        pass

    def ping(self) -> None:  # panoramisk's unchecked pinger; ours is the watchdog
        pass

    def login(self, future: asyncio.Future[Any]) -> bool:
        ok = bool(super().login(future))
        if not ok:
            log.error("AMI login refused for user %r; retrying", self.config["username"])
            if self.protocol is not None:
                self.protocol.transport.abort()
        return ok

    def connection_lost(self, exc: Exception | None) -> None:
        # panoramisk's version, minus its fixed delay and its error log per attempt.
        self._connected = False
        self._client._on_disconnect()
        self._schedule_reconnect()

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        if self.stopped:
            # A connection that completes after stop() is closed, never used.
            with contextlib.suppress(Exception):
                f.result()[0].close()
            return
        if f.exception() is not None:
            # panoramisk would log and call_later itself; we keep the handle.
            self._schedule_reconnect()
            return
        super().connection_made(f)

    def _schedule_reconnect(self) -> None:
        if self.stopped:
            return
        self.reconnect_handle = self.loop.call_later(self.reconnect_timeout, self.connect)

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        if self.stopped:
            return None
        return super().connect(*args, **kwargs)

    def shutdown(self) -> None:
        self.stopped = True
        handle = getattr(self, "reconnect_handle", None)
        if handle is not None:
            handle.cancel()
        self.close()


class AmiClient:
    def __init__(self, settings: AmiSettings, secret: str, node: str = "") -> None:
        self.settings = settings
        # Several nodes ([[pbx.nodes]]): this link's node, stamped on every event.
        self.node = node
        self._secret = secret
        self._dispatch = OrderedDispatch()
        self._connect_hooks: list[ConnectHook] = []
        self._link_hooks: list[Callable[[], None]] = []
        self._manager: _Manager | None = None
        self._logged_in = asyncio.Event()
        # Set once the hooks after a login have run (the picture of Asterisk is re-read).
        self._synced = asyncio.Event()
        self._attempt = 0
        self._watchdog: asyncio.Task[None] | None = None
        self._stopping = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._in_flight: set[asyncio.Future[Any]] = set()
        self.logins = 0
        self.last_ping_rtt: float | None = None

    # -- wiring --------------------------------------------------------------
    def subscribe(
        self, event_type: type[E], handler: Callable[[E], Awaitable[None] | None]
    ) -> None:
        self._dispatch.subscribe(event_type, handler)

    def subscribe_all(self, handler: Callable[[AmiEvent], Awaitable[None] | None]) -> None:
        self._dispatch.subscribe_all(handler)

    def on_connected(self, hook: ConnectHook) -> None:
        """Run ``hook`` after every (re)login, before events are trusted again."""
        self._connect_hooks.append(hook)

    def on_link_change(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` (on the loop) when the link logs in or is lost."""
        self._link_hooks.append(hook)

    def _link_changed(self) -> None:
        for hook in self._link_hooks:
            try:
                hook()
            except Exception:
                log.exception("AMI link hook %r failed", hook)

    # -- life ----------------------------------------------------------------
    @property
    def where(self) -> str:
        return f" to node {self.node}" if self.node else ""

    @property
    def connected(self) -> bool:
        return self._logged_in.is_set()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._manager = _Manager(
            self,
            loop=loop,
            host=self.settings.host,
            port=self.settings.port,
            username=self.settings.username,
            secret=self._secret,
            events="on",
            ping_delay=3600,
            on_login=self._on_login,
            protocol_factory=FastAmiProtocol,
        )
        self._manager.register_event("*", self._on_message)
        self._manager.connect()
        self._stopping = False
        self._watchdog = asyncio.create_task(self._watch(), name="ami-watchdog")

    async def wait_connected(self, timeout: float) -> None:
        """Logged in, and every after-login hook (resynchronisation) has run."""
        await asyncio.wait_for(self._synced.wait(), timeout)

    async def stop(self) -> None:
        # The flag as well as cancel(): on Python 3.11 asyncio.wait_for swallows a
        # cancellation that lands as its awaited future completes (a ping's answer
        # arriving as stop() runs), and the watchdog would go on sleeping.
        self._stopping = True
        if self._watchdog:
            await cancel_and_wait([self._watchdog])
        for task in list(self._tasks):
            task.cancel()
        await self._dispatch.stop()
        if self._manager is not None:
            manager, self._manager = self._manager, None
            manager.shutdown()  # no reconnect after stop
        self._logged_in.clear()
        self._synced.clear()

    def drop_link(self) -> None:
        """Abort the socket (used by the watchdog; tests use it to simulate a cut)."""
        protocol = getattr(self._manager, "protocol", None)
        if protocol is not None and not protocol.closed:
            protocol.transport.abort()

    # -- actions ---------------------------------------------------------------
    async def action(self, name: str, timeout: float | None = None, **headers: Any) -> AmiResponse:
        """Send one action; raise AmiNotConnected, AmiTimeout or AmiError."""
        # as_list=False: one reply, whatever its text says (panoramisk would
        # otherwise wait for more after "Added interface to queue" or an async
        # Originate's "successfully queued").
        response = await self._send({"Action": name, **headers}, timeout, as_list=False)
        if not response.success:
            raise AmiError(f"{name} failed: {response.message or response.headers}")
        return response

    async def action_list(
        self, name: str, timeout: float | None = None, **headers: Any
    ) -> AmiResponse:
        """An action whose answer is a list of events ending in ``...Complete``."""
        return await self._send({"Action": name, **headers}, timeout, as_list=None)

    async def reload_module(self, module: str, timeout: float | None = None) -> None:
        """Reload one Asterisk module: AMI ``Reload`` (the ``config`` right, not ``command``)."""
        await self.action("Reload", timeout, Module=module)

    async def command(self, cli: str, timeout: float | None = None) -> str:
        """A CLI command: needs the ``command`` right, which the controller's AMI user
        does not hold (asterisk/manager.conf); for tools and tests with their own user."""
        response = await self._send({"Action": "Command", "Command": cli}, timeout, None)
        output = response.headers.get("output", "")
        return "\n".join(output) if isinstance(output, list) else output

    async def ping(self, timeout: float | None = None) -> float:
        started = time.perf_counter()
        await self.action("Ping", timeout=timeout or self.settings.ping_timeout)
        return time.perf_counter() - started

    async def _send(
        self, data: dict[str, Any], timeout: float | None, as_list: bool | None
    ) -> AmiResponse:
        manager = self._manager
        protocol = getattr(manager, "protocol", None)
        if manager is None or protocol is None or protocol.closed or not self.connected:
            raise AmiNotConnected(f"AMI is not connected ({data['Action']} not sent)")
        action = Action(data, as_list=as_list)
        future = manager.send_action(action, as_list=as_list)
        self._in_flight.add(future)
        try:
            async with asyncio.timeout(timeout or self.settings.action_timeout):
                result = await asyncio.shield(future)
        except TimeoutError:
            protocol.responses.pop(action.id, None)
            raise AmiTimeout(f"no answer to {data['Action']} in time") from None
        finally:
            self._in_flight.discard(future)
        return _to_response(result, self.node)

    # -- connection events ---------------------------------------------------
    def _next_backoff(self) -> float:
        delay = min(self.settings.reconnect_max, self.settings.reconnect_min * 2.0**self._attempt)
        self._attempt += 1
        return delay

    def _on_disconnect(self) -> None:
        was_up = self._logged_in.is_set()
        if was_up:
            log.warning("AMI link lost%s", self.where)
        self._logged_in.clear()
        self._synced.clear()
        if was_up:
            self._link_changed()
        manager = self._manager
        if manager is None:
            return
        manager.awaiting_actions.clear()
        # Actions still waiting for an answer fail now, rather than at their timeout;
        # they are never re-sent (an Originate must not be placed twice).
        for future in list(self._in_flight):
            if not future.done():
                future.set_exception(AmiNotConnected("AMI link lost before the answer"))

    def _on_login(self, _manager: Manager) -> None:
        self._spawn(self._after_login(), "ami-resync")

    async def _after_login(self) -> None:
        self._attempt = 0
        self.logins += 1
        log.info("AMI logged in%s (login #%d); resynchronising", self.where, self.logins)
        self._logged_in.set()
        self._link_changed()
        for hook in self._connect_hooks:
            try:
                await hook()
            except Exception:
                log.exception("AMI resynchronisation hook %r failed", hook)
        if self._logged_in.is_set():
            self._synced.set()

    async def _watch(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.settings.ping_interval)
            if not self.connected:
                continue
            try:
                self.last_ping_rtt = await self.ping()
            except AmiNotConnected:
                continue
            except AmiError as exc:
                log.warning("AMI ping failed (%s): dropping the link", exc)
                self.drop_link()

    # -- event dispatch --------------------------------------------------------
    def _on_message(self, _manager: Manager, message: Any) -> None:
        try:
            event = parse_event(message, self.node)
        except Exception:
            log.exception("AMI event not understood: %r", message)
            return
        if event is not None:
            self._dispatch.dispatch(event)

    def _spawn(self, coro: Awaitable[Any], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("AMI task %s failed", task.get_name(), exc_info=task.exception())


def _to_response(result: Any, node: str = "") -> AmiResponse:
    if isinstance(result, list):
        first, rest = result[0], result[1:]
        events: list[AmiEvent | dict[str, str | list[str]]] = []
        for message in rest:
            typed = parse_event(message, node)
            events.append(typed if typed is not None else normalise(message))
        return AmiResponse(bool(first.success), normalise(first), events)
    return AmiResponse(bool(result.success), normalise(result))
