"""The console's front: a process of its own between browsers and the controller.

It holds what a crowd of clients costs: TLS handshakes and encryption, every
connection (a cap, then refusals), the plain HTTP port that only redirects, and
the flood shields: a request rate per address, and ``POST /login`` throttled per
address and per user name (Flask-Limiter's ``limits`` library, the same
notation as [web] login_per_*) before anything reaches the controller. What it
lets through goes to the console app inside the controller over a private Unix
socket (a folder only the controller's user can enter), streamed both ways, so
the live event streams work as before.

Why a front and not the whole console in a process of its own: the console's
views read and change live state (agents, calls, phones, spy sessions) on the
controller's loop (adapters/web/bridge.py); moving them out would need an RPC
for each. The front takes the load that does not need that state, so a login
flood, a connection flood or a slow TLS client costs this process, not the one
that routes calls (bench/login_flood.py measures it).

Run as ``python -m callcenter.adapters.web.front CONFIG_JSON``; it prints one
JSON line with its bound ports when it is ready.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qs

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
HOP_BY_HOP = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
        "trailers", "transfer-encoding", "upgrade", "content-length",
    }
)  # fmt: skip
LOGIN_BODY_LIMIT = 16 * 1024
STREAMS = "/api/events"
SLOT_WAIT = 15.0  # seconds a request waits for the controller before "busy"
CHUNK = 64 * 1024
BUSY_PAGE = (
    "<!doctype html><meta charset='utf-8'><title>Too many attempts</title>"
    "<p role='alert'>Too many login attempts; wait a minute, then try again.</p>"
)


@dataclass(frozen=True, slots=True)
class FrontConfig:
    host: str
    port: int
    http_port: int  # 0: no redirect port
    cert: str  # "" with key "": plain HTTP (TLS is terminated before us)
    key: str
    upstream: str  # the Unix socket of the console app in the controller
    threads: int
    connection_limit: int
    login_per_address: str
    login_per_user: str
    requests_per_address: str
    login_total: str  # the login page and attempts, all addresses together
    upstream_concurrency: int  # requests the controller works on at once (streams aside)


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("console", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class Shield:
    """The rate limits checked here, before a request costs the controller anything."""

    def __init__(self, config: FrontConfig) -> None:
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.per_address = parse(config.requests_per_address)
        self.login_address = parse(config.login_per_address)
        self.login_user = parse(config.login_per_user)
        self.login_total = parse(config.login_total)

    def request_allowed(self, address: str) -> bool:
        return self.limiter.hit(self.per_address, "request", address)

    def login_page_allowed(self, address: str) -> bool:
        """The login form (each attempt starts with it: a fresh CSRF token)."""
        total = self.limiter.hit(self.login_total, "login-total", "all")
        return total and self.limiter.hit(self.login_address, "login-page", address)

    def login_allowed(self, address: str, username: str) -> bool:
        # All counted on every attempt, as the console's own limiter does.
        total = self.limiter.hit(self.login_total, "login-total", "all")
        by_address = self.limiter.hit(self.login_address, "login-address", address)
        by_user = self.limiter.hit(self.login_user, "login-user", username.strip().lower()[:64])
        return total and by_address and by_user


class FrontApp:
    def __init__(self, config: FrontConfig) -> None:
        self.config = config
        self.shield = Shield(config)
        self.scheme = "https" if config.cert else "http"
        self.slots = threading.BoundedSemaphore(config.upstream_concurrency)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        address = environ.get("REMOTE_ADDR", "")
        if not self.shield.request_allowed(address):
            return _refuse(
                start_response, "429 Too Many Requests", "too many requests", "text/plain"
            )
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            # Bodies are passed on by their length; a chunked one would arrive empty.
            return _refuse(
                start_response, "411 Length Required", "send Content-Length", "text/plain"
            )
        body: bytes | None = None
        login = environ.get("PATH_INFO") == "/login"
        page = login and environ["REQUEST_METHOD"] == "GET"
        if page and not self.shield.login_page_allowed(address):
            return _refuse(start_response, "429 Too Many Requests", BUSY_PAGE, "text/html")
        if login and environ["REQUEST_METHOD"] == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            if length > LOGIN_BODY_LIMIT:
                return _refuse(start_response, "413 Payload Too Large", "too large", "text/plain")
            body = environ["wsgi.input"].read(length)
            form = parse_qs(body.decode("utf-8", errors="replace"))
            username = (form.get("username") or [""])[0]
            if not self.shield.login_allowed(address, username):
                return _refuse(start_response, "429 Too Many Requests", BUSY_PAGE, "text/html")
        if environ.get("PATH_INFO") == STREAMS:  # long-lived: held by the hub's own cap
            return self._forward(environ, start_response, body)
        if not self.slots.acquire(timeout=SLOT_WAIT):
            return _refuse(start_response, "503 Service Unavailable", "console busy", "text/plain")
        try:
            answer = self._forward(environ, start_response, body)
            # The controller's part is done once the answer is read (pages are not streamed).
            return [b"".join(answer)]
        finally:
            self.slots.release()

    def _forward(
        self, environ: dict[str, Any], start_response: StartResponse, body: bytes | None
    ) -> Iterable[bytes]:
        link = UnixConnection(self.config.upstream, timeout=3600)
        path = environ.get("PATH_INFO", "/") or "/"
        query = environ.get("QUERY_STRING", "")
        target = path + (f"?{query}" if query else "")
        try:
            link.putrequest(environ["REQUEST_METHOD"], target, skip_host=True)
            for name, value in _request_headers(environ):
                link.putheader(name, value)
            link.putheader("X-Forwarded-For", environ.get("REMOTE_ADDR", ""))
            link.putheader("X-Forwarded-Proto", self.scheme)
            link.putheader("X-Forwarded-Host", environ.get("HTTP_HOST", ""))
            length = len(body) if body is not None else int(environ.get("CONTENT_LENGTH") or 0)
            link.putheader("Content-Length", str(length))
            link.endheaders()
            if body is not None:
                link.send(body)
            else:
                _copy_body(environ["wsgi.input"], length, link)
            answer = link.getresponse()
        except OSError:
            link.close()
            log.warning("console app unreachable at %s", self.config.upstream)
            return _refuse(start_response, "502 Bad Gateway", "console unavailable", "text/plain")
        headers = [(k, v) for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP]
        if answer.getheader("Content-Length") is not None:
            headers.append(("Content-Length", answer.getheader("Content-Length", "0")))
        start_response(f"{answer.status} {answer.reason}", headers)
        return _stream(answer, link)


def _request_headers(environ: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").title()
            if name.lower() in HOP_BY_HOP or name.lower().startswith("x-forwarded-"):
                continue
            yield name, value
    if environ.get("CONTENT_TYPE"):
        yield "Content-Type", environ["CONTENT_TYPE"]


def _copy_body(source: Any, length: int, link: http.client.HTTPConnection) -> None:
    left = length
    while left > 0:
        chunk = source.read(min(CHUNK, left))
        if not chunk:
            break
        link.send(chunk)
        left -= len(chunk)


def _stream(answer: http.client.HTTPResponse, link: http.client.HTTPConnection) -> Iterator[bytes]:
    """The answer as it comes (an event stream a frame at a time); the link closed after."""
    try:
        while True:
            chunk = answer.read1(CHUNK)
            if not chunk:
                return
            yield chunk
    finally:
        link.close()


def _refuse(start_response: StartResponse, status: str, text: str, kind: str) -> list[bytes]:
    data = text.encode()
    start_response(status, [("Content-Type", f"{kind}; charset=utf-8"), ("Retry-After", "60"),
                            ("Content-Length", str(len(data)))])  # fmt: skip
    return [data]


def redirect_app(https_port: int) -> Callable[[dict[str, Any], StartResponse], list[bytes]]:
    from callcenter.adapters.web.server import redirect_target

    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        target = redirect_target(environ, https_port)
        start_response("301 Moved Permanently", [("Location", target), ("Content-Length", "0")])
        return [b""]

    return app


def serve(config: FrontConfig) -> None:
    servers = []
    main = wsgi.Server(
        (config.host, config.port),
        FrontApp(config),
        numthreads=config.threads,
        max=config.threads,
        accepted_queue_size=config.connection_limit,
        accepted_queue_timeout=5,
        server_name="callcenter",
    )
    if config.cert:
        main.ssl_adapter = BuiltinSSLAdapter(config.cert, config.key)
    main.prepare()
    servers.append(main)
    bound = {"port": int(main.bind_addr[1]), "http_port": 0}
    if config.cert and config.http_port:
        plain = wsgi.Server(
            (config.host, config.http_port), redirect_app(bound["port"]), numthreads=2, max=4,
            accepted_queue_size=50, accepted_queue_timeout=1, server_name="callcenter",
        )  # fmt: skip
        plain.prepare()
        servers.append(plain)
        bound["http_port"] = int(plain.bind_addr[1])
    threads = [threading.Thread(target=s.serve, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(json.dumps(bound), flush=True)

    # The controller going away (its end of our stdin closes) ends the front too.
    def watch_parent() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=watch_parent, daemon=True).start()
    stop.wait()
    for server in servers:
        server.stop()


def config_argument(config: FrontConfig) -> str:
    return json.dumps(asdict(config))


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="console-front %(levelname)s %(message)s")
    config = FrontConfig(**json.loads(sys.argv[1]))
    os.umask(0o077)
    serve(config)


if __name__ == "__main__":
    main()
