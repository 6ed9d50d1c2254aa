"""Callbacks over FastAGI: the customer's answer when the callback rings them
(after AMD in cc-callback), and the agent-first Dial's end (cc-callback-agent).

The keep-my-place offer and the IVR's booking are the caller's dialogue
(adapters/agi/caller_line.py) run by the inbound use case.
"""

from __future__ import annotations

from callcenter.adapters.agi.routes import Via
from callcenter.adapters.agi.session import AgiSession
from callcenter.core.dialplan import Status, Var
from callcenter.services.callbacks.dialer import CallbackDialer


class CallbackRoutes:
    def __init__(self, dialer: CallbackDialer, via: Via | None = None) -> None:
        self.dialer = dialer
        self.via = via  # several nodes: the trunk to the agent's node (adapters/agi/routes.py)

    # -- the callback rings the customer -------------------------------------------------------
    async def answered(self, agi: AgiSession) -> Status:
        args = agi.args
        amd_status = args[0] if args else ""
        amd_cause = args[1] if len(args) > 1 else ""
        call_id = await agi.get_variable(Var.CALL_ID) or ""
        answer = await self.dialer.answered(
            agi.unique_id, agi.channel, amd_status, amd_cause, call_id
        )
        if answer.connect_to:
            await agi.set_variable(Var.TARGET, answer.connect_to)
            await agi.set_variable(Var.RING_TIMEOUT, str(int(answer.ring_timeout)))
            if self.via is not None:  # cc-connect rings an agent on another node over the trunk
                await agi.set_variable(Var.VIA, self.via(agi.node, answer.connect_to))
            return Status.CONNECT
        if answer.wait:
            return Status.WAIT
        return Status.HANGUP

    async def agent_result(self, agi: AgiSession) -> Status:
        """Agent first: the Dial to the customer is over (cc-callback-agent)."""
        args = agi.args
        await self.dialer.agent_result(agi.unique_id, args[0] if args else "")
        return Status.HANGUP
