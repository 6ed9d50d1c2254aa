"""Which agents work a campaign, and which of them are free for its next call.

Shared by the dialer (how many calls to place) and the dialled calls (who takes
an answered customer when the held agent is gone).
"""

from __future__ import annotations

from callcenter.services.agents import AgentService
from callcenter.services.outbound.dialer_model import Campaign
from callcenter.services.queues import QueueDirectory


class CampaignStaff:
    def __init__(self, agents: AgentService, queues: QueueDirectory) -> None:
        self.agents = agents
        self.queues = queues

    def of(self, campaign: Campaign) -> list[str]:
        """Agents whose skills meet the campaign queue's requirements (all, without a queue)."""
        queue = self.queues.get(campaign.settings.queue) if campaign.settings.queue else None
        needs = dict(queue.requirements) if queue is not None else {}
        return sorted(
            agent
            for agent, skills in self.agents.skills.items()
            if all(skills.get(skill, 0) >= level for skill, level in needs.items())
        )

    def free(self, campaign: Campaign) -> list[str]:
        """Ready, registered, on no call and not held: longest idle first."""
        free = [a for a in self.of(campaign) if self.agents.available(a)]
        return sorted(free, key=lambda a: self.agents.status(a).since)

    def first_free(self, campaign: Campaign) -> str:
        free = self.free(campaign)
        return free[0] if free else ""
