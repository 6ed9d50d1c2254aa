"""FastAgiServer against recorded Asterisk exchanges (tests/adapter/traces/agi_*.txt).

The test plays Asterisk: it sends the agi_* header block and the results, and
checks every command line the controller sends back. No Asterisk involved.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from callcenter.adapters.agi.server import FastAgiServer, parse_headers
from callcenter.adapters.agi.session import AgiSession
from callcenter.config import AgiSettings
from callcenter.core.callerid import vet_caller_id
from callcenter.core.dialplan import Route, Status, Var
from tests.adapter.trace_replay import Trace, all_traces, load, replay

HOST = "127.0.0.1"
HEADER_TIMEOUT = 0.3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


async def wait_for(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


# -- routes the traces exercise (small, so the traces test the server and session) ----
@dataclass
class Seen:
    sessions: list[AgiSession] = field(default_factory=list)


async def ivr(session: AgiSession) -> Status:
    await session.answer()
    digits, _timed_out = await session.get_data("beep", 5000, 4)
    if not digits:
        return Status.FALLBACK
    await session.set_variable(Var.TARGET, f"agent{digits}")
    return Status.CONNECT


async def announce(session: AgiSession) -> Status:
    digit = await session.stream_file("queue-thereare")
    if digit:
        await session.set_variable("TEST_DIGIT", digit)
    await session.exec("Playback", "digits/2")
    await session.set_variable("TEST_COPY", await session.get_variable(Var.CALL_ID) or "none")
    await session.set_variable("TEST_MISSING", await session.get_variable("CC_MISSING") or "none")
    return Status.HANGUP


async def dial_result(session: AgiSession) -> Status:
    await session.set_variable("TEST_ARGS", ",".join(session.args))
    return Status.HANGUP if session.args[:1] == ["ANSWER"] else Status.FALLBACK


async def broken(session: AgiSession) -> Status:
    await session.answer()
    raise RuntimeError("boom")


async def caller(session: AgiSession) -> Status:
    vetted = vet_caller_id(session.caller_id, session.header("calleridname"))
    await session.set_variable("CALLERID(num)", vetted.number)
    await session.set_variable("CALLERID(name)", vetted.name)
    await session.set_variable("TEST_RAW_NAME", session.header("calleridname"))
    return Status.HANGUP


async def lazy_read(session: AgiSession) -> Status:
    """The inbound route's shape: answer and tag for later, a Read first, CONNECT."""
    session.answer_later()
    session.set_later(Var.CALL_ID, "c1")
    session.set_later("CALLERID(name)", "Doe, John")
    await session.exec("Read", "CC_KEYS,beep,1,t(),1,2")
    await session.get_full_variable("${READSTATUS},${CC_KEYS}")
    session.set_later(Var.TARGET, "agent1")
    session.set_later(Var.RING_TIMEOUT, "15")
    return Status.CONNECT


async def lazy_play(session: AgiSession) -> Status:
    """Answer for later, then a prompt: the answer goes first."""
    session.answer_later()
    session.set_later(Var.CALL_ID, "c2")
    await session.stream_file("beep")
    return Status.HANGUP


HANDLERS: dict[str, Callable[[AgiSession], Awaitable[Status]]] = {
    "lazy_read": lazy_read,
    "lazy_play": lazy_play,
    "ivr": ivr,
    "announce": announce,
    "dial_result": dial_result,
    "broken": broken,
    "caller": caller,
}


@pytest.fixture
async def server() -> AsyncIterator[FastAgiServer]:
    agi = FastAgiServer(AgiSettings(port=free_port(), header_timeout=HEADER_TIMEOUT))
    await agi.start()
    try:
        yield agi
    finally:
        await agi.stop()


def route_of(trace: Trace) -> Route:
    """The route the trace's agi_network_script asks for (inbound when it names none)."""
    for data in trace.sent:
        key, _, value = data.decode("utf-8", errors="replace").strip().partition(": ")
        if key == "agi_network_script" and value in {r.value for r in Route}:
            return Route(value)
    return Route.INBOUND


def _trace_param(name: str) -> object:
    reason = load(name).meta.get("xfail")
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(name, marks=marks, id=name.removeprefix("agi_").removesuffix(".txt"))


# -- replayed traces -----------------------------------------------------------------
@pytest.mark.parametrize("name", [_trace_param(n) for n in all_traces("agi_")])
async def test_trace(server: FastAgiServer, name: str) -> None:
    trace = load(name)
    server.add_route(route_of(trace), HANDLERS[trace.meta["route"]])
    await replay(trace, HOST, server.settings.port)
    await wait_for(lambda: server.active == 0)
    assert server.dropped == 0


def test_every_trace_names_a_known_route() -> None:
    names = all_traces("agi_")
    assert len(names) >= 10
    for name in names:
        assert load(name).meta.get("route") in HANDLERS, name


async def test_status_is_set_once_and_last(server: FastAgiServer) -> None:
    server.add_route(Route.INBOUND, ivr)
    sent = await replay(load("agi_connect.txt"), HOST, server.settings.port)
    assert sent[-1] == 'SET VARIABLE CC_STATUS "CONNECT"'
    assert sum(line.startswith("SET VARIABLE CC_STATUS") for line in sent) == 1
    assert server.served == 1


