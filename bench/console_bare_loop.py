"""The baseline of bench/console_latency.py: a bare asyncio loop fanning out SSE bytes.

No framework, no roles, no per-client queues: one event loop in a thread of its
own keeps the open streams in groups (``/events?who=wallboard`` or
``?who=<agent>``) and writes each frame it is given straight to every socket of
the group. ``/`` is a minimal page that renders the wallboard frames' agents
into a table (vanilla JS), for the browser's side of the comparison.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict
from urllib.parse import parse_qs, urlsplit

PAGE = b"""<!doctype html><meta charset="utf-8"><title>bare wallboard</title>
<table><tbody id="agents"></tbody></table>
<script>
const body = document.getElementById('agents');
const source = new EventSource('/events?who=wallboard');
source.addEventListener('wallboard', (e) => {
  const board = JSON.parse(e.data);
  const rows = board.agents.map((a) => {
    const row = document.createElement('tr');
    for (const text of [a.name, a.state, a.reason]) {
      const cell = document.createElement('td');
      cell.textContent = text;
      row.append(cell);
    }
    return row;
  });
  body.replaceChildren(...rows);
});
</script>
"""
STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
)


class BareLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.groups: dict[str, set[asyncio.StreamWriter]] = defaultdict(set)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, name="bare-loop")
        self._thread.daemon = True

    def start(self) -> str:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self.loop).result(10)
        return f"http://127.0.0.1:{self.port}"

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readline()
        while await reader.readline() not in (b"\r\n", b"\n", b""):
            pass
        target = urlsplit(request.split(b" ")[1].decode()) if b" " in request else None
        if target is None or target.path != "/events":
            head = f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {len(PAGE)}"
            writer.write(head.encode() + b"\r\nConnection: close\r\n\r\n" + PAGE)
            await writer.drain()
            writer.close()
            return
        who = parse_qs(target.query).get("who", [""])[0]
        writer.write(STREAM_HEAD + b"retry: 2000\n\n")
        self.groups[who].add(writer)
        try:
            await reader.read()  # until the client goes away
        finally:
            self.groups[who].discard(writer)
            writer.close()

    def publish(self, frames: list[tuple[str, bytes]]) -> float:
        """Write each (group, frame) to its group's sockets, on the loop; when that began."""

        async def send() -> float:
            began = time.time()
            for who, frame in frames:
                for writer in list(self.groups.get(who, ())):
                    writer.write(frame)
            return began

        return asyncio.run_coroutine_threadsafe(send(), self.loop).result(10)

    def clients(self) -> int:
        return sum(len(g) for g in self.groups.values())

    def stop(self) -> None:
        async def close() -> None:
            for group in self.groups.values():
                for writer in list(group):
                    writer.close()
            if self._server is not None:
                self._server.close()

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
        self.loop.close()
