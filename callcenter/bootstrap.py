"""The composition root: every part is built and joined here, and only here."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.agi.agent_features import AgentFeatureRoute
from callcenter.adapters.agi.callback_routes import CallbackRoutes
from callcenter.adapters.agi.ivr_runner import IvrRunner
from callcenter.adapters.agi.outbound_routes import OutboundRoutes
from callcenter.adapters.agi.phone_codes import PhoneCodeRoute
from callcenter.adapters.agi.routes import CallRoutes
from callcenter.adapters.agi.server import FastAgiServer
from callcenter.adapters.ami.client import AmiClient
from callcenter.adapters.ami.commands import AmiPbx
from callcenter.adapters.ami.nodes import AmiLink, NodeLinks
from callcenter.adapters.ami.pbx_view import PbxView
from callcenter.adapters.db.agents import AgentRepository
from callcenter.adapters.db.callbacks import CallbackRepository
from callcenter.adapters.db.campaigns import CampaignRepository
from callcenter.adapters.db.config import ConfigRepository
from callcenter.adapters.db.customers import CustomerRepository
from callcenter.adapters.db.desktop_records import DesktopRecords
from callcenter.adapters.db.dial_refusals import DialRefusalRepository
from callcenter.adapters.db.dialer_store import DialerStore
from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.quality import QualityRepository
from callcenter.adapters.db.recording_archive import RecordingArchive
from callcenter.adapters.db.records_writer import RecordWriter
from callcenter.adapters.db.report_queries import ReportQueries
from callcenter.adapters.db.site_config import SiteConfigStore
from callcenter.adapters.db.site_settings import SiteSettings
from callcenter.adapters.db.survey_results import SurveyRepository
from callcenter.adapters.db.users import UserRepository
from callcenter.adapters.db.voicemails import VoicemailRepository
from callcenter.adapters.db.wallboard_history import CallEventHistory
from callcenter.adapters.http.fetch import fetch_json
from callcenter.adapters.http.webhooks import WebhookDispatcher
from callcenter.adapters.kamailio.process import KamailioProcess
from callcenter.adapters.kamailio.publisher import KamailioAgents
from callcenter.adapters.metrics.collector import CallCenterMetrics
from callcenter.adapters.ops.modes import make_state_dir
from callcenter.adapters.pbx.asterisk import AsteriskProcess
from callcenter.adapters.pbx.channel_log import ChannelLogFile, ChannelLogs
from callcenter.adapters.pbx.provider import choose_provider
from callcenter.adapters.pbx.publisher import NodePublishers, PbxConfigPublisher
from callcenter.adapters.pbx.secrets import read_secret
from callcenter.adapters.pbx.sounds import SitePrompts
from callcenter.adapters.pbx.spoken import SpokenPrompts
from callcenter.adapters.pbx.voicemail_spool import VoicemailInbox
from callcenter.adapters.web.console_server import ConsoleServer
from callcenter.adapters.web.hub import Hub
from callcenter.adapters.web.live import publish_event
from callcenter.config import ConfigError, Settings
from callcenter.core.acd.router import Router
from callcenter.core.acd.waits import WaitHistory
from callcenter.core.calls.live import CallBook
from callcenter.core.dialplan import Global, Route
from callcenter.core.events import AgentStateChanged, CallCompleted
from callcenter.core.model import SipAccount
from callcenter.core.phone_codes import check_codes, dynamic_features
from callcenter.core.voicemail import box_queues
from callcenter.scheduler.retention_job import add_retention_job
from callcenter.scheduler.runner import JobScheduler, site_zone
from callcenter.services.agents import AgentService
from callcenter.services.callbacks.dialer import CallbackDialer
from callcenter.services.callbacks.places import Callbacks
from callcenter.services.configuration import SiteConfiguration
from callcenter.services.console.admin import Admin
from callcenter.services.console.desktop import Desktop
from callcenter.services.console.desktop_settings import DesktopSettingsStore
from callcenter.services.console.quality import Quality
from callcenter.services.console.reports import Reports, SiteZone
from callcenter.services.console.retention import Retention
from callcenter.services.console.supervision import Supervision
from callcenter.services.console.wallboard import Wallboard
from callcenter.services.dial_guard import DialGuard
from callcenter.services.directory import AgentDirectory
from callcenter.services.flows import FlowDirectory
from callcenter.services.inbound.acd import Acd
from callcenter.services.inbound.arrival import Inbound
from callcenter.services.inbound.call_control import CallControl
from callcenter.services.inbound.conference import ConferenceParties
from callcenter.services.inbound.consult import Consultations
from callcenter.services.inbound.fallback import FallbackQueues
from callcenter.services.inbound.nailed import NailedLines
from callcenter.services.inbound.offering import Offering
from callcenter.services.inbound.phone_codes import PhoneCodes
from callcenter.services.inbound.queue_log import QueueLog
from callcenter.services.inbound.queueing import Queueing
from callcenter.services.inbound.recording import Recordings
from callcenter.services.inbound.recovery import Recovery
from callcenter.services.inbound.survey import Surveys
from callcenter.services.inbound.wait_timers import WaitTimers
from callcenter.services.notify import Notifier
from callcenter.services.outbound.campaigns import Campaigns
from callcenter.services.outbound.dialer import Dialer
from callcenter.services.outbound.dialer_calls import DialerCalls
from callcenter.services.outbound.lead_import import LeadImports
from callcenter.services.outbound.staff import CampaignStaff
from callcenter.services.ports import PbxUnavailable
from callcenter.services.queues import QueueDirectory
from callcenter.services.timers import Timers
from callcenter.subscriptions import (
    ami_table,
    domain_table,
    live,
    metrics_table,
    subscribe,
    subscribe_domain,
)

log = logging.getLogger(__name__)


@dataclass
class Storage:
    engine: Engine
    sessions: sessionmaker[Session]
    agents: AgentRepository
    config: ConfigRepository
    customers: CustomerRepository


def build_storage(settings: Settings) -> Storage:
    make_state_dir(settings.state_dir)
    engine = make_engine(settings.database_url)
    sessions = make_sessions(engine)
    return Storage(
        engine,
        sessions,
        AgentRepository(sessions),
        ConfigRepository(sessions),
        CustomerRepository(sessions),
    )


def build_asterisk(settings: Settings) -> AsteriskProcess:
    return AsteriskProcess(settings, choose_provider(settings.pbx))


def build_prompts(settings: Settings) -> SitePrompts:
    """Which prompts can be played: the Asterisk in use's sounds and the site's own."""
    return SitePrompts(choose_provider(settings.pbx), settings.site_dir)


def ami_secret(settings: Settings) -> str:
    secret = settings.ami.secret or read_secret(settings.state_dir, "ami")
    if not secret:
        raise ConfigError(
            f"no AMI secret in {settings.state_dir}/secrets: run `callcenter pbx up` first"
        )
    return secret


def build_ami(settings: Settings) -> AmiLink:
    """One AMI link to the local Asterisk, or one per node ([[pbx.nodes]])."""
    if not settings.pbx.nodes:
        return AmiClient(settings.ami, ami_secret(settings))
    return NodeLinks(
        (
            AmiClient(settings.node_settings(node.name).ami, node.ami_secret(), node.name)
            for node in settings.pbx.nodes
        ),
        phones_via_proxy=settings.kamailio.phones,
    )


def build_publisher(
    settings: Settings, asterisk: AsteriskProcess, ami: AmiLink
) -> PbxConfigPublisher | NodePublishers:
    """Where the agents' endpoints, voicemail and plain queues are published: the local
    Asterisk's configuration, or each node's (its state directory, mounted here)."""
    if not isinstance(ami, NodeLinks):
        return PbxConfigPublisher(settings, asterisk.layout(), ami)
    publishers = []
    for name, link in ami.links.items():
        node = settings.node_settings(name)
        publishers.append(PbxConfigPublisher(node, asterisk.provider.layout(node.pbx_dir), link))
    return NodePublishers(publishers)


def node_recordings(settings: Settings, asterisk: AsteriskProcess) -> dict[str, Path]:
    """Each node's recordings folder as the controller reads it (its state directory,
    mounted here); none on a single box."""
    roots = {}
    for node in settings.pbx.nodes:
        layout = asterisk.provider.layout(node.state_dir / "pbx")
        roots[node.name] = layout.host_dir / "spool" / "recordings"
    return roots


def node_voicemail(settings: Settings, asterisk: AsteriskProcess) -> dict[str, Path]:
    """Each node's voicemail spool as the controller reads it; none on a single box."""
    return {
        node.name: asterisk.provider.layout(node.state_dir / "pbx").host_dir
        / "spool" / "voicemail" / "callcenter"
        for node in settings.pbx.nodes
    }  # fmt: skip


