"""Always-connected ("nailed-up") agents: the phone is called once, then callers are
bridged to it without ringing.

When such an agent becomes ready, the controller originates one call to their phone
into cc-nailed (dialplan/queue.conf), where the answered leg waits in silence and
says it is up (UserEvent CcNailedUp; its channel name is a global for cc-connect).
Until then the agent is not offered callers (``phone_free``). A caller chosen for
the agent goes through cc-connect as usual, which bridges them to the waiting leg
(Bridge, no ring) and says so (CcNailedConnect: the call is answered). When the
caller hangs up the leg goes back to cc-nailed for the next caller; the agent's
conversation ends there (wrap-up as usual).

When the leg drops (the phone hung up), the agent is paused with reason
``line-dropped`` (at once, or when their current call is over) and the dialplan
never bridges a caller to a leg that is not up. Choosing Ready again calls the
phone again.

Call control (call_control.py, consult.py) moves the caller, never the line: on hold
the line waits in cc-hold-agent and resumes with cc-resume's Bridge (``F`` back to
cc-nailed); a transfer or a completed consultation takes the caller away
(``release``: the conversation is ended by call control) and the line goes back to
cc-nailed; a consulted always-connected agent's line is redirected into cc-consult
(``lend``) rather than their phone rung, and back to cc-nailed afterwards.

After a restart (recovery.py) the lines still up in Asterisk are adopted (``recover``):
a channel on the agent's endpoint carrying CC_NAILED_AGENT; the caller bridged to it,
if any, is its conversation. A logged-in agent whose line is gone is paused
``line-dropped`` (Ready calls the phone again).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from callcenter.core import pbx_events as ev
from callcenter.core.acd.model import AgentState
from callcenter.core.calls.live import CallBook
from callcenter.core.calls.state import CallState
from callcenter.core.channels import endpoint_of
from callcenter.core.dialplan import Context, Global, Var
from callcenter.core.events import AgentStateChanged
from callcenter.services.agents import AgentError, AgentService
from callcenter.services.inbound.offering import Offering
from callcenter.services.ports import (
    LiveChannel,
    OriginateUncertain,
    Origination,
    Originator,
    Pbx,
    PbxUnavailable,
)
from callcenter.services.queues import QueueDirectory

log = logging.getLogger(__name__)

LINE_DROPPED = "line-dropped"  # pause reason: the agent's connected phone hung up
LINE_NOT_ANSWERED = "line-not-answered"  # pause reason: the phone did not take the line
RING_SECONDS = 30
ACTION_PREFIX = "cc-nailed-"


def line_global(agent: str) -> str:
    """The global variable cc-nailed sets to the waiting leg's channel name."""
    return f"{Global.NAILED_LINE}{agent}"


@dataclass(slots=True)
class Line:
    channel: str
    unique_id: str


@dataclass(slots=True)
class Talk:
    caller_unique_id: str
    queue: str
    since: float


