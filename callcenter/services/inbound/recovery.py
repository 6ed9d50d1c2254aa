"""Rebuild the controller's view from Asterisk and the database.

Runs after every AMI login (start, reconnect, Asterisk restart), once the
channel table has been re-read: callers found waiting are put back in line
with their original place, calls found ringing or talking are re-attached to
their agents, calls the controller knew but Asterisk no longer has are
closed, and agents whose call vanished are released.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from callcenter.core.acd.model import AgentState
from callcenter.core.calls.live import CallBook, LiveCall
from callcenter.core.calls.record import CallRecord
from callcenter.core.calls.state import CallEvent, CallState, advance
from callcenter.core.channels import endpoint_of
from callcenter.core.dialplan import Context, Var
from callcenter.core.events import CallEnded, CallFellBack
from callcenter.services.agents import AgentService
from callcenter.services.inbound.acd import Acd
from callcenter.services.notify import Notifier
from callcenter.services.ports import LiveChannel, Pbx, PbxUnavailable

log = logging.getLogger(__name__)

# A wrap-up the controller finds after a restart has lost its queue's timer:
# it ends this long after it began (at once if that is already past).
RECOVERED_WRAPUP_SECONDS = 30.0
WAITING_CONTEXTS = {Context.WAIT.value, Context.ANNOUNCE.value}
CallLoader = Callable[[str], "CallRecord | None"]
OpenCalls = Callable[[float], list[tuple[str, str]]]  # entered since -> (call id, unique id)
OPEN_CALLS_LOOKBACK = 2 * 86400.0  # seconds: how far back unclosed call records are looked for


class Recovery:
    def __init__(
        self,
        pbx: Pbx,
        calls: CallBook,
        acd: Acd,
        agents: AgentService,
        notifier: Notifier,
        load_call: CallLoader,
        clock: Callable[[], float],
        open_calls: OpenCalls | None = None,
    ) -> None:
        self.pbx = pbx
        self.calls = calls
        self.acd = acd
        self.agents = agents
        self.notifier = notifier
        self.load_call = load_call
        self.clock = clock
        self.open_calls = open_calls
        self.runs = 0
        self.adopted: list[str] = []

    async def run(self) -> None:
        try:
            channels = await self.pbx.channels()
        except PbxUnavailable as exc:
            log.warning("recovery postponed: %s", exc)
            return
        now = self.clock()
        live = {c.unique_id: c for c in channels}
        self._drop_vanished(live, now)
        by_bridge: dict[str, list[LiveChannel]] = {}
        for channel in channels:
            if channel.bridge_id:
                by_bridge.setdefault(channel.bridge_id, []).append(channel)
        for channel in channels:
            await self._adopt(channel, by_bridge, now)
        if self.runs == 0 and self.open_calls is not None:
            await self._close_unobserved(live, now)
        await self._release_idle_agents(channels, now)
        try:
            await self.agents.resync_fallback()
        except PbxUnavailable as exc:
            log.warning("fallback queue not re-synchronised: %s", exc)
        self.runs += 1

    def _drop_vanished(self, live: dict[str, LiveChannel], now: float) -> None:
        for call in self.calls.all():
            if call.unique_id in live or call.state is CallState.IVR or call.virtual:
                continue
            log.warning("call %s vanished from Asterisk while %s", call.call_id, call.state)
            if call.state is CallState.WAITING:
                self.acd.leave_line(call)
            self.calls.remove(call.call_id)
            advance(call, CallEvent.END)
            self.notifier.publish(
                CallEnded(at=now, call_id=call.call_id, unique_id=call.unique_id, outcome="dropped")
            )

    async def _adopt(
        self, channel: LiveChannel, by_bridge: dict[str, list[LiveChannel]], now: float
    ) -> None:
        if self.calls.by_unique_id(channel.unique_id) is not None:
            return
        if channel.context not in WAITING_CONTEXTS | {
            Context.CONNECT.value,
            Context.FALLBACK.value,
        }:
            return
        call_id = await self.pbx.get_var(channel.name, Var.CALL_ID)
        if not call_id or not call_id.isalnum():
            return
        row = await asyncio.to_thread(self.load_call, call_id)
        if row is None or not row.queue:
            return
        partner = [
            c for c in by_bridge.get(channel.bridge_id, []) if c.unique_id != channel.unique_id
        ]
        bridged = bool(channel.bridge_id and partner)
        in_fallback = channel.context == Context.FALLBACK.value
        if in_fallback and not bridged:
            state = CallState.FALLBACK
        elif channel.context in WAITING_CONTEXTS:
            state = CallState.WAITING
        else:  # in cc-connect (or the fallback queue): ringing or talking to an agent
            state = CallState.TALKING if bridged else CallState.RINGING
        call = LiveCall(
            call_id=row.id,
            unique_id=channel.unique_id,
            channel=channel.name,
            caller=row.caller_number,
            caller_name=row.caller_name,
            dialled=row.dialled,
            entered_at=row.entered_at,
            state=state,
            data=dict(row.data),
            path=tuple(row.ivr_path),
            customer_id=row.customer_id,
            queue=row.queue,
            priority=row.priority,
            extra=dict(row.requirements),
            enqueued_at=row.enqueued_at or now,
            offers=row.offers,
        )
        self.calls.add(call)
        self.adopted.append(call.call_id)
        if in_fallback and row.outcome != "fallback":
            # Sent to the plain queue while the controller was away: say so in its
            # record, and follow it (waiting there, or talking to an agent).
            reason = await self.pbx.get_var(channel.name, Var.REASON) or ""
            self.notifier.publish(
                CallFellBack(
                    at=now,
                    call_id=call.call_id,
                    unique_id=call.unique_id,
                    reason=reason if reason.replace("-", "").isalnum() else "unknown",
                )
            )
        if state is CallState.FALLBACK:
            log.info("recovered call %s waiting in the fallback queue", call.call_id)
            return
        if state is CallState.WAITING:
            self.acd.readmit(call, now)
            log.info("recovered waiting call %s in %s", call.call_id, call.queue)
            return
        call.agent = row.agent
        if state is CallState.TALKING:
            call.answered_at = row.answered_at or now
            self.calls.set_agent_channel(call, partner[0].name)
            call.agent = endpoint_of(partner[0].name) or call.agent
        else:
            call.offered_at = now
        log.info("recovered %s call %s with %s", call.state, call.call_id, call.agent)

    async def _close_unobserved(self, live: dict[str, LiveChannel], now: float) -> None:
        """At start: close the records of calls that ended while no controller ran.

        Their end was not seen, so it is recorded as now, with the outcome
        "unobserved" (when the record has none yet); the ones still in
        Asterisk were adopted above and are left alone.
        """
        assert self.open_calls is not None
        for call_id, unique_id in await asyncio.to_thread(
            self.open_calls, now - OPEN_CALLS_LOOKBACK
        ):
            if unique_id in live or self.calls.get(call_id) is not None:
                continue
            log.info("call %s ended while the controller was away", call_id)
            self.notifier.publish(
                CallEnded(at=now, call_id=call_id, unique_id=unique_id, outcome="unobserved")
            )

    async def _release_idle_agents(self, channels: list[LiveChannel], now: float) -> None:
        busy = {endpoint_of(c.name) for c in channels}
        for agent, status in list(self.agents.statuses.items()):
            if status.state in (AgentState.RINGING, AgentState.ON_CALL) and agent not in busy:
                log.info("agent %s was %s but has no call: releasing", agent, status.state)
                await self.agents.call_ended(agent, 0.0, now)
            elif status.state is AgentState.WRAP_UP:
                self.agents.resume_wrapup(agent, now, RECOVERED_WRAPUP_SECONDS)
            else:
                await self.agents.maybe_available(agent)
