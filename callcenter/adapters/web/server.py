"""The console app's server inside the controller: cheroot (CherryPy's production WSGI
server) on a private Unix socket that only the front process (front.py) reaches.

Why cheroot: pure Python, TLS through the standard ssl module (the front uses it),
a fixed pool of worker threads and a bounded queue of accepted connections
(waitress has the pool but no TLS). Each live event stream holds one worker for
its life, so the hub refuses new streams before they could take the last workers
(pages and the API always keep some).
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

from cheroot import wsgi

from callcenter.adapters.web.hub import Hub

log = logging.getLogger(__name__)

RESERVED_WORKERS = 8  # never taken by event streams: pages and API calls go on
HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")


@dataclass(frozen=True, slots=True)
class ServerLimits:
    threads: int = 256
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
    """The app on ``socket_path``, in worker threads of this process."""

    def __init__(
        self, app: object, socket_path: str, hub: Hub, limits: ServerLimits = ServerLimits()
    ) -> None:
        self.app = app
        self.socket_path = socket_path
        self.hub = hub
        self.limits = limits
        self._server: wsgi.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.hub.max_clients = max(1, self.limits.threads - RESERVED_WORKERS)
        server = wsgi.Server(
            self.socket_path,
            self.app,
            numthreads=self.limits.threads,
            max=self.limits.threads,
            accepted_queue_size=self.limits.connection_limit,
            accepted_queue_timeout=5,
            request_queue_size=min(self.limits.connection_limit, 1024),  # the listen backlog
            server_name="callcenter",
        )
        server.prepare()  # binds now: a failure is the caller's to see
        self._server = server
        self._thread = threading.Thread(target=server.serve, name="web", daemon=True)
        self._thread.start()
        log.info("console app on %s", self.socket_path)

    def stop(self) -> None:
        self.hub.close_all()
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
