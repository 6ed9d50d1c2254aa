"""The composition root: every part is built and joined here, and only here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.agi.agent_features import AgentFeatureRoute
from callcenter.adapters.agi.callback_routes import CallbackRoutes
from callcenter.adapters.agi.outbound_routes import OutboundRoutes
from callcenter.adapters.agi.routes import CallRoutes
from callcenter.adapters.agi.server import FastAgiServer
from callcenter.adapters.ami.client import AmiClient, AmiError
from callcenter.adapters.ami.commands import AmiPbx
from callcenter.adapters.ami.pbx_view import PbxView
from callcenter.adapters.db.agents import AgentRepository
from callcenter.adapters.db.callbacks import CallbackRepository
from callcenter.adapters.db.campaigns import CampaignRepository
from callcenter.adapters.db.config import ConfigRepository
from callcenter.adapters.db.customers import CustomerRepository
from callcenter.adapters.db.desktop_records import DesktopRecords
from callcenter.adapters.db.dialer_store import DialerStore
from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.recording_archive import RecordingArchive
from callcenter.adapters.db.records_writer import RecordWriter
from callcenter.adapters.db.site_settings import SiteSettings
from callcenter.adapters.db.users import UserRepository
from callcenter.adapters.db.wallboard_history import CallEventHistory
from callcenter.adapters.http.webhooks import WebhookDispatcher
from callcenter.adapters.pbx.asterisk import AsteriskProcess
from callcenter.adapters.pbx.provider import choose_provider
from callcenter.adapters.pbx.render import Renderer
from callcenter.adapters.pbx.secrets import ensure_secret, read_secret
from callcenter.adapters.pbx.spoken import SpokenPrompts
from callcenter.adapters.web.app import create_app
from callcenter.adapters.web.bridge import LoopBridge
from callcenter.adapters.web.hub import Hub
from callcenter.adapters.web.live import publish_event
from callcenter.adapters.web.server import WebServer
from callcenter.adapters.web.services import ConsoleServices
from callcenter.config import ConfigError, Settings
from callcenter.core.acd.estimate import HandleTimes
from callcenter.core.acd.router import Router
from callcenter.core.calls.live import CallBook
from callcenter.core.dialplan import Global, Route
from callcenter.core.hours import load_schedule
from callcenter.core.model import SipAccount
from callcenter.scheduler.retention_job import add_retention_job
from callcenter.scheduler.runner import JobScheduler, site_zone
from callcenter.services.agents import AgentService
from callcenter.services.callbacks.dialer import CallbackDialer
from callcenter.services.callbacks.places import Callbacks
from callcenter.services.console.admin import Admin
from callcenter.services.console.desktop import Desktop
from callcenter.services.console.desktop_settings import DesktopSettingsStore
from callcenter.services.console.reports import Reports, SiteZone
from callcenter.services.console.retention import Retention
from callcenter.services.console.supervision import Supervision
from callcenter.services.console.wallboard import Wallboard
from callcenter.services.directory import AgentDirectory
from callcenter.services.flows import FlowDirectory
from callcenter.services.inbound.acd import Acd
from callcenter.services.inbound.queue_log import QueueLog
from callcenter.services.inbound.recording import Recordings
from callcenter.services.inbound.recovery import Recovery
from callcenter.services.notify import Notifier
from callcenter.services.outbound.campaigns import Campaigns
from callcenter.services.outbound.dialer import Dialer
from callcenter.services.outbound.dialer_calls import DialerCalls
from callcenter.services.outbound.lead_import import LeadImports
from callcenter.services.queues import QueueDirectory
from callcenter.services.timers import Timers

log = logging.getLogger(__name__)


@dataclass
class Storage:
    engine: Engine
    sessions: sessionmaker[Session]
    agents: AgentRepository
    config: ConfigRepository
    customers: CustomerRepository


def build_storage(settings: Settings) -> Storage:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    sessions = make_sessions(engine)
    return Storage(
        engine,
        sessions,
        AgentRepository(sessions),
        ConfigRepository(sessions),
        CustomerRepository(sessions),
    )


def build_pbx(settings: Settings) -> AsteriskProcess:
    return AsteriskProcess(settings, choose_provider(settings.pbx))


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
        layout = self.pbx.layout()
        self.ami = AmiClient(settings.ami, ami_secret(settings))
        self.pbx_port = AmiPbx(self.ami)
        self.agi = FastAgiServer(settings.agi)
        self.notifier = Notifier()
        self.timers = Timers()
        self.view = PbxView(self.ami)
        self.calls = CallBook()
        self.queues = QueueDirectory()
        self.flows = FlowDirectory()
        self.router = Router({})
        self.handle_times = HandleTimes()
        self.directory = AgentDirectory(self.storage.agents)
        self.agents = AgentService(
            self.router, self.pbx_port, self.view, self.notifier, self.timers
        )
        self.acd = Acd(
            self.router,
            self.agents,
            self.pbx_port,
            self.notifier,
            self.calls,
            self.queues,
            self.timers,
            self.handle_times,
        )
        self.recordings = Recordings(
            self.pbx_port,
            self.notifier,
            self.calls,
            inner_root=f"{layout.inner_dir}/spool/recordings",
            host_root=layout.host_dir / "spool" / "recordings",
        )
        self.records = RecordWriter(self.storage.sessions)
        self.queue_log = QueueLog(self.pbx_port, self.notifier)
        self.recovery = Recovery(
            self.pbx_port,
            self.calls,
            self.acd,
            self.agents,
            self.notifier,
            self.storage.config.call,
            self.timers.clock,
            open_calls=self.storage.config.open_calls,
        )
        self.routes = CallRoutes(
            self.acd,
            self.calls,
            self.flows,
            self.queues,
            self.notifier,
            self.recordings,
            self.storage.customers,
            self.timers.clock,
        )
        self.agent_features = AgentFeatureRoute(self.agents, self.timers.clock)
        self.users = UserRepository(self.storage.sessions)
        self.hub = Hub()
        self.web: WebServer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._wire()

    def _wire(self) -> None:
        # After every AMI login: agents' endpoints first, then the picture of
        # Asterisk, then the calls and agents rebuilt from it (recovery).
        self.ami.on_connected(self._sync_agents)
        self.view.subscribe()
        self.acd.subscribe(self.ami)
        self.view.on_endpoint_change(self.agents.maybe_available)
        self.view.on_resync(self.recovery.run)
        self._voicemail_reload_due = False
        self.view.on_resync(self._reload_voicemail)
        self.notifier.subscribe_all(self.records.submit)
        self.notifier.subscribe_all(lambda event: publish_event(self.hub, event))
        self.directory.on_change(self._publish_agents)
        self._wire_wallboard()
        self._wire_desktop()
        self._wire_supervisor()
        self._wire_reports()
        self._wire_campaigns()
        self._wire_callbacks()
        self._wire_outbound()
        self.agi.add_route(Route.INBOUND, self.routes.inbound)
        self.agi.add_route(Route.DIAL_RESULT, self.routes.dial_result)
        self.agi.add_route(Route.ANNOUNCE, self.routes.announce)
        self.agi.add_route(Route.AGENT_FEATURE, self.agent_features.handle)

    # -- console areas: each builds and joins its own services here -----------------
    def _wire_wallboard(self) -> None:
        # Every domain event updates the board; each picture goes to the console's
        # hub once, which hands the same bytes to every open wallboard.
        zone = ZoneInfo(self.settings.timezone) if self.settings.timezone else None
        self.wallboard = Wallboard(
            self.agents,
            self.directory,
            self.calls,
            self.queues,
            CallEventHistory(self.storage.sessions).since,
            self.timers.clock,
            zone,
        )
        self.notifier.subscribe_all(self.wallboard.on_event)
        self.wallboard.on_publish(lambda board: self.hub.publish("wallboard", board.payload()))

    def _wire_desktop(self) -> None:
        # Screen pops and wrap-up (services/console/desktop.py); CRM webhooks get every
        # call event, and follow the settings whenever an administrator saves them.
        self.desktop_settings = DesktopSettingsStore(self.storage.sessions)
        self.webhooks = WebhookDispatcher()
        self.desktop_settings.on_change(lambda s: self.webhooks.configure(s.crm.webhooks))
        self.desktop = Desktop(
            self.calls,
            self.agents,
            self.notifier,
            DesktopRecords(self.storage.sessions, self.storage.customers),
            self.desktop_settings,
            self.hub.publish,
            self.timers.clock,
            ZoneInfo(self.settings.timezone) if self.settings.timezone else None,
        )
        self.notifier.subscribe_all(self.webhooks.submit)

    def _wire_supervisor(self) -> None:
        # Listen / whisper / barge: calls to the supervisor's phone, followed over AMI;
        # after a reconnect, open sessions are checked against Asterisk's channels.
        self.supervision = Supervision(
            self.pbx_port, self.directory, self.view.table, self.calls, self.timers
        )
        self.supervision.subscribe(self.ami)
        self.view.on_resync(self.supervision.resync)
        self.supervision.on_change(
            lambda session: self.hub.publish("agents", {"type": "SpySession", **session.as_dict()})
        )
        # Recordings: search and playback (console), deletion after the retention period.
        self.recording_archive = RecordingArchive(self.storage.sessions)
        self.retention = Retention(
            self.recording_archive,
            self.recordings,
            SiteSettings(self.storage.sessions),
            self.users,
            self.timers.clock,
        )
        self.scheduler = JobScheduler(site_zone(self.settings.timezone))
        add_retention_job(self.scheduler, self.retention)

    def _wire_reports(self) -> None:
        # Reports and administration read and write the database from the
        # console's threads; an admin's save then calls reload() on the loop.
        config = self.storage.config
        self.reports = Reports(
            self.storage.sessions,
            lambda: {name: q.service_level_target for name, q in config.queues().items()},
            SiteZone.from_setting(self.settings.timezone),
            self.timers.clock,
        )
        self.admin = Admin(self.storage.sessions, self.users)

    def _wire_outbound(self) -> None:
        # Campaigns: the dialer's loop places calls through the first trunk that has a
        # contact; answered calls come back over FastAGI (dialplan/outbound.conf).
        store = DialerStore(self.storage.sessions)
        self.dialer_calls = DialerCalls(
            store, self.agents, self.calls, self.notifier, self.recordings, self.timers
        )
        self.dialer_calls.subscribe(self.ami)
        trunk = next((t.name for t in self.settings.trunks if t.contact), "")
        self.dialer = Dialer(
            store,
            self.agents,
            self.queues,
            self.pbx_port,
            self.dialer_calls,
            self.timers,
            trunk,
            SpokenPrompts(self.settings, self.pbx.layout()).make,
            frozenset(t.name for t in self.settings.trunks if t.contact),
        )
        outbound = OutboundRoutes(self.dialer_calls)
        self.agi.add_route(Route.OUTBOUND_ANSWERED, outbound.answered)
        self.agi.add_route(Route.OUTBOUND_RESULT, outbound.result)

    def _wire_callbacks(self) -> None:
        # Callbacks: kept places and booked times hold places in the ACD's line;
        # when one gets its agent, the callback dialer rings the customer through
        # the first trunk with a contact (dialplan/callback.conf: AMD, then cc-connect).
        repo = CallbackRepository(self.storage.sessions)
        dnc = DialerStore(self.storage.sessions)

        def dnc_scopes(number: str) -> list[str]:
            return dnc.dnc_scopes(number, "")

        self.callbacks = Callbacks(
            repo, self.acd, self.calls, self.queues, self.notifier, self.timers,
            self.scheduler, dnc_scopes, self.recordings.relative_path,
        )  # fmt: skip
        trunk = next((t.name for t in self.settings.trunks if t.contact), "")
        self.callback_dialer = CallbackDialer(
            self.callbacks, repo, self.acd, self.pbx_port, lambda: trunk,
            self.recordings.asterisk_path, dnc_scopes,
        )  # fmt: skip
        self.callback_dialer.subscribe(self.ami)
        self.callback_routes = CallbackRoutes(
            self.callbacks, self.callback_dialer, self.acd, self.timers.clock
        )
        self.routes.callback_offer = self.callback_routes.offer
        self.routes.callback_booking = self.callback_routes.book
        self.agi.add_route(Route.CALLBACK_ANSWER, self.callback_routes.answered)
        self.agi.add_route(Route.CALLBACK_AGENT_RESULT, self.callback_routes.agent_result)

    def _wire_campaigns(self) -> None:
        # Campaign administration: settings, leads by API and CSV import (its own
        # thread, progress in lead_imports), DNC lists, progress figures.
        repository = CampaignRepository(self.storage.sessions)
        self.campaigns = Campaigns(repository, self.timers.clock)
        folder = self.settings.state_dir / "imports"
        self.lead_imports = LeadImports(repository, self.campaigns, folder, self.timers.clock)

    async def _publish_agents(self, accounts: list[SipAccount]) -> None:
        renderer = Renderer(self.settings, self.pbx.layout())
        if renderer.render_agents(accounts):
            await self.ami.command("module reload res_pjsip.so")
        await self.reload_config()

    async def _publish_voicemail(self, boxes: set[str]) -> None:
        """The queues' voicemail boxes into Asterisk (reloaded now, or once AMI is back)."""
        secret = ensure_secret(self.settings.state_dir, "voicemail")
        renderer = Renderer(self.settings, self.pbx.layout())
        changed = await asyncio.to_thread(renderer.render_voicemail, boxes, secret)
        self._voicemail_reload_due = self._voicemail_reload_due or changed
        await self._reload_voicemail()

    async def _reload_voicemail(self) -> None:
        if not self._voicemail_reload_due or not self.ami.connected:
            return  # after the next (re)connect: the resync calls this again
        try:
            await self.ami.command("voicemail reload")
            self._voicemail_reload_due = False
        except Exception as exc:  # the link dropped meanwhile: retried on resync
            log.warning("voicemail boxes not reloaded yet: %s", exc)

    async def _sync_agents(self) -> None:
        await self._publish_agents(self.directory.accounts())

    async def reload(self) -> None:
        """Everything from the database again: agents' accounts, then the rest."""
        await asyncio.to_thread(self.directory.load)
        await self._sync_agents()

    async def reload_config(self) -> None:
        """Re-read queues, business hours, flows and agents' skills (no restart needed)."""
        config = self.storage.config
        queues, schedules, flows, skills, statuses, static = await asyncio.gather(
            asyncio.to_thread(config.queues),
            asyncio.to_thread(config.schedule_documents),
            asyncio.to_thread(config.flow_documents),
            asyncio.to_thread(config.agent_skills),
            asyncio.to_thread(config.agent_statuses),
            asyncio.to_thread(config.static_contacts),
        )
        loaded_schedules = {
            name: load_schedule(doc, source=f"schedule {name}", name=name)
            for name, doc in schedules.items()
        }
        try:
            self.router.set_queues({name: q.to_config() for name, q in queues.items()})
        except ValueError as exc:
            # A queue removed while callers still wait in it: keep the old set until they leave.
            log.error("queue configuration not applied: %s", exc)
            return
        self.queues.load(queues, loaded_schedules)
        await self._publish_voicemail({box for q in queues.values() for box in q.voicemail_boxes()})
        self.flows.load(flows, queues=set(queues), schedules=set(loaded_schedules))
        self.agents.load(skills, statuses, static, time.time())

    async def start(self) -> None:
        self.directory.load()
        await self.reload_config()
        self.records.start()
        self.scheduler.start()  # supervisor area: timed jobs (recordings retention)
        await self.wallboard.start()  # wallboard: today so far, from the database
        await self.callbacks.restore()  # callbacks: kept places back in line, jobs re-armed
        await asyncio.to_thread(self.desktop_settings.load)  # desktop: CRM settings, webhooks
        await asyncio.to_thread(self.lead_imports.recover)  # campaigns: cut-short imports
        await self.agi.start()
        await self.ami.start()
        self._tasks.append(asyncio.create_task(self._heartbeat(), name="heartbeat"))
        self.dialer.start()  # outbound: each running campaign's loop
        if self.settings.web.enabled:
            self._start_web()

    def console_services(self, bridge: LoopBridge) -> ConsoleServices:
        """What the console reaches: these services and ports, nothing else."""
        config, accounts, sessions = self.storage.config, self.storage.agents, self.storage.sessions
        return ConsoleServices(
            bridge=bridge, hub=self.hub, clock=self.timers.clock,
            timezone=self.settings.timezone, users=self.users, directory=self.directory,
            agents=self.agents, calls=self.calls, phones=self.view.table,
            ami_connected=lambda: self.ami.connected, queues=self.queues,
            wallboard=self.wallboard.snapshot, desktop=self.desktop,
            desktop_settings=self.desktop_settings, flush_records=self.records.flush,
            supervision=self.supervision, recordings=self.recordings,
            recording_archive=self.recording_archive, retention=self.retention,
            next_run=self.scheduler.next_run, reports=self.reports,
            queue_names=lambda: list(config.queues()),
            agent_names=lambda: [a.username for a in accounts.accounts()],
            admin=self.admin, reload=self.reload, campaigns=self.campaigns,
            campaign_records=CampaignRepository(sessions), lead_imports=self.lead_imports,
            dialer=self.dialer, callbacks=self.callbacks,
            callback_records=CallbackRepository(sessions),
        )  # fmt: skip

    def _start_web(self) -> None:
        services = self.console_services(LoopBridge(asyncio.get_running_loop()))
        secret = ensure_secret(self.settings.state_dir, "web")
        app = create_app(services, secret)
        self.web = WebServer(app, self.settings.web.host, self.settings.web.port, self.hub)
        self.web.start()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.dialer.stop()  # outbound: no new calls placed
        self.timers.cancel_all()
        await self.scheduler.stop()  # supervisor area: timed jobs (recordings retention)
        self.wallboard.stop()  # wallboard: its push and wake-up timers
        if self.web is not None:
            await asyncio.to_thread(self.web.stop)
        await self.agi.stop()
        await self.ami.stop()
        await asyncio.to_thread(self.webhooks.stop)  # desktop: webhook workers
        await asyncio.to_thread(self.lead_imports.stop)  # campaigns: imports at a batch end
        await asyncio.to_thread(self.records.stop)
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
        # SIGHUP: the site definition changed (callcenter site load sends it).
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
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
