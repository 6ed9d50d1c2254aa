"""The console's HTTP server: cheroot (CherryPy's production WSGI server) with TLS.

Why cheroot: pure Python, TLS through the standard ssl module, a fixed pool of
worker threads and a bounded queue of accepted connections (waitress has the
pool but no TLS). Each live event stream holds one worker for its life, so the
hub refuses new streams before they could take the last workers (pages and the
API always keep some). A second, tiny server on the plain HTTP port only sends
browsers to HTTPS.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from callcenter.adapters.web.certificate import TlsFiles
from callcenter.adapters.web.hub import Hub

log = logging.getLogger(__name__)

RESERVED_WORKERS = 8  # never taken by event streams: pages and API calls go on
StartResponse = Callable[..., Any]
HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")


@dataclass(frozen=True, slots=True)
class ServerLimits:
    threads: int = 64
    connection_limit: int = 200


def redirect_target(environ: dict[str, Any], https_port: int, fallback: str = "127.0.0.1") -> str:
    """Where a plain HTTP request is sent: the same host, path and query over HTTPS."""
    host = environ.get("HTTP_HOST", "")
    if not HOST.fullmatch(host):
        host = fallback
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    path = environ.get("PATH_INFO", "/") or "/"
    query = environ.get("QUERY_STRING", "")
    return f"https://{name}:{https_port}{path}" + (f"?{query}" if query else "")


class WebServer:
    def __init__(
        self,
        app: object,
        host: str,
        port: int,
        hub: Hub,
        tls: TlsFiles | None = None,
        http_port: int = 0,
        limits: ServerLimits = ServerLimits(),
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.hub = hub
        self.tls = tls
        self.http_port = http_port
        self.limits = limits
        self._servers: list[wsgi.Server] = []
        self._threads: list[threading.Thread] = []

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def start(self) -> None:
        self.hub.max_clients = max(1, self.limits.threads - RESERVED_WORKERS)
        # A host that is a path: a Unix socket (the front's way in, see front.py).
        bind = self.host if self.host.startswith("/") else (self.host, self.port)
        server = wsgi.Server(
            bind,
            self.app,
            numthreads=self.limits.threads,
            max=self.limits.threads,
            accepted_queue_size=self.limits.connection_limit,
            accepted_queue_timeout=5,
            request_queue_size=min(self.limits.connection_limit, 1024),  # the listen backlog
            server_name="callcenter",
        )
        if self.tls is not None:
            server.ssl_adapter = BuiltinSSLAdapter(str(self.tls.cert), str(self.tls.key))
        self.port = self._serve(server, "web")
        log.info("console on %s/", self.url)
        if self.tls is not None and self.http_port:
            redirect = wsgi.Server(
                (self.host, self.http_port),
                self._redirect,
                numthreads=2,
                max=4,
                accepted_queue_size=50,
                accepted_queue_timeout=1,
                server_name="callcenter",
            )
            self.http_port = self._serve(redirect, "web-redirect")
            log.info("plain HTTP on port %d redirects to HTTPS", self.http_port)

    def _serve(self, server: wsgi.Server, name: str) -> int:
        server.prepare()  # binds now: a taken port fails here, in the caller
        thread = threading.Thread(target=server.serve, name=name, daemon=True)
        thread.start()
        self._servers.append(server)
        self._threads.append(thread)
        return 0 if isinstance(server.bind_addr, str) else int(server.bind_addr[1])

    def _redirect(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        target = redirect_target(environ, self.port, self.host)
        start_response(
            "301 Moved Permanently",
            [("Location", target), ("Content-Type", "text/plain"), ("Content-Length", "0")],
        )
        return [b""]

    def stop(self) -> None:
        self.hub.close_all()
        for server in self._servers:
            server.stop()
        for thread in self._threads:
            thread.join(5)
        self._servers.clear()
        self._threads.clear()
