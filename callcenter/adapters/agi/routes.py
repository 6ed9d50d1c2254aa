"""FastAGI route handlers: read the channel, ask the services, tell Asterisk.

Each handler returns the Status the dialplan branches on; the server sets it.
"""

from __future__ import annotations

import logging

from callcenter.adapters.agi.session import AgiSession
from callcenter.adapters.agi.variables import Status, Var
from callcenter.core.callerid import vet_caller_id
from callcenter.core.ids import new_call_id
from callcenter.services.calls import CallLog
from callcenter.services.directory import AgentDirectory
from callcenter.services.pbx_view import PbxView

log = logging.getLogger(__name__)


class InboundRoutes:
    """The entry route: answer, take one keypad choice, connect to a free agent."""

    def __init__(
        self, view: PbxView, directory: AgentDirectory, calls: CallLog, ring_timeout: int = 20
    ) -> None:
        self.view = view
        self.directory = directory
        self.calls = calls
        self.ring_timeout = ring_timeout

    async def inbound(self, session: AgiSession) -> Status:
        caller = vet_caller_id(session.header("callerid"), session.header("calleridname"))
        call_id = new_call_id()
        trace = self.calls.open(call_id, session.unique_id, session.channel, caller.number)
        log.info("call %s from %r on %s", call_id, caller.number, session.channel)
        await session.set_variable(Var.CALL_ID, call_id)
        await session.set_variable(Var.CALLER, caller.number)
        await session.set_variable("CALLERID(num)", caller.number or "anonymous")
        await session.set_variable("CALLERID(name)", caller.name or caller.number or "anonymous")
        await session.answer()
        digits, timed_out = await session.get_data("beep", 5000, 1)
        trace.choice = digits
        trace.events.append("timeout" if timed_out and not digits else f"digit {digits}")
        await session.set_variable(Var.CHOICE, digits)
        agent = self._free_agent()
        if agent is None:
            trace.events.append("no free agent: fallback")
            return Status.FALLBACK
        trace.target = agent
        await session.set_variable(Var.TARGET, agent)
        await session.set_variable(Var.RING_TIMEOUT, str(self.ring_timeout))
        trace.events.append(f"connect {agent}")
        return Status.CONNECT

    async def dial_result(self, session: AgiSession) -> Status:
        dial_status = (session.args or [""])[0]
        call_id = await session.get_variable(Var.CALL_ID) or ""
        log.info("call %s: dial ended %s", call_id, dial_status)
        return Status.HANGUP if dial_status == "ANSWER" else Status.FALLBACK

    def _free_agent(self) -> str | None:
        for endpoint in sorted(self.directory.endpoints()):
            if self.view.table.idle(endpoint):
                return endpoint
        return None
