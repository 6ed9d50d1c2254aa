"""The composition root: every part is built and joined here, and only here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.agi.routes import InboundRoutes
from callcenter.adapters.agi.server import FastAgiServer
from callcenter.adapters.agi.variables import Global, Route
from callcenter.adapters.ami.client import AmiClient, AmiError
from callcenter.adapters.db.agents import AgentRepository
from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.pbx.provider import choose_provider
from callcenter.adapters.pbx.render import Renderer
from callcenter.adapters.pbx.secrets import read_secret
from callcenter.adapters.pbx.supervisor import PbxSupervisor
from callcenter.config import ConfigError, Settings
from callcenter.core.model import SipAccount
from callcenter.services.calls import CallLog
from callcenter.services.directory import AgentDirectory
from callcenter.services.pbx_view import PbxView

log = logging.getLogger(__name__)


@dataclass
class Storage:
    engine: Engine
    sessions: sessionmaker[Session]
    agents: AgentRepository


def build_storage(settings: Settings) -> Storage:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    sessions = make_sessions(engine)
    return Storage(engine, sessions, AgentRepository(sessions))


def build_pbx(settings: Settings) -> PbxSupervisor:
    return PbxSupervisor(settings, choose_provider(settings.pbx))


def ami_secret(settings: Settings) -> str:
    secret = settings.ami.secret or read_secret(settings.state_dir, "ami")
    if not secret:
        raise ConfigError(
            f"no AMI secret in {settings.state_dir}/secrets: run `callcenter pbx up` first"
        )
    return secret


class Controller:
    """The running call center: AMI link, FastAGI server and the services."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.storage = build_storage(settings)
        self.pbx = build_pbx(settings)
        self.ami = AmiClient(settings.ami, ami_secret(settings))
        self.agi = FastAgiServer(settings.agi)
        self.view = PbxView(self.ami)
        self.directory = AgentDirectory(self.storage.agents)
        self.calls = CallLog(self.ami)
        self.inbound = InboundRoutes(self.view, self.directory, self.calls)
        self._tasks: list[asyncio.Task[None]] = []
        self._wire()

    def _wire(self) -> None:
        # After every AMI login: agents' endpoints first, then the picture of Asterisk.
        self.ami.on_connected(self._sync_agents)
        self.view.subscribe()
        self.calls.subscribe()
        self.directory.on_change(self._publish_agents)
        self.agi.add_route(Route.INBOUND, self.inbound.inbound)
        self.agi.add_route(Route.DIAL_RESULT, self.inbound.dial_result)

    async def _publish_agents(self, accounts: list[SipAccount]) -> None:
        renderer = Renderer(self.settings, self.pbx.layout())
        if renderer.render_agents(accounts):
            await self.ami.command("module reload res_pjsip.so")

    async def _sync_agents(self) -> None:
        await self._publish_agents(self.directory.accounts())

    async def start(self) -> None:
        self.directory.load()
        await self.agi.start()
        await self.ami.start()
        self._tasks.append(asyncio.create_task(self._heartbeat(), name="heartbeat"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.agi.stop()
        await self.ami.stop()
        self.storage.engine.dispose()

    async def _heartbeat(self) -> None:
        """Tell the dialplan the controller is alive (waiting callers fall back without it)."""
        while True:
            if self.ami.connected:
                with contextlib.suppress(AmiError):
                    await self.ami.action(
                        "Setvar", Variable=Global.HEARTBEAT.value, Value=str(int(time.time()))
                    )
            await asyncio.sleep(1.0)

    async def run_forever(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await self.start()
        log.info("controller running; AMI %s:%d, FastAGI %s:%d",
                 self.settings.ami.host, self.settings.ami.port,
                 self.settings.agi.host, self.settings.agi.port)  # fmt: skip
        await stop.wait()
        log.info("controller stopping")
        await self.stop()
