"""Offering callers to agents: the router's choice, the agent held, the phone rung,
and what comes back (answered, not answered, a leg gone).

A caller offered right when they join is connected by the FastAGI route (the
Decision goes back to the dialplan); a caller who waits is moved later with
one AMI Redirect, so the time from an agent becoming free to their phone
ringing is one decision plus one AMI round trip. A callback's place has no
caller on the line: its turn goes to the callback dialer instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from callcenter.core.acd.model import AgentState
from callcenter.core.acd.router import Assignment, Router
from callcenter.core.acd.waits import WaitHistory
from callcenter.core.calls.live import CallBook, LiveCall
from callcenter.core.calls.state import CallEvent, CallState, advance
from callcenter.core.dialplan import Context, Decision, Status, Var
from callcenter.core.events import CallAnswered, CallOffered, CallRingNoAnswer
from callcenter.core.nodes import agent_node
from callcenter.services.agents import AgentError, AgentService
from callcenter.services.inbound.queueing import Queueing
from callcenter.services.inbound.wait_timers import WaitTimers
from callcenter.services.notify import Notifier
from callcenter.services.ports import Pbx, PbxUnavailable
from callcenter.services.queues import QueueDirectory

log = logging.getLogger(__name__)

DEFAULT_RING = 15.0
# A ring is "stuck" (its caller weighed again when another agent frees up) only once it
# has gone unanswered this long: a phone that rings for less is most likely about to be
# answered, and moving its caller would cancel that ring and ring another phone for
# nothing (under load, with agents answering in 0.1 s, nearly every free agent stole a
# ringing caller: seven offers per call at 20 calls/s in bench/inbound_profile.py).
STUCK_RING = 2.0
CallbackTurn = Callable[[LiveCall, str], Awaitable[None]]


class Offering:
    def __init__(
        self,
        router: Router,
        agents: AgentService,
        pbx: Pbx,
        calls: CallBook,
        queues: QueueDirectory,
        notifier: Notifier,
        queueing: Queueing,
        wait_timers: WaitTimers,
        history: WaitHistory,
    ) -> None:
        self.router = router
        self.agents = agents
        self.pbx = pbx
        self.calls = calls
        self.queues = queues
        self.notifier = notifier
        self.queueing = queueing
        self.wait_timers = wait_timers
        self.history = history
        self._callback_turn: CallbackTurn | None = None

    def hand_callbacks_to(self, turn: CallbackTurn) -> None:
        """A callback's place got its agent: ``turn`` calls the customer (callback dialer)."""
        self._callback_turn = turn

    def ring_timeout(self, queue: str) -> float:
        settings = self.queues.get(queue)
        return settings.ring_timeout if settings else DEFAULT_RING

    async def set_ring_timeout(self, call: LiveCall, seconds: float) -> None:
        """CC_RING_TIMEOUT on the caller's channel before a Redirect to an agent: an AMI
        Setvar, unless the channel has the value already (set when the caller queued)."""
        value = ring_timeout_value(seconds)
        if call.ring_timeout_set != value:
            await self.pbx.set_var(call.channel, Var.RING_TIMEOUT, value)
            call.ring_timeout_set = value

    # -- choosing and holding an agent -------------------------------------------------
    async def offer(self, call: LiveCall, now: float) -> Decision | None:
        """The best free agent for a caller on the line now, if any: ring them."""
        assignment = self.router.offer_call(call.call_id, now)
        if assignment is None or not await self.hold_agent(call, assignment, now):
            return None
        return Decision(
            Status.CONNECT, assignment.agent_id, ring_timeout=self.ring_timeout(call.queue)
        )

    async def hold_agent(self, call: LiveCall, assignment: Assignment, now: float) -> bool:
        try:
            await self.agents.offer(assignment.agent_id, call.call_id, now)
        except AgentError as exc:
            log.warning("call %s: %s; back in line", call.call_id, exc)
            self.queueing.requeue(call, now)
            return False
        self.wait_timers.ringing(call.call_id)
        advance(call, CallEvent.OFFER)
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

    # -- an agent free, a caller waiting -------------------------------------------------
    async def agent_free(self, agent: str, now: float) -> bool:
        """The most deserving caller for a free agent, rung; False when there is none.

        Callers whose ring on another agent's phone has gone unanswered for STUCK_RING
        seconds count too: they are weighed with the waiting callers (back in line for
        this one decision), and if one of them deserves this agent, its unanswered ring
        is cancelled and it goes to this agent. Nobody is overtaken by a later caller
        while stuck on a dead ring.
        """
        stuck = self._stuck_ringing(agent, now)
        assignment = self.router.offer_agent(agent, now)
        moved = None
        for call in stuck:
            if assignment is not None and assignment.call_id == call.call_id:
                moved = call
            else:
                self.router.remove_call(call.call_id)
        if assignment is None:
            return False
        if moved is None:
            await self.ring_waiting(assignment, now)
            return True
        await self._cancel_ring(moved, now)
        await self.ring_waiting(assignment, now)
        return True

    def _stuck_ringing(self, agent: str, now: float) -> list[LiveCall]:
        """Callers on the line whose agent's phone has rung unanswered for STUCK_RING."""
        stuck = []
        for call in self.calls.in_state(CallState.RINGING):
            if call.virtual or call.agent == agent or not call.agent_channel:
                continue
            if now - (call.offered_at or now) < STUCK_RING:
                continue
            ringing = [
                c
                for c in self.agents.channels.on_endpoint(call.agent)
                if c.name == call.agent_channel
            ]
            if ringing and ringing[0].state != "Up":
                self.queueing.requeue(call, now)
                stuck.append(call)
        return stuck

    async def _cancel_ring(self, call: LiveCall, now: float) -> None:
        """Stop offering ``call`` to its agent (not answered yet): back in line, agent free."""
        agent = self._ring_over(call, "CANCEL", now)
        if self.agents.status(agent).state is AgentState.RINGING:
            await self.agents.call_ended(agent, 0.0, now)

    def _ring_over(self, call: LiveCall, status: str, now: float) -> str:
        """The ring on the agent's phone is over, unanswered: said, and the caller is no
        longer theirs (back to waiting). Returns the agent."""
        agent = call.agent
        self.notifier.publish(
            CallRingNoAnswer(
                at=now,
                call_id=call.call_id,
                unique_id=call.unique_id,
                queue=call.queue,
                agent=agent,
                ring_seconds=now - (call.offered_at or now),
                status=status,
            )
        )
        call.agent = ""
        advance(call, CallEvent.RETURN)
        self.calls.set_agent_channel(call, "")
        return agent

    async def ring_waiting(self, assignment: Assignment, now: float) -> None:
        call = self.calls.get(assignment.call_id)
        if call is None or call.state is not CallState.WAITING:
            return
        if not await self.hold_agent(call, assignment, now):
            return
        if call.virtual and self._callback_turn is not None:
            await self._callback_turn(call, assignment.agent_id)
            return
        try:
            await self.set_ring_timeout(call, self.ring_timeout(call.queue))
            await self.pbx.redirect(call.channel, Context.CONNECT, assignment.agent_id)
        except PbxUnavailable as exc:
            # The agent is freed first, then the caller goes back in line: offered again
            # at once, the same Redirect would fail the same way (again and again). The
            # caller is offered anew when an agent frees up or Asterisk is back (resync).
            log.warning("call %s: offer to %s failed (%s)", call.call_id, assignment.agent_id, exc)
            await self._release(call, now, keep_in_line=False)
            self.queueing.requeue(call, now)

    async def release_reserved(self, call: LiveCall, now: float) -> None:
        """A callback's customer was not reached: the agent held for it is free again,
        and the place leaves the router until it is lined up again."""
        await self._release(call, now, keep_in_line=False)

    async def _release(self, call: LiveCall, now: float, keep_in_line: bool) -> None:
        agent, call.agent = call.agent, ""
        if call.state is CallState.RINGING:
            advance(call, CallEvent.RETURN)
        if keep_in_line:
            self.queueing.requeue(call, now)
        else:
            self.router.remove_call(call.call_id)
        if agent and self.agents.status(agent).state is AgentState.RINGING:
            await self.agents.call_ended(agent, 0.0, now)

    # -- what comes back from the agent's phone ------------------------------------------
    async def not_answered(self, call: LiveCall, dial_status: str, now: float) -> None:
        """The ring ended without an answer: the agent pays for it, the caller keeps first place."""
        agent = self._ring_over(call, dial_status, now)
        if agent and self.agents.status(agent).state is AgentState.RINGING:
            await self.agents.not_answered(agent, dial_status, now)
        self.queueing.requeue(call, now)

    def leg_started(self, caller_unique_id: str, agent_channel: str) -> None:
        call = self.calls.by_unique_id(caller_unique_id)
        if call is not None and call.state is CallState.RINGING:
            self.calls.set_agent_channel(call, agent_channel)

    async def answered(self, caller_unique_id: str, now: float, endpoint: str = "") -> None:
        """The agent's phone answered; ``endpoint``: the answering leg's, when known."""
        call = self.calls.by_unique_id(caller_unique_id)
        if call is None or call.state is not CallState.RINGING:
            return
        if endpoint and endpoint != call.agent and endpoint in self.agents.statuses:
            # Another agent's phone, whose ring was cancelled (a stuck ring moved) but who
            # answered before the Redirect took the caller away: the Redirect ends that leg.
            # Counting it would put the agent now rung on a call they never answered.
            log.info(
                "call %s: answer from %s ignored (the call is offered to %s)",
                call.call_id,
                endpoint,
                call.agent,
            )
            return
        advance(call, CallEvent.ANSWER)
        call.answered_at = now
        self.wait_timers.answered(call.call_id)
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
                agent_node=agent_node(call.node, call.agent_channel),
                transferred=call.transfers > 0,
            )
        )
        self.history.answered(call.queue, now - (call.offered_at or now), call.wait(now))

    async def agent_leg_gone(self, call: LiveCall, now: float) -> None:
        agent = call.agent
        self.calls.set_agent_channel(call, "")
        if not agent or self.agents.status(agent).state is not AgentState.ON_CALL:
            return
        await self.agent_done(agent, call.queue, now - (call.answered_at or now), now)

    async def agent_done(self, agent: str, queue: str, talk: float, now: float) -> None:
        """An agent's conversation is over: its handle time counts, wrap-up begins."""
        settings = self.queues.get(queue)
        wrapup = settings.wrapup if settings else 0.0
        self.history.talk(queue, agent, talk)
        await self.agents.call_ended(agent, wrapup, now)


def ring_timeout_value(seconds: float) -> str:
    """CC_RING_TIMEOUT's value: Dial()'s timeout in whole seconds."""
    return str(int(seconds))
