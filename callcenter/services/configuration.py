"""The site's configuration, applied while calls run: queues, business hours,
IVR flows, agents' skills and states (no restart needed).

Read from storage (a ``ConfigSource``), checked, then applied in this order:
the router's queues (refused as a whole while callers wait in a queue that
would disappear), the queue directory, the queues' voicemail boxes in
Asterisk, the flows, the agents.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

from callcenter.core.acd.agent_state import AgentStatus
from callcenter.core.acd.router import Router
from callcenter.core.hours import load_schedule
from callcenter.core.queues import QueueSettings
from callcenter.services.agents import AgentService
from callcenter.services.flows import FlowDirectory
from callcenter.services.inbound.fallback import FallbackQueues
from callcenter.services.ports import PbxConfig
from callcenter.services.queues import QueueDirectory

log = logging.getLogger(__name__)


class ConfigSource(Protocol):
    def queues(self) -> dict[str, QueueSettings]: ...

    def schedule_documents(self) -> dict[str, dict[str, Any]]: ...

    def flow_documents(self) -> dict[str, tuple[dict[str, Any], list[str]]]: ...

    def agent_skills(self) -> dict[str, dict[str, int]]: ...

    def agent_statuses(self) -> dict[str, AgentStatus]: ...

    def static_contacts(self) -> set[str]: ...


class SiteConfiguration:
    def __init__(
        self,
        source: ConfigSource,
        router: Router,
        queues: QueueDirectory,
        flows: FlowDirectory,
        agents: AgentService,
        pbx_config: PbxConfig,
        fallback: FallbackQueues,
    ) -> None:
        self.source = source
        self.router = router
        self.queues = queues
        self.flows = flows
        self.agents = agents
        self.pbx_config = pbx_config
        self.fallback = fallback
        # One reload at a time: applied in the order they began, so the last one
        # to start (after the latest change) is the last applied.
        self._lock = asyncio.Lock()

    async def reload(self) -> None:
        """Re-read queues, business hours, flows and agents' skills, and apply them."""
        async with self._lock:
            await self._reload()

    async def _reload(self) -> None:
        source = self.source
        queues, schedules, flows, skills, statuses, static = await asyncio.gather(
            asyncio.to_thread(source.queues),
            asyncio.to_thread(source.schedule_documents),
            asyncio.to_thread(source.flow_documents),
            asyncio.to_thread(source.agent_skills),
            asyncio.to_thread(source.agent_statuses),
            asyncio.to_thread(source.static_contacts),
        )
        loaded_schedules = {
            name: load_schedule(doc, source=f"schedule {name}", name=name)
            for name, doc in schedules.items()
        }
        try:
            self.router.set_queues({name: q.to_config() for name, q in queues.items()})
        except ValueError as exc:
            # A queue removed while callers still wait in it: keep the old set until they leave.
            log.error("queue configuration not applied: %s", exc)
            return
        self.queues.load(queues, loaded_schedules)
        await self.pbx_config.publish_voicemail(
            {box for q in queues.values() for box in q.voicemail_boxes()}
        )
        await self.pbx_config.publish_fallback_queues({n: q.wrapup for n, q in queues.items()})
        self.flows.load(flows, queues=set(queues), schedules=set(loaded_schedules))
        await self.pbx_config.publish_first_menus(*self.flows.first_menus())
        self.agents.load(skills, statuses, static, time.time())
        await self.fallback.resync()  # members of new queues' twins, of new skills
