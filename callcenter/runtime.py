"""The call center running: start, stop, reload, and the heartbeat.

What is built and how it is joined is callcenter/bootstrap.py's; this module
only says in which order the parts start and stop, and what runs on its own
(the heartbeat the dialplan watches, the console's web server).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time

from prometheus_client import CollectorRegistry

from callcenter.adapters.ami.client import AmiError
from callcenter.adapters.ami.nodes import NodeLinks
from callcenter.adapters.metrics.controller_role import ControllerRole
from callcenter.adapters.metrics.server import MetricsServer
from callcenter.adapters.pbx.secrets import ensure_secret
from callcenter.adapters.web.app import create_app
from callcenter.adapters.web.bridge import LoopBridge
from callcenter.adapters.web.certificate import console_tls
from callcenter.adapters.web.console_server import ConsoleServer
from callcenter.adapters.web.services import ConsoleServices
from callcenter.bootstrap import CallCenter
from callcenter.config import Settings
from callcenter.core.dialplan import Global
from callcenter.standby import Leader, LostLock
from callcenter.tasks import cancel_and_wait

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0


class Controller(CallCenter):
    """A CallCenter with a life: ``start``, ``stop``, ``reload``, ``run_forever``."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._tasks: list[asyncio.Task[None]] = []
        self.metrics_server: MetricsServer | None = None
        # [ha] enabled: act only while holding PostgreSQL's lock (callcenter/standby.py).
        self.leader: Leader | None = None
        self.lost_lock = ""  # why this controller stopped acting, if it lost the lock
        if settings.ha.enabled:
            self.leader = leader = Leader.from_settings(settings.ha, settings.database_url)
            self.pbx.may_act = self.agi.may_act = leader.may_act
            if self.metrics is not None:
                self.metrics.registry.register(ControllerRole(leader.node, leader.may_act))

    async def start(self) -> None:
        self.directory.load()
        await self.configuration.reload()
        self.records.start()
        # Wait estimates start from the calls before this start, not from a prior.
        self.queueing.learn(await asyncio.to_thread(self.storage.config.recent_talks, 50))
        self.scheduler.start()  # timed jobs (recordings retention, booked callbacks)
        await self.wallboard.start()  # wallboard: today so far, from the database
        if self.metrics is not None:  # metrics: the first picture, then every push
            self.metrics.on_board(self.wallboard.snapshot())
            if self.metrics_server is None:  # a standby serves them already
                self._start_metrics(self.metrics.registry)
        await self.callbacks.restore()  # callbacks: kept places back in line, jobs re-armed
        await asyncio.to_thread(self.desktop_settings.load)  # desktop: CRM settings, webhooks
        await asyncio.to_thread(self.lead_imports.recover)  # campaigns: cut-short imports
        await self.agi.start()
        await self.ami.start()
        self._tasks.append(asyncio.create_task(self._heartbeat(), name="heartbeat"))
        self._tasks.append(asyncio.create_task(self.voicemail.run(), name="voicemail"))
        self.dialer.start()  # outbound: each running campaign's loop
        if self.settings.web.enabled:
            self._start_web()

    def console_services(self, bridge: LoopBridge) -> ConsoleServices:
        """What the console reaches: these services and ports, nothing else."""
        config, accounts = self.storage.config, self.storage.agents
        return ConsoleServices(
            bridge=bridge, hub=self.hub, clock=self.timers.clock,
            timezone=self.settings.timezone, users=self.users, directory=self.directory,
            agents=self.agents, calls=self.calls, phones=self.view.table,
            ami_connected=lambda: self.ami.connected, records=self.records.backlog,
            pbx_nodes=(
                self.ami.connected_nodes if isinstance(self.ami, NodeLinks) else dict
            ),
            queues=self.queues,
            wallboard=self.wallboard.snapshot, desktop=self.desktop,
            call_control=self.call_control,
            desktop_settings=self.desktop_settings, flush_records=self.records.flush,
            supervision=self.supervision, recordings=self.recordings,
            recording_archive=self.recording_archive, retention=self.retention,
            next_run=self.scheduler.next_run, reports=self.reports,
            queue_names=lambda: list(config.queues()),
            agent_names=lambda: [a.username for a in accounts.accounts()],
            admin=self.admin, reload=self.reload, campaigns=self.campaigns,
            lead_imports=self.lead_imports, dialer=self.dialer, callbacks=self.callbacks,
            dial_refusals=self.dial_refusals, voicemail=self.voicemail, quality=self.quality,
            sip=self.settings.sip, consults=self.consults,
            conference=self.conference,
            phone_codes={str(a): code for a, code in self.phone_codes.codes.items()},
        )  # fmt: skip

    def _start_metrics(self, registry: CollectorRegistry) -> None:
        metrics = self.settings.metrics
        self.metrics_server = MetricsServer(registry, metrics.host, metrics.port)
        self.metrics_server.start()

    def _start_web(self) -> None:
        services = self.console_services(LoopBridge(asyncio.get_running_loop()))
        secret = ensure_secret(self.settings.state_dir, "web")
        web = self.settings.web
        app = create_app(services, secret, web)
        tls = console_tls(web, self.settings.state_dir) if web.tls else None
        self.web = ConsoleServer(app, web, self.hub, tls)
        self.web.start()

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks)
        await self.dialer.stop()  # outbound: no new calls placed
        self.timers.cancel_all()
        await self.scheduler.stop()
        self.wallboard.stop()  # wallboard: its push and wake-up timers
        if self.web is not None:
            await asyncio.to_thread(self.web.stop)
        if self.metrics_server is not None:
            await asyncio.to_thread(self.metrics_server.stop)
        await self.agi.stop()
        await self.ami.stop()
        await asyncio.to_thread(self.webhooks.stop)  # desktop: webhook workers
        await asyncio.to_thread(self.lead_imports.stop)  # campaigns: imports at a batch end
        await asyncio.to_thread(self.records.stop)
        self.storage.engine.dispose()

    async def reload(self) -> None:
        """Everything from the database again: agents' accounts, then the rest."""
        await asyncio.to_thread(self.directory.load)
        await self._sync_agents()

    async def reload_config(self) -> None:
        """Re-read queues, business hours, flows and agents' skills (no restart needed)."""
        await self.configuration.reload()

    async def _heartbeat(self) -> None:
        """Tell the dialplan the controller is alive (waiting callers fall back without it);
        two controllers on two hosts ([agi] controllers): and where its FastAGI is, so a
        node restarted since the takeover is told within a second."""
        while True:
            if self.ami.connected and (self.leader is None or self.leader.may_act()):
                with contextlib.suppress(AmiError):
                    await self.ami.action(
                        "Setvar", Variable=Global.HEARTBEAT.value, Value=str(int(time.time()))
                    )
                if self.settings.agi.controllers:
                    await self.announce_agi()
            await asyncio.sleep(HEARTBEAT_SECONDS)

    async def run_forever(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        # SIGHUP: the site definition changed (callcenter site load sends it).
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        if self.leader is not None and not await self._become_active(stop):
            return
        await self.start()
        log.info(
            "controller running; AMI %s:%d, FastAGI %s:%d",
            self.settings.ami.host,
            self.settings.ami.port,
            self.settings.agi.host,
            self.settings.agi.port,
        )
        await stop.wait()
        log.info("controller stopping")
        await self.stop()
        if self.leader is not None:
            await self.leader.stop()

    async def _become_active(self, stop: asyncio.Event) -> bool:
        """Stand by until this controller holds the lock (False: stopped meanwhile).

        Nothing that acts runs before: no FastAGI listener (Asterisk's requests go
        to the active controller's address; on one host both use the same port and
        only the active one binds it), no AMI link, no dialers, no console. Only the
        metrics, which say which controller is active."""
        leader = self.leader
        assert leader is not None

        def lost(reason: str) -> None:
            self.lost_lock = reason
            stop.set()

        leader.on_lost(lost)
        if self.metrics is not None:
            self._start_metrics(self.metrics.registry)
        log.info("controller %s standing by for the lock", leader.node)
        waiting = asyncio.create_task(leader.wait_until_active(), name="standby")
        stopping = asyncio.create_task(stop.wait(), name="standby-stop")
        await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not waiting.done() or stop.is_set():
            await cancel_and_wait([waiting])
            await leader.stop()
            if self.metrics_server is not None:
                await asyncio.to_thread(self.metrics_server.stop)
            return False
        try:
            waiting.result()
        except LostLock:
            await leader.stop()
            return False
        leader.started()
        self.wallboard.controller = leader.node
        log.warning("controller %s is the active controller", leader.node)
        return True
