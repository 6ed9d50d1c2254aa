"""The agents' digest secrets into the running Kamailio, each time the controller
publishes the agents to the nodes (an agent added, removed, given a new password):
the table rewritten and reloaded over Kamailio's RPC (KamailioProcess.publish_agents),
no restart, the phones' registrations kept. Nothing when Kamailio was never provisioned
in this state directory (a single box)."""

from __future__ import annotations

import asyncio
import logging

from callcenter.adapters.kamailio.process import KamailioProcess
from callcenter.adapters.pbx.provider import ProviderError
from callcenter.adapters.pbx.render import RenderError
from callcenter.core.model import SipAccount

log = logging.getLogger(__name__)


class KamailioAgents:
    def __init__(self, process: KamailioProcess) -> None:
        self.process = process
        self._lock = asyncio.Lock()  # one publication at a time: the table, then its reload

    async def publish_agents(self, accounts: list[SipAccount]) -> None:
        """Never raises: a reload Kamailio did not take is retried at the next
        publication (the controller publishes again at every AMI (re)connection)."""
        async with self._lock:
            try:
                said = await asyncio.to_thread(self.process.publish_agents, accounts)
            except (ProviderError, RenderError, OSError) as exc:
                log.warning("agents not reloaded into Kamailio yet: %s", exc)
                return
        if said:
            log.info("%s", said)
