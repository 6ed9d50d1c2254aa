"""The ACD at work: callers join queues, the router picks agents, Asterisk rings them.

Decisions come from the pure router (core/acd/router.py). This module is the
ACD's public face and its order of things; the work is split by concern:

* services/inbound/queueing.py: the line (join, overflow, places, estimates);
* services/inbound/offering.py: holding and ringing agents, what comes back;
* services/inbound/wait_timers.py: maximum wait, announcements, relaxation.

Recovery and callbacks use only the methods below.
"""

from __future__ import annotations

import logging

from callcenter.core import pbx_events as ev
from callcenter.core.acd.model import AgentState
from callcenter.core.acd.router import Assignment, Router
from callcenter.core.acd.waits import WaitEstimate
from callcenter.core.calls.live import CallBook, LiveCall
from callcenter.core.calls.segments import close_segment
from callcenter.core.calls.state import CallEvent, CallState, advance, allowed
from callcenter.core.channels import ChannelTable, endpoint_of
from callcenter.core.dialplan import Context, Decision, Status, Var
from callcenter.core.events import (
    CallAnswered,
    CallCompleted,
    CallEnded,
    CallFellBack,
    segment_ended,
)
from callcenter.core.queues import QueueSettings, SpokenWait
from callcenter.services.agents import AgentService
from callcenter.services.inbound.offering import CallbackTurn, Offering, ring_timeout_value
from callcenter.services.inbound.queueing import Queueing
from callcenter.services.inbound.wait_timers import WaitTimers
from callcenter.services.notify import Notifier
from callcenter.services.ports import Pbx, PbxUnavailable
from callcenter.services.queues import QueueDirectory
from callcenter.services.timers import Timers

log = logging.getLogger(__name__)


