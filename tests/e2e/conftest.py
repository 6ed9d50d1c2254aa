"""End-to-end fixtures: the project's real Asterisk, the controller, real SIP peers.

One Asterisk serves the whole session (started with `pbx up`, stopped with
`pbx down`); each test gets a fresh database and controller, and its own
softphones and SIPp callers, all stopped by PID when the test ends.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from callcenter.adapters.db.agents import AgentRepository
from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.migrate import upgrade
from callcenter.adapters.db.site_config import apply_site
from callcenter.adapters.pbx.asterisk import AsteriskProcess
from callcenter.adapters.pbx.provider import ProviderError, choose_provider
from callcenter.config import Settings
from callcenter.core.model import SipAccount
from callcenter.services.site import Site, parse_site
from callcenter.simulate.loop_thread import ControllerThread
from callcenter.simulate.procs import stop_process, wait_for
from callcenter.simulate.sipp import SippCaller, SippResult, caller_scenario
from callcenter.simulate.softphone import Softphone
from tests.e2e.browser import (
    browser,  # noqa: F401  (a fixture for console tests)
    e2e_certificate,
    trust_test_certificate,
)

# Several people (or CI jobs) may run the end-to-end suite on one machine at
# once: each picks a port base (CALLCENTER_TEST_PORT_BASE) so their Asterisks,
# controllers and consoles never collide.
PORT_BASE = int(os.environ.get("CALLCENTER_TEST_PORT_BASE", "15000"))
SIP_PORT = PORT_BASE + 60
SIP_TLS_PORT = PORT_BASE + 61
WEBRTC_PORT = PORT_BASE + 89  # Asterisk's HTTPS server: the browser phone's WebSocket
FENCED_NETWORK = "127.0.0.250/32"  # the only source agent "fenced" may use
CALLER_PORT = PORT_BASE - 9930  # SIPp callers' own SIP port (5070 by default)
PHONE_PORT = PORT_BASE - 9920  # softphones' SIP port, each on its own address (5080)
# Simulated customers (callcenter/simulate/customers.py) for outbound calls: one
# SIPp server on its own address, reached through the "customers" trunk.
CUSTOMER_ADDRESS = "127.0.0.5"
CUSTOMER_PORT = PORT_BASE - 9901  # 5099
CUSTOMER_MEDIA_PORT = PORT_BASE - 9800  # 5200
# Agents' SIP password when a test's site gives none: one per session, never shipped.
AGENT_PASSWORD = secrets.token_urlsafe(18)


trust_test_certificate()  # the consoles of these tests are HTTPS with the test certificate


def test_settings(root: Path, database_url: str = "") -> Settings:
    return Settings(
        state_dir=root / "state",
        site_dir=root / "site",
        ami={"port": PORT_BASE + 38},
        agi={"port": PORT_BASE + 573},
        sip={
            "bind": "127.0.0.1",
            "port": SIP_PORT,
            "rtp_start": PORT_BASE + 6000,
            "rtp_end": PORT_BASE + 7999,
            # TLS beside UDP, with a generated certificate; SRTP and an address ACL
            # only for the agents tests/e2e/test_sip_security.py names; a browser
            # phone for the one tests/e2e/test_webphone.py names.
            "tls": True,
            "tls_port": SIP_TLS_PORT,
            "webrtc_port": WEBRTC_PORT,
            "agents": {
                "tina": {"srtp": True},
                "fenced": {"networks": [FENCED_NETWORK]},
                "wendy": {"webrtc": True},
            },
        },
        database={"url": database_url},
        trunks=[
            {"name": "sipp", "match": ["127.0.0.2", "127.0.0.3"]},
            {
                "name": "customers",
                "match": [CUSTOMER_ADDRESS],
                "contact": f"{CUSTOMER_ADDRESS}:{CUSTOMER_PORT}",
            },
        ],
        web={
            "host": "127.0.0.1",
            "port": 0,
            "http_port": 0,  # no redirect port: suites on this machine would share it
            "cert_file": e2e_certificate().cert,
            "key_file": e2e_certificate().key,
        },
        # Every e2e controller serves its metrics (a free port): the adapter sees every
        # scenario; tests/e2e/test_metrics.py reads them back.
        metrics={"enabled": True, "port": 0},
        log={"level": "DEBUG"},
        # The simulated customers live round the world (one number per zone, so some
        # are always inside calling hours): their countries are allowed.
        dial_policy={"country": "US", "allowed_countries": ["GB", "DE", "AE", "JP", "AU"]},
    )


def active_channels(pbx: Pbx) -> int:
    found = re.search(r"^(\d+) active channel", pbx.cli("core show channels count"), re.M)
    return int(found.group(1)) if found else 0


@dataclass
class Pbx:
    root: Path
    settings: Settings
    asterisk: AsteriskProcess

    def cli(self, command: str) -> str:
        return self.asterisk.cli(command)


@pytest.fixture(scope="session")
def pbx() -> Iterator[Pbx]:
    root = Path(tempfile.mkdtemp(prefix="cc-e2e-"))
    settings = test_settings(root)
    asterisk = AsteriskProcess(settings, choose_provider(settings.pbx))
    asterisk.up([])
    try:
        yield Pbx(root, settings, asterisk)
    finally:
        asterisk.down()
        shutil.rmtree(root, ignore_errors=True)


KEY_SECONDS = 0.4  # one keypad digit in a caller scenario: its RTP events, then 250 ms


@dataclass
class PlacedCall:
    """One SIPp caller running a scripted call (see CallCenter.place_call)."""

    sipp: SippCaller
    process: subprocess.Popen[bytes]
    started: float
    script_seconds: float

    def wait_listening(self) -> None:
        """Wait until the script has reached its last step.

        SIPp aborts a call that gets the far end's BYE while it is still in a
        pause or playing keys, so an agent must not hang up before that. The
        script's length is known (its pauses and keys), so this is a deadline.
        """
        remaining = self.started + 1.0 + self.script_seconds - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)

    def ended(self) -> bool:
        return self.process.poll() is not None

    def finish(self, timeout: float = 30) -> SippResult:
        return self.sipp.finish(self.process, timeout)


@dataclass
class CallCenter:
    """A controller on a fresh database, plus the peers a test starts.

    The `callcenter` fixture starts the controller at once; `callcenter_later`
    hands it over unstarted (`start()`), for tests that need Asterisk and the
    database before any in-process controller runs.
    """

    pbx: Pbx
    workdir: Path
    thread: ControllerThread
    database_url: str = ""
    phones: list[Softphone] = field(default_factory=list)
    passwords: dict[str, str] = field(default_factory=dict)  # agent -> SIP password
    placed: list[PlacedCall] = field(default_factory=list)
    _next_address: int = 10

    @property
    def controller(self):  # type: ignore[no-untyped-def]
        assert self.thread.controller is not None
        return self.thread.controller

    @property
    def settings(self) -> Settings:
        return self.thread.settings

    def start(self) -> None:
        self.thread.start()

    def load_site(self, data: dict[str, Any]) -> None:
        """Write a site definition to the database and have the controller reload it."""
        apply_site(self._parsed(data), self.controller.storage.sessions)
        self.thread.run(self.controller.reload())

    def write_site(self, data: dict[str, Any]) -> None:
        """Write a site definition to the database only (no controller needed)."""
        engine = make_engine(self.settings.database_url)
        try:
            apply_site(self._parsed(data), make_sessions(engine))
        finally:
            engine.dispose()

    def _parsed(self, data: dict[str, Any]) -> Site:
        """The site, each agent with a SIP password this test knows (the database keeps
        only its digest): the site's own, or the session's."""
        agents = []
        for agent in data.get("agents", []):
            agent = {"password": AGENT_PASSWORD, **agent}
            self.passwords[agent["username"]] = agent["password"]
            agents.append(agent)
        return parse_site({**data, "agents": agents} if agents else data, Path("."), "test site")

    def account(self, username: str) -> SipAccount:
        if self.thread.controller is None:
            engine = make_engine(self.settings.database_url)
            try:
                found = {a.username: a for a in AgentRepository(make_sessions(engine)).accounts()}
            finally:
                engine.dispose()
            assert username in found, username
            return found[username]
        account = self.controller.directory.get(username)
        assert account is not None, username
        return account

    def login(self, *agents: str) -> None:
        for agent in agents:
            self.thread.run(self.controller.agents.login(agent, time.time()))

    def get(self, getter: Any, timeout: float = 10) -> Any:
        """Read something off the controller on its own loop: ``get(lambda c: ...)``."""
        controller = self.controller
        return self.thread.call(lambda: getter(controller), timeout)

    def wait_available(self, *agents: str, timeout: float = 10) -> None:
        for agent in agents:
            wait_for(
                lambda agent=agent: self.get(lambda c: c.agents.available(agent)),
                timeout,
                f"{agent} ready and registered",
            )

    def wait_no_calls(self, timeout: float = 10) -> None:
        """Nothing left in the controller's CallBook."""
        wait_for(lambda: self.get(lambda c: len(c.calls)) == 0, timeout, "an empty CallBook")

    def rows(self, model: Any, *where: Any, order_by: Any = None) -> list[Any]:
        """Rows of a table, once every event submitted so far is written."""
        assert self.controller.records.flush(10), "call records not written in 10 s"
        with self.controller.storage.sessions() as session:
            query = select(model).where(*where)
            query = query.order_by(order_by if order_by is not None else model.id)
            return list(session.scalars(query))

    def softphone(
        self,
        account: SipAccount,
        auto_answer: bool = False,
        password: str | None = None,
        *,
        tls: bool = False,
        srtp: bool = False,
        registered: bool = True,
    ) -> Softphone:
        """A baresip for the agent, with the password this test gave it; registered
        unless ``registered`` is False (then only started)."""
        address = f"127.0.0.{self._next_address}"
        self._next_address += 1
        phone = Softphone(
            account.username,
            password or self.passwords.get(account.username, AGENT_PASSWORD),
            address,
            f"127.0.0.1:{SIP_TLS_PORT if tls else SIP_PORT}",
            self.workdir / account.username,
            auto_answer=auto_answer,
            # Other suites on this machine use the same addresses: our own ports.
            sip_port=PHONE_PORT,
            ctrl_port=PHONE_PORT - 5,  # baresip takes sip_port + 1 for TLS
            transport="tls" if tls else "udp",
            media_encryption="srtp-mand" if srtp else "",
        )
        self.phones.append(phone)
        phone.start()
        if registered:
            phone.wait_registered()
        return phone

    @property
    def base_url(self) -> str:
        web = self.controller.web
        assert web is not None, "the console is not enabled"
        return web.url

    def caller(self, address: str = "127.0.0.2", port: int = CALLER_PORT) -> SippCaller:
        return SippCaller(
            self.workdir / f"sipp-{address}-{port}",
            f"127.0.0.1:{SIP_PORT}",
            address=address,
            port=port,
            media_port=port + 1000,
        )

    def place_call(
        self,
        steps: Sequence[str | int | Path],
        number: str,
        name: str = "Caller",
        end: str = "await",
        address: str = "127.0.0.2",
        port: int = CALLER_PORT,
    ) -> PlacedCall:
        """Start one SIPp call that runs ``steps`` once answered (see caller_scenario)."""
        sipp = self.caller(address, port)
        process = sipp.start(caller_scenario(steps, end=end), [(name, number)])
        script = sum(
            s / 1000 if isinstance(s, int) else KEY_SECONDS * len(s)
            for s in steps
            if not isinstance(s, Path)  # audio plays on while the next steps run
        )
        placed = PlacedCall(sipp, process, time.monotonic(), script)
        self.placed.append(placed)
        return placed

    def stop(self) -> None:
        for placed in self.placed:
            stop_process(placed.process)
        for phone in self.phones:
            phone.stop()
        self.thread.stop()
        # A failed test may leave calls behind (SIPp stopped by signal sends no
        # BYE); the next test gets an Asterisk without them.
        with contextlib.suppress(ProviderError):
            if active_channels(self.pbx) > 0:
                self.pbx.cli("channel request hangup all")


