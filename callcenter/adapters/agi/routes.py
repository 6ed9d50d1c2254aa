"""FastAGI route handlers: read the channel, ask the services, tell Asterisk.

Each handler returns the Status the dialplan branches on; the server sets it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from callcenter.adapters.agi.session import AgiSession
from callcenter.adapters.agi.variables import Status, Var
from callcenter.core.callerid import vet_caller_id
from callcenter.core.ids import new_call_id
from callcenter.services.directory import AgentDirectory
from callcenter.services.pbx_view import PbxView

log = logging.getLogger(__name__)


@dataclass(slots=True)
class CallTrace:
    """What the controller saw of one call (kept in memory for the latest calls)."""

    call_id: str
    channel: str
    caller: str
    choice: str = ""
    target: str = ""
    dial_status: str = ""
    events: list[str] = field(default_factory=list)


class InboundRoutes:
    """The entry route: answer, take one keypad choice, connect to a free agent."""

    def __init__(self, view: PbxView, directory: AgentDirectory, ring_timeout: int = 20) -> None:
        self.view = view
        self.directory = directory
        self.ring_timeout = ring_timeout
        self.traces: dict[str, CallTrace] = {}

    async def inbound(self, session: AgiSession) -> Status:
        caller = vet_caller_id(session.header("callerid"), session.header("calleridname"))
        call_id = new_call_id()
        trace = CallTrace(call_id, session.channel, caller.number)
        self._keep(trace)
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
        trace = self.traces.get(call_id)
        if trace is not None:
            trace.dial_status = dial_status
            trace.events.append(f"dial {dial_status}")
        return Status.HANGUP if dial_status == "ANSWER" else Status.FALLBACK

    def _free_agent(self) -> str | None:
        for endpoint in sorted(self.directory.endpoints()):
            if self.view.table.idle(endpoint):
                return endpoint
        return None

    def _keep(self, trace: CallTrace, limit: int = 1000) -> None:
        self.traces[trace.call_id] = trace
        while len(self.traces) > limit:
            self.traces.pop(next(iter(self.traces)))
