"""Many server-sent-event readers in one process of their own (bench/console_latency.py).

Reads a JSON list of connections on its first stdin line
(``[{"label": "wallboard", "url": "https://127.0.0.1:PORT/api/events?...",
"headers": {...}}, ...]``), opens them all, prints ``ready N`` (N: the streams
answered 200), then notes, per connection, the wall-clock time each marker
(``bench-X-NNNN``) is first seen in an event's data. On ``stop`` (stdin) it
prints one JSON object: {"seen": [[label, marker, time], ...], "failed": N,
"frames": N, "bytes": N} and exits.
"""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import sys
import time
from typing import Any
from urllib.parse import urlsplit

MARKER = re.compile(rb"bench-[a-z]-\d{4}")


class Reader:
    def __init__(self, label: str) -> None:
        self.label = label
        self.first: dict[str, float] = {}
        self.frames = 0
        self.bytes = 0

    async def run(
        self, url: str, headers: dict[str, str], opened: asyncio.Future[bool], cafile: str = ""
    ) -> None:
        try:
            await self._read(url, headers, opened, cafile)
        finally:
            if not opened.done():
                opened.set_result(False)

    async def _read(
        self, url: str, headers: dict[str, str], opened: asyncio.Future[bool], cafile: str
    ) -> None:
        parts = urlsplit(url)
        tls = None
        if parts.scheme == "https":  # the console's own certificate, named in the spec
            tls = ssl.create_default_context(cafile=cafile)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port, ssl=tls)
        lines = [f"GET {parts.path}?{parts.query} HTTP/1.1", f"Host: {parts.netloc}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join([*lines, "Accept: text/event-stream", "", ""])).encode())
        await writer.drain()
        status = await reader.readline()
        opened.set_result(b" 200 " in status)
        while await reader.readline() not in (b"\r\n", b"\n", b""):
            pass  # response headers
        try:
            await self._events(reader)
        finally:
            writer.close()

    async def _events(self, reader: asyncio.StreamReader) -> None:
        data: list[bytes] = []
        while True:
            line = await reader.readline()
            if not line:
                return
            self.bytes += len(line)
            if line.startswith(b"data:"):
                data.append(line)
            elif line in (b"\n", b"\r\n") and data:
                now = time.time()
                self.frames += 1
                for marker in MARKER.findall(b"".join(data)):
                    self.first.setdefault(marker.decode(), now)
                data = []


async def main() -> None:
    loop = asyncio.get_running_loop()
    spec: list[dict[str, Any]] = json.loads(await loop.run_in_executor(None, sys.stdin.readline))
    readers, tasks, opened = [], [], []
    for item in spec:
        reader = Reader(item["label"])
        future: asyncio.Future[bool] = loop.create_future()
        tasks.append(
            asyncio.create_task(
                reader.run(item["url"], item["headers"], future, item.get("cafile", ""))
            )
        )
        readers.append(reader)
        opened.append(future)
    done = await asyncio.wait_for(asyncio.gather(*opened, return_exceptions=True), 60)
    ok = sum(1 for d in done if d is True)
    print(f"ready {ok}", flush=True)
    while (await loop.run_in_executor(None, sys.stdin.readline)).strip() not in ("stop", ""):
        pass
    for task in tasks:
        task.cancel()
    seen = [[r.label, m, t] for r in readers for m, t in r.first.items()]
    print(
        json.dumps(
            {
                "seen": seen,
                "failed": len(spec) - ok,
                "frames": sum(r.frames for r in readers),
                "bytes": sum(r.bytes for r in readers),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(main())
