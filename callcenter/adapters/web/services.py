"""What the console may reach: the services and ports its views use, and nothing else.

The composition root (bootstrap.Controller.console_services) builds one
``ConsoleServices``; ``create_app`` keeps it in ``app.extensions`` and views
read it with ``services()``. Where a view needs one small thing of a larger
object (is the AMI link up, reload the configuration, when the retention job
runs next), it gets that thing as a callable, or a protocol of the few methods
it calls.

Live state (agents, calls, phones, spy sessions) is read and changed only on
the controller's loop, through ``bridge``; the database-backed services are
called from the Flask threads directly.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import current_app

from callcenter.adapters.db.recording_archive import RecordingArchive
from callcenter.adapters.db.users import UserRepository
from callcenter.adapters.pbx.voicemail_spool import VoicemailInbox
from callcenter.adapters.web.bridge import LoopBridge
from callcenter.adapters.web.hub import Hub
from callcenter.config import SipSettings
from callcenter.core.calls.live import LiveCall
from callcenter.core.calls.state import CallState
from callcenter.core.channels import Channel
from callcenter.core.records_backlog import RecordsBacklog
from callcenter.services.agents import AgentService
from callcenter.services.callbacks.places import Callbacks
from callcenter.services.console.admin import Admin
from callcenter.services.console.desktop import Desktop
from callcenter.services.console.desktop_settings import DesktopSettingsStore
from callcenter.services.console.quality import Quality
from callcenter.services.console.reports import Reports
from callcenter.services.console.retention import Retention
from callcenter.services.console.supervision import Supervision
from callcenter.services.console.wallboard_snapshot import WallboardOut
from callcenter.services.directory import AgentDirectory
from callcenter.services.inbound.call_control import CallControl
from callcenter.services.inbound.conference import ConferenceParties
from callcenter.services.inbound.consult import Consultations
from callcenter.services.inbound.recording import Recordings
from callcenter.services.outbound.campaigns import Campaigns
from callcenter.services.outbound.dialer import Dialer
from callcenter.services.outbound.lead_import import LeadImports
from callcenter.services.queues import QueueDirectory
from callcenter.services.repositories import DialRefusals


class LiveCalls(Protocol):
    """The calls in progress, as the console reads them (on the loop)."""

    def all(self) -> list[LiveCall]: ...

    def in_state(self, *states: CallState) -> list[LiveCall]: ...

    def __len__(self) -> int: ...


class Phones(Protocol):
    """Agents' phones as Asterisk reports them (on the loop)."""

    def registered(self, endpoint: str) -> bool: ...

    def on_endpoint(self, endpoint: str) -> list[Channel]: ...


@dataclass(frozen=True, kw_only=True)
class ConsoleServices:
    # -- crossing to the controller's loop, live pushes, time and place -----------------
    bridge: LoopBridge
    hub: Hub
    clock: Callable[[], float]
    timezone: str  # the site's IANA zone; "" means the machine's own
    # -- who is asking, and the audit log --------------------------------------------
    users: UserRepository
    # -- agents, calls and phones (live state: read on the loop) ---------------------
    directory: AgentDirectory
    agents: AgentService
    calls: LiveCalls
    phones: Phones
    ami_connected: Callable[[], bool]
    # Several nodes ([[pbx.nodes]]): each node's AMI link up or not; {} on one box.
    pbx_nodes: Callable[[], dict[str, bool]] = dict
    records: Callable[[], RecordsBacklog]  # how far the call records are behind (any thread)
    queues: QueueDirectory
    # -- areas ----------------------------------------------------------------------
    wallboard: Callable[[], WallboardOut]  # the whole picture now (on the loop)
    desktop: Desktop
    call_control: CallControl  # hold, resume, transfers (on the loop)
    desktop_settings: DesktopSettingsStore
    flush_records: Callable[[float], bool]  # wait (seconds) until call records are written
    supervision: Supervision
    recordings: Recordings  # live calls' recordings: pause, and files on disk
    recording_archive: RecordingArchive
    retention: Retention
    next_run: Callable[[str], float | None]  # when a scheduled job runs next (epoch seconds)
    reports: Reports
    queue_names: Callable[[], list[str]]  # as stored (the reports' filters)
    agent_names: Callable[[], list[str]]  # active agents, as stored
    admin: Admin
    reload: Callable[[], Coroutine[Any, Any, None]]  # apply a saved change (on the loop)
    campaigns: Campaigns
    lead_imports: LeadImports
    dialer: Dialer
    callbacks: Callbacks
    dial_refusals: DialRefusals  # the audit of refused numbers (read from any thread)
    voicemail: VoicemailInbox  # messages left in the queues' boxes (any thread)
    quality: Quality  # QA forms and evaluations of recordings (any thread)
    sip: SipSettings = field(default_factory=SipSettings)  # which agents have a browser phone
    consults: Consultations | None = None  # consultation transfers (on the loop)
    conference: ConferenceParties | None = None  # more parties in a conference (on the loop)
    # The call-control codes keyed on the agent's phone, by action (none: codes off).
    phone_codes: dict[str, str] = field(default_factory=dict)


def services() -> ConsoleServices:
    """The services of the app handling this request."""
    found: ConsoleServices = current_app.extensions["callcenter"]
    return found
