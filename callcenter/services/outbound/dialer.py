"""The outbound dialer: each running campaign's loop, and placing one call.

Once a second, for each running campaign: the agents who work it (those whose
skills meet its queue's requirements) and are free; the leads that are due;
the compliance check of each lead at dial time (core/outbound/compliance.py),
whose result is the attempt's audit row even when the call is not placed;
then one asynchronous Originate per call through the outbound trunk; with
several Asterisk nodes, each call on the least busy node that is up.

- progressive: one call per free agent, the agent held (RINGING) first;
- predictive: more calls than free agents (pacing), agents taken at answer;
- preview: nothing automatic; an agent asks for a lead and clicks dial
  (``preview`` / ``dial_preview``), and is held while reading it.

What happens once the customer answers is in dialer_calls.py.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable

from callcenter.core.acd.model import AgentState
from callcenter.core.calls.record import CallRecord
from callcenter.core.dial_policy import DialRefusal, Verdict
from callcenter.core.dialplan import Context, Var
from callcenter.core.ids import new_call_id
from callcenter.core.outbound import retry
from callcenter.core.outbound.compliance import DialCheck, LeadFacts, check_dial
from callcenter.core.outbound.pacing import AbandonStats, PacingInput, pace
from callcenter.core.outbound.records import LeadRecord, NewDialAttempt
from callcenter.core.outbound.settings import CampaignSettingsError, load_settings
from callcenter.services.agents import AgentError, AgentService
from callcenter.services.dial_guard import DialGuard
from callcenter.services.outbound.dialer_calls import DialerCalls
from callcenter.services.outbound.dialer_model import Attempt, Campaign
from callcenter.services.outbound.staff import CampaignStaff
from callcenter.services.ports import OriginateUncertain, Origination, Originator, PbxUnavailable
from callcenter.services.queues import QueueDirectory
from callcenter.services.repositories import DialerStore
from callcenter.services.timers import Timers
from callcenter.tasks import cancel_and_wait

log = logging.getLogger(__name__)

UNOBSERVED_HOLD = 72 * 3600.0  # the default quiet period after an abandoned call

TICK_SECONDS = 1.0
UNCERTAIN_GRACE = 15.0  # an Originate nobody confirmed: given up after ring time + this
BUSY = frozenset({AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP})
HANDLE_SAMPLE_SECONDS = 8 * 3600.0  # handle times: the last shift is enough
DEFAULT_HANDLE = 120.0  # seconds of talk and wrap-up, until the campaign has its own
DEFAULT_ANSWER = 10.0  # seconds from dialling to an answer AMD has heard
REMIND_SECONDS = 60.0  # ticks that keep failing are logged again this often
MakePrompt = Callable[[str, str], Awaitable[str]]  # (name, text) -> playable prompt


class DialerError(Exception):
    """A dialer request that cannot be carried out; ``code`` is stable, no HTTP here."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Failing:
    """The dialer's ticks failing (the database away): the first failure with its
    traceback, then one line a minute, then when they work again; never once a second."""

    def __init__(self) -> None:
        self.count = 0
        self._logged = 0.0

    def failed(self, exc: Exception) -> None:
        self.count += 1
        now = time.monotonic()
        if self.count == 1:
            self._logged = now
            log.exception("dialer tick failed; no call is placed until it works again")
        elif now - self._logged >= REMIND_SECONDS:
            self._logged = now
            log.error("dialer ticks still failing (%d in a row): %s", self.count, exc)

    def worked(self) -> None:
        if self.count:
            log.warning("dialer ticks work again after %d failures", self.count)
        self.count = 0


