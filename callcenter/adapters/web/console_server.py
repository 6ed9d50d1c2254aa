"""The console served: the app on a private Unix socket inside the controller, and the
front process (front.py) that browsers reach. Runtime and the test harnesses both
start it this way, so tests see the shape production runs."""

from __future__ import annotations

import json
import logging
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

import callcenter
from callcenter.adapters.web.certificate import TlsFiles
from callcenter.adapters.web.front import FrontConfig, config_argument
from callcenter.adapters.web.hub import Hub
from callcenter.adapters.web.server import ServerLimits, WebServer
from callcenter.config import WebSettings

log = logging.getLogger(__name__)

READY_WITHIN = 30.0


def _same_code() -> dict[str, str]:
    """The environment for the front: it imports this very callcenter package, wherever
    the controller was started from."""
    package_root = str(Path(callcenter.__file__).resolve().parents[1])
    inherited = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (package_root, inherited) if p)}


class FrontError(Exception):
    """The front process did not start (its own message is on standard error)."""


class ConsoleServer:
    def __init__(self, app: Any, web: WebSettings, hub: Hub, tls: TlsFiles | None) -> None:
        self.app = app  # the console app itself (tests drive it with Flask's test client)
        self.web = web
        self.hub = hub
        self.tls = tls
        self.port = web.port
        self.http_port = web.http_port
        # Only the front connects to the socket (a 0700 folder of the controller's user),
        # so what it says of the client (address, scheme, host) is believed.
        self._app = ProxyFix(app, x_for=1, x_proto=1, x_host=1)
        self._folder: Path | None = None
        self._inner: WebServer | None = None
        self._front: subprocess.Popen[str] | None = None
        self._config: FrontConfig | None = None
        self._stopping = threading.Event()

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.web.host in ("0.0.0.0", "::") else self.web.host
        return f"{self.scheme}://{host}:{self.port}"

    def start(self) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="callcenter-console-"))  # 0700
        socket_path = self._folder / "app.sock"
        limits = ServerLimits(self.web.threads, self.web.connection_limit)
        self._inner = WebServer(self._app, str(socket_path), self.hub, limits)
        self._inner.start()
        config = FrontConfig(
            host=self.web.host,
            port=self.web.port,
            http_port=self.web.http_port,
            cert=str(self.tls.cert) if self.tls else "",
            key=str(self.tls.key) if self.tls else "",
            upstream=str(socket_path),
            threads=self.web.threads,
            connection_limit=self.web.connection_limit,
            login_per_address=self.web.login_per_address,
            login_per_user=self.web.login_per_user,
            requests_per_address=self.web.requests_per_address,
            upstream_concurrency=self.web.upstream_concurrency,
            login_total=self.web.login_total,
        )
        self._config = config
        self._launch()
        log.info("console on %s/ (front process %s)", self.url, self.front_pid)
        threading.Thread(target=self._watch, name="console-front-watch", daemon=True).start()

    def _launch(self) -> None:
        assert self._config is not None
        self._front = subprocess.Popen(
            [sys.executable, "-m", "callcenter.adapters.web.front", config_argument(self._config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=_same_code(),
        )
        bound = self._ready(self._front)
        self.port, self.http_port = bound["port"], bound["http_port"]
        # A restarted front binds the same ports (the ones given may have been 0: any).
        self._config = replace(self._config, port=self.port, http_port=self.http_port)

    def _watch(self) -> None:
        """The front died (killed, crashed): start it again; calls never noticed."""
        while not self._stopping.is_set():
            front = self._front
            if front is None:
                return
            code = front.wait()
            if self._stopping.is_set():
                return
            log.error("console front process %d exited (%s); starting it again", front.pid, code)
            self._stopping.wait(1.0)
            try:
                self._launch()
            except (FrontError, OSError):
                log.exception("console front process did not start again; retrying")

    @staticmethod
    def _ready(front: subprocess.Popen[str]) -> dict[str, int]:
        assert front.stdout is not None
        deadline = time.monotonic() + READY_WITHIN
        while time.monotonic() < deadline:
            if front.poll() is not None:
                raise FrontError(f"the console's front process exited ({front.returncode})")
            ready, _, _ = select.select([front.stdout], [], [], 0.2)
            if ready:
                line = front.stdout.readline()
                if line:
                    found: dict[str, int] = json.loads(line)
                    return found
        front.kill()
        raise FrontError(f"the console's front process was not ready in {READY_WITHIN:.0f} s")

    @property
    def front_pid(self) -> int | None:
        return self._front.pid if self._front is not None else None

    def stop(self) -> None:
        self._stopping.set()
        if self._front is not None:
            self._front.terminate()
            try:
                self._front.wait(5)
            except subprocess.TimeoutExpired:
                self._front.kill()
                self._front.wait(5)
            self._front = None
        if self._inner is not None:
            self._inner.stop()  # closes the live streams too
            self._inner = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
