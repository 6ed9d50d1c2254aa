"""FastAGI routes of outbound calls (dialplan/outbound.conf): ask the dialer, tell Asterisk."""

from __future__ import annotations

from callcenter.adapters.agi.routes import Via
from callcenter.adapters.agi.session import AgiSession
from callcenter.core.dialplan import Status, Var, inherited
from callcenter.services.outbound.dialer_calls import DialerCalls
from callcenter.services.outbound.dialer_model import OutboundDecision


class OutboundRoutes:
    def __init__(self, calls: DialerCalls, via: Via | None = None) -> None:
        self.calls = calls
        self.via = via  # several nodes: the trunk to the agent's node (adapters/agi/routes.py)

    async def answered(self, agi: AgiSession) -> Status:
        """cc-outbound: the customer answered; AMD (if run) has decided."""
        amd = await agi.get_variable("AMDSTATUS") or ""
        cause = await agi.get_variable("AMDCAUSE") or ""
        decision = await self.calls.answered(agi.unique_id, agi.channel, amd, cause)
        return await self._apply(agi, decision, self.via)

    async def result(self, agi: AgiSession) -> Status:
        """cc-outbound-agent: Dial() to the agent ended (DIALSTATUS in the first argument)."""
        dial_status = (agi.args or [""])[0]
        decision = await self.calls.agent_result(agi.unique_id, dial_status)
        return await self._apply(agi, decision)

    @staticmethod
    async def _apply(agi: AgiSession, decision: OutboundDecision, via: Via | None = None) -> Status:
        if decision.status is Status.CONNECT:
            await agi.set_variable(Var.TARGET, decision.target)
            if via is not None:  # cc-outbound-agent rings an agent on another node over the trunk
                await agi.set_variable(Var.VIA, via(agi.node, decision.target))
            await agi.set_variable(Var.RING_TIMEOUT, str(decision.ring_timeout))
            if decision.recording:
                await agi.set_variable(inherited(Var.REC_FILE), decision.recording)
        await agi.set_variable(Var.PROMPT, decision.prompt)
        await agi.set_variable(Var.AFTER_GREETING, "1" if decision.after_greeting else "")
        return decision.status
