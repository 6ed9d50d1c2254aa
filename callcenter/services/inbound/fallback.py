"""The members of our queues' plain twins in Asterisk (core/acd/fallback.py).

Each queue's twin has as members the logged-in agents whose skills meet the
queue's most relaxed requirements, paused while they are paused, so that the
callers who fall back to it reach the agents who could take them, with the
queue's wrap-up time. (``cc-fallback`` itself, for callers of no known queue,
is kept by the agent service: every logged-in agent.)

Kept in step on each agent's state change, and in full after every AMI login
and every change of the queues.
"""

from __future__ import annotations

import logging
import math

from callcenter.core.acd.fallback import eligible, fallback_queue
from callcenter.core.acd.model import AgentState
from callcenter.core.events import AgentStateChanged
from callcenter.services.agents import AgentService
from callcenter.services.ports import Pbx, PbxUnavailable
from callcenter.services.queues import QueueDirectory

log = logging.getLogger(__name__)

Membership = dict[str, dict[str, bool]]  # twin -> interface -> paused


class FallbackQueues:
    def __init__(self, pbx: Pbx, agents: AgentService, queues: QueueDirectory) -> None:
        self.pbx = pbx
        self.agents = agents
        self.queues = queues
        self._known: Membership = {}  # what Asterisk has, as far as we know

    def wanted(self) -> Membership:
        wanted: Membership = {}
        for name, settings in self.queues.queues.items():
            needs = settings.to_config().requirements_at(math.inf, {})
            members = wanted.setdefault(fallback_queue(name), {})
            for agent, status in self.agents.statuses.items():
                if status.state is AgentState.LOGGED_OUT:
                    continue
                if eligible(self.agents.skills.get(agent, {}), needs):
                    interface = self.agents.fallback_interface(agent)
                    members[interface] = status.state is AgentState.PAUSED
        return wanted

    def wanted_for(self, agent: str) -> dict[str, bool | None]:
        """One agent's line of ``wanted()``: twin -> paused, None where not a member
        (each state change needs only this: the whole table costs agents x queues)."""
        status = self.agents.statuses.get(agent)
        member = status is not None and status.state is not AgentState.LOGGED_OUT
        paused = status is not None and status.state is AgentState.PAUSED
        skills = self.agents.skills.get(agent, {})
        found: dict[str, bool | None] = {}
        for name, settings in self.queues.queues.items():
            needs = settings.to_config().requirements_at(math.inf, {})
            found[fallback_queue(name)] = paused if member and eligible(skills, needs) else None
        return found

    async def on_agent_state(self, event: AgentStateChanged) -> None:
        interface = self.agents.fallback_interface(event.agent)
        for twin, paused in self.wanted_for(event.agent).items():
            await self._apply(twin, interface, paused, event.reason)

    async def resync(self) -> None:
        """Asterisk's twins made to match: after an AMI login or a change of the queues."""
        try:
            for twin, members in self.wanted().items():
                found = await self.pbx.queue_members(twin)
                self._known[twin] = {m.interface: m.paused for m in found}
                for interface in set(members) | set(self._known[twin]):
                    await self._apply(twin, interface, members.get(interface), "")
        except PbxUnavailable as exc:  # at start, before the AMI login: done after it
            log.info("fallback queues not re-synchronised yet: %s", exc)

    async def _apply(self, twin: str, interface: str, paused: bool | None, reason: str) -> None:
        known = self._known.setdefault(twin, {})
        have = known.get(interface)
        if have == paused:
            return
        agent = interface.removeprefix("PJSIP/").removeprefix("Local/").split("@")[0]
        try:
            if paused is None:
                await self.pbx.queue_remove(twin, interface)
                known.pop(interface, None)
            elif have is None:
                await self.pbx.queue_add(twin, interface, agent, paused=paused)
                known[interface] = paused
            else:
                await self.pbx.queue_pause(twin, interface, paused, reason)
                known[interface] = paused
        except PbxUnavailable as exc:
            log.warning("fallback queue %s not updated for %s: %s", twin, agent, exc)
