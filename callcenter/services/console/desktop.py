"""The agent desktop: screen pops when the phone rings, and wrap-up after the call.

Runs on the controller's loop. Live state (the CallBook, agents' states) is
read there, synchronously; database reads go to a worker thread. The screen
pop is pushed the moment a call is offered (CallOffered), and can be read
again at any time (a reload, a reconnect). Saving a wrap-up is a domain event
(CallDataChanged; the call records store it) and ends the agent's wrap-up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import Any, Protocol

from pydantic import BaseModel

from callcenter.core.acd.model import AgentState
from callcenter.core.calls.live import CallBook
from callcenter.core.events import CallDataChanged, CallOffered
from callcenter.services.agents import AgentError, AgentService
from callcenter.services.console.desktop_pop import (
    CallFacts,
    ScreenPop,
    assemble_pop,
    find_customer,
)
from callcenter.services.console.desktop_settings import DesktopSettingsStore
from callcenter.services.notify import Notifier
from callcenter.services.repositories import DesktopRecords

log = logging.getLogger(__name__)

NOTES_MAX = 2000
RECENT_LIMIT = 100  # earlier calls read for the pop: the latest are shown, these counted
AFTER_CALL_WINDOW = 3600.0  # an unsaved wrap-up older than this is no longer offered

# The agent's state says where the call they are on stands.
PHASES = {
    AgentState.RINGING: "ringing",
    AgentState.ON_CALL: "talking",
    AgentState.WRAP_UP: "wrap-up",
}

Publish = Callable[[str, dict[str, Any], str | None], None]


class Actor(Protocol):
    """Who asks (a console user or a token); agents act for themselves only."""

    def may_act_for(self, agent: str) -> bool: ...


class DesktopError(Exception):
    """A desktop request that cannot be carried out; ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Desk(BaseModel):
    """One agent's desktop now: their state and the call in front of them."""

    agent: str
    state: str
    reason: str
    since: float
    now: float  # the controller's clock, so the page can count time in state
    call: ScreenPop | None


class WrapUp(BaseModel):
    call_id: str
    agent: str
    disposition: str
    disposition_label: str
    notes: str
    agent_state: str


@dataclass(frozen=True, slots=True)
class _Live:
    state: AgentState
    reason: str
    since: float
    call: CallFacts | None
    call_id: str | None


