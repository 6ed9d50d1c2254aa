"""A fake Asterisk Manager Interface speaking the real wire format.

Replies come from a recorded trace (traces/ami_asterisk22.txt). Framing as
Asterisk does it: a one-line banner ending in "\\r\\n", then messages of
"Key: Value\\r\\n" lines, each message ended by an empty line.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TRACE = Path(__file__).parent / "traces" / "ami_asterisk22.txt"
EOL = "\r\n"


def load_sections(path: Path = TRACE) -> dict[str, list[list[str]]]:
    """Section name -> its messages (each a list of header lines)."""
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        if line.startswith("== "):
            current = sections.setdefault(line[3:].strip(), [[]])
        elif current is None:
            continue
        elif not line.strip():
            if current[-1]:
                current.append([])
        else:
            current[-1].append(line)
    for messages in sections.values():
        while messages and not messages[-1]:
            messages.pop()
    return sections


def parse_message(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("utf-8", errors="replace").split(EOL):
        key, sep, value = line.partition(": ")
        if sep:
            headers[key.lower()] = value
    return headers


@dataclass(frozen=True)
class Received:
    connection: int
    headers: dict[str, str]

    @property
    def action(self) -> str:
        return self.headers.get("action", "")


class FakeAmi:
    def __init__(self) -> None:
        self.sections = load_sections()
        self.port = 0
        self.connections = 0
        self.connected_at: list[float] = []
        self.received: list[Received] = []
        self.writers: dict[int, asyncio.StreamWriter] = {}
        # Behaviour, changed by tests.
        self.refuse_logins = 0  # this many Logins are refused first
        self.answers_ping: Callable[[int], bool] = lambda _connection: True
        self.silent: set[str] = set()  # actions left unanswered (lowercase)
        self.accept_and_close = False  # hang up on every new connection at once
        self._server: asyncio.Server | None = None

    # -- life ----------------------------------------------------------------------
    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def stop(self) -> None:
        await self.stop_listening()
        for writer in list(self.writers.values()):
            writer.close()
        self.writers.clear()

    # -- what tests do ---------------------------------------------------------------
    def render(self, section: str, action_id: str = "") -> bytes:
        out = []
        for message in self.sections[section]:
            lines = [line.replace("{ActionID}", action_id) for line in message]
            out.append(EOL.join(lines) + EOL + EOL)
        return "".join(out).encode("utf-8")

    async def push(self, section: str, action_id: str = "", connection: int | None = None) -> None:
        """Send a section (events) on the newest connection, or the one given."""
        writer = self.writers[connection or max(self.writers)]
        writer.write(self.render(section, action_id))
        await writer.drain()

    def close_connection(self, connection: int | None = None) -> None:
        writer = self.writers.pop(connection or max(self.writers))
        writer.close()

    def actions(self, name: str) -> list[Received]:
        return [r for r in self.received if r.action.lower() == name.lower()]

    # -- the protocol --------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        connection = self.connections
        self.connected_at.append(time.monotonic())
        if self.accept_and_close:
            writer.close()
            return
        self.writers[connection] = writer
        banner = self.sections["banner"][0][0]
        writer.write((banner + EOL).encode())
        try:
            while True:
                block = await reader.readuntil((EOL + EOL).encode())
                message = Received(connection, parse_message(block))
                self.received.append(message)
                reply = self._reply(connection, message)
                if reply:
                    writer.write(reply)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if self.writers.get(connection) is writer:
                del self.writers[connection]
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _reply(self, connection: int, message: Received) -> bytes:
        action = message.action.lower()
        action_id = message.headers.get("actionid", "")
        if action in self.silent:
            return b""
        if action == "login":
            if self.refuse_logins > 0:
                self.refuse_logins -= 1
                return self.render("Login refused", action_id)
            return self.render("Login", action_id)
        if action == "ping" and not self.answers_ping(connection):
            return b""
        by_name = {name.lower(): name for name in self.sections}
        return self.render(by_name.get(action, "unknown action"), action_id)