@pytest.fixture(params=["sqlite"])
def e2e_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'callcenter.db'}"
    else:
        cluster, url = request.getfixturevalue("postgres")
        cluster.reset(url)
    upgrade(url)
    return url


def _center(pbx: Pbx, database_url: str, workdir: Path) -> CallCenter:
    settings = pbx.settings.model_copy(
        update={"database": pbx.settings.database.model_copy(update={"url": database_url})}
    )
    return CallCenter(pbx, workdir, ControllerThread(settings), database_url)


@pytest.fixture
def callcenter(pbx: Pbx, e2e_database: str, tmp_path: Path) -> Iterator[CallCenter]:
    center = _center(pbx, e2e_database, tmp_path)
    center.start()
    try:
        yield center
    finally:
        center.stop()


def with_nailed(center: CallCenter, *agents: str) -> CallCenter:
    """The controller's settings with these agents always-connected (before it starts)."""
    from callcenter.config import AgentSipSettings

    sip = center.settings.sip
    own = {**sip.agents, **{a: AgentSipSettings(nailed=True) for a in agents}}
    center.thread.settings = center.settings.model_copy(
        update={"sip": sip.model_copy(update={"agents": own})}
    )
    return center


def nailed_callcenter(
    pbx: Pbx, e2e_database: str, tmp_path: Path, *agents: str
) -> Iterator[CallCenter]:
    """A started controller with these agents always-connected; stopped at the end."""
    center = with_nailed(_center(pbx, e2e_database, tmp_path), *agents)
    center.start()
    try:
        yield center
    finally:
        center.stop()


@pytest.fixture
def nailed_center(pbx: Pbx, e2e_database: str, tmp_path: Path) -> Iterator[CallCenter]:
    """`callcenter` with ann always-connected."""
    yield from nailed_callcenter(pbx, e2e_database, tmp_path, "ann")


@pytest.fixture
def outbound(callcenter: CallCenter, tmp_path: Path) -> Iterator[Any]:
    """Simulated customers behind the trunk (tests/e2e/outbound_support.py)."""
    from tests.e2e.outbound_support import outbound_fixture

    yield from outbound_fixture(callcenter, tmp_path)


@pytest.fixture
def callcenter_later(pbx: Pbx, e2e_database: str, tmp_path: Path) -> Iterator[CallCenter]:
    """Like `callcenter`, but the in-process controller starts when the test says."""
    center = _center(pbx, e2e_database, tmp_path)
    try:
        yield center
    finally:
        center.stop()
