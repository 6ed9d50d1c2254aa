"""Rebuild the controller's view from Asterisk and the database, and the records
of what happened while it could not watch.

Runs after every AMI login (start, reconnect, Asterisk restart), once the
channel table has been re-read, in this order:

1. calls the controller followed that Asterisk no longer has are closed, with
   their real end from Asterisk's channel event log where it has it;
2. every caller in our dialplan is adopted: waiting callers go back in line
   with their original place; callers in the fallback queue whose queue is
   known are taken back into the ACD (moved back to ``cc-wait``, where the
   ACD serves them in their original order); callers whose queue is unknown
   (they came while the controller was down, no menu was heard) are taken
   back through the IVR as the same call, keeping their arrival; calls with
   an agent are re-attached to the agent, who is on that call from when it
   was answered;
3. the records of the period's calls that ended meanwhile are completed from
   the channel event log (core/calls/outage.py): answered by whom and when,
   talk time, who hung up, or abandoned, and calls never seen are recorded
   whole; a record the log cannot account for is closed "unobserved", never
   with a made-up figure;
4. always-connected agents' lines still up are adopted and consultations left
   half-way are ended (``after_adoption``: nailed.py, consult.py);
5. agents whose call vanished are released, wrap-ups resumed, and the
   fallback queues' members follow the agents.

With several Asterisk nodes ([[pbx.nodes]]) the channel table is every node's (one
CoreShowChannels per node, each channel knowing its node) and the channel event log
is every node's log read together (adapters/pbx/channel_log.py, ``ChannelLogs``);
a caller bridged with the inter-node trunk is talking with the agent of its record.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from callcenter.core import pbx_events as ev
from callcenter.core.acd.model import AgentState
from callcenter.core.calls.live import CallBook, LiveCall
from callcenter.core.calls.outage import CallHistory, Known, completion, history
from callcenter.core.calls.record import CallRecord
from callcenter.core.calls.state import CallEvent, CallState, advance
from callcenter.core.channels import endpoint_of
from callcenter.core.dialplan import Context, Var
from callcenter.core.events import CallEnded, CallFellBack, CallQueued
from callcenter.core.ids import new_call_id
from callcenter.core.nodes import TRUNK_PREFIX
from callcenter.services.agents import AgentService
from callcenter.services.inbound.acd import Acd
from callcenter.services.notify import Notifier
from callcenter.services.ports import ChannelLog, LiveChannel, Pbx, PbxUnavailable
from callcenter.services.repositories import CallRecords

log = logging.getLogger(__name__)

# A wrap-up the controller finds after a restart has lost its queue's timer:
# it ends this long after it began (at once if that is already past).
RECOVERED_WRAPUP_SECONDS = 30.0
WAITING_CONTEXTS = {Context.WAIT.value, Context.ANNOUNCE.value}
# A caller on hold (cc-hold: their agent's leg named in CC_HOLD_PEER) or taken off
# hold (cc-resume: bridged with it) is talking with that agent.
HELD_CONTEXTS = {Context.HOLD.value, Context.RESUME.value}
# A caller in a conference (cc-conference) talks with the agent who consulted: their
# leg is still the caller's CC_HOLD_PEER (set when the consultation held the caller).
IN_CONFERENCE = Context.CONFERENCE.value
OURS = WAITING_CONTEXTS | HELD_CONTEXTS | {
    Context.CONNECT.value, Context.FALLBACK.value, IN_CONFERENCE
}  # fmt: skip
OPEN_CALLS_LOOKBACK = 2 * 86400.0  # seconds: how far back unclosed call records are looked for
LOG_LOOKBACK = 6 * 3600.0  # seconds of channel events read at most (older: "unobserved")
LOG_MARGIN = 60.0  # seconds read before the last thing the records heard


class Recovery:
    def __init__(
        self,
        pbx: Pbx,
        calls: CallBook,
        acd: Acd,
        agents: AgentService,
        notifier: Notifier,
        records: CallRecords,
        channel_log: ChannelLog,
        clock: Callable[[], float],
    ) -> None:
        self.pbx = pbx
        self.calls = calls
        self.acd = acd
        self.agents = agents
        self.notifier = notifier
        self.records = records
        self.channel_log = channel_log
        self.clock = clock
        self.runs = 0
        self.adopted: list[str] = []
        self.completed: list[str] = []  # calls whose records the channel log completed
        self._done: set[str] = set()  # the same, in the current run (ended ones only)
        self._unseen_after = 0.0
        # Agents found on a call nobody here follows (an outbound call or a callback the
        # last controller placed): their channels; freed when those hang up.
        self._orphans: dict[str, set[str]] = {}
        # Steps run once the calls are adopted, before agents are released or offered
        # callers (set by the composition root): the lines, the consultations.
        self.after_adoption: Sequence[Callable[[list[LiveChannel]], Awaitable[None]]] = ()

    async def run(self) -> None:
        try:
            channels = await self.pbx.channels()
        except PbxUnavailable as exc:
            log.warning("recovery postponed: %s", exc)
            return
        now = self.clock()
        self._done = set()
        live = {c.unique_id: c for c in channels}
        told = await self._histories(now)
        self._drop_vanished(live, told, now)
        by_bridge: dict[str, list[LiveChannel]] = {}
        for channel in channels:
            if channel.bridge_id:
                by_bridge.setdefault(channel.bridge_id, []).append(channel)
        for channel in channels:
            try:
                await self._adopt(channel, by_bridge, told, now)
            except PbxUnavailable:
                raise
            except Exception:  # one caller's oddity must not leave the rest unadopted
                log.exception("channel %s not adopted", channel.name)
        # Calls may end while the above runs (a standby taking over with calls up): one
        # listed, then gone before its turn, or adopted after its Hangup went by. Look
        # again, with the channel log as it is now, before closing records and freeing
        # agents.
        with contextlib.suppress(PbxUnavailable):
            channels = await self.pbx.channels()
            now = self.clock()
            live = {c.unique_id: c for c in channels}
            unseen_after = self._unseen_after  # what the records knew before this run
            told = await self._histories(now)
            self._unseen_after = unseen_after
            self._drop_vanished(live, told, now)
        await self._complete_ended(live, told, now)
        for step in self.after_adoption:
            try:
                await step(channels)
            except PbxUnavailable as exc:
                log.warning("recovery step %s postponed: %s", step, exc)
            except Exception:  # the agents must still be released and offered calls
                log.exception("recovery step %s failed", step)
        await self._release_idle_agents(channels, now)
        try:
            await self.agents.resync_fallback()
        except PbxUnavailable as exc:
            log.warning("fallback queue not re-synchronised: %s", exc)
        self.runs += 1

    # -- what Asterisk logged ------------------------------------------------------------
    async def _histories(self, now: float) -> dict[str, CallHistory]:
        """Inbound calls of the channel log since before the records last heard anything."""
        last = await asyncio.to_thread(self.records.last_event_at)
        # A call that came after the records' last word and is not in them went unseen; one
        # that came before was seen (or belongs to another database: not ours to record).
        self._unseen_after = last if last is not None else now
        followed = [c.entered_at for c in self.calls.all()]
        since = max(now - LOG_LOOKBACK, min([last or now, *followed]) - LOG_MARGIN)
        events = await asyncio.to_thread(self.channel_log.since, since)
        return history(events, lambda endpoint: endpoint in self.agents.statuses)

    def _publish_completion(
        self, told: CallHistory, known: Known, reason: str = "controller-down"
    ) -> None:
        if known.call_id in self._done:
            return
        for event in completion(told, known, reason):
            self.notifier.publish(event)
        if told.ended_at is None:
            return  # what the log told so far (the call goes on): its end is still to come
        self._done.add(known.call_id)
        self.completed.append(known.call_id)

    # -- calls that left while the controller was not looking ---------------------------------
    def _drop_vanished(
        self, live: dict[str, LiveChannel], told: dict[str, CallHistory], now: float
    ) -> None:
        for call in self.calls.all():
            if call.unique_id in live or call.state is CallState.IVR or call.virtual:
                continue
            log.warning("call %s vanished from Asterisk while %s", call.call_id, call.state)
            if call.state is CallState.WAITING:
                self.acd.leave_line(call)
            self.calls.remove(call.call_id)
            found = told.get(call.unique_id)
            if found is not None and found.ended_at is not None:
                self._publish_completion(found, _known_live(call))
            else:
                self.notifier.publish(
                    CallEnded(
                        at=now, call_id=call.call_id, unique_id=call.unique_id, outcome="dropped"
                    )
                )
            advance(call, CallEvent.END)

    async def _complete_ended(
        self, live: dict[str, LiveChannel], told: dict[str, CallHistory], now: float
    ) -> None:
        """Records of calls that ended unseen: completed from the log, or "unobserved"."""
        ended = {uid: h for uid, h in told.items() if h.ended_at is not None and uid not in live}
        records = await asyncio.to_thread(self.records.by_unique_ids, list(ended))
        for unique_id, found in ended.items():
            record = records.get(unique_id)
            if record is None and found.entered_at <= self._unseen_after:
                continue
            if record is None:
                log.info("call from %s came and went unseen: recorded", found.caller)
                self._publish_completion(found, Known(new_call_id(found.entered_at), False))
            elif record.ended_at is None and record.id not in self._done:
                log.info("call %s ended while the controller was away", record.id)
                self._publish_completion(found, _known(record))
        if self.runs:
            return
        for call_id, unique_id in await asyncio.to_thread(
            self.records.open_calls, now - OPEN_CALLS_LOOKBACK
        ):
            if unique_id in live or unique_id in ended or call_id in self._done:
                continue
            if self.calls.get(call_id) is not None:
                continue
            log.warning("call %s ended unseen and the channel log does not say how", call_id)
            self.notifier.publish(
                CallEnded(at=now, call_id=call_id, unique_id=unique_id, outcome="unobserved")
            )

    # -- calls still in Asterisk ------------------------------------------------------------
    async def _adopt(
        self,
        channel: LiveChannel,
        by_bridge: dict[str, list[LiveChannel]],
        told: dict[str, CallHistory],
        now: float,
    ) -> None:
        if self.calls.by_unique_id(channel.unique_id) is not None or channel.context not in OURS:
            return
        call_id = await self.pbx.get_var(channel.name, Var.CALL_ID)
        record = None
        if call_id and call_id.isalnum():
            record = await asyncio.to_thread(self.records.call, call_id)
        found = told.get(channel.unique_id)
        unseen = found is not None and found.entered_at > self._unseen_after
        if record is None and not (unseen and channel.context == Context.FALLBACK.value):
            return  # not a caller of ours (an agent's leg, a spy, an outbound call)
        partner = [
            c for c in by_bridge.get(channel.bridge_id, []) if c.unique_id != channel.unique_id
        ]
        agent_channel = partner[0].name if partner else ""
        held = channel.context == Context.HOLD.value
        if held or channel.context == IN_CONFERENCE:
            agent_channel = await self.pbx.get_var(channel.name, Var.HOLD_PEER) or ""
        agent = endpoint_of(agent_channel) if agent_channel else None
        if agent and agent.startswith(TRUNK_PREFIX) and record is not None:
            # Several nodes: the caller is bridged with the trunk to the node the agent's
            # phone is on (cc-connect's Dial over CC_VIA): the agent is the record's.
            agent = record.agent
        if agent not in self.agents.statuses:
            agent = None
        known = _known(record) if record is not None else None
        if record is None:
            assert found is not None
            record = self._unseen(found)
            known = Known(record.id, recorded=False)
        if not record.queue and agent is None:
            record = await self._queue_from_channel(record, channel)
        known_queue = bool(record.queue)
        if agent is not None:
            state = CallState.TALKING
        elif channel.context in WAITING_CONTEXTS or channel.context == Context.FALLBACK.value:
            state = CallState.WAITING if known_queue else CallState.IVR
        else:
            state = CallState.RINGING
        call = _live(record, channel, state, now)
        assert known is not None
        in_fallback = channel.context == Context.FALLBACK.value
        reason = await self.pbx.get_var(channel.name, Var.REASON) if in_fallback else ""
        reason = reason if reason and reason.replace("-", "").isalnum() else "controller-down"
        if found is not None:
            self._publish_completion(found, known, reason)
        elif in_fallback and not known.fell_back:
            self.notifier.publish(
                CallFellBack(at=now, call_id=call.call_id, unique_id=call.unique_id, reason=reason)
            )
        self.calls.add(call)
        self.adopted.append(call.call_id)
        if state is CallState.TALKING:
            assert agent is not None
            call.agent = agent
            call.answered_at = (found.answered_at if found else None) or record.answered_at or now
            self.calls.set_agent_channel(call, agent_channel)
            if held:
                call.holds.start(now)  # the hold's earlier part is not known
            await self._on_this_call(agent, call)
        elif state is CallState.WAITING:
            self.acd.readmit(call, now)
            if channel.context == Context.FALLBACK.value:
                await self._back_from_fallback(call)
        elif state is CallState.IVR:
            call.enqueued_at = record.entered_at  # they keep their place by their arrival
            await self._back_to_ivr(call)
        elif state is CallState.RINGING:
            call.agent, call.offered_at = record.agent, now
        log.info("recovered %s call %s (%s) %s", state, call.call_id, channel.context, call.agent)

    async def _queue_from_channel(self, record: CallRecord, channel: LiveChannel) -> CallRecord:
        """A caller in line whose record does not name the queue yet (the last controller
        died before writing it): the queue the dialplan noted on the channel (CC_QUEUE),
        their place counted from their arrival. Unknown: the record is unchanged."""
        named = await self.pbx.get_var(channel.name, Var.QUEUE) or ""
        if self.acd.queues.get(named) is None:
            return record
        log.info("call %s: its queue %s read from its channel", record.id, named)
        found = replace(record, queue=named, enqueued_at=record.enqueued_at or record.entered_at)
        self.notifier.publish(
            CallQueued(
                at=found.enqueued_at or found.entered_at,
                call_id=found.id,
                unique_id=channel.unique_id,
                queue=named,
                priority=found.priority,
                extra=dict(found.requirements),
                caller=found.caller_number,
                position=0,
                estimate=None,
                recovered=True,
            )
        )
        return found

    def _unseen(self, found: CallHistory) -> CallRecord:
        """A record for a caller who came while the controller was down (written below)."""
        return CallRecord(
            id=new_call_id(found.entered_at),
            unique_id=found.unique_id,
            entered_at=found.entered_at,
            caller_number=found.caller,
            caller_name=found.caller_name,
            dialled=found.dialled,
        )

    async def _back_from_fallback(self, call: LiveCall) -> None:
        """A caller of a known queue left in the plain queue: back to the ACD's line, where
        they keep their original place (the plain queue would serve them after others)."""
        try:
            await self.pbx.redirect(call.channel, Context.WAIT, "s")
            log.info("call %s taken back from the fallback queue into %s", call.call_id, call.queue)
        except PbxUnavailable as exc:
            log.warning("call %s left in the fallback queue: %s", call.call_id, exc)

    async def _back_to_ivr(self, call: LiveCall) -> None:
        """A caller who came while the controller was down (no menu was heard, so no queue
        is known): back to the IVR, as the same call (services/inbound/arrival.py)."""
        try:
            await self.pbx.set_var(call.channel, Var.CALL_ID, call.call_id)
            await self.pbx.redirect(call.channel, Context.ENTRY, "s")
            log.info("call %s taken back from the fallback queue into the IVR", call.call_id)
        except PbxUnavailable as exc:
            log.warning("call %s left in the fallback queue: %s", call.call_id, exc)

    async def _on_this_call(self, agent: str, call: LiveCall) -> None:
        status = self.agents.statuses[agent]
        if status.state is AgentState.ON_CALL and status.call_id == call.call_id:
            return
        if status.state is AgentState.LOGGED_OUT:
            log.warning("agent %s is on call %s but logged out", agent, call.call_id)
            return
        await self.agents.found_on_call(agent, call.call_id, call.answered_at or self.clock())

    def _follows(self, call_id: str | None) -> bool:
        return bool(call_id) and self.calls.get(call_id or "") is not None

    async def on_hangup(self, event: ev.Hangup) -> None:
        """An agent left on a call the last controller placed is free once it ends."""
        for agent, channels in list(self._orphans.items()):
            if event.channel not in channels:
                continue
            channels.discard(event.channel)
            if channels:
                return
            del self._orphans[agent]
            status = self.agents.statuses.get(agent)
            on_call = status is not None and status.state in (
                AgentState.RINGING,
                AgentState.ON_CALL,
            )
            if on_call and status is not None and not self._follows(status.call_id):
                log.info("agent %s: the call the last controller placed ended", agent)
                await self.agents.call_ended(agent, 0.0, self.clock())
            return

    async def _release_idle_agents(self, channels: list[LiveChannel], now: float) -> None:
        busy: dict[str, set[str]] = {}
        for channel in channels:
            busy.setdefault(endpoint_of(channel.name) or "", set()).add(channel.name)
        self._orphans = {}
        for agent, status in list(self.agents.statuses.items()):
            on_call = status.state in (AgentState.RINGING, AgentState.ON_CALL)
            if on_call and agent not in busy:
                log.info("agent %s was %s but has no call: releasing", agent, status.state)
                await self.agents.call_ended(agent, 0.0, now)
            elif on_call and not self._follows(status.call_id):
                log.info("agent %s is on a call the last controller placed", agent)
                self._orphans[agent] = busy[agent]
            elif status.state is AgentState.WRAP_UP:
                self.agents.resume_wrapup(agent, now, RECOVERED_WRAPUP_SECONDS)
            else:
                await self.agents.maybe_available(agent)


def _live(record: CallRecord, channel: LiveChannel, state: CallState, now: float) -> LiveCall:
    return LiveCall(
        call_id=record.id,
        unique_id=channel.unique_id,
        channel=channel.name,
        caller=record.caller_number,
        caller_name=record.caller_name,
        dialled=record.dialled,
        entered_at=record.entered_at,
        state=state,
        data=dict(record.data),
        path=tuple(record.ivr_path),
        customer_id=record.customer_id,
        queue=record.queue,
        priority=record.priority,
        extra=dict(record.requirements),
        enqueued_at=record.enqueued_at or now,
        offers=record.offers,
        node=channel.node or record.node,
    )


def _known(record: CallRecord) -> Known:
    return Known(
        call_id=record.id,
        queue=record.queue,
        enqueued_at=record.enqueued_at,
        fell_back=record.outcome == "fallback",
        answered_at=record.answered_at,
        agent=record.agent,
    )


def _known_live(call: LiveCall) -> Known:
    return Known(
        call_id=call.call_id,
        queue=call.queue,
        enqueued_at=call.enqueued_at,
        fell_back=call.state is CallState.FALLBACK,
        answered_at=call.answered_at,
        agent=call.agent,
    )