class NailedLines:
    def __init__(
        self,
        nailed: Callable[[str], bool],
        pbx: Pbx,
        originator: Originator,
        agents: AgentService,
        offering: Offering,
        calls: CallBook,
        queues: QueueDirectory,
        clock: Callable[[], float],
    ) -> None:
        self._nailed = nailed
        self.pbx = pbx
        self.originator = originator
        self.agents = agents
        self.offering = offering
        self.calls = calls
        self.queues = queues
        self.clock = clock
        self.lines: dict[str, Line] = {}
        self._dialling: dict[str, str] = {}  # action id -> agent
        self._dropped: set[str] = set()  # agents to pause once their call is over
        self._talks: dict[str, Talk] = {}  # agent -> the caller bridged to their line
        self._returning: set[str] = set()  # the caller gone, the line not back in cc-nailed

    def nailed(self, agent: str) -> bool:
        """The agent works always-connected (configuration: [sip] / [sip.agents.NAME])."""
        return self._nailed(agent)

    # -- asked by routing (AgentService.phone_free) --------------------------------------
    def phone_free(self, agent: str, names: list[str]) -> bool:
        """A nailed agent can take a caller: their line is up and nothing else is on it."""
        line = self.lines.get(agent)
        busy = agent in self._talks or agent in self._returning
        return line is not None and not busy and names == [line.channel]

    # -- call control (call_control.py, consult.py) ----------------------------------------
    def line_of(self, agent: str) -> Line | None:
        return self.lines.get(agent) if self.nailed(agent) else None

    def release(self, agent: str) -> Talk | None:
        """The caller is taken away from the agent's line by call control, which ends the
        agent's part itself; the line is busy until it is back in cc-nailed."""
        talk = self._talks.pop(agent, None)
        if agent in self.lines:
            self._returning.add(agent)
        return talk

    def restore(self, agent: str, talk: Talk | None) -> None:
        """Undo ``release`` (the caller could not be moved)."""
        self._returning.discard(agent)
        if talk is not None:
            self._talks[agent] = talk

    def lend(self, agent: str) -> None:
        """The line leaves cc-nailed for a consultation: offered nothing until it is back."""
        self._returning.add(agent)

    def talk_started(self, agent: str, caller_unique_id: str, queue: str, now: float) -> None:
        """A caller reaches the line other than through cc-connect (a consultation's
        complete, a recovered call): their hang-up ends the agent's conversation."""
        self._talks[agent] = Talk(caller_unique_id, queue, now)

    async def back_to_line(self, agent: str) -> None:
        """The line, out of its caller's or consultation's bridge, back to wait."""
        line = self.lines.get(agent)
        if line is not None:
            self._returning.add(agent)
            await self.pbx.redirect(line.channel, Context.NAILED, "s")

    # -- after a restart (recovery.py) -----------------------------------------------------
    async def recover(self, channels: list[LiveChannel]) -> None:
        """Adopt the lines Asterisk still has; pause logged-in agents whose line is gone."""
        live = {c.name: c for c in channels}
        for agent, line in list(self.lines.items()):
            if line.channel not in live:
                await self._line_dropped(agent)
        for agent, status in list(self.agents.statuses.items()):
            if not self.nailed(agent) or status.state is AgentState.LOGGED_OUT:
                continue
            if agent in self.lines or agent in self._dialling.values():
                continue
            found = await self._find_line(agent, channels)
            if found is None:
                log.warning("agent %s: no always-connected line found after a restart", agent)
                if status.state is AgentState.READY:
                    await self._pause(agent, LINE_DROPPED)
                elif status.state is not AgentState.PAUSED:
                    self._dropped.add(agent)
                continue
            self._adopt(agent, found)

    async def _find_line(self, agent: str, channels: list[LiveChannel]) -> LiveChannel | None:
        for channel in channels:
            if endpoint_of(channel.name) != agent:
                continue
            try:
                owner = await self.pbx.get_var(channel.name, Var.NAILED_AGENT)
            except PbxUnavailable:
                return None
            if owner == agent:
                return channel
        return None

    def _adopt(self, agent: str, channel: LiveChannel) -> None:
        self.lines[agent] = Line(channel.name, channel.unique_id)
        call = self.calls.by_agent_channel(channel.name)
        if call is not None and call.agent == agent and call.state is CallState.TALKING:
            self.talk_started(agent, call.unique_id, call.queue, call.answered_at or self.clock())
        elif channel.context != Context.NAILED.value or channel.bridge_id:
            self._returning.add(agent)  # busy (a consultation, a caller leaving) until back
        log.info("agent %s: always-connected line %s adopted", agent, channel.name)

    # -- the agent's state: ready calls the phone, logged out hangs it up -----------------
    async def on_agent_state(self, event: AgentStateChanged) -> None:
        agent = event.agent
        if not self.nailed(agent):
            return
        if event.state == AgentState.LOGGED_OUT.value:
            self._dropped.discard(agent)
            line = self.lines.pop(agent, None)
            if line is not None:
                await self._hang_up(line.channel)
            return
        # The state now, not the event's (published before later changes were made).
        if event.state != AgentState.READY.value or not self._ready(agent):
            return
        if agent in self._dropped:
            self._dropped.discard(agent)
            await self._pause(agent, LINE_DROPPED)
        elif agent not in self.lines and agent not in self._dialling.values():
            await self._call_phone(agent)

    def _ready(self, agent: str) -> bool:
        status = self.agents.statuses.get(agent)
        return status is not None and status.state is AgentState.READY

    async def _call_phone(self, agent: str) -> None:
        action_id = f"{ACTION_PREFIX}{uuid.uuid4().hex[:16]}"
        request = Origination(
            endpoint=agent,
            context=Context.NAILED,
            exten="s",
            action_id=action_id,
            channel_id=action_id,
            caller_id='"Call center" <line>',
            ring_seconds=RING_SECONDS,
            variables=((Var.NAILED_AGENT, agent),),
        )
        self._dialling[action_id] = agent
        log.info("agent %s: calling the phone for an always-connected line", agent)
        try:
            await self.originator.originate(request)
        except OriginateUncertain as exc:
            log.warning("agent %s: line call uncertain (%s)", agent, exc)
        except PbxUnavailable as exc:
            self._dialling.pop(action_id, None)
            log.warning("agent %s: line call not placed (%s)", agent, exc)
            await self._pause(agent, LINE_NOT_ANSWERED)

    # -- AMI events (the table: callcenter/subscriptions.py) ------------------------------
    async def on_originate_response(self, event: ev.OriginateResponse) -> None:
        agent = self._dialling.pop(event.action_id, None)
        if agent is None or event.response.lower() == "success":
            return
        log.warning("agent %s: the phone did not take the line (%s)", agent, event.reason)
        await self._pause(agent, LINE_NOT_ANSWERED)

    async def on_user_event(self, event: ev.UserEvent) -> None:
        if event.user_event == "CcNailedUp":
            await self._line_up(event.get("Agent"), event.channel, event.unique_id)
        elif event.user_event == "CcNailedConnect":
            await self._connected(event.get("Agent"), event.unique_id)

    async def _line_up(self, agent: str, channel: str, unique_id: str) -> None:
        if agent not in self.agents.statuses or not self.nailed(agent):
            return
        for action_id in [a for a, who in self._dialling.items() if who == agent]:
            del self._dialling[action_id]
        self.lines[agent] = Line(channel, unique_id)
        self._returning.discard(agent)
        talk = self._talks.pop(agent, None)
        if talk is not None:
            await self._conversation_over(agent, talk)
        await self.agents.maybe_available(agent)

    async def _connected(self, agent: str, caller_unique_id: str) -> None:
        line = self.lines.get(agent)
        call = self.calls.by_unique_id(caller_unique_id)
        if line is None or call is None or call.agent != agent:
            return
        now = self.clock()
        self._talks[agent] = Talk(caller_unique_id, call.queue, now)
        self.offering.leg_started(caller_unique_id, line.channel)
        await self.offering.answered(caller_unique_id, now)

    async def on_hangup(self, event: ev.Hangup) -> None:
        """After the ACD's own handling: a caller bridged to a line, or a line, gone."""
        for agent, talk in list(self._talks.items()):
            if talk.caller_unique_id == event.unique_id:
                del self._talks[agent]
                self._returning.add(agent)
                await self._conversation_over(agent, talk)
        for agent, line in list(self.lines.items()):
            # By unique id first: with several nodes a channel name is only unique on
            # its own node (the agent's own call on the other node may share it).
            if (line.unique_id or line.channel) == (
                event.unique_id if line.unique_id else event.channel
            ):
                await self._line_dropped(agent)

    async def _conversation_over(self, agent: str, talk: Talk) -> None:
        if self.agents.status(agent).state is AgentState.ON_CALL:
            now = self.clock()
            await self.offering.agent_done(agent, talk.queue, now - talk.since, now)

    async def _line_dropped(self, agent: str) -> None:
        del self.lines[agent]
        self._returning.discard(agent)
        log.warning("agent %s: the always-connected line dropped", agent)
        try:
            await self.pbx.set_global(line_global(agent), "")
        except PbxUnavailable as exc:
            log.warning("agent %s: line global not cleared (%s)", agent, exc)
        state = self.agents.status(agent).state
        if state is AgentState.READY:
            await self._pause(agent, LINE_DROPPED)
        elif state is not AgentState.PAUSED and state is not AgentState.LOGGED_OUT:
            self._dropped.add(agent)

    async def _pause(self, agent: str, reason: str) -> None:
        try:
            await self.agents.pause(agent, reason, self.clock())
        except AgentError as exc:
            log.warning("agent %s: not paused (%s)", agent, exc)

    async def _hang_up(self, channel: str) -> None:
        try:
            await self.pbx.hangup(channel)
        except PbxUnavailable as exc:
            log.warning("line %s not hung up (%s)", channel, exc)
