"""The ACD at work: callers join queues, the router picks agents, Asterisk rings them.

Decisions come from the pure router (core/acd/router.py); this service turns
them into Asterisk actions and domain events, and keeps the timers (requirement
relaxation, maximum wait, announcements, wrap-up). A caller connected right
when they join is sent straight to the agent by the FastAGI route; a caller
who waits is moved later with one AMI Redirect, so the time from an agent
becoming free to their phone ringing is one decision plus one AMI round trip.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from callcenter.adapters.ami.client import AmiClient
from callcenter.core import pbx_events as ev
from callcenter.core.acd.estimate import AgentLoad, HandleTimes, estimate_wait
from callcenter.core.acd.model import AgentState
from callcenter.core.acd.router import Assignment, Router
from callcenter.core.calls.live import CallBook, CallState, LiveCall
from callcenter.core.dialplan import Context, Status, Var
from callcenter.core.events import (
    CallAbandoned,
    CallAnswered,
    CallCompleted,
    CallEnded,
    CallFellBack,
    CallOffered,
    CallOverflowed,
    CallQueued,
    CallRingNoAnswer,
    WaitAnnounced,
)
from callcenter.core.queues import Overflow, QueueSettings
from callcenter.services.agents import AgentError, AgentService
from callcenter.services.notify import Notifier
from callcenter.services.ports import Pbx, PbxUnavailable
from callcenter.services.queues import QueueDirectory
from callcenter.services.timers import Timers

log = logging.getLogger(__name__)

MAX_OVERFLOW_HOPS = 3
BUSY_FLOOR = 5.0  # a busy agent is expected to stay busy at least this long


@dataclass(frozen=True, slots=True)
class Decision:
    """What the dialplan should do with a caller next."""

    status: Status
    target: str = ""  # agent endpoint (CONNECT) or voicemail box (VOICEMAIL)
    prompt: str = ""  # a sound to play first
    ring_timeout: float = 0.0


class Acd:
    def __init__(
        self,
        router: Router,
        agents: AgentService,
        pbx: Pbx,
        notifier: Notifier,
        calls: CallBook,
        queues: QueueDirectory,
        timers: Timers,
        handle_times: HandleTimes,
    ) -> None:
        self.router = router
        self.agents = agents
        self.pbx = pbx
        self.notifier = notifier
        self.calls = calls
        self.queues = queues
        self.timers = timers
        self.handle_times = handle_times
        # A callback's turn (callbacks/places.py): reserve the agent, then dial the customer.
        self.callback_turn: Callable[[LiveCall, str], Awaitable[None]] | None = None
        agents.on_available(self.agent_available)

    def subscribe(self, ami: AmiClient) -> None:
        """Every AMI event the ACD consumes, in one place."""
        ami.subscribe(ev.DialBegin, self._on_dial_begin)
        ami.subscribe(ev.DialEnd, self._on_dial_end)
        ami.subscribe(ev.Hangup, self._on_hangup)
        ami.subscribe(ev.UserEvent, self._on_user_event)

    def _on_dial_begin(self, event: ev.DialBegin) -> None:
        self.agent_leg_started(event.unique_id, event.dest_channel)

    def _on_dial_end(self, event: ev.DialEnd) -> Awaitable[None] | None:
        if event.dial_status == "ANSWER":
            return self.agent_answered(event.unique_id, self.timers.clock())
        return None

    def _on_hangup(self, event: ev.Hangup) -> Awaitable[None]:
        return self.channel_gone(event.unique_id, event.channel, self.timers.clock())

    def _on_user_event(self, event: ev.UserEvent) -> None:
        if event.user_event != "CcFallback":
            return
        call = self.calls.by_unique_id(event.unique_id)
        if call is None:
            return
        now = self.timers.clock()
        if call.state is CallState.WAITING:
            self._forget_waiting(call)
        call.state = CallState.FALLBACK
        self.notifier.publish(
            CallFellBack(
                at=now,
                call_id=call.call_id,
                unique_id=call.unique_id,
                reason=event.get("Reason") or "unknown",
            )
        )

    # -- callers joining ---------------------------------------------------------
    async def enqueue(
        self, call: LiveCall, queue: str, priority: int, extra: dict[str, int], now: float
    ) -> Decision:
        settings = self.queues.get(queue)
        if settings is None:
            log.error("call %s: no queue %r; falling back", call.call_id, queue)
            return Decision(Status.FALLBACK)
        return await self._join(call, settings, priority, extra, now, hops=0)

    async def _join(
        self,
        call: LiveCall,
        settings: QueueSettings,
        priority: int,
        extra: dict[str, int],
        now: float,
        hops: int,
    ) -> Decision:
        if not self.queues.accepting(settings, now):
            return await self._overflow(call, settings, settings.on_closed, "closed", now, hops)
        call.queue, call.priority, call.extra = settings.name, priority, dict(extra)
        call.enqueued_at = call.enqueued_at or now
        self.router.enqueue(call.call_id, settings.name, priority, call.enqueued_at, extra)
        if not self._staffed(call, settings, now):
            self.router.remove_call(call.call_id)
            return await self._overflow(
                call, settings, settings.on_unstaffed, "unstaffed", now, hops
            )
        call.state = CallState.WAITING
        position, estimate = self.position_and_estimate(call, now)
        self._publish_queued(call, now, position, estimate)
        assignment = self.router.offer_call(call.call_id, now)
        if assignment is not None:
            await self._offered(call, assignment, now)
            return Decision(Status.CONNECT, assignment.agent_id, ring_timeout=settings.ring_timeout)
        self._arm(call, settings, now)
        return Decision(Status.WAIT)

    def _publish_queued(
        self, call: LiveCall, at: float, position: int, estimate: float | None
    ) -> None:
        self.notifier.publish(
            CallQueued(
                at=at,
                call_id=call.call_id,
                unique_id=call.unique_id,
                queue=call.queue,
                priority=call.priority,
                extra=dict(call.extra),
                caller=call.caller,
                position=position,
                estimate=estimate,
            )
        )

    def _staffed(self, call: LiveCall, settings: QueueSettings, now: float) -> bool:
        """Someone logged in could take this call now or after every relaxation."""
        if self.router.eligible_staffed(call.call_id, now):
            return True
        last = settings.to_config().requirements_at(math.inf, call.extra)
        return any(
            all(skills.get(s, 0) >= level for s, level in last.items())
            for agent, skills in self.agents.skills.items()
            if self.agents.statuses[agent].state is not AgentState.LOGGED_OUT
        )

    def _arm(self, call: LiveCall, settings: QueueSettings, now: float) -> None:
        # A customer the call center called back is never turned away for waiting too long.
        if settings.max_wait is not None and call.enqueued_at is not None and not call.callback_id:
            self.timers.at(
                call.enqueued_at + settings.max_wait,
                ("max-wait", call.call_id),
                lambda: self._max_wait(call.call_id),
            )
        if settings.announce.interval > 0:
            self.timers.at(
                now + settings.announce.interval,
                ("announce", call.call_id),
                lambda: self._announce(call.call_id),
            )
        self._arm_relax()

    def _arm_relax(self) -> None:
        when = self.router.next_relax_at()
        if when is None:
            self.timers.cancel("relax")
        else:
            self.timers.at(when, "relax", self._relax)

    async def _relax(self) -> None:
        now = self.timers.clock()
        for assignment in self.router.relax_due(now):
            await self._connect_waiting(assignment, now)
        self._arm_relax()

    # -- overflow ------------------------------------------------------------------------
    async def _overflow(
        self,
        call: LiveCall,
        settings: QueueSettings,
        overflow: Overflow,
        reason: str,
        now: float,
        hops: int,
    ) -> Decision:
        self.notifier.publish(
            CallOverflowed(
                at=now,
                call_id=call.call_id,
                unique_id=call.unique_id,
                queue=settings.name,
                reason=reason,
                action=overflow.action,
                target=overflow.target,
                wait=call.wait(now),
            )
        )
        log.info(
            "call %s: %s in %s -> %s %s",
            call.call_id,
            reason,
            settings.name,
            overflow.action,
            overflow.target,
        )
        if overflow.action == "queue" and hops < MAX_OVERFLOW_HOPS:
            target = self.queues.get(overflow.target)
            if target is not None:
                return await self._join(
                    call,
                    target,
                    max(call.priority, target.default_priority),
                    call.extra,
                    now,
                    hops + 1,
                )
        if overflow.action == "voicemail":
            call.state = CallState.VOICEMAIL
            return Decision(Status.VOICEMAIL, overflow.target, overflow.prompt)
        call.state = CallState.ENDED
        return Decision(Status.HANGUP, prompt=overflow.prompt)

    async def _max_wait(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None or call.state is not CallState.WAITING:
            return
        settings = self.queues.get(call.queue)
        if settings is None:
            return
        now = self.timers.clock()
        self._forget_waiting(call)
        decision = await self._overflow(call, settings, settings.on_max_wait, "max-wait", now, 0)
        await self.carry_out(call, decision)

    async def carry_out(self, call: LiveCall, decision: Decision) -> None:
        """Move a caller who is already waiting, as a decision says (AMI, not AGI)."""
        try:
            if decision.status is Status.CONNECT:
                await self.pbx.set_var(
                    call.channel, Var.RING_TIMEOUT, str(int(decision.ring_timeout))
                )
                await self.pbx.redirect(call.channel, Context.CONNECT, decision.target)
            elif decision.status is Status.VOICEMAIL:
                await self.pbx.set_var(call.channel, Var.VM_BOX, decision.target)
                await self.pbx.redirect(call.channel, Context.VOICEMAIL, "s")
            elif decision.status is Status.HANGUP:
                if decision.prompt:
                    await self.pbx.set_var(call.channel, Var.PROMPT, decision.prompt)
                await self.pbx.redirect(call.channel, Context.GOODBYE, "s")
        except PbxUnavailable as exc:
            log.warning("call %s: could not move the caller (%s)", call.call_id, exc)

    # -- callbacks: places in line with nobody on the line ---------------------------------
    def keep_place(self, call: LiveCall) -> None:
        """The caller hangs up but keeps their place: no announcements, no maximum wait."""
        self.timers.cancel(("max-wait", call.call_id))
        self.timers.cancel(("announce", call.call_id))
        self.calls.detach(call)

    async def line_up(self, call: LiveCall, now: float, joined: bool = False) -> None:
        """A callback takes its place in line, with its own enqueue time and priority;
        ``joined``: it enters the queue for the first time (a scheduled callback)."""
        call.state, call.agent = CallState.WAITING, ""
        enqueued_at = call.enqueued_at or now
        self.router.enqueue(call.call_id, call.queue, call.priority, enqueued_at, call.extra)
        if joined:
            position = self.router.calls_ahead(call.call_id, now) + 1
            self._publish_queued(call, enqueued_at, position, None)
        assignment = self.router.offer_call(call.call_id, now)
        if assignment is not None:
            await self._connect_waiting(assignment, now)
        self._arm_relax()

    async def release_reserved(self, call: LiveCall, now: float) -> None:
        """The callback's customer was not reached: the agent reserved for it is free again."""
        agent, call.agent, call.state = call.agent, "", CallState.WAITING
        self.router.remove_call(call.call_id)
        if agent and self.agents.status(agent).state is AgentState.RINGING:
            await self.agents.call_ended(agent, 0.0, now)

    # -- offering calls to agents ----------------------------------------------------------
    async def agent_available(self, agent: str) -> None:
        now = self.timers.clock()
        assignment = self.router.offer_agent(agent, now)
        if assignment is not None:
            await self._connect_waiting(assignment, now)
            self._arm_relax()

    async def _connect_waiting(self, assignment: Assignment, now: float) -> None:
        call = self.calls.get(assignment.call_id)
        if call is None or call.state is not CallState.WAITING:
            return
        settings = self.queues.get(call.queue)
        ring = settings.ring_timeout if settings else 15.0
        if not await self._offered(call, assignment, now):
            return
        if call.virtual and self.callback_turn is not None:
            await self.callback_turn(call, assignment.agent_id)
            return
        try:
            await self.pbx.set_var(call.channel, Var.RING_TIMEOUT, str(int(ring)))
            await self.pbx.redirect(call.channel, Context.CONNECT, assignment.agent_id)
        except PbxUnavailable as exc:
            log.warning("call %s: offer to %s failed (%s)", call.call_id, assignment.agent_id, exc)
            await self._offer_failed(call, now)

    async def _offered(self, call: LiveCall, assignment: Assignment, now: float) -> bool:
        try:
            await self.agents.offer(assignment.agent_id, call.call_id, now)
        except AgentError as exc:
            log.warning("call %s: %s; back in line", call.call_id, exc)
            self.router.enqueue(
                call.call_id, call.queue, call.priority, call.enqueued_at or now, call.extra
            )
            return False
        self.timers.cancel(("announce", call.call_id))
        call.state = CallState.RINGING
        call.agent = assignment.agent_id
        call.offered_at = now
        call.offers += 1
        self.notifier.publish(
            CallOffered(
                at=now,
                call_id=call.call_id,
                unique_id=call.unique_id,
                queue=call.queue,
                agent=assignment.agent_id,
                wait=assignment.wait,
            )
        )
        return True

    async def _offer_failed(self, call: LiveCall, now: float) -> None:
        agent = call.agent
        call.agent, call.state = "", CallState.WAITING
        self.router.enqueue(
            call.call_id, call.queue, call.priority, call.enqueued_at or now, call.extra
        )
        if agent and self.agents.status(agent).state is AgentState.RINGING:
            await self.agents.call_ended(agent, 0.0, now)

    # -- what the dialplan reports after ringing an agent -----------------------------------
    async def dial_result(self, call: LiveCall, dial_status: str, now: float) -> Decision:
        if dial_status == "ANSWER":
            # The agent hung up first; the caller is still on the line.
            self._completed(call, "agent", now)
            return Decision(Status.HANGUP)
        agent = call.agent
        ring = now - (call.offered_at or now)
        self.notifier.publish(
            CallRingNoAnswer(
                at=now,
                call_id=call.call_id,
                unique_id=call.unique_id,
                queue=call.queue,
                agent=agent,
                ring_seconds=ring,
                status=dial_status,
            )
        )
        call.agent, call.state = "", CallState.WAITING
        self.calls.set_agent_channel(call, "")
        if agent and self.agents.status(agent).state is AgentState.RINGING:
            await self.agents.not_answered(agent, dial_status, now)
        # Back to the head of the line: the original enqueue time keeps its place.
        self.router.enqueue(
            call.call_id, call.queue, call.priority, call.enqueued_at or now, call.extra
        )
        assignment = self.router.offer_call(call.call_id, now)
        settings = self.queues.get(call.queue)
        if assignment is not None and await self._offered(call, assignment, now):
            return Decision(
                Status.CONNECT,
                assignment.agent_id,
                ring_timeout=settings.ring_timeout if settings else 15.0,
            )
        if settings is not None:
            self._arm(call, settings, now)
        return Decision(Status.WAIT)

    # -- what AMI tells us -----------------------------------------------------------------
    def agent_leg_started(self, caller_unique_id: str, agent_channel: str) -> None:
        call = self.calls.by_unique_id(caller_unique_id)
        if call is not None and call.state is CallState.RINGING:
            self.calls.set_agent_channel(call, agent_channel)

    async def agent_answered(self, caller_unique_id: str, now: float) -> None:
        call = self.calls.by_unique_id(caller_unique_id)
        if call is None or call.state is not CallState.RINGING:
            return
        call.state, call.answered_at = CallState.TALKING, now
        self.timers.cancel(("max-wait", call.call_id))
        await self.agents.answered(call.agent, now)
        self.notifier.publish(
            CallAnswered(
                at=now,
                call_id=call.call_id,
                unique_id=call.unique_id,
                queue=call.queue,
                agent=call.agent,
                wait=call.wait(now),
                ring_seconds=now - (call.offered_at or now),
                agent_channel=call.agent_channel,
            )
        )

    async def channel_gone(self, unique_id: str, channel: str, now: float) -> None:
        call = self.calls.by_unique_id(unique_id)
        if call is not None:
            await self._caller_gone(call, now)
            return
        call = self.calls.by_agent_channel(channel)
        if call is not None:
            await self._agent_leg_gone(call, now)

    async def _caller_gone(self, call: LiveCall, now: float) -> None:
        if call.state is CallState.WAITING:
            position = self.router.calls_ahead(call.call_id, now) + 1
            self._forget_waiting(call)
            self.notifier.publish(
                CallAbandoned(
                    at=now,
                    call_id=call.call_id,
                    unique_id=call.unique_id,
                    queue=call.queue,
                    wait=call.wait(now),
                    position=position,
                )
            )
        elif call.state is CallState.RINGING:
            self.notifier.publish(
                CallAbandoned(
                    at=now,
                    call_id=call.call_id,
                    unique_id=call.unique_id,
                    queue=call.queue,
                    wait=call.wait(now),
                    position=1,
                    while_ringing=call.agent,
                )
            )
            if self.agents.status(call.agent).state is AgentState.RINGING:
                await self.agents.call_ended(call.agent, 0.0, now)
        elif call.state is CallState.TALKING:
            self._completed(call, "caller", now)
        self._end(call, now)

    async def _agent_leg_gone(self, call: LiveCall, now: float) -> None:
        agent = call.agent
        self.calls.set_agent_channel(call, "")
        if not agent or self.agents.status(agent).state is not AgentState.ON_CALL:
            return
        settings = self.queues.get(call.queue)
        wrapup = settings.wrapup if settings else 0.0
        talk = now - (call.answered_at or now)
        self.handle_times.record(call.queue, agent, talk + wrapup)
        await self.agents.call_ended(agent, wrapup, now)

    def _completed(self, call: LiveCall, ended_by: str, now: float) -> None:
        if call.answered_at is None or call.state is CallState.ENDED:
            return
        call.state = CallState.ENDED
        self.notifier.publish(
            CallCompleted(
                at=now,
                call_id=call.call_id,
                unique_id=call.unique_id,
                queue=call.queue,
                agent=call.agent,
                wait=call.wait(now),
                talk=now - call.answered_at,
                ended_by=ended_by,
            )
        )

    def _end(self, call: LiveCall, now: float) -> None:
        outcome = call.state.value
        self._forget_waiting(call)
        self.calls.remove(call.call_id)
        self.notifier.publish(
            CallEnded(at=now, call_id=call.call_id, unique_id=call.unique_id, outcome=outcome)
        )

    def _forget_waiting(self, call: LiveCall) -> None:
        self.router.remove_call(call.call_id)
        self.timers.cancel(("max-wait", call.call_id))
        self.timers.cancel(("announce", call.call_id))

    # -- what the waiting caller hears -----------------------------------------------------
    def position_and_estimate(self, call: LiveCall, now: float) -> tuple[int, float | None]:
        ahead = self.router.calls_ahead(call.call_id, now)
        loads = []
        for agent in self.router.eligible_staffed(call.call_id, now):
            status = self.agents.statuses.get(agent)
            if status is None or status.state is AgentState.PAUSED:
                continue
            handle = self.handle_times.for_agent(agent, call.queue)
            if self.agents.available(agent):
                loads.append(AgentLoad(0.0, handle))
            elif status.state is AgentState.WRAP_UP:
                settings = self.queues.get(call.queue)
                left = (settings.wrapup if settings else 0.0) - (now - status.since)
                loads.append(AgentLoad(max(left, 1.0), handle))
            else:
                loads.append(AgentLoad(max(handle - (now - status.since), BUSY_FLOOR), handle))
        return ahead + 1, estimate_wait(ahead, loads)

    def announcement(self, call: LiveCall, now: float) -> tuple[int, float | None]:
        """Position and estimate to tell the caller now; logged for accuracy reports."""
        position, estimate = self.position_and_estimate(call, now)
        self.notifier.publish(
            WaitAnnounced(
                at=now, call_id=call.call_id, queue=call.queue, position=position, estimate=estimate
            )
        )
        return position, estimate

    async def _announce(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None or call.state is not CallState.WAITING or call.virtual:
            return
        settings = self.queues.get(call.queue)
        try:
            await self.pbx.redirect(call.channel, Context.ANNOUNCE, "s")
        except PbxUnavailable as exc:
            log.info("call %s: announcement skipped (%s)", call_id, exc)
        if settings is not None and settings.announce.interval > 0:
            self.timers.after(
                settings.announce.interval, ("announce", call_id), lambda: self._announce(call_id)
            )