class Dialer:
    def __init__(
        self,
        store: DialerStore,
        agents: AgentService,
        queues: QueueDirectory,
        originator: Originator,
        calls: DialerCalls,
        staff: CampaignStaff,
        timers: Timers,
        trunk: str,
        make_prompt: MakePrompt,
        guard: DialGuard,
        trunks: frozenset[str] = frozenset(),
        pick_node: Callable[[], str] | None = None,
    ) -> None:
        self.store = store
        self.guard = guard
        self.staff = staff
        self.agents = agents
        self.queues = queues
        self.originator = originator
        self.calls = calls
        self.timers = timers
        self.trunk = trunk
        self.trunks = trunks or frozenset({trunk} - {""})  # those with a contact
        self.make_prompt = make_prompt
        # Several nodes ([[pbx.nodes]]): the node each call is placed on (the least
        # busy node that is up); a single box: None, the one Asterisk.
        self.pick_node = pick_node
        self.campaigns: dict[int, Campaign] = {}
        self.previews: dict[str, tuple[Campaign, LeadRecord, str]] = {}
        self._task: asyncio.Task[None] | None = None
        self._tick_lock = asyncio.Lock()

    # -- life ----------------------------------------------------------------------------
    def start(self) -> None:
        if not self.trunk:
            log.warning("dialer idle: no [[trunks]] entry has a contact for outbound calls")
        self._task = asyncio.create_task(self._run(), name="dialer")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait([self._task])

    async def _run(self) -> None:
        released = False
        failing = Failing()
        while True:
            try:
                if not released:
                    await self._release_stale()
                    released = True
                await self.tick()
            except Exception as exc:
                failing.failed(exc)
            else:
                failing.worked()
            await asyncio.sleep(TICK_SECONDS)

    async def _release_stale(self) -> None:
        # Leads whose call was placed by a controller that died before its end (a
        # standby took over, or a restart): never dialled twice on a guess. The call may
        # still be on (an agent talking to the customer) or have been abandoned, so the
        # lead waits out the default quiet period after an abandoned call.
        now = self.timers.clock()
        held = await asyncio.to_thread(self.store.hold_unobserved, now, UNOBSERVED_HOLD)
        if held:
            log.warning(
                "dialer: %d leads dialled by the last run, their calls' ends unseen: not"
                " redialled for %.0f h",
                held, UNOBSERVED_HOLD / 3600,
            )  # fmt: skip
        # Leads left "dialing" with no call placed: due again (the compliance check runs
        # again before any dial).
        stale = await asyncio.to_thread(self.store.release_stale, now)
        if stale:
            log.warning("dialer: %d leads left dialing by the last run are due again", stale)

    # -- one pass over the running campaigns -----------------------------------------------
    async def tick(self) -> None:
        if not self.trunk:
            return  # no trunk with a contact: nowhere to dial (logged at start)
        async with self._tick_lock:
            for campaign in await self._load_campaigns():
                if not self._trunk_known(campaign):
                    continue
                if campaign.settings.mode != "preview":
                    await self._pace(campaign)

    def _trunk_known(self, campaign: Campaign) -> bool:
        chosen = campaign.settings.trunk
        if chosen and chosen not in self.trunks:
            log.error(
                "campaign %s: trunk %r is not a [[trunks]] entry with a contact; not dialling",
                campaign.name,
                chosen,
            )
            return False
        return True

    async def _load_campaigns(self) -> list[Campaign]:
        """The running campaigns (a paused one leaves the dialer, preview included)."""
        current: dict[int, Campaign] = {}
        for record in await asyncio.to_thread(self.store.campaigns):
            known = self.campaigns.get(record.id)
            try:
                settings = load_settings(record.settings, source=f"campaign {record.name}")
            except CampaignSettingsError as exc:
                log.error("campaign %s not dialled: %s", record.name, exc)
                continue
            if known is None or known.settings != settings:
                known = Campaign(record.id, record.name, settings)
                await self._prompts(known)
            current[record.id] = known
        self.campaigns = current
        return list(current.values())

    async def _prompts(self, campaign: Campaign) -> None:
        """The campaign's spoken messages (text to speech, published to Asterisk)."""
        who = campaign.name.replace("-", " ").replace("_", " ")
        back = " ".join(campaign.settings.caller_id.lstrip("+")) or "the number on your display"
        try:
            settings = campaign.settings
            campaign.id_prompt = await self.make_prompt(
                f"cc-id-{campaign.name}",
                settings.identification_text
                or f"This call was from {who}. We are sorry, nobody was free to talk to you. "
                f"To stop these calls, call us back on {back} and ask to be removed.",
            )
            campaign.machine_prompt = await self.make_prompt(
                f"cc-msg-{campaign.name}",
                settings.machine_message_text
                or f"Hello, this is {who}. Please call us back on {back}. Thank you.",
            )
        except Exception as exc:
            # Without the message an abandoned call hears nothing: still hung up, logged.
            log.error("campaign %s: prompts not made (%s)", campaign.name, exc)

    async def _pace(self, campaign: Campaign) -> None:
        free = self.staff.free(campaign)
        decision = pace(await self._figures(campaign, free))
        wanted = decision.dial
        if wanted <= 0:
            return
        log.debug("campaign %s: %s", campaign.name, decision.reason)
        now = self.timers.clock()
        leads = await asyncio.to_thread(self.store.due_leads, campaign.id, now, wanted * 2)
        for lead in leads:
            if wanted <= 0:
                break
            agent = ""
            if decision.used == "progressive":  # a person who answers finds their agent
                free = [a for a in free if self.agents.available(a)]
                if not free:
                    break
                agent = free[0]  # still free if the lead is refused (not dialled)
            if await self.dial(campaign, lead, agent):
                wanted -= 1

    async def _figures(self, campaign: Campaign, free: list[str]) -> PacingInput:
        settings = campaign.settings
        now = self.timers.clock()
        since = now - settings.abandon_window_seconds
        recent = now - HANDLE_SAMPLE_SECONDS
        sample = await asyncio.to_thread(
            self.store.sample, campaign.id, campaign.name, since, max(since, recent)
        )
        others = (self.agents.statuses[a] for a in self.staff.of(campaign) if a not in free)
        busy = [status for status in others if status.state in BUSY]
        mine = [a for a in self.calls.attempts.values() if a.campaign.id == campaign.id]
        unheld = [a for a in mine if not a.agent and not a.ended]
        # Answered and still being heard by AMD: a free agent is as good as theirs.
        answered = sum(1 for a in unheld if a.answered_at is not None)
        # Calls on with an agent: their outcome is not written yet, but they are connects.
        on = sum(1 for a in mine if a.connected_at is not None and not a.ended)
        return PacingInput(
            mode=settings.mode,
            free_agents=max(0, len(free) - answered),
            busy_agents=len(busy),
            in_flight=len(unheld) - answered,
            dials=sample.dials + on,
            connects=sample.connects + on,
            mean_handle_seconds=sample.mean_handle_seconds or DEFAULT_HANDLE,
            mean_answer_seconds=sample.mean_answer_seconds or DEFAULT_ANSWER,
            abandons=AbandonStats(sample.connects, sample.abandoned),
            cap_pct=settings.abandon_cap_pct,
            max_dial_ratio=settings.max_dial_ratio,
            # Held for a call not yet on (ringing): as if it had just begun.
            busy_elapsed=tuple(
                max(0.0, now - status.since) if status.state is not AgentState.RINGING else 0.0
                for status in busy
            ),
            handle_times=sample.handle_times,
            in_flight_ages=tuple(
                max(0.0, now - a.placed_at) for a in unheld if a.answered_at is None
            ),
            resolved=sample.resolved,
        )

    # -- one lead ----------------------------------------------------------------------------
    async def dial(
        self, campaign: Campaign, lead: LeadRecord, agent: str = "", held: str = ""
    ) -> bool:
        """Check, audit and (if allowed) dial one lead; True if a call was placed.

        ``held``: the call id the agent is already held for (preview; the lead
        is then claimed already).
        """
        if not held and not await asyncio.to_thread(self.store.claim, lead.id):
            return False
        now = self.timers.clock()
        call_id = held or new_call_id(now)
        try:
            attempt = await self._audited(campaign, lead, agent, held, call_id, now)
        except Exception:
            # The storage failed halfway (the database away): no audit row, no call; an
            # agent held for it would wait for nothing, and no inbound call would reach them.
            if agent:
                await self.calls.release(agent, call_id)
            raise
        if attempt is None:
            return False
        self.calls.attempts[call_id] = attempt
        await self._originate(attempt)
        return True

    async def _audited(
        self, campaign: Campaign, lead: LeadRecord, agent: str, held: str, call_id: str, now: float
    ) -> Attempt | None:
        """Check the lead, hold the agent, write the audit row: the attempt to dial, or None."""
        check = await self._check(campaign, lead, now, agent_reserved=bool(held))
        if not check.ok:
            await self._blocked(campaign, lead, check, now)
            if held:
                await self.calls.release(agent, held)
            return None
        if agent and not held and not await self._hold(agent, call_id, now):
            await asyncio.to_thread(self.store.save_lead, lead.id, lead.state)  # back as it was
            return None
        dialled = retry.dial(lead.state, now)
        await asyncio.to_thread(self.store.save_lead, lead.id, dialled)
        node = self.pick_node() if self.pick_node is not None else ""
        attempt = Attempt(
            call_id, campaign, lead, check.number, 0, now, dialled, agent=agent, node=node
        )
        attempt.audit_id = await asyncio.to_thread(
            self.store.add_attempt,
            self._audit_row(campaign, lead, check, call_id, now),
            self._call_row(attempt, now),
        )
        return attempt

    async def _check(
        self, campaign: Campaign, lead: LeadRecord, now: float, agent_reserved: bool
    ) -> DialCheck:
        facts = LeadFacts(lead.phone, lead.timezone, lead.state.last_abandoned_at)
        listed = await asyncio.to_thread(self.store.dnc_scopes, lead.phone, campaign.name)
        return check_dial(
            facts,
            campaign.settings,
            campaign=campaign.name,
            listed_in=listed,
            now=now,
            agent_reserved=agent_reserved,
            rules=self.guard.rules(campaign.settings.allowed_countries),
        )

    async def _blocked(
        self, campaign: Campaign, lead: LeadRecord, check: DialCheck, now: float
    ) -> None:
        log.info("lead %s not dialled: %s", lead.id, check.detail)
        if check.policy is not None:
            refusal = DialRefusal.of(
                Verdict(check.number, check.policy, check.detail),
                lead.phone, ("campaign", campaign.name), "dialer", now,
            )  # fmt: skip
            await asyncio.to_thread(self.guard.record, refusal)
        row = self._audit_row(campaign, lead, check, "", now, outcome=check.reason)
        await asyncio.to_thread(self.store.add_attempt, row, None)
        refused = retry.refuse(lead.state, check, now)
        await asyncio.to_thread(self.store.save_lead, lead.id, refused)

    @staticmethod
    def _audit_row(
        campaign: Campaign,
        lead: LeadRecord,
        check: DialCheck,
        call_id: str,
        now: float,
        outcome: str = "",
    ) -> NewDialAttempt:
        return NewDialAttempt(
            campaign_id=campaign.id,
            lead_id=lead.id,
            call_id=call_id,
            at=now,
            outcome=outcome,
            **{**check.audit(), "dialled": bool(call_id)},
        )

    @staticmethod
    def _call_row(attempt: Attempt, now: float) -> CallRecord:
        lead = attempt.lead
        return CallRecord(
            id=attempt.call_id,
            unique_id=attempt.call_id,
            direction="outbound",
            caller_number=attempt.number,
            caller_name=f"{lead.first_name} {lead.last_name}".strip()[:40],
            dialled=attempt.number,
            flow=f"campaign:{attempt.campaign.name}"[:32],
            queue=attempt.campaign.settings.queue,
            entered_at=now,
            agent=attempt.agent,
            data={"campaign": attempt.campaign.name, "lead_id": str(lead.id)},
            node=attempt.node,
        )

    async def _hold(self, agent: str, call_id: str, now: float) -> bool:
        try:
            await self.agents.offer(agent, call_id, now)
        except AgentError as exc:  # the ACD took the agent first
            log.info("agent %s not held for %s: %s", agent, call_id, exc)
            return False
        return True

    async def _originate(self, attempt: Attempt) -> None:
        settings = attempt.campaign.settings
        request = Origination(
            endpoint=attempt.number,
            via=settings.trunk or self.trunk,
            context=Context.OUTBOUND,
            exten="s",
            action_id=attempt.call_id,
            channel_id=attempt.call_id,
            caller_id=f'"{attempt.campaign.name[:20]}" <{settings.caller_id or "anonymous"}>',
            ring_seconds=settings.ring_seconds,
            node=attempt.node,
            variables=(
                (Var.CALL_ID.value, attempt.call_id),
                (Var.AMD.value, "1" if settings.amd else "0"),
                (Var.ID_PROMPT.value, attempt.campaign.id_prompt),
            ),
        )
        log.info(
            "dialling %s for %s (lead %s)%s", attempt.number, attempt.campaign.name,
            attempt.lead.id, f" on node {attempt.node}" if attempt.node else "",
        )  # fmt: skip
        try:
            await self.originator.originate(request)
        except PbxUnavailable as exc:
            log.warning("call %s not placed: %s", attempt.call_id, exc)
            await self.calls.finish(attempt)  # no reason: failed
        except OriginateUncertain as exc:
            log.warning(
                "call %s uncertain (%s): waiting for Asterisk's events", attempt.call_id, exc
            )
            self.timers.after(
                settings.ring_seconds + UNCERTAIN_GRACE,
                ("dial-uncertain", attempt.call_id),
                lambda: self.calls.give_up(attempt.call_id),
            )

    def nodes_changed(self, up: dict[str, bool]) -> None:
        """Several nodes: a node's link went down. Its calls not answered yet are
        treated as an Originate nobody confirmed (the agents held for them are let go
        after the ring time, unless the node comes back and says otherwise); new calls
        go to the other nodes (``pick_node``)."""
        for attempt in list(self.calls.attempts.values()):
            if not attempt.node or up.get(attempt.node, True) or attempt.answered_at is not None:
                continue
            key = ("dial-uncertain", attempt.call_id)
            if self.timers.pending(key):
                continue
            log.warning("call %s: node %s is down", attempt.call_id, attempt.node)
            self.timers.after(
                attempt.campaign.settings.ring_seconds + UNCERTAIN_GRACE,
                key,
                functools.partial(self.calls.give_up, attempt.call_id),
            )

    # -- preview -------------------------------------------------------------------------------
    def shown(self, agent: str) -> tuple[Campaign, LeadRecord] | None:
        """The lead ``agent`` holds in preview, if any (a read: nothing changes)."""
        held = self.previews.get(agent)
        return (held[0], held[1]) if held is not None else None

    async def preview(self, agent: str) -> tuple[Campaign, LeadRecord]:
        """The next lead for ``agent`` in a preview campaign they work; the agent is held."""
        if agent in self.previews:
            campaign, lead, _ = self.previews[agent]
            return campaign, lead
        if not self.agents.available(agent):
            raise DialerError("agent-busy", f"{agent} is not ready (or the phone is not free)")
        now = self.timers.clock()
        for campaign in self.campaigns.values():
            if campaign.settings.mode != "preview" or agent not in self.staff.of(campaign):
                continue
            if not self._trunk_known(campaign):
                continue
            for lead in await asyncio.to_thread(self.store.due_leads, campaign.id, now, 10):
                if not await asyncio.to_thread(self.store.claim, lead.id):
                    continue
                call_id = new_call_id(now)
                if not await self._hold(agent, call_id, now):
                    await asyncio.to_thread(self.store.save_lead, lead.id, lead.state)
                    raise DialerError("agent-busy", f"{agent} was just given another call")
                self.previews[agent] = (campaign, lead, call_id)
                return campaign, lead
        raise DialerError("no-lead", f"no lead is due in a preview campaign {agent} works")

    async def dial_preview(self, agent: str) -> str:
        """The agent clicked dial: check and place the previewed call; returns its call id."""
        held = self.previews.pop(agent, None)
        if held is None:
            raise DialerError("no-preview", f"{agent} has no lead in preview")
        campaign, lead, call_id = held
        if not await self.dial(campaign, lead, agent, held=call_id):
            raise DialerError("not-dialled", "the lead may not be called now (see its audit row)")
        return call_id

    async def skip_preview(self, agent: str) -> None:
        held = self.previews.pop(agent, None)
        if held is None:
            raise DialerError("no-preview", f"{agent} has no lead in preview")
        _, lead, call_id = held
        try:
            await asyncio.to_thread(self.store.save_lead, lead.id, lead.state)  # due again
        finally:  # the agent is free even if the database is away
            await self.calls.release(agent, call_id)
