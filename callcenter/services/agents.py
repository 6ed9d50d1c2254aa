"""Agents' states: log in, pause, ready, log out, and what calls do to them.

Each change goes through the pure state table (core/acd/agent_state.py), then,
in this order: the router learns who may take calls; the fallback queue is
kept in step (members = logged-in agents, paused alike); the change is
published (records, queue_log, console); an agent who became free is offered
the most deserving waiting call.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from callcenter.core.acd.agent_state import AgentStatus, IllegalTransition, transition
from callcenter.core.acd.agent_state import Event as AgentEvent
from callcenter.core.acd.fallback import member_interface
from callcenter.core.acd.model import AgentState
from callcenter.core.acd.router import Router
from callcenter.core.channels import ChannelTable
from callcenter.core.events import AgentStateChanged
from callcenter.core.pause_reasons import PHONE_OFFLINE
from callcenter.services.notify import Notifier
from callcenter.services.ports import Pbx, PbxUnavailable
from callcenter.services.timers import Timers

log = logging.getLogger(__name__)

FALLBACK_QUEUE = "cc-fallback"
Available = Callable[[str], Awaitable[None]]


class AgentError(Exception):
    """A request about an agent that cannot be carried out; `code` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class NailedCheck(Protocol):
    def nailed(self, agent: str) -> bool: ...

    def phone_free(self, agent: str, names: list[str]) -> bool: ...