class Desktop:
    def __init__(
        self,
        calls: CallBook,
        agents: AgentService,
        notifier: Notifier,
        records: DesktopRecords,
        settings: DesktopSettingsStore,
        publish: Publish,
        clock: Callable[[], float],
        zone: tzinfo | None = None,
        windows: Callable[[], Mapping[str, float]] = dict,
        listening: Callable[[str, str | None], bool] = lambda _topic, _agent: True,
    ) -> None:
        self.calls = calls
        self.agents = agents
        self.notifier = notifier
        self.records = records
        self.settings = settings
        self.publish = publish
        self.clock = clock
        self.zone = zone
        self.windows = windows  # each queue's repeat-contact window, hours
        # Whether anyone would receive a push on (topic, agent) now: a screen pop costs
        # database reads, and nobody's desktop open means nobody to show it to (a
        # desktop opened later asks for the call itself: ``desk``).
        self.listening = listening

    # -- the screen pop ------------------------------------------------------------
    def on_call_offered(self, event: CallOffered) -> Awaitable[None] | None:
        if not self.listening("desktop", event.agent):
            return None
        # Snapshot now, on the loop: the call may move on while the database answers.
        facts = self.live_facts(event.call_id)
        if facts is None:
            return None
        return self._push(event.agent, facts)

    async def _push(self, agent: str, facts: CallFacts) -> None:
        pop = await asyncio.to_thread(self._pop, facts, "ringing")
        self.publish(
            "desktop", {"type": "ScreenPop", "agent": agent, "pop": pop.model_dump()}, agent
        )

    def live_facts(self, call_id: str) -> CallFacts | None:
        call = self.calls.get(call_id)
        return CallFacts.from_live(call, self.clock()) if call is not None else None

    def _pop(self, facts: CallFacts, phase: str) -> ScreenPop:
        """Blocking (database): call from a worker thread."""
        customer, matched_by = find_customer(facts, self.records.lookups)
        earlier = self.records.earlier_calls(facts, customer, RECENT_LIMIT)
        settings = self.settings.current
        return assemble_pop(
            facts, phase, customer, matched_by, earlier, settings, self.zone, self.windows()
        )

    async def desk(self, agent: str) -> Desk:
        """The agent's state and current call (or their unsaved last call)."""
        now = self.clock()
        live = self._live(agent)
        pop = None
        if live.call is not None:
            pop = await asyncio.to_thread(self._pop, live.call, PHASES[live.state])
        else:
            # The caller is gone (wrap-up) or the agent is free with work unsaved.
            facts = None
            if live.call_id is not None:
                facts = await asyncio.to_thread(self.records.call, live.call_id)
            if facts is None:
                since = now - AFTER_CALL_WINDOW
                facts = await asyncio.to_thread(self.records.last_unwrapped, agent, since)
            if facts is not None:
                phase = PHASES.get(live.state, "after-call") if live.call_id else "after-call"
                pop = await asyncio.to_thread(self._pop, facts, phase)
        return Desk(
            agent=agent,
            state=live.state.value,
            reason=live.reason,
            since=live.since,
            now=now,
            call=pop,
        )

    def _live(self, agent: str) -> _Live:
        try:
            status = self.agents.status(agent)
        except AgentError as exc:
            raise DesktopError("unknown-agent", str(exc)) from None
        call_id = status.call_id if status.state in PHASES else None
        facts = self.live_facts(call_id) if call_id else None
        return _Live(status.state, status.reason, status.since, facts, call_id)

    async def pop(self, call_id: str, actor: Actor) -> ScreenPop:
        """One call's screen pop, for its agent or a supervisor."""
        facts = await self._find(call_id, actor)
        phase = facts.state
        if facts.agent in self.agents.statuses:
            status = self.agents.statuses[facts.agent]
            if status.call_id == call_id and status.state in PHASES:
                phase = PHASES[status.state]
        return await asyncio.to_thread(self._pop, facts, phase)

    async def _find(self, call_id: str, actor: Actor) -> CallFacts:
        facts = self.live_facts(call_id) or await asyncio.to_thread(self.records.call, call_id)
        if facts is None:
            raise DesktopError("unknown-call", f"no call {call_id!r}")
        if not actor.may_act_for(facts.agent):
            # An agent who transferred the call (it lives on with another agent) wraps
            # up their own part of it.
            earlier = self._earlier_agent(call_id, actor)
            if earlier is None:
                raise DesktopError(
                    "not-yours", "only the agent who handled the call, or a supervisor"
                )
            facts = replace(facts, agent=earlier)
        return facts

    def _earlier_agent(self, call_id: str, actor: Actor) -> str | None:
        call = self.calls.get(call_id)
        if call is None:
            return None
        return next((a for a in reversed(call.previous_agents) if actor.may_act_for(a)), None)

    # -- wrap-up -------------------------------------------------------------------
    async def wrap_up(self, call_id: str, actor: Actor, disposition: str, notes: str) -> WrapUp:
        """Store the disposition and notes on the call; end the agent's wrap-up early."""
        facts = await self._find(call_id, actor)  # who may, before what they sent
        settings = self.settings.current
        if not settings.knows(disposition):
            known = ", ".join(d.code for d in settings.dispositions)
            raise DesktopError("unknown-disposition", f"disposition must be one of: {known}")
        if len(notes) > NOTES_MAX:
            raise DesktopError("notes-too-long", f"notes are limited to {NOTES_MAX} characters")
        now = self.clock()
        call = self.calls.get(call_id)
        if call is not None and facts.agent != call.agent:
            # Saved by an agent who transferred the call: its next agent's pop shows it.
            call.data["previous_disposition"] = settings.label_of(disposition)
            call.data["previous_notes"] = notes
        # Checked and applied with no await in between: the state cannot change under us.
        self.notifier.publish(
            CallDataChanged(
                at=now, call_id=call_id, changes={"disposition": disposition, "notes": notes}
            )
        )
        state = await self._end_wrapup(facts.agent, call_id, now)
        self.publish(
            "desktop",
            {"type": "WrapUpSaved", "agent": facts.agent, "call_id": call_id,
             "disposition": disposition},
            facts.agent,
        )  # fmt: skip
        return WrapUp(
            call_id=call_id,
            agent=facts.agent,
            disposition=disposition,
            disposition_label=settings.label_of(disposition),
            notes=notes,
            agent_state=state,
        )

    async def _end_wrapup(self, agent: str, call_id: str, now: float) -> str:
        status = self.agents.statuses.get(agent)
        if status is None:
            return ""
        # Only the wrap-up of this very call: a save for an older call must not
        # cut short the wrap-up of the one just finished.
        if status.state is AgentState.WRAP_UP and status.call_id == call_id:
            status = await self.agents.finish_wrapup(agent, now)
        return status.state.value
