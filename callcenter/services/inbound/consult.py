"""Consultation transfer: the agent puts the caller on hold, calls another agent,
talks with them, then completes (the caller goes on with the target, the first agent
leaves) or cancels (the target's leg is hung up, the caller is back with the agent).

How it is done in Asterisk (dialplan/call_control.conf, cc-consult):

* start: hold as CallControl.hold does (the caller in cc-hold with music, the agent's
  leg in cc-hold-agent), then an Originate rings the target's phone into cc-consult,
  whose Bridge pulls the agent's leg in. While the target's phone has a channel the
  ACD offers them nothing (AgentService.phone_free).
* cancel: the target's leg is hung up (Bridge's F option sends the agent's leg back
  to cc-hold-agent), then the caller is resumed as from a hold.
* complete: the caller's CC_HOLD_PEER becomes the target's leg, the agent's leg is hung
  up (the target's leg waits in cc-consult), and the caller's cc-resume bridges with
  the target. The first agent's segment ends with reason ``consult-complete``; the
  target's begins (a transfer: the pop says from whom); the first agent goes to wrap-up.

The call stays TALKING throughout (core/calls/state.py): on hold while consulting,
then with the target.

Always-connected agents (nailed.py): the consulting agent's line is held, bridged and
conferenced like any leg, and where another leg would be hung up (complete, leaving a
conference) it goes back to wait in cc-nailed. An always-connected target is not rung
(their phone is on their line): their waiting line is redirected into cc-consult
(``Consult.line``), and back to cc-nailed on cancel or once the caller is gone.

After a restart (``recover``) a consultation found whole in Asterisk (the caller on hold,
the agent's leg bridged with the target's) is carried on: complete, cancel and
conference work as before (cc-hold keeps the caller waiting while the controller is
silent and the agent is bridged with someone else), and so is a conference (the caller
in cc-conference, the agent's and the target's legs in cc-conference-member): the agent
may leave it. One found half-way is ended: the
target's leg is hung up (a line sent back to cc-nailed) and a caller still on hold is
resumed with their agent; the records go on as for a held call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from callcenter.core.calls.live import LiveCall
from callcenter.core.calls.segments import close_segment
from callcenter.core.calls.state import CallEvent, CallState, advance
from callcenter.core.channels import endpoint_of
from callcenter.core.dialplan import CONF_NAME_PATTERN, Context, Var
from callcenter.core.events import (
    CallAnswered,
    CallCompleted,
    CallDataChanged,
    CallResumed,
    CallTransferred,
    segment_ended,
)
from callcenter.services.inbound.call_control import CallControl, CallControlError
from callcenter.services.ports import (
    LiveChannel,
    OriginateUncertain,
    Origination,
    Originator,
    PbxUnavailable,
)

log = logging.getLogger(__name__)

RING_SECONDS = 30
SETTLE_SECONDS = 3.0  # how long a leg may take to reach its next place in Asterisk
POLL = 0.1


@dataclass(slots=True)
class Party:
    """Someone added to a conference (conference.py)."""

    name: str  # an agent's name or an E.164 number
    kind: str  # "agent" | "number"
    channel_id: str  # the party's leg's unique id (ours, given to the Originate)
    added_at: float
    line: str = ""  # an always-connected agent's line, lent (not rung)


@dataclass(slots=True)
class Consult:
    call_id: str
    agent: str
    target: str
    channel_id: str  # the target's leg's unique id (ours, given to the Originate)
    started_at: float
    conference: bool = False  # the caller, the agent and the target in one ConfBridge
    kind: str = "agent"  # or "number": an outside number over the trunk
    line: str = ""  # an always-connected target: their line's channel, lent (not rung)
    parties: list[Party] = field(default_factory=list)  # added to the conference


class Consultations:
    def __init__(
        self,
        control: CallControl,
        originator: Originator,
        via: Callable[[str, str], str] = lambda channel, agent: "",
    ) -> None:
        """``via``: the inter-node trunk from a channel's node to an agent's phone or
        always-connected line ('' on the same node, or on one box: AmiPbx.via)."""
        self.control = control
        self.originator = originator
        self.via = via
        self._by_agent: dict[str, Consult] = {}

    def of(self, agent: str) -> Consult | None:
        consult = self._by_agent.get(agent)
        if consult is not None and self.control.calls.get(consult.call_id) is None:
            del self._by_agent[agent]  # the caller hung up meanwhile
            return None
        return consult

    # -- start ---------------------------------------------------------------------------
    async def start(self, agent: str, target: str) -> Consult:
        control = self.control
        call = control.call_of(agent)
        if self.of(agent) is not None:
            raise CallControlError("consulting", "a consultation is already in progress")
        if target == agent:
            raise CallControlError("same-agent", "an agent cannot consult themselves")
        if target not in control.agents.statuses:
            raise CallControlError("unknown-agent", f"no agent {target!r}")
        if not control.agents.available(target) or self._busy(target):
            raise CallControlError("agent-busy", f"{target} is not ready for a call")
        return await self._ring(call, agent, target, "agent", "")

    async def start_queue(self, agent: str, queue: str) -> Consult:
        """Consult a queue: its first free agent (longest idle, skills that meet the
        queue's needs) is called, as if chosen by name."""
        control = self.control
        control.call_of(agent)
        settings = control.queues.get(queue)
        if settings is None:
            raise CallControlError("unknown-queue", f"no queue {queue!r}")
        needs = dict(settings.requirements)
        free = [
            name
            for name, skills in control.agents.skills.items()
            if name != agent
            and all(skills.get(skill, 0) >= level for skill, level in needs.items())
            and control.agents.available(name)
            and not self._busy(name)
        ]
        if not free:
            raise CallControlError("agent-busy", f"no agent of {queue} is free")
        first = min(free, key=lambda name: control.agents.status(name).since)
        return await self.start(agent, first)

    async def start_number(self, agent: str, raw: str) -> Consult:
        """Consult an outside number (the dial policy first, then the outbound trunk);
        complete hands the caller to it: the call is then no longer the call center's."""
        control = self.control
        call = control.call_of(agent)
        if self.of(agent) is not None:
            raise CallControlError("consulting", "a consultation is already in progress")
        number = await control.vet_number(agent, raw, "consult")
        return await self._ring(call, agent, number, "number", control.trunk())

    async def _ring(self, call: LiveCall, agent: str, target: str, kind: str, via: str) -> Consult:
        """Hold the caller (unless held), then ring the target into cc-consult."""
        control = self.control
        if not call.holds.on_hold:
            await control.hold(agent)
        agent_channel = call.agent_channel
        consult = Consult(
            call_id=call.call_id,
            agent=agent,
            target=target,
            channel_id=f"consult-{uuid.uuid4().hex[:16]}",
            started_at=control.clock(),
            kind=kind,
        )
        assert re.fullmatch(CONF_NAME_PATTERN, consult.channel_id)
        lines = control.line_of(target) if kind == "agent" else None
        line = lines.line_of(target) if lines is not None else None
        if lines is not None and line is not None and kind == "agent":
            trunk = self.via(agent_channel, target)
            if trunk:
                # The line waits on another node: rung over the inter-node trunk from
                # the agent's node (cc-internode there bridges the trunk's leg to the
                # line, no ring); the line is busy until it is back in cc-nailed.
                lines.lend(target)
                try:
                    return await self._originate(consult, call, agent, agent_channel, trunk)
                except CallControlError:
                    lines.restore(target, None)
                    raise
        if lines is not None and line is not None:
            lines.lend(target)  # first: no caller is sent to the line while it moves
            try:
                await self._lend(consult, call, agent_channel, line.channel)
            except CallControlError:
                lines.restore(target, None)
                raise
            self._by_agent[agent] = consult
            return consult
        return await self._originate(consult, call, agent, agent_channel, via)

    async def _originate(
        self, consult: Consult, call: LiveCall, agent: str, agent_channel: str, via: str
    ) -> Consult:
        """Ring the target (a phone, a number, or a line over a trunk) into cc-consult."""
        control = self.control
        kind, target = consult.kind, consult.target
        variables = [
            (Var.HOLD_PEER.value, agent_channel),
            (Var.CONSULT_CALLER.value, call.channel),
            (Var.CONSULT_TARGET.value, target),
            (Var.CONSULT_AGENT.value, agent),
        ]
        if kind == "agent" and control.phone_codes:  # the target's codes once it has the call
            variables.append(("DYNAMIC_FEATURES", control.phone_codes))
        request = Origination(
            endpoint=target,
            context=Context.CONSULT,
            exten="s",
            action_id=consult.channel_id,
            channel_id=consult.channel_id,
            caller_id=f'"Consult {agent}" <{agent}>',
            ring_seconds=RING_SECONDS,
            variables=tuple(variables),
            via=via,
            near=agent_channel,  # cc-consult bridges the two: one node (several nodes)
        )
        try:
            await self.originator.originate(request)
        except OriginateUncertain:
            pass  # maybe ringing: kept, so that cancel can hang it up
        except PbxUnavailable as exc:
            raise CallControlError("pbx", f"could not call {target}: {exc}") from exc
        self._by_agent[agent] = consult
        return consult

    async def _lend(self, consult: Consult, call: LiveCall, agent_channel: str, line: str) -> None:
        """An always-connected target: their waiting line goes into cc-consult."""
        pbx = self.control.pbx
        try:
            await pbx.set_var(line, Var.HOLD_PEER, agent_channel)
            await pbx.set_var(line, Var.CONSULT_CALLER, call.channel)
            await pbx.set_var(line, Var.CONSULT_TARGET, consult.target)
            await pbx.set_var(line, Var.CONSULT_AGENT, consult.agent)
            await pbx.redirect(line, Context.CONSULT, "s")
        except PbxUnavailable as exc:
            raise CallControlError("pbx", f"could not reach {consult.target}: {exc}") from exc
        consult.line = line

    def all(self) -> list[Consult]:
        return list(self._by_agent.values())

    def _busy(self, target: str) -> bool:
        return any(
            c.target == target or c.agent == target or any(p.name == target for p in c.parties)
            for c in self._by_agent.values()
        )

    # -- cancel ----------------------------------------------------------------------------
    async def cancel(self, agent: str) -> LiveCall:
        """The target's leg is hung up; the caller is back with the agent."""
        consult = self._consult(agent)
        call = self.control.call_of(agent)
        if consult.conference:
            raise CallControlError("in-conference", "leave the conference instead")
        del self._by_agent[agent]
        leg = await self._leg(consult)
        try:
            if leg is not None:
                await self._end_leg(consult, leg.name)
            # The agent's leg goes back to cc-hold-agent (Bridge's F option) first: out of
            # the target's bridge (its context reads cc-hold-agent while still in it).
            await self._until(
                lambda channels: (
                    any(
                        c.name == call.agent_channel
                        and c.context == Context.HOLD_AGENT
                        and not c.bridge_id
                        for c in channels
                    )
                    and not any(self._is_leg(consult, c) for c in channels)
                )
            )
        except PbxUnavailable as exc:
            raise CallControlError("pbx", f"could not end the consultation: {exc}") from exc
        return await self.control.resume(agent)

    # -- three-way conference -------------------------------------------------------------
    async def conference(self, agent: str) -> LiveCall:
        """The caller joins the agent and the target: all three in one ConfBridge."""
        control = self.control
        consult = self._consult(agent)
        call = control.call_of(agent)
        if consult.conference:
            raise CallControlError("in-conference", "already a conference")
        leg = await self._leg(consult)
        if leg is None or leg.state != "Up" or not leg.bridge_id:
            raise CallControlError("not-answered", f"{consult.target} has not answered")
        try:
            for channel in (call.channel, call.agent_channel, leg.name):
                await control.pbx.set_var(channel, Var.CONF, consult.channel_id)
            await control.pbx.redirect(call.channel, Context.CONFERENCE, "s")
            await control.pbx.redirect_both(
                call.agent_channel, Context.CONFERENCE_MEMBER, leg.name, Context.CONFERENCE_MEMBER
            )
        except PbxUnavailable as exc:
            raise CallControlError("pbx", f"could not start the conference: {exc}") from exc
        consult.conference = True
        now = control.clock()
        held = call.holds.stop(now)  # the caller talks again
        if held is not None:
            control.notifier.publish(
                CallResumed(at=now, call_id=call.call_id, agent=agent, held=held)
            )
        return call

    # -- complete --------------------------------------------------------------------------
    async def complete(self, agent: str, reason: str = "") -> LiveCall:
        """The caller goes on with the target; the agent leaves (to wrap-up). In a
        conference: the agent leaves it, the caller and the target go on."""
        control = self.control
        consult = self._consult(agent)
        call = control.call_of(agent)
        control._check_words(reason, "")
        leg = await self._leg(consult)
        if leg is None or leg.state != "Up" or not leg.bridge_id:
            raise CallControlError("not-answered", f"{consult.target} has not answered")
        if consult.parties:
            raise CallControlError(
                "parties-present", "remove the other parties before leaving the conference"
            )
        target = consult.target
        why = "conference-left" if consult.conference else "consult-complete"
        try:
            await control.pbx.set_var(call.channel, Var.HOLD_PEER, leg.name)
            await control.pbx.set_var(
                call.channel, Var.HOLD_AGENT, target if consult.kind == "agent" else agent
            )
        except PbxUnavailable as exc:
            raise CallControlError("pbx", f"could not complete: {exc}") from exc
        if not control._still(call, agent):
            raise CallControlError("no-call", "the call ended meanwhile")
        del self._by_agent[agent]
        if consult.kind == "number":
            return await self._hand_out(call, agent, consult, leg.name, why, reason)
        # The call's state first: the first agent's leg, hung up below, is no longer the
        # call's (its hang-up ends nothing); the target's leg is.
        now = control.clock()
        agent_channel = call.agent_channel
        control.calls.set_agent_channel(call, leg.name)
        segment = close_segment(
            agent, call.queue, call.answered_at or now, call.holds, now, why, target
        )
        call.agent, call.answered_at = target, now
        call.transfers += 1
        call.transferred_from = agent
        call.previous_agents = (*call.previous_agents, agent)
        call.data["transferred_from"] = agent
        changes = {"transferred_from": agent}
        if reason:
            call.data["transfer_reason"] = changes["transfer_reason"] = reason
        await control.agents.offer(target, call.call_id, now)
        await control.agents.answered(target, now)
        target_lines = control.line_of(target)
        if consult.line and target_lines is not None:
            target_lines.talk_started(target, call.unique_id, call.queue, now)
        agent_lines = control.line_of(agent)
        if agent_lines is not None:
            agent_lines.release(agent)  # its line's way back ends nothing: done below
        control.notifier.publish(segment_ended(call.call_id, segment))
        control.notifier.publish(
            CallTransferred(
                at=now, call_id=call.call_id, agent=agent, kind="agent", target=target,
                reason=reason or why, queue=call.queue,
                unique_id=call.unique_id,
                wait=max(0.0, segment.answered_at - (call.enqueued_at or segment.answered_at)),
                talk=segment.talk + segment.hold,
            )
        )  # fmt: skip
        control.notifier.publish(CallDataChanged(at=now, call_id=call.call_id, changes=changes))
        control.notifier.publish(
            CallAnswered(
                at=now, call_id=call.call_id, unique_id=call.unique_id, queue=call.queue,
                agent=target, wait=call.wait(now), ring_seconds=now - consult.started_at,
                agent_channel=leg.name, transferred=True,
            )
        )  # fmt: skip
        await control.acd.agent_done(agent, call.queue, segment.talk + segment.hold, now)
        await self._join(call, agent, agent_channel, leg.name, consult.conference)
        return call

    async def _hand_out(
        self, call: LiveCall, agent: str, consult: Consult, leg: str, why: str, reason: str
    ) -> LiveCall:
        """Complete to an outside number: the caller goes on with it, and the call is
        then no longer the call center's (as a blind transfer to a number)."""
        control = self.control
        now = control.clock()
        agent_channel = call.agent_channel
        control.calls.set_agent_channel(call, "")  # its hang-up below ends nothing
        segment = close_segment(
            agent, call.queue, call.answered_at or now, call.holds, now, why, consult.target
        )
        advance(call, CallEvent.COMPLETE)
        call.transfers += 1
        control.notifier.publish(segment_ended(call.call_id, segment))
        control.notifier.publish(
            CallTransferred(
                at=now, call_id=call.call_id, agent=agent, kind="number",
                target=consult.target, reason=reason or why, queue=call.queue,
                unique_id=call.unique_id, wait=call.wait(now),
                talk=segment.talk + segment.hold,
            )
        )  # fmt: skip
        control.notifier.publish(
            CallCompleted(
                at=now, call_id=call.call_id, unique_id=call.unique_id, queue=call.queue,
                agent=agent, wait=call.wait(now), talk=segment.talk, ended_by="transfer",
                hold=segment.hold,
            )
        )  # fmt: skip
        await control.acd.agent_done(agent, call.queue, segment.talk + segment.hold, now)
        await self._join(call, agent, agent_channel, leg, consult.conference)
        return call

    async def _join(
        self, call: LiveCall, agent: str, agent_channel: str, leg: str, conference: bool
    ) -> None:
        """The first agent's leg hung up, the caller bridged with the target's leg."""
        control = self.control
        try:
            await control.let_go(agent, agent_channel)
            if conference:  # the target out of the conference, to wait there
                await control.pbx.redirect(leg, Context.CONSULT_WAIT, "s")
            # The target's leg leaves the consultation's bridge (to wait in cc-consult)
            # before the caller's Bridge takes it.
            await self._until(
                lambda channels: any(
                    c.name == leg and not c.bridge_id and c.context == Context.CONSULT_WAIT
                    for c in channels
                )
            )
            await control.pbx.redirect(call.channel, Context.RESUME, "s")
        except PbxUnavailable as exc:
            raise CallControlError("pbx", f"could not complete: {exc}") from exc

    # -- helpers ---------------------------------------------------------------------------
    def _consult(self, agent: str) -> Consult:
        consult = self.of(agent)
        if consult is None:
            raise CallControlError("no-consult", "no consultation in progress")
        return consult

    async def _leg(self, consult: Consult) -> LiveChannel | None:
        """The target's leg: the one the Originate made, or their lent line."""
        try:
            channels = await self.control.pbx.channels()
        except PbxUnavailable as exc:
            raise CallControlError("pbx", f"could not list the channels: {exc}") from exc
        return next((c for c in channels if self._is_leg(consult, c)), None)

    @staticmethod
    def _is_leg(consult: Consult, channel: LiveChannel) -> bool:
        if consult.line:  # a lent line is the consultation's while in its contexts
            return channel.name == consult.line and channel.context in (
                Context.CONSULT.value,
                Context.CONSULT_WAIT.value,
                Context.CONFERENCE_MEMBER.value,
            )
        return channel.unique_id == consult.channel_id

    async def _end_leg(self, consult: Consult, leg: str) -> None:
        """The target's leg out of the consultation: hung up, or a lent line back home."""
        lines = self.control.line_of(consult.target)
        if consult.line and lines is not None and lines.line_of(consult.target) is not None:
            await lines.back_to_line(consult.target)
        else:
            await self.control.pbx.hangup(leg)

    # -- after a restart -----------------------------------------------------------------
    async def recover(self, channels: list[LiveChannel]) -> None:
        """Consultations the last controller left: carried on where the agent still talks
        with the target and the caller still waits on hold (complete, cancel and
        conference work as before the restart); else ended, the caller back with the
        agent."""
        calls = {c.channel: c for c in self.control.calls.all()}
        for channel in channels:
            if channel.context == Context.CONFERENCE_MEMBER:
                await self._conference_found(channel, calls, channels)
                continue
            if channel.context not in (Context.CONSULT.value, Context.CONSULT_WAIT.value):
                continue
            try:
                caller = await self.control.pbx.get_var(channel.name, Var.CONSULT_CALLER)
            except PbxUnavailable:
                continue
            call = calls.get(caller or "")
            if call is not None and any(c.agent_channel == channel.name for c in calls.values()):
                continue  # a completed consultation: the target's leg is the call's now
            if call is not None and self._going_on(call, channel, channels):
                with contextlib.suppress(PbxUnavailable):
                    await self._adopt(call, channel)
                    continue
            target = endpoint_of(channel.name) or ""
            lines = self.control.line_of(target)
            line = lines.line_of(target) if lines is not None else None
            consult = Consult("", "", target, channel.unique_id, 0.0)
            consult.line = line.channel if line is not None and line.channel == channel.name else ""
            log.info("consultation %s left by the last controller: ended", channel.name)
            with contextlib.suppress(PbxUnavailable):
                await self._end_leg(consult, channel.name)
            if call is None or call.state is not CallState.TALKING or not call.holds.on_hold:
                continue
            await self._until(partial(_settled, call.channel, call.agent_channel))
            if await self._still_held(call.channel):
                try:
                    await self.control.resume(call.agent)
                except CallControlError as exc:
                    log.warning("call %s not resumed after a restart: %s", call.call_id, exc)
            else:  # cc-hold already took them back (the controller was silent too long)
                now = self.control.clock()
                held = call.holds.stop(now)
                if held is not None:
                    self.control.notifier.publish(
                        CallResumed(at=now, call_id=call.call_id, agent=call.agent, held=held)
                    )

    def _going_on(self, call: LiveCall, leg: LiveChannel, channels: list[LiveChannel]) -> bool:
        """The consultation is whole: the caller on hold, the agent's leg bridged with the
        target's, and no other consultation known for the agent."""
        held = any(c.name == call.channel and c.context == Context.HOLD for c in channels)
        bridged = any(
            c.name == call.agent_channel and c.bridge_id == leg.bridge_id for c in channels
        )
        return (
            held
            and bridged
            and bool(leg.bridge_id)
            and leg.context == Context.CONSULT
            and call.state is CallState.TALKING
            and call.holds.on_hold
            and call.agent not in self._by_agent
        )

    async def _conference_found(
        self, leg: LiveChannel, calls: dict[str, LiveCall], channels: list[LiveChannel]
    ) -> None:
        """A conference the last controller left, if ``leg`` is its target's (the agent's
        leg carries no CC_CONSULT_CALLER): carried on, the agent may leave it; else left
        alone (ConfBridge ends it with its caller, the marked user)."""
        try:
            caller = await self.control.pbx.get_var(leg.name, Var.CONSULT_CALLER)
        except PbxUnavailable:
            return
        call = calls.get(caller or "")
        if call is None or call.state is not CallState.TALKING or call.agent in self._by_agent:
            return
        contexts = {c.name: c.context for c in channels}
        if (
            contexts.get(call.channel) != Context.CONFERENCE
            or contexts.get(call.agent_channel) != Context.CONFERENCE_MEMBER
        ):
            return
        with contextlib.suppress(PbxUnavailable):
            await self._adopt(call, leg)
            self._by_agent[call.agent].conference = True

    async def _adopt(self, call: LiveCall, leg: LiveChannel) -> None:
        """A consultation found going on after a restart becomes this controller's."""
        pbx = self.control.pbx
        target = await pbx.get_var(leg.name, Var.CONSULT_TARGET) or endpoint_of(leg.name) or ""
        kind = "agent" if target in self.control.agents.statuses else "number"
        consult = Consult(call.call_id, call.agent, target, leg.unique_id, self.control.clock())
        consult.kind = kind
        lines = self.control.line_of(target) if kind == "agent" else None
        line = lines.line_of(target) if lines is not None else None
        if lines is not None and line is not None and line.channel == leg.name:
            consult.line = leg.name
            lines.lend(target)
        self._by_agent[call.agent] = consult
        log.info("call %s: %s consulting %s, carried on after a restart", call.call_id,
                 call.agent, target)  # fmt: skip

    async def _still_held(self, caller: str) -> bool:
        with contextlib.suppress(PbxUnavailable):
            channels = await self.control.pbx.channels()
            return any(c.name == caller and c.context == Context.HOLD for c in channels)
        return True

    async def _until(self, done: Callable[[list[LiveChannel]], bool]) -> None:
        """Poll Asterisk's channels until ``done`` (at most SETTLE_SECONDS)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_SECONDS
        while loop.time() < deadline:
            if done(await self.control.pbx.channels()):
                return
            await asyncio.sleep(POLL)


def _settled(caller: str, agent_channel: str, channels: list[LiveChannel]) -> bool:
    """The agent's leg waits alone in cc-hold-agent, or the caller left cc-hold."""
    waits = any(
        c.name == agent_channel and c.context == Context.HOLD_AGENT and not c.bridge_id
        for c in channels
    )
    back = not any(c.name == caller and c.context == Context.HOLD for c in channels)
    return waits or back