class AgentService:
    def __init__(
        self,
        router: Router,
        pbx: Pbx,
        channels: ChannelTable,
        notifier: Notifier,
        timers: Timers,
    ) -> None:
        self.router = router
        self.pbx = pbx
        self.channels = channels
        self.notifier = notifier
        self.timers = timers
        self.statuses: dict[str, AgentStatus] = {}
        self.skills: dict[str, dict[str, int]] = {}
        self.static_contacts: set[str] = set()
        self._on_available: list[Available] = []
        # Whether each agent's phone could be rung when last looked at (None: not yet).
        self._reachable: dict[str, bool] = {}
        # Always-connected agents' lines (set by the composition root), if any.
        self.lines: NailedCheck | None = None

    def on_available(self, callback: Available) -> None:
        self._on_available.append(callback)

    # -- directory -----------------------------------------------------------------
    def load(
        self,
        agents: Mapping[str, Mapping[str, int]],
        statuses: Mapping[str, AgentStatus],
        static_contacts: set[str],
        now: float,
    ) -> None:
        """Agents, their skills and their last known states (from the database)."""
        self.static_contacts = set(static_contacts)
        for gone in set(self.skills) - set(agents):
            self.router.remove_agent(gone)
            self.statuses.pop(gone, None)
            del self.skills[gone]
        for agent, skills in agents.items():
            self.skills[agent] = dict(skills)
            self.router.upsert_agent(agent, skills)
            status = self.statuses.get(agent) or statuses.get(agent)
            self.statuses[agent] = status or AgentStatus(AgentState.LOGGED_OUT, now)
            self._sync_router(agent)

    def status(self, agent: str) -> AgentStatus:
        status = self.statuses.get(agent)
        if status is None:
            raise AgentError("unknown-agent", f"no agent {agent!r}")
        return status

    def phone_reachable(self, agent: str) -> bool:
        """Asterisk can ring the agent's phone: a fixed contact, or a registered one
        that answers its qualify checks (registration expiry and qualify followed live)."""
        return agent in self.static_contacts or self.channels.registered(agent)

    def phone_free(self, agent: str) -> bool:
        """The agent's phone can ring now: reachable and on no call (an always-connected
        agent: their line is up and waiting, services/inbound/nailed.py)."""
        if not self.phone_reachable(agent):
            return False
        channels = self.channels.on_endpoint(agent)
        if self.lines is not None and self.lines.nailed(agent):
            return self.lines.phone_free(agent, [c.name for c in channels])
        return not channels

    def available(self, agent: str) -> bool:
        status = self.statuses.get(agent)
        return status is not None and status.state is AgentState.READY and self.phone_free(agent)

    # -- requests from agents, supervisors and the API -----------------------------------
    async def login(self, agent: str, now: float) -> AgentStatus:
        return await self._apply(agent, AgentEvent.LOGIN, now)

    async def logout(self, agent: str, now: float) -> AgentStatus:
        return await self._apply(agent, AgentEvent.LOGOUT, now)

    async def pause(self, agent: str, reason: str, now: float) -> AgentStatus:
        return await self._apply(agent, AgentEvent.PAUSE, now, reason=reason or "break")

    async def ready(self, agent: str, now: float) -> AgentStatus:
        status = self.status(agent)
        if status.state is AgentState.LOGGED_OUT:
            return await self.login(agent, now)
        if status.state is AgentState.READY:
            return status
        return await self._apply(agent, AgentEvent.UNPAUSE, now)

    # -- what calls do to agents ------------------------------------------------------
    async def offer(self, agent: str, call_id: str, now: float) -> AgentStatus:
        return await self._apply(agent, AgentEvent.OFFER, now, call_id=call_id)

    async def found_on_call(self, agent: str, call_id: str, since: float) -> AgentStatus:
        """The agent talks on a call the controller did not give them (see the state table)."""
        return await self._apply(agent, AgentEvent.FOUND_ON_CALL, since, call_id=call_id)

    async def answered(self, agent: str, now: float) -> AgentStatus:
        return await self._apply(agent, AgentEvent.ANSWER, now)

    async def not_answered(self, agent: str, dial_status: str, now: float) -> AgentStatus:
        event = AgentEvent.RING_NO_ANSWER if dial_status == "NOANSWER" else AgentEvent.UNAVAILABLE
        return await self._apply(agent, event, now)

    async def call_ended(self, agent: str, wrapup: float, now: float) -> AgentStatus:
        status = await self._apply(agent, AgentEvent.HANGUP, now, wrapup=wrapup)
        if status.state is AgentState.WRAP_UP:
            self.timers.at(now + wrapup, ("wrapup", agent), lambda: self._wrapup_done(agent))
        return status

    def resume_wrapup(self, agent: str, now: float, longest: float) -> None:
        """A wrap-up found with no timer (the controller restarted): it ends at
        most ``longest`` seconds after it began, and never before now."""
        status = self.statuses.get(agent)
        if status is None or status.state is not AgentState.WRAP_UP:
            return
        if not self.timers.pending(("wrapup", agent)):
            when = max(now, status.since + longest)
            self.timers.at(when, ("wrapup", agent), lambda: self._wrapup_done(agent))

    async def _wrapup_done(self, agent: str) -> None:
        status = self.statuses.get(agent)
        if status is not None and status.state is AgentState.WRAP_UP:
            await self._apply(agent, AgentEvent.WRAPUP_DONE, self.timers.clock())

    async def finish_wrapup(self, agent: str, now: float) -> AgentStatus:
        """The agent ends wrap-up early (disposition saved)."""
        self.timers.cancel(("wrapup", agent))
        return await self._apply(agent, AgentEvent.WRAPUP_DONE, now)

    # -- the one place a state changes ---------------------------------------------------
    async def _apply(
        self,
        agent: str,
        event: AgentEvent,
        now: float,
        reason: str = "",
        call_id: str | None = None,
        wrapup: float = 0.0,
    ) -> AgentStatus:
        before = self.status(agent)
        try:
            after = transition(before, event, now, reason=reason, call_id=call_id, wrapup=wrapup)
        except IllegalTransition as exc:
            raise AgentError("illegal-transition", f"{agent}: {exc}") from None
        self.statuses[agent] = after
        if after == before:
            return after
        self._sync_router(agent)
        if after.state is not before.state or after.reason != before.reason:
            await self._sync_fallback(agent, before, after)
            self.notifier.publish(
                AgentStateChanged(
                    at=now,
                    agent=agent,
                    state=after.state.value,
                    reason=after.reason,
                    call_id=after.call_id or before.call_id,
                    previous=before.state.value,
                    previous_seconds=max(0.0, now - before.since),
                )
            )
            log.info("agent %s: %s -> %s %s", agent, before.state, after.state, after.reason)
        if after.state is AgentState.READY:
            await self.maybe_available(agent)
        return after

    def _sync_router(self, agent: str) -> None:
        status = self.statuses[agent]
        self.router.set_logged_in(agent, status.state is not AgentState.LOGGED_OUT)
        self.router.set_available(agent, self.available(agent), status.since)

    async def maybe_available(self, agent: str) -> None:
        """Re-check an agent's phone and state; offer a call if they are free.

        A ready agent whose phone stops being reachable is paused (PHONE_OFFLINE):
        no call is offered to a phone Asterisk cannot ring, and the agent and their
        supervisor see why. When the phone answers again, that pause (and only
        that one, which the controller set) ends by itself.
        """
        status = self.statuses.get(agent)
        if status is None:
            return
        reachable = self.phone_reachable(agent)
        was = self._reachable.get(agent)
        self._reachable[agent] = reachable
        if was and not reachable and status.state is AgentState.READY:
            log.warning("agent %s: phone unreachable; paused", agent)
            await self.pause(agent, PHONE_OFFLINE, self.timers.clock())
            return
        if reachable and status.state is AgentState.PAUSED and status.reason == PHONE_OFFLINE:
            log.info("agent %s: phone reachable again; ready", agent)
            await self.ready(agent, self.timers.clock())
            return
        self._sync_router(agent)
        if self.available(agent):
            for callback in self._on_available:
                await callback(agent)

    def fallback_interface(self, agent: str) -> str:
        """The agent's member interface in Asterisk's plain queues (core/acd/fallback.py)."""
        return member_interface(agent, self.lines is not None and self.lines.nailed(agent))

    async def _sync_fallback(self, agent: str, before: AgentStatus, after: AgentStatus) -> None:
        interface = self.fallback_interface(agent)
        try:
            if after.state is AgentState.LOGGED_OUT:
                await self.pbx.queue_remove(FALLBACK_QUEUE, interface)
            elif before.state is AgentState.LOGGED_OUT:
                await self.pbx.queue_add(
                    FALLBACK_QUEUE, interface, agent, paused=after.state is AgentState.PAUSED
                )
            elif (after.state is AgentState.PAUSED) != (before.state is AgentState.PAUSED):
                await self.pbx.queue_pause(
                    FALLBACK_QUEUE, interface, after.state is AgentState.PAUSED, after.reason
                )
        except PbxUnavailable as exc:
            # Re-synchronised on the next AMI login (resync_fallback).
            log.warning("fallback queue not updated for %s: %s", agent, exc)

    async def resync_fallback(self) -> None:
        """Make the fallback queue's members match the logged-in agents."""
        members = {m.interface: m for m in await self.pbx.queue_members(FALLBACK_QUEUE)}
        for agent, status in self.statuses.items():
            interface = self.fallback_interface(agent)
            paused = status.state is AgentState.PAUSED
            member = members.pop(interface, None)
            if status.state is AgentState.LOGGED_OUT:
                if member is not None:
                    await self.pbx.queue_remove(FALLBACK_QUEUE, interface)
            elif member is None:
                await self.pbx.queue_add(FALLBACK_QUEUE, interface, agent, paused=paused)
            elif member.paused != paused:
                await self.pbx.queue_pause(FALLBACK_QUEUE, interface, paused, status.reason)
        for interface in members:
            await self.pbx.queue_remove(FALLBACK_QUEUE, interface)
