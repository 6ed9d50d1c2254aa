"""Agents' feature codes from their own phone (dialplan cc-agents): *1..*4."""

from __future__ import annotations

import logging
from collections.abc import Callable

from callcenter.adapters.agi.session import AgiSession
from callcenter.core.channels import endpoint_of
from callcenter.core.dialplan import Status
from callcenter.services.agents import AgentError, AgentService

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class AgentFeatureRoute:
    """*1 log in, *2 pause (*2N with reason N), *3 ready, *4 log out, from the agent's phone."""

    REASONS = {
        "": "break",
        "1": "break",
        "2": "lunch",
        "3": "meeting",
        "4": "training",
        "5": "admin",
    }

    def __init__(self, agents: AgentService, clock: Clock) -> None:
        self.agents = agents
        self.clock = clock

    async def handle(self, agi: AgiSession) -> Status:
        agent = endpoint_of(agi.channel) or ""
        code = (agi.args or [""])[0]
        now = self.clock()
        try:
            if code == "*1":
                await self.agents.login(agent, now)
                prompt = "agent-loginok"
            elif code.startswith("*2"):
                reason = self.REASONS.get(code[2:], f"reason-{code[2:]}")
                await self.agents.pause(agent, reason, now)
                prompt = "beep"
            elif code == "*3":
                await self.agents.ready(agent, now)
                prompt = "agent-loginok"
            elif code == "*4":
                await self.agents.logout(agent, now)
                prompt = "agent-loggedoff"
            else:
                prompt = "pbx-invalid"
        except AgentError as exc:
            log.info("feature %s from %s refused: %s", code, agent, exc)
            prompt = "pbx-invalid"
        await agi.stream_file(prompt)
        return Status.HANGUP
