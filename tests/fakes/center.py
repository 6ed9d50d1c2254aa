"""The call center's services, built and joined as the composition root does
(callcenter/bootstrap.py), over in-memory fakes: no database, no Asterisk,
no sockets, and a clock that moves only when the test says (``advance``).

What is real: every service (agents, the ACD by concern, recovery, the inbound
use case, callbacks and their dialer, the outbound dialer and its calls,
recordings' paths, queue_log), the router, the channel table kept by the AMI
view's handlers, and the two event tables of callcenter/subscriptions.py.
What is fake: the PBX (tests/fakes/pbx.py), storage (tests/fakes/repositories.py),
the timers and the job scheduler (tests/fakes/clock.py), and the desktop's
screen pops (its handler of CallOffered is left out: it reads a database).

The helpers below play Asterisk's part: a phone registers, an agent's phone
rings (Newchannel, DialBegin), answers (DialEnd), a channel hangs up (Hangup),
each through the same AMI table as in production.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar, cast

from callcenter.adapters.ami.client import AmiClient
from callcenter.adapters.ami.pbx_view import PbxView
from callcenter.core import pbx_events as ev
from callcenter.core.acd.agent_state import AgentStatus
from callcenter.core.acd.router import Router
from callcenter.core.acd.waits import WaitHistory
from callcenter.core.calls.live import CallBook, LiveCall
from callcenter.core.dial_policy import DialPolicy
from callcenter.core.dialplan import Decision
from callcenter.core.events import AgentStateChanged, Event
from callcenter.core.hours import Schedule
from callcenter.core.queues import QueueSettings
from callcenter.services.agents import AgentService
from callcenter.services.callbacks.dialer import CallbackDialer
from callcenter.services.callbacks.places import Callbacks
from callcenter.services.console.desktop import Desktop
from callcenter.services.console.supervision import Supervision
from callcenter.services.dial_guard import DialGuard
from callcenter.services.flows import FlowDirectory
from callcenter.services.inbound.acd import Acd
from callcenter.services.inbound.arrival import Inbound
from callcenter.services.inbound.call_control import CallControl
from callcenter.services.inbound.fallback import FallbackQueues
from callcenter.services.inbound.nailed import NailedLines
from callcenter.services.inbound.offering import Offering
from callcenter.services.inbound.queue_log import QueueLog
from callcenter.services.inbound.queueing import Queueing
from callcenter.services.inbound.recording import Recordings
from callcenter.services.inbound.recovery import Recovery
from callcenter.services.inbound.survey import Surveys
from callcenter.services.inbound.wait_timers import WaitTimers
from callcenter.services.notify import Notifier
from callcenter.services.outbound.dialer import Dialer
from callcenter.services.outbound.dialer_calls import DialerCalls
from callcenter.services.outbound.staff import CampaignStaff
from callcenter.services.queues import QueueDirectory
from callcenter.subscriptions import ami_table, domain_table, subscribe, subscribe_domain
from tests.fakes.clock import ManualScheduler, ManualTimers
from tests.fakes.pbx import FakeCallerLine, FakeChannelLog, FakePbx, FakePbxEvents
from tests.fakes.repositories import (
    FakeCallbackRepository,
    FakeCallRecords,
    FakeDialerStore,
    FakeDialRefusals,
)

# Tuesday 17 June 2025, 15:00 UTC: 11:00 in New York, inside every default calling window.
T0 = 1_750_172_400.0
TRUNK = "carrier"
# The site's policy in these tests: the countries of the test numbers, default types.
DIAL_POLICY = DialPolicy(country="US", allowed_countries=("GB", "DE", "FR", "JP", "AU", "AE"))
RECORDINGS = "/var/spool/asterisk/recordings"
SETTLE_SECONDS = 5.0  # a safety net: the tasks are in-memory work and thread hops
E = TypeVar("E", bound=Event)


class _NoScreenPops:
    """The desktop's place in the domain table; its screen pop reads the database."""

    def on_call_offered(self, event: object) -> None:
        return None


