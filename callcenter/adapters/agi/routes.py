"""FastAGI routes of an inbound call: translate the request, ask the use case.

Each handler returns the Status the dialplan branches on; the server sets it.
The use case is services/inbound/arrival.py; the caller's channel is handed
to it as a CallerLine (adapters/agi/caller_line.py).
"""

from __future__ import annotations

from callcenter.adapters.agi.caller_line import AgiCallerLine
from callcenter.adapters.agi.ivr_runner import IvrRunner
from callcenter.adapters.agi.session import AgiSession
from callcenter.core.dialplan import Status, Var
from callcenter.services.inbound.arrival import Arrival, Inbound


class CallRoutes:
    def __init__(self, inbound: Inbound, runner: IvrRunner) -> None:
        self.inbound = inbound
        self.runner = runner

    def _line(self, agi: AgiSession) -> AgiCallerLine:
        return AgiCallerLine(agi, self.runner)

    async def arrived(self, agi: AgiSession) -> Status:
        # The dialled number comes as the route's argument (no round trip); a site
        # dialplan calling the route without it is asked for the variable.
        dialled = agi.args[0] if agi.args else await agi.get_variable(Var.DIALLED)
        arrival = Arrival(
            unique_id=agi.unique_id,
            channel=agi.channel,
            caller_id=agi.header("callerid"),
            caller_name=agi.header("calleridname"),
            dialled=dialled or "",
        )
        return await self.inbound.arrived(self._line(agi), arrival)

    async def dial_result(self, agi: AgiSession) -> Status:
        dial_status = agi.args[0] if agi.args else ""
        return await self.inbound.ring_ended(self._line(agi), agi.unique_id, dial_status)

    async def announce(self, agi: AgiSession) -> Status:
        return await self.inbound.announce(self._line(agi), agi.unique_id)