async def test_route_that_returns_after_a_hangup_line_sets_nothing(
    server: FastAgiServer,
) -> None:
    async def ignores_hangup(session: AgiSession) -> Status:
        await session.answer()  # Asterisk slips "HANGUP" in front of the result
        assert session.hung_up
        return Status.CONNECT

    server.add_route(Route.INBOUND, ignores_hangup)
    reader, writer = await asyncio.open_connection(HOST, server.settings.port)
    writer.write(b"agi_network: yes\nagi_network_script: inbound\nagi_channel: PJSIP/x-1\n\n")
    assert await asyncio.wait_for(reader.readline(), 1) == b"ANSWER\n"
    writer.write(b"HANGUP\n200 result=0\n")
    assert await asyncio.wait_for(reader.read(), 1) == b""  # no SET VARIABLE: closed
    writer.close()


async def test_sessions_run_concurrently(server: FastAgiServer) -> None:
    server.add_route(Route.INBOUND, ivr)
    trace = load("agi_connect.txt")
    await asyncio.gather(*(replay(trace, HOST, server.settings.port) for _ in range(20)))
    await wait_for(lambda: server.active == 0)
    assert server.served == 20


async def test_stop_ends_sessions_in_progress(server: FastAgiServer) -> None:
    server.add_route(Route.INBOUND, ivr)
    reader, writer = await asyncio.open_connection(HOST, server.settings.port)
    writer.write(b"agi_network: yes\nagi_network_script: inbound\n\n")
    assert await asyncio.wait_for(reader.readline(), 1) == b"ANSWER\n"
    assert server.active == 1
    await asyncio.wait_for(server.stop(), 1)
    assert server.active == 0
    assert await asyncio.wait_for(reader.read(), 1) == b""
    writer.close()


# -- header parsing ------------------------------------------------------------------
def test_parse_headers_survives_invalid_utf8() -> None:
    block = b"agi_network: yes\nagi_calleridname: Jos\xc3\xa9\xff\xfe\nagi_arg_1: a: b\n\n"
    headers = parse_headers(block)
    assert headers["agi_calleridname"] == "Jos\u00e9\ufffd\ufffd"
    assert headers["agi_arg_1"] == "a: b"  # only the first ": " separates


def test_parse_headers_keeps_only_agi_headers() -> None:
    headers = parse_headers(b"GET / HTTP/1.1\nHost: x\nagi_channel: PJSIP/a-1\r\nnonsense\n\n")
    assert headers == {"agi_channel": "PJSIP/a-1"}


# -- hostile or broken clients are dropped, and the loop keeps running -------------------
class Ticker:
    """Measures the longest gap between ticks of a 10 ms sleep loop."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Ticker:
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0.02)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            self.worst = max(self.worst, now - last)
            last = now


async def close_at_once(port: int) -> None:
    _reader, writer = await asyncio.open_connection(HOST, port)
    writer.close()
    await writer.wait_closed()


async def garbage_then_close(port: int) -> None:
    _reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(b"agi_network: yes\nagi_network_script: inbound\nGARBAGE \x00\xff")
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def garbage_and_stall(port: int) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(b"agi_network: yes\nagi_network_script: inbound\n")
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), HEADER_TIMEOUT + 1) == b""  # server gave up
    writer.close()


async def flood_without_newline(port: int) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(b"A" * 20_000)
    await writer.drain()
    # Closed with our data unread: a reset is the same answer as an orderly close.
    with contextlib.suppress(ConnectionResetError):
        assert await asyncio.wait_for(reader.read(), 1) == b""
    writer.close()


async def headers_without_script(port: int) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(b"agi_network: yes\nagi_channel: PJSIP/sipp-00000001\nagi_uniqueid: 1.1\n\n")
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), 1) == b""
    writer.close()


# A loop starved by a bad client (a blocking read, a busy parse) stalls for as long as the
# client holds it: up to HEADER_TIMEOUT. The bound stays under that and leaves room for a
# shared, loaded test machine, where the scheduler alone can delay a tick by tens of
# milliseconds; speed is for benchmarks.
STALL = HEADER_TIMEOUT * 2 / 3

ABUSE = [
    close_at_once,
    garbage_then_close,
    garbage_and_stall,
    flood_without_newline,
    headers_without_script,
]


@pytest.mark.parametrize("client", ABUSE, ids=lambda f: f.__name__)
async def test_bad_client_is_dropped_and_the_loop_stays_responsive(
    server: FastAgiServer, client: Callable[[int], Awaitable[None]]
) -> None:
    served = Seen()

    async def route(session: AgiSession) -> Status:
        served.sessions.append(session)
        return Status.HANGUP

    server.add_route(Route.INBOUND, route)
    async with Ticker() as ticker:
        await asyncio.wait_for(client(server.settings.port), HEADER_TIMEOUT + 2)
        await wait_for(lambda: server.dropped == 1)
        await wait_for(lambda: server.active == 0)
    assert ticker.worst < STALL, f"event loop stalled {ticker.worst * 1000:.0f} ms"
    assert served.sessions == []
    assert server.served == 0


async def test_many_bad_clients_at_once_do_not_starve_a_good_call(server: FastAgiServer) -> None:
    server.add_route(Route.INBOUND, ivr)
    port = server.settings.port
    async with Ticker() as ticker:
        abuse = [asyncio.create_task(client(port)) for client in ABUSE for _ in range(5)]
        await replay(load("agi_connect.txt"), HOST, port)  # served while the abuse goes on
        await asyncio.wait_for(asyncio.gather(*abuse), HEADER_TIMEOUT + 2)
        await wait_for(lambda: server.dropped == len(abuse))
    assert ticker.worst < STALL, f"event loop stalled {ticker.worst * 1000:.0f} ms"
    assert server.served == 1
    await wait_for(lambda: server.active == 0)
