"""The console's HTTP server: werkzeug's threaded server in a thread of its own
(one thread per connection, so long-lived event streams do not starve pages)."""

from __future__ import annotations

import logging
import threading

from werkzeug.serving import BaseWSGIServer, make_server

from callcenter.adapters.web.hub import Hub

log = logging.getLogger(__name__)


class WebServer:
    def __init__(self, app: object, host: str, port: int, hub: Hub) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.hub = hub
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._server = make_server(self.host, self.port, self.app, threaded=True)  # type: ignore[arg-type]
        self._server.daemon_threads = True  # type: ignore[attr-defined]
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="web", daemon=True)
        self._thread.start()
        log.info("console on http://%s:%d/", self.host, self.port)

    def stop(self) -> None:
        self.hub.close_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
