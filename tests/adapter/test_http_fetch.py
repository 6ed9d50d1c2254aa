"""The IVR's self-service fetch (adapters/http/fetch.py) against a local HTTP server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from callcenter.adapters.http.fetch import MAX_BODY, fetch_json
from callcenter.simulate.console import free_port

ANSWERS: dict[str, tuple[int, bytes, float]] = {  # path -> (status, body, delay in s)
    "/balance": (200, b'{"balance": "12.50", "due": 3}', 0.0),
    "/list": (200, b"[1, 2]", 0.0),
    "/broken": (500, b'{"error": "down"}', 0.0),
    "/garbage": (200, b"<html>not json</html>", 0.0),
    "/huge": (200, b'"' + b"x" * MAX_BODY + b'"', 0.0),
    "/slow": (200, b"{}", 2.0),
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, body, delay = ANSWERS[self.path]
        time.sleep(delay)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_a_json_answer_is_decoded(base_url: str) -> None:
    assert await fetch_json(f"{base_url}/balance", 2) == {"balance": "12.50", "due": 3}
    assert await fetch_json(f"{base_url}/list", 2) == [1, 2]  # the runner wants an object


@pytest.mark.parametrize("path", ["/broken", "/garbage", "/huge"])
async def test_no_usable_answer_is_none(base_url: str, path: str) -> None:
    assert await fetch_json(f"{base_url}{path}", 2) is None


async def test_a_slow_endpoint_is_given_up_on_time(base_url: str) -> None:
    started = time.monotonic()
    assert await fetch_json(f"{base_url}/slow", 0.3) is None
    assert time.monotonic() - started < 1.5


async def test_nobody_listening_is_none() -> None:
    assert await fetch_json(f"http://127.0.0.1:{free_port()}/x", 1) is None