def node_channel_logs(settings: Settings, asterisk: AsteriskProcess) -> ChannelLogs | None:
    """Every node's channel event log, read together (recovery); None on a single box."""
    if not settings.pbx.nodes:
        return None
    logs = [
        ChannelLogFile(asterisk.provider.layout(node.state_dir / "pbx").host_dir / "log")
        for node in settings.pbx.nodes
    ]
    return ChannelLogs(logs)


class CallCenter:
    """Every part of the running call center, built through its constructor and
    joined here. Starting, stopping and reloading are callcenter/runtime.py's."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.storage = build_storage(settings)
        self.asterisk = build_asterisk(settings)
        layout = self.asterisk.layout()
        self.ami = build_ami(settings)
        self.pbx = AmiPbx(self.ami)
        self.agi = FastAgiServer(
            settings.agi, {node.agi_address: node.name for node in settings.pbx.nodes}
        )
        self.notifier = Notifier()
        self.timers = Timers()
        self.view = PbxView(self.ami, lambda: [a.username for a in self.directory.accounts()])
        self.calls = CallBook()
        self.queues = QueueDirectory()
        self.flows = FlowDirectory()
        self.router = Router({})
        self.wait_history = WaitHistory()
        self.directory = AgentDirectory(self.storage.agents)
        self.pbx_config = build_publisher(settings, self.asterisk, self.ami)
        self.kamailio_agents = KamailioAgents(KamailioProcess(settings))
        self.agents = AgentService(
            self.router, self.pbx, self.view.table, self.notifier, self.timers
        )
        self.fallback = FallbackQueues(self.pbx, self.agents, self.queues)
        self.configuration = SiteConfiguration(
            self.storage.config,
            self.router,
            self.queues,
            self.flows,
            self.agents,
            self.pbx_config,
            self.fallback,
        )
        self._build_acd()
        self.recordings = Recordings(
            self.pbx,
            self.notifier,
            self.calls,
            inner_root=f"{layout.inner_dir}/spool/recordings",
            host_root=layout.host_dir / "spool" / "recordings",
            node_roots=node_recordings(settings, self.asterisk),
        )
        # Call records on their own thread; if the database goes away they wait (memory,
        # then the journal) and are written in order when it is back.
        database = settings.database
        self.records = RecordWriter(
            self.storage.sessions,
            memory=database.records_memory,
            cap=database.records_cap,
            journal=settings.records_journal,
        )
        self.queue_log = QueueLog(self.pbx)
        self.recovery = Recovery(
            self.pbx,
            self.calls,
            self.acd,
            self.agents,
            self.notifier,
            self.storage.config,
            node_channel_logs(settings, self.asterisk) or ChannelLogFile(layout.host_dir / "log"),
            self.timers.clock,
        )
        self.users = UserRepository(self.storage.sessions)
        # The dial policy ([dial_policy]): every number dialled or booked is vetted, every
        # refusal audited (dial_refusals); the booking limits live in memory.
        self.dial_refusals = DialRefusalRepository(self.storage.sessions)
        self.dial_guard = DialGuard(settings.dial_policy, self.dial_refusals, self.timers.clock)
        self.hub = Hub()
        self.web: ConsoleServer | None = None
        self._build_console()
        self._build_callbacks()
        self._build_inbound()
        self._build_outbound()
        # Prometheus metrics ([metrics] enabled): served by runtime.py on their own thread.
        self.metrics: CallCenterMetrics | None = None
        if settings.metrics.enabled:
            self.metrics = CallCenterMetrics(
                lambda: self.ami.connected, self.records.backlog, self.timers.clock
            )
        self._wire()

    def _build_acd(self) -> None:
        # The ACD by concern: the line, offering to agents, the line's clocks.
        wait_timers = WaitTimers(self.timers, self.router)
        self.queueing = queueing = Queueing(
            self.router, self.agents, self.calls, self.queues, self.notifier,
            self.wait_history, wait_timers,
        )  # fmt: skip
        offering = Offering(
            self.router, self.agents, self.pbx, self.calls, self.queues, self.notifier,
            queueing, wait_timers, self.wait_history,
        )  # fmt: skip
        self.acd = Acd(
            self.router, queueing, offering, wait_timers, self.agents, self.view.table,
            self.pbx, self.notifier, self.calls, self.queues, self.timers,
        )  # fmt: skip
        # Always-connected agents ([sip] nailed, [sip.agents.NAME] nailed): their line.
        self.nailed = NailedLines(
            self.settings.sip.nailed_for, self.pbx, self.pbx, self.agents, offering,
            self.calls, self.queues, self.timers.clock,
        )  # fmt: skip
        self.agents.lines = self.nailed

    def _build_inbound(self) -> None:
        # The inbound use case behind the FastAGI routes of dialplan/route.conf; the
        # post-call survey runs in the dial-result route once the agent hangs up.
        surveys = Surveys(
            self.notifier, self.queues, self.timers.clock, self.recordings.comment_paths
        )
        self.inbound = Inbound(
            self.acd, self.calls, self.flows, self.queues, self.notifier,
            self.recordings, self.callbacks, self.timers.clock,
            self.settings.dial_policy.country, surveys,
        )  # fmt: skip
        self.routes = CallRoutes(
            self.inbound,
            IvrRunner(self.storage.customers, fetch_json),
            self.ami.via if isinstance(self.ami, NodeLinks) else None,
        )
        # Hold, resume and transfers by the agent on the call (desktop and API); outside
        # numbers through the dial policy and the first outbound trunk with a contact.
        trunk = next((t.name for t in self.settings.trunks if t.contact), "")
        self.call_control = CallControl(
            self.calls, self.agents, self.acd, self.pbx, self.queues, self.notifier,
            self.timers.clock, self.settings.transfers.keep_arrival, self.dial_guard,
            lambda: trunk, self.settings.transfers.avoid_sender,
        )  # fmt: skip
        # Consult, then complete (an always-connected target's line on another node is
        # reached over the inter-node trunk: AmiPbx.via).
        self.consults = Consultations(self.call_control, self.pbx, self.pbx.via)
        # More parties in a conference, up to [transfers] conference_max in all.
        self.conference = ConferenceParties(
            self.consults, self.pbx, self.settings.transfers.conference_max
        )
        # The same actions by codes pressed on the agent's phone (core/phone_codes.py).
        transfers = self.settings.transfers
        codes = check_codes(transfers.codes) if transfers.phone_codes else {}
        self.call_control.phone_codes = dynamic_features(codes)
        agents = self.storage.agents
        self.phone_codes = PhoneCodes(
            self.call_control, self.consults, codes,
            lambda ext: next((a.username for a in agents.accounts() if a.extension == ext), None),
            lambda: list(self.queues.queues),
        )  # fmt: skip
        self.call_control.lines = self.nailed  # always-connected agents: lines kept
        # After a restart: the lines still up are adopted, consultations ended.
        self.recovery.after_adoption = (
            self.nailed.recover, self.consults.recover, self.conference.recover,
        )  # fmt: skip
        self.agent_features = AgentFeatureRoute(
            self.agents, self.timers.clock, lambda: self.desktop_settings.current.pause_reasons
        )

    # -- console areas: each builds its own services here ------------------------------------
    def _build_console(self) -> None:
        zone = ZoneInfo(self.settings.timezone) if self.settings.timezone else None
        # Every domain event updates the board; each picture goes to the console's
        # hub once, which hands the same bytes to every open wallboard.
        self.wallboard = Wallboard(
            self.agents,
            self.directory,
            self.calls,
            self.queues,
            CallEventHistory(self.storage.sessions).since,
            self.records,
            self.timers.clock,
            zone,
            # Today's post-call surveys, read once at start (then SurveyFinished events).
            survey_history=lambda since: SurveyRepository(self.storage.sessions).between(
                since, self.timers.clock() + 3600
            ),
            # [[pbx.nodes]]: each node's AMI link, pushed as it goes up or down.
            nodes=self.ami.connected_nodes if isinstance(self.ami, NodeLinks) else None,
        )
        # Screen pops and wrap-up; CRM webhooks get every call event, and follow the
        # settings whenever an administrator saves them.
        self.desktop_settings = DesktopSettingsStore(SiteSettings(self.storage.sessions))
        self.webhooks = WebhookDispatcher()
        self.desktop = Desktop(
            self.calls,
            self.agents,
            self.notifier,
            DesktopRecords(self.storage.sessions, self.storage.customers),
            self.desktop_settings,
            self.hub.publish,
            self.timers.clock,
            zone,
            # From the queues as loaded (not a database read per screen pop).
            lambda: {n: q.repeat_window_hours for n, q in self.queues.queues.items()},
            self.hub.wanted,
        )
        # Listen / whisper / barge: calls to the supervisor's phone, followed over AMI.
        self.supervision = Supervision(
            self.pbx, self.directory, self.view.table, self.calls, self.timers
        )
        # Recordings: search and playback, deletion after the retention period.
        self.recording_archive = RecordingArchive(self.storage.sessions)
        # QA: evaluation forms, supervisors' scores of recordings, agents' acknowledgements.
        self.quality = Quality(QualityRepository(self.storage.sessions), self.timers.clock)
        # Voicemail: messages left in the queues' boxes, found in the spool on a timer.
        queues = self.queues
        self.voicemail = VoicemailInbox(
            VoicemailRepository(self.storage.sessions),
            self.asterisk.layout().host_dir / "spool" / "voicemail" / "callcenter",
            lambda: box_queues({n: q.voicemail_boxes() for n, q in queues.queues.items()}),
            lambda: self.settings.dial_policy.country,
            node_voicemail(self.settings, self.asterisk),
        )
        self.retention = Retention(
            self.recording_archive,
            self.recordings,
            SiteSettings(self.storage.sessions),
            self.users,
            self.timers.clock,
            self.voicemail,  # messages kept as long as recordings
        )
        self.scheduler = JobScheduler(site_zone(self.settings.timezone))
        add_retention_job(self.scheduler, self.retention)
        # Reports and administration read and write the database from the console's
        # threads; an admin's save then reloads the configuration on the loop.
        config = self.storage.config
        self.survey_results = SurveyRepository(self.storage.sessions)
        self.reports = Reports(
            ReportQueries(self.storage.sessions),
            lambda: {name: q.service_level_target for name, q in config.queues().items()},
            SiteZone.from_setting(self.settings.timezone),
            self.timers.clock,
            lambda: {name: q.repeat_window_hours for name, q in config.queues().items()},
            self.survey_results,
        )
        # A flow or queue naming a prompt nobody can play is refused (core/prompts.py).
        prompts = SitePrompts(self.asterisk.provider, self.settings.site_dir)
        self.admin = Admin(SiteConfigStore(self.storage.sessions), self.users, prompts)
        # Campaign administration: settings, leads by API and CSV import (its own
        # thread, progress in lead_imports), DNC lists, progress figures.
        repository = CampaignRepository(self.storage.sessions)
        self.campaigns = Campaigns(repository, self.timers.clock, self.dial_guard)
        folder = self.settings.state_dir / "imports"
        self.lead_imports = LeadImports(repository, self.campaigns, folder, self.timers.clock)

    def _build_callbacks(self) -> None:
        # Kept places and booked times hold places in the ACD's line; when one gets its
        # agent, the callback dialer rings the customer through the first trunk with a
        # contact (dialplan/callback.conf: AMD, then cc-connect).
        repo = CallbackRepository(self.storage.sessions)
        dnc = DialerStore(self.storage.sessions)

        def dnc_scopes(number: str) -> list[str]:
            return dnc.dnc_scopes(number, "")

        self.callbacks = Callbacks(
            repo, self.acd, self.calls, self.queues, self.notifier, self.timers,
            self.scheduler, dnc_scopes, self.recordings.relative_path, self.dial_guard,
        )  # fmt: skip
        trunk = next((t.name for t in self.settings.trunks if t.contact), "")
        self.callback_dialer = CallbackDialer(
            self.callbacks, repo, self.acd, self.agents, self.calls, self.queues,
            self.notifier, self.timers, self.pbx, lambda: trunk,
            self.recordings.asterisk_path, dnc_scopes, self.dial_guard,
        )  # fmt: skip
        if isinstance(self.ami, NodeLinks):  # customers dialled on the least busy node
            self.callback_dialer.pick_node = self.ami.pick_node
        self.acd.hand_callbacks_to(self.callback_dialer.turn)
        self.callback_routes = CallbackRoutes(
            self.callback_dialer, self.ami.via if isinstance(self.ami, NodeLinks) else None
        )

    def _build_outbound(self) -> None:
        # Campaigns: the dialer's loop places calls through the campaign's trunk;
        # answered calls come back over FastAGI (dialplan/outbound.conf).
        store = DialerStore(self.storage.sessions)
        staff = CampaignStaff(self.agents, self.queues)
        self.dialer_calls = DialerCalls(
            store,
            self.agents,
            self.calls,
            self.notifier,
            self.recordings,
            self.timers,
            staff,
            self.acd,
        )
        trunk = next((t.name for t in self.settings.trunks if t.contact), "")
        self.dialer = Dialer(
            store,
            self.agents,
            self.queues,
            self.pbx,
            self.dialer_calls,
            staff,
            self.timers,
            trunk,
            SpokenPrompts(self.settings, self.asterisk.layout()).make,
            self.dial_guard,
            frozenset(t.name for t in self.settings.trunks if t.contact),
            self.ami.pick_node if isinstance(self.ami, NodeLinks) else None,
        )
        self.outbound_routes = OutboundRoutes(
            self.dialer_calls, self.ami.via if isinstance(self.ami, NodeLinks) else None
        )

    def _wire(self) -> None:
        # Asterisk's events: one table (callcenter/subscriptions.py).
        subscribe(
            self.ami,
            ami_table(
                self.view,
                self.acd,
                self.callback_dialer,
                self.dialer_calls,
                self.supervision,
                self.recovery,
                self.nailed,
                self.conference,
            ),
        )
        # After every AMI login: agents' endpoints first, then the picture of Asterisk,
        # then what follows it in this order: calls and agents rebuilt (recovery), voicemail
        # boxes reloaded if due, spy sessions checked against the channels.
        if isinstance(self.ami, NodeLinks):  # a node down: its campaign calls given up
            links = self.ami
            self.ami.on_link_change(lambda: self.dialer.nodes_changed(links.connected_nodes()))
        if self.settings.agi.controllers:  # two controllers: the nodes' FastAGI is ours
            self.ami.on_connected(self.announce_agi)
        self.ami.on_connected(self._sync_agents)
        self.ami.on_connected(self.view.resync)
        self.view.on_resync(self.recovery.run)
        self.view.on_resync(self.fallback.resync)
        self.view.on_resync(self.pbx_config.after_resync)
        self.view.on_resync(self.supervision.resync)
        self.view.on_endpoint_change(self.agents.maybe_available)
        self.agents.on_available(self.acd.agent_available)
        # Domain events: who acts on which (callcenter/subscriptions.py), then the
        # subscribers of every event: records, the console's live pushes, the
        # wallboard, webhooks.
        subscribe_domain(
            self.notifier,
            domain_table(
                self.recordings,
                self.queue_log,
                self.desktop,
                self.dialer_calls,
                self.fallback,
                self.queueing,
            ),
        )
        self.notifier.subscribe(AgentStateChanged, self.nailed.on_agent_state)
        self.notifier.subscribe(CallCompleted, self.conference.on_completed)
        self.notifier.subscribe_all(self.records.submit)
        self.notifier.subscribe_all(lambda event: publish_event(self.hub, event))
        self.notifier.subscribe_all(self.wallboard.on_event)
        self.notifier.subscribe_all(self.webhooks.submit)
        self.wallboard.on_publish(lambda board: self.hub.publish("wallboard", board.payload()))
        self.records.on_change(self.wallboard.changed_soon)  # records behind, caught up
        if isinstance(self.ami, NodeLinks):  # a node's link up or down: on the board
            self.ami.on_link_change(self.wallboard.changed)
        self.desktop_settings.on_change(lambda s: self.webhooks.configure(s.crm.webhooks))
        self.supervision.on_change(
            lambda session: self.hub.publish("agents", {"type": "SpySession", **session.as_dict()})
        )
        # FastAGI routes (each context of dialplan/ names its route: core/dialplan.py).
        routes = {
            Route.INBOUND: self.routes.arrived,
            Route.DIAL_RESULT: self.routes.dial_result,
            Route.ANNOUNCE: self.routes.announce,
            Route.TRANSFERRED: self.routes.transferred,
            Route.AGENT_FEATURE: self.agent_features.handle,
            Route.PHONE_CODE: PhoneCodeRoute(self.phone_codes).handle,
            Route.CALLBACK_ANSWER: self.callback_routes.answered,
            Route.CALLBACK_AGENT_RESULT: self.callback_routes.agent_result,
            Route.OUTBOUND_ANSWERED: self.outbound_routes.answered,
            Route.OUTBOUND_RESULT: self.outbound_routes.result,
        }
        for route, handler in routes.items():
            self.agi.add_route(route, handler)
        if self.metrics is not None:
            self._wire_metrics(self.metrics)

    def _wire_metrics(self, metrics: CallCenterMetrics) -> None:
        # Domain events (callcenter/subscriptions.py), the wallboard's pictures (queues,
        # agents), every FastAGI request, every number the dial policy refused.
        subscribe_domain(self.notifier, metrics_table(metrics))
        self.notifier.subscribe_all(live(metrics.on_event))
        self.wallboard.on_publish(metrics.on_board)
        self.agi.on_request(metrics.on_agi_request)
        self.dial_guard.on_refusal(metrics.on_dial_refusal)

    async def announce_agi(self) -> None:
        """Two controllers on two hosts ([agi] controllers): tell every node the active
        controller's FastAGI address (the dialplan's CC_AGI). Fenced: a standby or a
        fenced old leader says nothing. Also sent with each heartbeat (runtime.py)."""
        try:
            await self.pbx.set_global(Global.AGI_URL.value, self.settings.agi.url())
        except PbxUnavailable as exc:
            log.info("FastAGI address not announced: %s", exc)

    async def _sync_agents(self) -> None:
        await self._agents_changed(self.directory.accounts())

    async def _agents_changed(self, accounts: list[SipAccount]) -> None:
        # An agent added or removed: their endpoint, then their skills and state.
        await self.pbx_config.publish_agents(accounts)
        # Then Kamailio's digests (phones registering there): a phone let in finds its
        # AOR on the nodes already.
        await self.kamailio_agents.publish_agents(accounts)
        await self.configuration.reload()
