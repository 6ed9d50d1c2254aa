"""End-to-end fixtures: the project's real Asterisk, the controller, real SIP peers.

One Asterisk serves the whole session (started with `pbx up`, stopped with
`pbx down`); each test gets a fresh database and controller, and its own
softphones and SIPp callers, all stopped by PID when the test ends.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from callcenter.adapters.db.migrate import upgrade
from callcenter.adapters.pbx.provider import choose_provider
from callcenter.adapters.pbx.supervisor import PbxSupervisor
from callcenter.config import Settings
from callcenter.core.model import SipAccount
from callcenter.services.site import apply_site, parse_site
from callcenter.simulate.sipp import SippCaller
from callcenter.simulate.softphone import Softphone
from tests.support.controller import ControllerThread

# Several people (or CI jobs) may run the end-to-end suite on one machine at
# once: each picks a port base (CALLCENTER_TEST_PORT_BASE) so their Asterisks,
# controllers and consoles never collide.
PORT_BASE = int(os.environ.get("CALLCENTER_TEST_PORT_BASE", "15000"))
SIP_PORT = PORT_BASE + 60
CALLER_PORT = PORT_BASE - 9930  # SIPp callers' own SIP port (5070 by default)
PHONE_PORT = PORT_BASE - 9920  # softphones' SIP port, each on its own address (5080)


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
        },
        database={"url": database_url},
        trunks=[{"name": "sipp", "match": ["127.0.0.2", "127.0.0.3"]}],
        web={"host": "127.0.0.1", "port": 0},
        log={"level": "DEBUG"},
    )


@dataclass
class Pbx:
    root: Path
    settings: Settings
    supervisor: PbxSupervisor

    def cli(self, command: str) -> str:
        return self.supervisor.cli(command)


@pytest.fixture(scope="session")
def pbx() -> Iterator[Pbx]:
    root = Path(tempfile.mkdtemp(prefix="cc-e2e-"))
    settings = test_settings(root)
    supervisor = PbxSupervisor(settings, choose_provider(settings.pbx))
    supervisor.up([])
    try:
        yield Pbx(root, settings, supervisor)
    finally:
        supervisor.down()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class CallCenter:
    """A running controller on a fresh database, plus the peers a test starts."""

    pbx: Pbx
    workdir: Path
    thread: ControllerThread
    phones: list[Softphone] = field(default_factory=list)
    _next_address: int = 10

    @property
    def controller(self):  # type: ignore[no-untyped-def]
        assert self.thread.controller is not None
        return self.thread.controller

    def load_site(self, data: dict[str, Any]) -> None:
        """Write a site definition to the database and have the controller reload it."""
        apply_site(parse_site(data, Path("."), "test site"), self.controller.storage.sessions)
        self.thread.run(self.controller.reload())

    def account(self, username: str) -> SipAccount:
        account = self.controller.directory.get(username)
        assert account is not None, username
        return account

    def login(self, *agents: str) -> None:
        for agent in agents:
            self.thread.run(self.controller.agents.login(agent, time.time()))

    def add_agent(self, username: str, extension: str, name: str = "") -> SipAccount:
        return self.thread.run(
            self.controller.directory.add(username, name or username.title(), extension)
        )

    def softphone(self, account: SipAccount, auto_answer: bool = False) -> Softphone:
        address = f"127.0.0.{self._next_address}"
        self._next_address += 1
        phone = Softphone(
            account.username,
            account.password,
            address,
            f"127.0.0.1:{SIP_PORT}",
            self.workdir / account.username,
            auto_answer=auto_answer,
            sip_port=PHONE_PORT,
            ctrl_port=PORT_BASE - 10556,
        )
        self.phones.append(phone)
        phone.start()
        phone.wait_registered()
        return phone

    def caller(self, address: str = "127.0.0.2", port: int = CALLER_PORT) -> SippCaller:
        return SippCaller(
            self.workdir / f"sipp-{address}-{port}",
            f"127.0.0.1:{SIP_PORT}",
            address=address,
            port=port,
            media_port=port + 1000,
        )

    def stop(self) -> None:
        for phone in self.phones:
            phone.stop()
        self.thread.stop()


@pytest.fixture(params=["sqlite"])
def e2e_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'callcenter.db'}"
    else:
        cluster, url = request.getfixturevalue("postgres")
        cluster.reset(url)
    upgrade(url)
    return url


@pytest.fixture
def callcenter(pbx: Pbx, e2e_database: str, tmp_path: Path) -> Iterator[CallCenter]:
    settings = pbx.settings.model_copy(
        update={"database": pbx.settings.database.model_copy(update={"url": e2e_database})}
    )
    thread = ControllerThread(settings)
    thread.start()
    center = CallCenter(pbx, tmp_path, thread)
    try:
        yield center
    finally:
        center.stop()
