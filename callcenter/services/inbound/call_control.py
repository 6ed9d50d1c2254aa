"""Call control for an agent on a call: hold, resume, blind transfer to a queue or
to another agent (the desktop and the API).

How each is done in Asterisk (dialplan/call_control.conf, dialplan/queue.conf):

* hold: one AMI Redirect with ExtraChannel takes the caller and the agent out of
  their bridge together (Asterisk hangs neither up); the caller hears the queue's
  music in cc-hold, the agent's leg waits in silence in cc-hold-agent.
* resume: the caller's leg goes to cc-resume, which bridges it with the agent's
  leg again (the Bridge application).
* blind transfer: the caller is redirected to cc-transfer, which takes them out of
  the agent's bridge (Asterisk hangs the agent's leg up) and asks the controller
  over FastAGI where to (Asterisk refuses a second Redirect while the channel is
  still leaving its bridge: "channel not up"). The controller places them as it
  places any caller: the queue's line (their first arrival time kept for their
  place when ``keep_arrival``), or the chosen agent's phone rung from cc-connect.
  The agent who transferred goes to wrap-up. An outside number: cc-transfer-out
  dials it over the trunk once the dial policy allowed it.

Always-connected agents (nailed.py) have the same controls: their line is moved like
any agent's leg on hold (cc-hold-agent, then cc-resume bridges it back), and when the
caller leaves them (a transfer) the line goes back to wait in cc-nailed for the next
caller instead of being hung up.

Each agent's part of the call ends as a segment (core/calls/segments.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from callcenter.core.acd.model import AgentState
from callcenter.core.calls.live import CallBook, LiveCall
from callcenter.core.calls.segments import Segment, close_segment
from callcenter.core.calls.state import CallEvent, CallState, advance
from callcenter.core.dialplan import Context, Var
from callcenter.core.events import (
    CallCompleted,
    CallDataChanged,
    CallHeld,
    CallResumed,
    CallTransferred,
    segment_ended,
)
from callcenter.services.agents import AgentService
from callcenter.services.dial_guard import DialGuard
from callcenter.services.inbound.acd import Acd
from callcenter.services.inbound.nailed import NailedLines
from callcenter.services.notify import Notifier
from callcenter.services.ports import Pbx, PbxUnavailable
from callcenter.services.queues import QueueDirectory

log = logging.getLogger(__name__)

REASON_MAX = 200
NOTE_MAX = 2000


class CallControlError(Exception):
    """A call-control request that cannot be carried out; ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class CallControl:
    def __init__(
        self,
        calls: CallBook,
        agents: AgentService,
        acd: Acd,
        pbx: Pbx,
        queues: QueueDirectory,
        notifier: Notifier,
        clock: Callable[[], float],
        keep_arrival: bool = True,
        guard: DialGuard | None = None,
        trunk: Callable[[], str] = lambda: "",
        avoid_sender: float = 60.0,
    ) -> None:
        self.calls = calls
        self.agents = agents
        self.acd = acd
        self.pbx = pbx
        self.queues = queues
        self.notifier = notifier
        self.clock = clock
        # A caller transferred to a queue keeps their first arrival time for their place
        # in its line (fairness); False: they join it as if they had just called.
        self.keep_arrival = keep_arrival
        # The agent who transferred a caller is not offered them back for this long
        # (then they may be, if nobody else took the caller; 0: no wait).
        self.avoid_sender = avoid_sender
        # Outside numbers: the dial policy vets each one (refusals audited), then the
        # first outbound trunk with a contact carries the call.
        self.guard = guard
        self.trunk = trunk
        # The DYNAMIC_FEATURES value of agents' legs (core/phone_codes.py), given to a
        # consulted agent's leg too; empty: no phone codes.
        self.phone_codes = ""
        # Always-connected agents' lines (services/inbound/nailed.py; set by the
        # composition root): never hung up by call control, sent back to wait instead.
        self.lines: NailedLines | None = None

    def line_of(self, agent: str) -> NailedLines | None:
        """The lines, if the agent works always-connected."""
        lines = self.lines
        return lines if lines is not None and lines.nailed(agent) else None

    # -- checks ------------------------------------------------------------------------
    def call_of(self, agent: str) -> LiveCall:
        """The caller the agent is talking with now (both legs known), to hold or move."""
        return self.talking(agent)

    def talking(self, agent: str) -> LiveCall:
        """The caller the agent is talking with now (both legs known)."""
        status = self.agents.statuses.get(agent)
        if status is None:
            raise CallControlError("unknown-agent", f"no agent {agent!r}")
        call = self.calls.get(status.call_id) if status.call_id else None
        if (
            status.state is not AgentState.ON_CALL
            or call is None
            or call.state is not CallState.TALKING
            or call.agent != agent
            or not call.channel
            or not call.agent_channel
        ):
            raise CallControlError("no-call", f"{agent} is not talking with a caller")
        return call

    def _still(self, call: LiveCall, agent: str) -> bool:
        """After an await: the same conversation is still on."""
        return (
            self.calls.get(call.call_id) is call
            and call.state is CallState.TALKING
            and call.agent == agent
        )

    # -- ending the call ---------------------------------------------------------------
    async def end(self, agent: str) -> LiveCall:
        """The agent ends the conversation from the desktop: the caller's leg is hung up
        (an always-connected agent's line goes back to wait for the next caller)."""
        call = self.talking(agent)
        call.ended_by_agent = True  # the caller's leg goes first, but the agent ended it
        try:
            await self.pbx.hangup(call.channel)
        except PbxUnavailable as exc:
            call.ended_by_agent = False
            raise CallControlError("pbx", f"could not end the call: {exc}") from exc
        return call

    # -- hold and resume ---------------------------------------------------------------
    async def hold(self, agent: str) -> LiveCall:
        call = self.call_of(agent)
        if call.holds.on_hold:
            raise CallControlError("on-hold", "the call is already on hold")
        try:
            await self.pbx.set_var(call.channel, Var.HOLD_PEER, call.agent_channel)
            await self.pbx.set_var(call.channel, Var.HOLD_AGENT, agent)
            await self.pbx.set_var(call.agent_channel, Var.HOLD_PEER, call.channel)
            await self.pbx.redirect_both(
                call.channel, Context.HOLD, call.agent_channel, Context.HOLD_AGENT
            )
        except PbxUnavailable as exc:
            raise CallControlError("pbx", f"could not hold the call: {exc}") from exc
        now = self.clock()
        if self._still(call, agent) and call.holds.start(now):
            self.notifier.publish(CallHeld(at=now, call_id=call.call_id, agent=agent))
        return call

    async def resume(self, agent: str) -> LiveCall:
        call = self.call_of(agent)
        if not call.holds.on_hold:
            raise CallControlError("not-on-hold", "the call is not on hold")
        try:
            await self.pbx.redirect(call.channel, Context.RESUME, "s")
        except PbxUnavailable as exc:
            raise CallControlError("pbx", f"could not resume the call: {exc}") from exc
        now = self.clock()
        held = call.holds.stop(now)
        if held is not None:
            self.notifier.publish(CallResumed(at=now, call_id=call.call_id, agent=agent, held=held))
        return call

    # -- blind transfers ---------------------------------------------------------------
    async def to_queue(self, agent: str, queue: str, reason: str = "", note: str = "") -> LiveCall:
        call = self.call_of(agent)
        if self.queues.get(queue) is None:
            raise CallControlError("unknown-queue", f"no queue {queue!r}")
        self._check_words(reason, note)
        if not self.keep_arrival:
            call.enqueued_at = None
        await self._hand_over(call, agent, "queue", queue, reason, note)
        return call

    async def to_agent(self, agent: str, target: str, reason: str = "", note: str = "") -> LiveCall:
        call = self.call_of(agent)
        if target == agent:
            raise CallControlError("same-agent", "a call cannot be transferred to its own agent")
        if target not in self.agents.statuses:
            raise CallControlError("unknown-agent", f"no agent {target!r}")
        if not self.agents.available(target):
            raise CallControlError("agent-busy", f"{target} is not ready for a call")
        self._check_words(reason, note)
        await self._hand_over(call, agent, "agent", target, reason, note)
        return call

    async def to_number(self, agent: str, raw: str, reason: str = "") -> LiveCall:
        """The caller to an outside number, if the dial policy allows it; the call is
        then no longer the call center's (it completes here, ``ended_by`` transfer)."""
        call = self.call_of(agent)
        self._check_words(reason, "")
        number = await self.vet_number(agent, raw, "transfer")
        trunk = self.trunk()
        if not self._still(call, agent):
            raise CallControlError("no-call", "the call ended meanwhile")
        try:
            await self.pbx.set_var(call.channel, Var.XFER_NUMBER, number)
            await self.pbx.set_var(call.channel, Var.XFER_TRUNK, trunk)
        except PbxUnavailable as exc:
            raise CallControlError("pbx", f"could not transfer the call: {exc}") from exc
        agent_channel, held = call.agent_channel, call.holds.on_hold
        segment = await self._leave(call, agent, Context.TRANSFER_OUT, "number", number)
        advance(call, CallEvent.COMPLETE)
        self.notifier.publish(segment_ended(call.call_id, segment))
        self.notifier.publish(
            CallTransferred(
                at=segment.ended_at, call_id=call.call_id, agent=agent, kind="number",
                target=number, reason=reason, queue=call.queue, unique_id=call.unique_id,
                wait=call.wait(segment.ended_at), talk=segment.talk + segment.hold,
            )
        )  # fmt: skip
        self.notifier.publish(
            CallCompleted(
                at=segment.ended_at, call_id=call.call_id, unique_id=call.unique_id,
                queue=call.queue, agent=agent, wait=call.wait(segment.ended_at),
                talk=segment.talk, ended_by="transfer", hold=segment.hold,
            )
        )  # fmt: skip
        await self.acd.agent_done(agent, call.queue, segment.talk + segment.hold, segment.ended_at)
        if held:
            await self.let_go(agent, agent_channel)  # it waits in cc-hold-agent otherwise
        return call

    async def vet_number(self, agent: str, raw: str, purpose: str) -> str:
        """The number in E.164 if the dial policy allows it (refusals are audited) and
        a trunk can carry it; else CallControlError ``no-trunk`` or ``refused``."""
        if self.guard is None or not self.trunk():
            raise CallControlError("no-trunk", "no outbound trunk to call over")
        guard = self.guard
        verdict = await asyncio.to_thread(
            guard.check, raw, guard.home, (), ("agent", agent), purpose
        )
        if verdict.reason is not None:
            raise CallControlError("refused", f"the dial policy refuses it: {verdict.detail}")
        return verdict.number

    @staticmethod
    def _check_words(reason: str, note: str) -> None:
        if len(reason) > REASON_MAX:
            raise CallControlError("reason-too-long", f"reason: at most {REASON_MAX} characters")
        if len(note) > NOTE_MAX:
            raise CallControlError("note-too-long", f"note: at most {NOTE_MAX} characters")

    async def _hand_over(
        self, call: LiveCall, agent: str, kind: str, target: str, reason: str, note: str
    ) -> None:
        """The caller leaves the agent (to cc-transfer, which asks the controller where
        to: Arrival.transferred); the agent's segment ends, the agent goes to wrap-up,
        the call is back in the WAITING state."""
        agent_channel, held = call.agent_channel, call.holds.on_hold
        segment = await self._leave(call, agent, Context.TRANSFER, kind, target)
        now = segment.ended_at
        wait = max(0.0, segment.answered_at - (call.enqueued_at or segment.answered_at))
        advance(call, CallEvent.TRANSFER)
        call.transfer_to = (kind, target)  # the caller's next stop, asked by cc-transfer
        call.agent, call.answered_at = "", None
        # The line's maximum wait counts from the transfer (the time with the agent is
        # no wait); the place in line keeps the first arrival (``enqueued_at``).
        call.joined_at = None
        call.transfers += 1
        call.transferred_from = agent
        call.avoid = (agent, now + self.avoid_sender) if self.avoid_sender > 0 else None
        call.previous_agents = (*call.previous_agents, agent)
        call.data["transferred_from"] = agent
        changes = {"transferred_from": agent}
        if reason:
            call.data["transfer_reason"] = changes["transfer_reason"] = reason
        if note:
            call.data["transfer_note"] = changes["transfer_note"] = note
        self.notifier.publish(segment_ended(call.call_id, segment))
        self.notifier.publish(
            CallTransferred(
                at=now,
                call_id=call.call_id,
                agent=agent,
                kind=kind,
                target=target,
                reason=reason,
                queue=call.queue,
                unique_id=call.unique_id,
                wait=wait,
                talk=segment.talk + segment.hold,
            )
        )
        self.notifier.publish(CallDataChanged(at=now, call_id=call.call_id, changes=changes))
        await self.acd.agent_done(agent, call.queue, segment.talk + segment.hold, now)
        if held:
            # After the call's new state: cc-transfer's question may come in meanwhile.
            await self.let_go(agent, agent_channel)  # it waits in cc-hold-agent otherwise

    async def _leave(
        self, call: LiveCall, agent: str, context: Context, kind: str, target: str
    ) -> Segment:
        """The caller is moved to ``context``, away from the agent: the agent's segment,
        closed (not yet published). A held agent's leg is the caller's to let go, once
        the call's state says where the caller went."""
        agent_channel, held = call.agent_channel, call.holds.on_hold
        # First: the agent's leg is no longer the call's, so its hang-up (Asterisk's, as
        # the caller leaves the bridge; it may be read before the Redirect's answer)
        # ends nothing. The agent's part is ended here instead. An always-connected
        # agent's line goes back to cc-nailed (Bridge's F) and ends nothing either.
        self.calls.set_agent_channel(call, "")
        lines = self.line_of(agent)
        talk = lines.release(agent) if lines is not None else None
        try:
            await self.pbx.redirect(call.channel, context, "s")
        except PbxUnavailable as exc:
            self.calls.set_agent_channel(call, agent_channel)
            if lines is not None:
                lines.restore(agent, talk)
            raise CallControlError("pbx", f"could not transfer the call: {exc}") from exc
        now = self.clock()
        if not self._still(call, agent):
            # The caller hung up meanwhile (the call completed): the agent is done.
            if held:
                await self.let_go(agent, agent_channel)
            status = self.agents.statuses.get(agent)
            if status is not None and status.state is AgentState.ON_CALL:
                talk_time = now - (call.answered_at or now)
                await self.acd.agent_done(agent, call.queue, talk_time, now)
            raise CallControlError("no-call", "the call ended meanwhile")
        return close_segment(
            agent,
            call.queue,
            call.answered_at or now,
            call.holds,
            now,
            f"transfer-{kind}",
            target,
        )

    async def let_go(self, agent: str, agent_channel: str) -> None:
        """The agent's leg, its caller gone elsewhere: hung up, or (an always-connected
        agent's line) sent back to wait in cc-nailed."""
        lines = self.line_of(agent)
        if lines is not None and lines.line_of(agent) is not None:
            await lines.back_to_line(agent)
        else:
            await self.pbx.hangup(agent_channel)
