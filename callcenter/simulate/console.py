"""The console on a real controller with no Asterisk behind it (tests, benchmarks).

Everything is the product's own composition (bootstrap.Controller, the web
app factory, a migrated SQLite database in a folder of the caller's), except
that the AMI link points at a loopback port where nothing listens: the
controller runs as it does while Asterisk is down (actions on the PBX fail
with PbxUnavailable, which the services already handle). Good for what the
console does on its own: roles, CSRF, tokens, validation, live pushes.
"""

from __future__ import annotations

import socket
from collections.abc import Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from apiflask import APIFlask

from callcenter.adapters.db.migrate import upgrade
from callcenter.adapters.db.site_config import apply_site
from callcenter.adapters.web.app import create_app
from callcenter.adapters.web.bridge import LoopBridge
from callcenter.adapters.web.certificate import TlsFiles, ensure_certificate
from callcenter.adapters.web.console_server import ConsoleServer
from callcenter.config import Settings, WebSettings
from callcenter.runtime import Controller
from callcenter.services.site import parse_site
from callcenter.simulate.loop_thread import ControllerThread

T = TypeVar("T")


def free_port() -> int:
    """A loopback TCP port nobody listens on (right now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _layout_only_root(root: Path) -> Path:
    """The two things a PBX layout is read from (no Asterisk is ever started from it)."""
    (root / "usr/lib/lab/asterisk/modules").mkdir(parents=True, exist_ok=True)
    (root / "etc").mkdir(exist_ok=True)
    (root / "etc/passwd").write_text("asterisk:x:0:0::/:/bin/false\n")
    return root


def console_settings(root: Path, timezone: str = "") -> Settings:
    return Settings(
        state_dir=root / "state",
        site_dir=root / "site",
        timezone=timezone,
        ami={"port": free_port(), "secret": "no-asterisk-here", "reconnect_max": 30.0},
        agi={"port": free_port()},
        pbx={"provider": "chroot", "root": _layout_only_root(root / "no-asterisk")},
        database={"url": f"sqlite:///{root / 'callcenter.db'}"},
        web={"enabled": False, "host": "127.0.0.1", "port": 0},
    )


class Console:
    """A started controller (own loop thread) and its console app; a context manager."""

    def __init__(self, root: Path, secret_key: str = "console-lab-secret") -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.settings = console_settings(root)
        upgrade(self.settings.database_url)
        self.thread = ControllerThread(self.settings)
        self.controller: Controller = self.thread.start(connect=None)
        self.services = self.controller.console_services(LoopBridge(self.thread.loop))
        self.app: APIFlask = create_app(self.services, secret_key)
        self.server: ConsoleServer | None = None

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run a coroutine on the controller's loop."""
        return self.thread.run(coro, timeout)

    def load_site(self, data: dict[str, Any]) -> None:
        """Write a site definition (``callcenter site load`` format) and apply it.

        As the controller does on SIGHUP, minus the PJSIP reload (no Asterisk here).
        """
        apply_site(parse_site(data, Path("."), "console lab"), self.controller.storage.sessions)
        self.controller.directory.load()
        self.run(self.controller.reload_config())

    def serve(self, port: int = 0, tls: TlsFiles | None = None, http_port: int = 0) -> str:
        """Serve the app over HTTPS on loopback (the product's server) with ``tls``, or
        the certificate generated in the state folder; its base URL."""
        files = tls or ensure_certificate(self.settings.state_dir / "tls")
        web = WebSettings(host="127.0.0.1", port=port, http_port=http_port)
        self.server = ConsoleServer(self.app, web, self.controller.hub, files)
        self.server.start()
        return self.server.url

    @property
    def certificate(self) -> Path:
        """The certificate being served (clients trust it, and only it)."""
        assert self.server is not None and self.server.tls is not None, "not served"
        return self.server.tls.cert

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
        self.thread.stop()

    def __enter__(self) -> Console:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