class Acd:
    def __init__(
        self,
        router: Router,
        queueing: Queueing,
        offering: Offering,
        wait_timers: WaitTimers,
        agents: AgentService,
        channels: ChannelTable,
        pbx: Pbx,
        notifier: Notifier,
        calls: CallBook,
        queues: QueueDirectory,
        timers: Timers,
    ) -> None:
        self.router = router
        self.queueing = queueing
        self.offering = offering
        self.wait_timers = wait_timers
        self.agents = agents
        self.channels = channels
        self.pbx = pbx
        self.notifier = notifier
        self.calls = calls
        self.queues = queues
        self.timers = timers

    # -- AMI events the ACD reads (the table: callcenter/subscriptions.py) ----------------
    def on_dial_begin(self, event: ev.DialBegin) -> None:
        self.offering.leg_started(event.unique_id, event.dest_channel)

    async def on_dial_end(self, event: ev.DialEnd) -> None:
        if event.dial_status == "ANSWER":
            await self.offering.answered(
                event.unique_id, self.timers.clock(), endpoint_of(event.dest_channel) or ""
            )

    async def on_hangup(self, event: ev.Hangup) -> None:
        await self.channel_gone(event.unique_id, event.channel, self.timers.clock())

    async def on_user_event(self, event: ev.UserEvent) -> None:
        if event.user_event != "CcFallback":
            return
        call = self.calls.by_unique_id(event.unique_id)
        if call is None:
            return
        if not allowed(call.state, CallEvent.FALL_BACK):
            # News that comes late (the call was answered or ended meanwhile): told, no step.
            log.warning("call %s: fallback reported while %s; ignored", call.call_id, call.state)
            return
        if call.state is CallState.WAITING:
            self.queueing.leave(call)
        agent = call.agent if call.state is CallState.RINGING else ""
        advance(call, CallEvent.FALL_BACK)
        if agent and self.agents.status(agent).state is AgentState.RINGING:
            call.agent = ""  # the plain queue chooses its own agent
            await self.agents.call_ended(agent, 0.0, self.timers.clock())
        self.notifier.publish(
            CallFellBack(
                at=self.timers.clock(),
                call_id=call.call_id,
                unique_id=call.unique_id,
                reason=event.get("Reason") or "unknown",
            )
        )

    def on_agent_complete(self, event: ev.AgentComplete) -> None:
        """Asterisk's own queue (the fallback) ended a conversation: its reason says who."""
        call = self.calls.by_unique_id(event.unique_id)
        if call is not None and call.state is CallState.TALKING and event.reason == "agent":
            self._completed(call, "agent", self.timers.clock())

    async def on_bridge_enter(self, event: ev.BridgeEnter) -> None:
        """A caller in the fallback queue is put through to an agent by Asterisk's queue."""
        call = self.calls.by_unique_id(event.unique_id)
        agent = endpoint_of(event.channel)
        if agent not in self.agents.statuses:
            agent = None
        if call is None and agent is None:
            return  # neither a caller we follow nor an agent's leg: nothing to learn
        for other in self.channels.in_bridge(event.bridge_unique_id):
            if call is not None and call.state is CallState.FALLBACK:
                if other.endpoint in self.agents.statuses:
                    await self.fallback_answered(call, other.endpoint or "", other.name)
                    return
            elif agent is not None and other.unique_id != event.unique_id:
                found = self.calls.by_unique_id(other.unique_id)
                if found is not None and found.state is CallState.FALLBACK:
                    await self.fallback_answered(found, agent, event.channel)
                    return

    async def fallback_answered(self, call: LiveCall, agent: str, agent_channel: str) -> None:
        now = self.timers.clock()
        advance(call, CallEvent.ANSWER)
        call.agent, call.answered_at = agent, now
        self.calls.set_agent_channel(call, agent_channel)
        await self.agents.found_on_call(agent, call.call_id, now)
        self.notifier.publish(
            CallAnswered(
                at=now,
                call_id=call.call_id,
                unique_id=call.unique_id,
                queue=call.queue,
                agent=agent,
                wait=call.wait(now),
                ring_seconds=0.0,
                agent_channel=agent_channel,
            )
        )

    # -- callers joining -----------------------------------------------------------------
    async def enqueue(
        self, call: LiveCall, queue: str, priority: int, extra: dict[str, int], now: float
    ) -> Decision:
        settings = self.queues.get(queue)
        if settings is None:
            log.error("call %s: no queue %r; falling back", call.call_id, queue)
            return Decision(Status.FALLBACK)
        return await self._join(call, settings, priority, extra, now)

    async def _join(
        self,
        call: LiveCall,
        settings: QueueSettings,
        priority: int,
        extra: dict[str, int],
        now: float,
    ) -> Decision:
        elsewhere = self.queueing.join(call, settings, priority, extra, now)
        return elsewhere or await self._offer_or_wait(call, now)

    async def _offer_or_wait(self, call: LiveCall, now: float) -> Decision:
        """A caller in line: an agent now, or wait with the line's clocks running."""
        decision = await self.offering.offer(call, now)
        if decision is not None:
            return decision
        settings = self.queues.get(call.queue)
        if settings is not None:
            self._arm(call, settings, now)
        return Decision(Status.WAIT)

    def _arm(self, call: LiveCall, settings: QueueSettings, now: float) -> None:
        self.wait_timers.arm(call, settings, now, self._max_wait, self._announce)
        self.wait_timers.arm_relax(self._relax)

    async def _relax(self) -> None:
        now = self.timers.clock()
        for assignment in self.router.relax_due(now):
            await self.offering.ring_waiting(assignment, now)
        self.wait_timers.arm_relax(self._relax)

    async def _max_wait(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None or call.state is not CallState.WAITING:
            return
        settings = self.queues.get(call.queue)
        if settings is None:
            return
        now = self.timers.clock()
        self.queueing.leave(call)
        elsewhere = self.queueing.overflow(
            call, settings, settings.on_max_wait, "max-wait", now, hops=0
        )
        decision = elsewhere or await self._offer_or_wait(call, now)
        await self.carry_out(call, decision)

    async def carry_out(self, call: LiveCall, decision: Decision) -> None:
        """Move a caller who is already waiting, as a decision says (AMI, not AGI)."""
        try:
            if decision.status is Status.CONNECT:
                await self.offering.set_ring_timeout(call, decision.ring_timeout)
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

    async def _announce(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None or call.state is not CallState.WAITING or call.virtual:
            return
        try:
            await self.pbx.redirect(call.channel, Context.ANNOUNCE, "s")
        except PbxUnavailable as exc:
            log.info("call %s: announcement skipped (%s)", call_id, exc)
        settings = self.queues.get(call.queue)
        if settings is not None and settings.announce.interval > 0:
            self.wait_timers.announce_after(
                call_id, settings.announce.interval, self.timers.clock(), self._announce
            )

    # -- callers sent on by their agent (services/inbound/call_control.py) ---------------
    async def transferred(self, call: LiveCall, now: float) -> Decision:
        """Where a transferred caller goes now (``call.transfer_to``; cleared)."""
        assert call.transfer_to is not None
        kind, target = call.transfer_to
        call.transfer_to = None
        if kind == "agent":
            return await self.offer_to(call, target, now)
        return await self.rejoin(call, target, now)

    async def rejoin(self, call: LiveCall, queue: str, now: float) -> Decision:
        """A caller transferred to a queue joins its line (``call.enqueued_at`` kept: the
        caller's place counts from their first arrival unless the caller cleared it)."""
        settings = self.queues.get(queue)
        if settings is None:
            return Decision(Status.FALLBACK)
        priority = max(call.priority, settings.default_priority)
        return await self._join(call, settings, priority, call.extra, now)

    async def offer_to(self, call: LiveCall, agent: str, now: float) -> Decision:
        """A caller transferred to one agent: ring them; if they cannot be held, the
        caller waits in their queue's line like any caller."""
        wait = now - (call.enqueued_at or now)
        assignment = Assignment(call.call_id, agent, call.queue, wait)
        if await self.offering.hold_agent(call, assignment, now):
            ring = self.offering.ring_timeout(call.queue)
            return Decision(Status.CONNECT, agent, ring_timeout=ring)
        return await self._offer_or_wait(call, now)

    # -- agents ------------------------------------------------------------------------------
    async def agent_available(self, agent: str) -> None:
        if await self.offering.agent_free(agent, self.timers.clock()):
            self.wait_timers.arm_relax(self._relax)

    async def agent_done(self, agent: str, queue: str, talk: float, now: float) -> None:
        """An agent's conversation ended outside the ACD's own legs (a callback's)."""
        await self.offering.agent_done(agent, queue, talk, now)

    # -- what the dialplan reports after ringing an agent ---------------------------------
    async def dial_result(self, call: LiveCall, dial_status: str, now: float) -> Decision:
        if dial_status == "ANSWER":
            self.agent_hung_up(call, now)
            return Decision(Status.HANGUP)
        if call.state is CallState.RINGING:
            await self.offering.not_answered(call, dial_status, now)
        # else the ring was already over for the controller (a stuck ring put back in
        # line, a cancel): the caller is in line again, so only the next step is decided.
        return await self._offer_or_wait(call, now)

    def agent_hung_up(self, call: LiveCall, now: float) -> None:
        """The agent ended the conversation; the caller is still on the line."""
        self._completed(call, "agent", now)

    # -- places with nobody on the line (callbacks) and found after a restart ---------------
    def keep_place(self, call: LiveCall) -> None:
        """The caller hangs up but keeps their place: no announcements, no maximum wait."""
        self.wait_timers.cancel(call.call_id)
        self.calls.detach(call)

    async def line_up(self, call: LiveCall, now: float, joined: bool = False) -> None:
        """A callback takes its place in line, with its own enqueue time and priority;
        ``joined``: it enters the queue for the first time (a scheduled callback)."""
        advance(call, CallEvent.QUEUE)
        call.agent = ""
        enqueued_at = call.enqueued_at or now
        self.router.enqueue(
            call.call_id, call.queue, call.priority, enqueued_at, call.extra, call.avoid
        )
        if joined:
            position, wait = self.queueing.position_and_estimate(call, now)
            self.queueing.publish_queued(call, enqueued_at, position, wait)
        assignment = self.router.offer_call(call.call_id, now)
        if assignment is not None:
            await self.offering.ring_waiting(assignment, now)
        self.wait_timers.arm_relax(self._relax)

    async def release_reserved(self, call: LiveCall, now: float) -> None:
        """The callback's customer was not reached: the agent held for it is free again."""
        await self.offering.release_reserved(call, now)

    def leave_line(self, call: LiveCall) -> None:
        """A place leaves the line for good (a callback cancelled or over)."""
        self.queueing.leave(call)

    def readmit(self, call: LiveCall, now: float) -> None:
        """A caller found waiting after a restart: back in line with their place and clocks."""
        self.queueing.requeue(call, now)
        settings = self.queues.get(call.queue)
        if settings is not None:
            self._arm(call, settings, now)

    def position_and_estimate(self, call: LiveCall, now: float) -> tuple[int, WaitEstimate]:
        return self.queueing.position_and_estimate(call, now)

    def ring_timeout(self, queue: str) -> str:
        """CC_RING_TIMEOUT for an agent's phone rung from this queue (whole seconds)."""
        return ring_timeout_value(self.offering.ring_timeout(queue))

    def announcement(self, call: LiveCall, now: float) -> tuple[int, SpokenWait]:
        return self.queueing.announcement(call, now)

    def hand_callbacks_to(self, turn: CallbackTurn) -> None:
        self.offering.hand_callbacks_to(turn)

    async def agent_answered(self, caller_unique_id: str, now: float) -> None:
        await self.offering.answered(caller_unique_id, now)

    # -- channels gone -------------------------------------------------------------------
    async def channel_gone(self, unique_id: str, channel: str, now: float) -> None:
        call = self.calls.by_unique_id(unique_id)
        if call is not None:
            await self._caller_gone(call, now)
            return
        call = self.calls.by_agent_channel(channel)
        if call is not None:
            # Which leg Asterisk reports gone first says nothing of who hung up (a
            # caller's BYE can hang the agent's leg up first): the dialplan's step
            # after Dial (`g`) or the queue's AgentComplete says it.
            await self.offering.agent_leg_gone(call, now)

    async def _caller_gone(self, call: LiveCall, now: float) -> None:
        if call.state is CallState.WAITING:
            self.queueing.abandoned(call, now)
            self.queueing.leave(call)
        elif call.state is CallState.RINGING:
            self.queueing.abandoned(call, now, while_ringing=call.agent)
            if self.agents.status(call.agent).state is AgentState.RINGING:
                await self.agents.call_ended(call.agent, 0.0, now)
        elif call.state is CallState.TALKING:
            self._completed(call, "agent" if call.ended_by_agent else "caller", now)
        self._end(call, now)

    def _completed(self, call: LiveCall, ended_by: str, now: float) -> None:
        if call.answered_at is None or call.state is not CallState.TALKING:
            return
        advance(call, CallEvent.COMPLETE)
        segment = close_segment(
            call.agent, call.queue, call.answered_at, call.holds, now, "completed"
        )
        self.notifier.publish(segment_ended(call.call_id, segment))
        self.notifier.publish(
            CallCompleted(
                at=now,
                call_id=call.call_id,
                unique_id=call.unique_id,
                queue=call.queue,
                agent=call.agent,
                wait=call.wait(now),
                talk=segment.talk,
                ended_by=ended_by,
                hold=segment.hold,
            )
        )

    def _end(self, call: LiveCall, now: float) -> None:
        outcome = call.state.value  # the state it ended from (core/calls/state.py)
        self.queueing.leave(call)
        self.calls.remove(call.call_id)
        advance(call, CallEvent.END)
        self.notifier.publish(
            CallEnded(at=now, call_id=call.call_id, unique_id=call.unique_id, outcome=outcome)
        )
