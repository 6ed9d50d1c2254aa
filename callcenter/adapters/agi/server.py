"""FastAGI server on panoramisk's route table, with a guarded header read.

panoramisk's own handler loops on ``reader.read()`` until it sees the blank
line ending the ``agi_*`` headers; a client that closes first makes that loop
spin without ever yielding, freezing the whole event loop (AMI included).
Here the headers are read with a deadline and a size limit; a client that
closes early, sends garbage or stalls is logged and dropped.

Every route returns a ``Status``; the server sets ``CC_STATUS`` from it (or
``FAIL`` when the route raised), so the dialplan always has a branch to take.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from panoramisk.fast_agi import Application

from callcenter.adapters.agi.session import AgiHangup, AgiSession
from callcenter.config import AgiSettings
from callcenter.core.dialplan import Route, Status, Var
from callcenter.tasks import cancel_and_wait

log = logging.getLogger(__name__)

RouteHandler = Callable[[AgiSession], Awaitable[Status]]
RequestObserver = Callable[[str, str, float], None]
HEADER_LIMIT = 16 * 1024


def parse_headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("utf-8", errors="replace").splitlines():
        key, sep, value = line.partition(": ")
        if sep and key.startswith("agi_"):
            headers[key] = value
    return headers


class FastAgiServer:
    def __init__(self, settings: AgiSettings, nodes: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        # Who may connect: loopback (a single box), or exactly the nodes' addresses
        # ([[pbx.nodes]] agi_from -> node name); a session knows its node.
        self.nodes = dict(nodes or {})
        self.refused = 0
        self._app = Application()
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()
        self.dropped = 0
        self.served = 0
        self.commands = 0  # AGI commands sent over all sessions (round trips; benchmarks)
        self._observers: list[RequestObserver] = []
        # The standby's fence (callcenter/standby.py): a controller that may not act
        # answers nothing; the dialplan finds CC_STATUS unset and takes its fallback.
        self.may_act: Callable[[], bool] = lambda: True

    def on_request(self, observer: RequestObserver) -> None:
        """``observer(route, outcome, seconds)`` after each request: the Status the
        dialplan got, ``HANGUP`` (the caller left first) or ``NO_ROUTE``."""
        self._observers.append(observer)

    def add_route(self, route: Route, handler: RouteHandler) -> None:
        self._app.add_route(route.value, handler)

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, self.settings.host, self.settings.port, limit=HEADER_LIMIT
        )
        log.info("FastAGI listening on %s:%d", self.settings.host, self.settings.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await cancel_and_wait(list(self._sessions))

    @property
    def active(self) -> int:
        return len(self._sessions)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        peer = writer.get_extra_info("peername")
        try:
            node = self._node_of(peer)
            if node is None:
                self.refused += 1
                log.warning("FastAGI connection from %s refused: not a configured node", peer)
                return
            headers = await self._read_headers(reader, peer)
            if headers is not None and not self.may_act():
                self.dropped += 1
                log.warning("FastAGI request from %s dropped: not the active controller", peer)
            elif headers is not None:
                session = AgiSession(headers, reader, writer)
                session.node = node
                await self._dispatch(session)
        finally:
            self._sessions.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _node_of(self, peer: object) -> str | None:
        """The node a connection comes from ('' for loopback on a single box), or None."""
        try:
            host = str(peer[0]) if isinstance(peer, tuple) else ""
            address = ipaddress.ip_address(host)
        except ValueError:
            return None
        if self.nodes:
            return self.nodes.get(str(address))
        return "" if address.is_loopback else None

    async def _read_headers(
        self, reader: asyncio.StreamReader, peer: object
    ) -> dict[str, str] | None:
        try:
            async with asyncio.timeout(self.settings.header_timeout):
                block = await reader.readuntil(b"\n\n")
        except asyncio.IncompleteReadError:
            reason = "closed before the end of the AGI headers"
        except asyncio.LimitOverrunError:
            reason = f"sent more than {HEADER_LIMIT} bytes without ending the AGI headers"
        except TimeoutError:
            reason = f"sent no complete AGI headers in {self.settings.header_timeout}s"
        except ConnectionError as exc:
            reason = f"connection error: {exc}"
        else:
            headers = parse_headers(block)
            if "agi_network_script" in headers:
                return headers
            reason = "sent headers without agi_network_script"
        self.dropped += 1
        log.warning("FastAGI client %s dropped: %s", peer, reason)
        return None

    async def _dispatch(self, session: AgiSession) -> None:
        script = session.header("network_script").split("?", 1)[0].strip("/")
        started = time.monotonic()
        try:
            outcome = await self._run(script, session)
        finally:
            self.commands += session.commands
        seconds = time.monotonic() - started
        for observer in self._observers:
            try:
                observer(script, outcome, seconds)
            except Exception:
                log.exception("FastAGI request observer failed")

    async def _run(self, script: str, session: AgiSession) -> str:
        route = self._app._route.get(script)
        if route is None:
            log.error("FastAGI: no route %r (channel %s)", script, session.channel)
            await self._finish(session, Status.FAIL, f"no route {script}")
            return "NO_ROUTE"
        self.served += 1
        try:
            status = await route(session)
        except AgiHangup:
            log.info("FastAGI %s: caller hung up on %s", script, session.channel)
            return "HANGUP"
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("FastAGI route %s failed on %s", script, session.channel)
            await self._finish(session, Status.FAIL, type(exc).__name__)
            return Status.FAIL.value
        await self._finish(session, status, "")
        return str(status.value)

    @staticmethod
    async def _finish(session: AgiSession, status: Status, reason: str) -> None:
        if session.hung_up:
            return
        try:
            # With whatever the route left for later (one MSet where possible).
            if reason:
                session.set_later(Var.REASON, reason)
            session.set_later(Var.STATUS, status.value)
            await session.flush()
        except (AgiHangup, ConnectionError):
            pass