class Center:
    def __init__(self, start: float = T0) -> None:
        self.timers = ManualTimers(start)
        self.notifier = Notifier()
        self.published: list[Event] = []
        self.notifier.subscribe_all(self.published.append)
        self.pbx = FakePbx()
        self.ami = FakePbxEvents()
        # The view's event handlers never use the AMI link (only its resync does).
        self.view = PbxView(cast(AmiClient, None))
        self.channels = self.view.table
        self.calls = CallBook()
        self.queues = QueueDirectory()
        self.flows = FlowDirectory()
        self.router = Router({})
        self.wait_history = WaitHistory()
        self.agents = AgentService(self.router, self.pbx, self.channels, self.notifier, self.timers)
        self._build_acd()
        self.recordings = Recordings(
            self.pbx, self.notifier, self.calls, RECORDINGS, Path("/nonexistent/recordings")
        )
        self.queue_log = QueueLog(self.pbx)
        self.records = FakeCallRecords()
        self.channel_log = FakeChannelLog()
        self.recovery = Recovery(
            self.pbx, self.calls, self.acd, self.agents, self.notifier, self.records,
            self.channel_log, self.timers.clock,
        )  # fmt: skip
        self.fallback = FallbackQueues(self.pbx, self.agents, self.queues)
        self.supervision = Supervision(self.pbx, {}, self.channels, self.calls, self.timers)
        self._build_callbacks()
        self.surveys = Surveys(
            self.notifier, self.queues, self.timers.clock, self.recordings.comment_paths
        )
        self.inbound = Inbound(
            self.acd, self.calls, self.flows, self.queues, self.notifier,
            self.recordings, self.callbacks, self.timers.clock, "US", self.surveys,
        )  # fmt: skip
        self._build_outbound()
        self._wire()
        self._ids = itertools.count(1)

    def _build_acd(self) -> None:
        self.wait_timers = WaitTimers(self.timers, self.router)
        self.queueing = Queueing(
            self.router, self.agents, self.calls, self.queues, self.notifier,
            self.wait_history, self.wait_timers,
        )  # fmt: skip
        self.offering = Offering(
            self.router, self.agents, self.pbx, self.calls, self.queues, self.notifier,
            self.queueing, self.wait_timers, self.wait_history,
        )  # fmt: skip
        self.acd = Acd(
            self.router, self.queueing, self.offering, self.wait_timers, self.agents,
            self.channels, self.pbx, self.notifier, self.calls, self.queues, self.timers,
        )  # fmt: skip
        self.nailed_agents: set[str] = set()  # always-connected agents (tests add them)
        self.nailed = NailedLines(
            self.nailed_agents.__contains__, self.pbx, self.pbx, self.agents, self.offering,
            self.calls, self.queues, self.timers.clock,
        )  # fmt: skip
        self.agents.lines = self.nailed

    def _build_callbacks(self) -> None:
        self.callback_repo = FakeCallbackRepository()
        self.store = FakeDialerStore()  # its DNC lists serve callbacks too, as in production
        self.scheduler = ManualScheduler(self.timers)
        self.dial_refusals = FakeDialRefusals()
        self.dial_guard = DialGuard(DIAL_POLICY, self.dial_refusals, self.timers.clock)
        self.call_control = CallControl(
            self.calls, self.agents, self.acd, self.pbx, self.queues, self.notifier,
            self.timers.clock, True, self.dial_guard, lambda: TRUNK,
        )  # fmt: skip
        self.call_control.lines = self.nailed
        self.recovery.after_adoption = (self.nailed.recover,)

        def dnc_scopes(number: str) -> list[str]:
            return self.store.dnc_scopes(number, "")

        self.callbacks = Callbacks(
            self.callback_repo, self.acd, self.calls, self.queues, self.notifier, self.timers,
            self.scheduler, dnc_scopes, self.recordings.relative_path, self.dial_guard,
        )  # fmt: skip
        self.callback_dialer = CallbackDialer(
            self.callbacks, self.callback_repo, self.acd, self.agents, self.calls, self.queues,
            self.notifier, self.timers, self.pbx, lambda: TRUNK,
            self.recordings.asterisk_path, dnc_scopes, self.dial_guard,
        )  # fmt: skip
        self.acd.hand_callbacks_to(self.callback_dialer.turn)

    def _build_outbound(self) -> None:
        self.staff = CampaignStaff(self.agents, self.queues)
        self.dialer_calls = DialerCalls(
            self.store, self.agents, self.calls, self.notifier, self.recordings, self.timers,
            self.staff, self.acd,
        )  # fmt: skip
        self.prompts_made: list[tuple[str, str]] = []
        self.dialer = Dialer(
            self.store, self.agents, self.queues, self.pbx, self.dialer_calls, self.staff,
            self.timers, TRUNK, self._make_prompt, self.dial_guard, frozenset({TRUNK}),
        )  # fmt: skip

    async def _make_prompt(self, name: str, text: str) -> str:
        self.prompts_made.append((name, text))
        return f"custom/{name}"

    def _wire(self) -> None:
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
            ),
        )
        self.notifier.subscribe(AgentStateChanged, self.nailed.on_agent_state)
        self.view.on_endpoint_change(self.agents.maybe_available)
        self.agents.on_available(self.acd.agent_available)
        desktop = cast(Desktop, _NoScreenPops())
        subscribe_domain(
            self.notifier,
            domain_table(
                self.recordings,
                self.queue_log,
                desktop,
                self.dialer_calls,
                self.fallback,
                self.queueing,
            ),
        )

    # -- the site's configuration -----------------------------------------------------------
    def configure(
        self,
        queues: list[QueueSettings],
        agents: Mapping[str, Mapping[str, int]],
        schedules: Mapping[str, Schedule] | None = None,
        flows: Mapping[str, tuple[Mapping[str, Any], list[str]]] | None = None,
        statuses: Mapping[str, AgentStatus] | None = None,
    ) -> None:
        """As SiteConfiguration.reload applies it: router, queues, flows, agents
        (``statuses``: agents' last stored states, used when the agents are new)."""
        by_name = {q.name: q for q in queues}
        self.router.set_queues({name: q.to_config() for name, q in by_name.items()})
        self.queues.load(by_name, dict(schedules or {}))
        self.flows.load(dict(flows or {}), queues=set(by_name), schedules=set(schedules or {}))
        self.agents.load(agents, dict(statuses or {}), set(), self.now)

    # -- time ---------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.timers.now

    async def advance(self, seconds: float) -> None:
        await self.timers.advance(seconds)
        await self.settle()

    async def settle(self) -> None:
        """Wait for the tasks the services started (the notifier's asynchronous
        subscribers: queue_log, the dialled calls' lead updates) to finish."""
        current = asyncio.current_task()
        while True:
            pending = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
            if not pending:
                return
            _, still = await asyncio.wait(pending, timeout=SETTLE_SECONDS)
            if still:
                raise TimeoutError(f"tasks still running after {SETTLE_SECONDS} s: {still}")

    # -- what was published ---------------------------------------------------------------------
    def of(self, kind: type[E]) -> list[E]:
        return [event for event in self.published if isinstance(event, kind)]

    def kinds(self, call_id: str) -> list[str]:
        """The names of the call's own events, in order (its agents' state changes left out)."""
        return [
            type(event).__name__
            for event in self.published
            if getattr(event, "call_id", None) == call_id
            and not isinstance(event, AgentStateChanged)
        ]

    # -- agents -------------------------------------------------------------------------------
    def register(self, agent: str) -> None:
        self.channels.set_contact(agent, "Reachable", f"sip:{agent}@192.0.2.10:5060")

    async def ready(self, *agents: str) -> None:
        """Each agent's phone registered, then the agent logged in (ready)."""
        for agent in agents:
            self.register(agent)
            await self.agents.login(agent, self.now)

    def state(self, agent: str) -> str:
        return self.agents.status(agent).state.value

    # -- callers ------------------------------------------------------------------------------
    def next_id(self) -> int:
        return next(self._ids)

    def caller(self, number: str = "+12125550100") -> LiveCall:
        """A caller whose IVR is over, in the call book (as the inbound use case opens it)."""
        n = self.next_id()
        call = LiveCall(
            call_id=f"call{n:04d}",  # sorted in order of arrival, as new_call_id is
            unique_id=f"{T0:.0f}.{n}",
            channel=f"PJSIP/carrier-{n:08x}",
            caller=number,
            caller_name="",
            dialled="5000",
            entered_at=self.now,
        )
        self.calls.add(call)
        return call

    async def enqueue(
        self, call: LiveCall, queue: str, priority: int = 0, extra: dict[str, int] | None = None
    ) -> Decision:
        decision = await self.acd.enqueue(call, queue, priority, dict(extra or {}), self.now)
        await self.settle()
        return decision

    # -- Asterisk's part ------------------------------------------------------------------------
    def agent_channel(self, agent: str) -> tuple[str, str]:
        n = self.next_id()
        return f"PJSIP/{agent}-{n:08x}", f"{T0:.0f}.{n}"

    async def emit(self, event: object) -> None:
        await self.ami.emit(event)
        await self.settle()

    async def ring(self, call: LiveCall, agent: str) -> tuple[str, str]:
        """cc-connect dials the agent for the caller: the agent's channel and DialBegin."""
        channel, unique_id = self.agent_channel(agent)
        await self.emit(
            ev.Newchannel(channel=channel, unique_id=unique_id, linked_id=call.unique_id)
        )
        await self.emit(
            ev.DialBegin(
                channel=call.channel,
                unique_id=call.unique_id,
                dest_channel=channel,
                dest_unique_id=unique_id,
            )
        )
        return channel, unique_id

    async def dial_end(self, call: LiveCall, agent_leg: tuple[str, str], status: str) -> None:
        channel, unique_id = agent_leg
        await self.emit(
            ev.DialEnd(
                channel=call.channel,
                unique_id=call.unique_id,
                dest_channel=channel,
                dest_unique_id=unique_id,
                dial_status=status,
            )
        )

    async def hangup(self, channel: str, unique_id: str, cause: int = 16) -> None:
        await self.emit(ev.Hangup(channel=channel, unique_id=unique_id, cause=cause))

    async def caller_hangs_up(self, call: LiveCall) -> None:
        await self.hangup(call.channel, call.unique_id)

    async def transferred(self, call: LiveCall) -> Decision:
        """cc-transfer: a transferred caller arrives and asks where to go."""
        line = FakeCallerLine()
        await self.inbound.transferred(line, call.unique_id)
        await self.settle()
        return line.decisions[-1]

    async def ring_ended(self, call: LiveCall, dial_status: str) -> Decision:
        """The dial-result route (cc-connect after Dial): what the caller is told next."""
        line = FakeCallerLine()
        await self.inbound.ring_ended(line, call.unique_id, dial_status)
        await self.settle()
        return line.decisions[-1]
