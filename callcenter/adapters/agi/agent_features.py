"""Agents' feature codes from their own phone (dialplan cc-agents): *1..*4, *2N."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from callcenter.adapters.agi.session import AgiSession
from callcenter.core.channels import endpoint_of
from callcenter.core.dialplan import Status
from callcenter.core.pause_reasons import reason_for_code
from callcenter.services.agents import AgentError, AgentService

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class AgentFeatureRoute:
    """*1 log in, *2 pause (*2N: with the N-th of ``reasons()``, the administrator's
    current list), *3 ready, *4 log out, from the agent's phone."""

    def __init__(
        self, agents: AgentService, clock: Clock, reasons: Callable[[], Sequence[str]]
    ) -> None:
        self.agents = agents
        self.clock = clock
        self.reasons = reasons

    async def handle(self, agi: AgiSession) -> Status:
        agent = endpoint_of(agi.channel) or ""
        code = (agi.args or [""])[0]
        now = self.clock()
        try:
            if code == "*1":
                await self.agents.login(agent, now)
                prompt = "agent-loginok"
            elif (reason := reason_for_code(code, self.reasons())) is not None:
                await self.agents.pause(agent, reason, now)
                prompt = "beep"
            elif code == "*3":
                await self.agents.ready(agent, now)
                prompt = "agent-loginok"
            elif code == "*4":
                await self.agents.logout(agent, now)
                prompt = "agent-loggedoff"
            else:  # an unknown code, or *2N past the end of the reasons
                prompt = "pbx-invalid"
        except AgentError as exc:
            log.info("feature %s from %s refused: %s", code, agent, exc)
            prompt = "pbx-invalid"
        await agi.stream_file(prompt)
        return Status.HANGUP
