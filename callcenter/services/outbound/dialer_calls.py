"""Dialled calls from Originate to hangup: answer, AMD verdict, agent, outcome.

- OriginateResponse: Success is the customer's answer; Failure carries why
  (busy, no answer, ...) and ends the attempt.
- the ``outbound-answered`` route (after AMD): a machine gets the campaign's
  action; a person gets the agent held for the call, or (predictive) the
  first campaign agent free within the grace period; nobody: the
  identification message, and the call counts as abandoned;
- the ``outbound-result`` route: the agent's phone did not answer in time:
  abandoned too;
- once the agent answers, the call is an ordinary call of the ACD (CallBook,
  agent on call, wrap-up, recording, call records);
- Hangup of the customer's channel ends the attempt: the audit row is
  completed and the lead is rescheduled per the campaign's retry rules.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from callcenter.core import events as ce
from callcenter.core import pbx_events as ev
from callcenter.core.acd.model import AgentState
from callcenter.core.calls.live import CallBook, LiveCall
from callcenter.core.calls.state import CallEvent, CallState, advance
from callcenter.core.dialplan import Status
from callcenter.core.outbound import retry
from callcenter.core.outbound.compliance import campaign_scope
from callcenter.core.outbound.dispositions import AgentDisposition, Outcome
from callcenter.services.agents import AgentError, AgentService
from callcenter.services.inbound.acd import Acd
from callcenter.services.inbound.recording import Recordings
from callcenter.services.notify import Notifier
from callcenter.services.outbound.dialer_model import AMD_VERDICTS, Attempt, OutboundDecision
from callcenter.services.outbound.staff import CampaignStaff
from callcenter.services.repositories import DialerStore
from callcenter.services.timers import Timers

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1
MIN_RING = 1  # seconds the agent's phone rings at least (it answers by itself)
WRAPPING_KEPT = 1000  # connected calls remembered for a late disposition
# Wrap-up codes the outbound core acts on (a callback needs a time: booked by callbacks).
DISPOSITIONS: dict[str, AgentDisposition] = {
    "completed": "completed",
    "do-not-call": "do-not-call",
    "wrong-number": "wrong-number",
    "retry": "retry",
}
ORIGINATE_WAIT = 2.0  # an unanswered call's Hangup and OriginateResponse: for the other


class DialerCalls:
    def __init__(
        self,
        store: DialerStore,
        agents: AgentService,
        calls: CallBook,
        notifier: Notifier,
        recordings: Recordings,
        timers: Timers,
        staff: CampaignStaff,
        acd: Acd,
    ) -> None:
        self.store = store
        self.acd = acd
        self.agents = agents
        self.calls = calls
        self.notifier = notifier
        self.recordings = recordings
        self.timers = timers
        self.staff = staff
        self.attempts: dict[str, Attempt] = {}
        # Connected calls whose agent may still give a disposition in wrap-up.
        self._wrapping: dict[str, Attempt] = {}

    # -- what Asterisk reports ----------------------------------------------------------------
    def on_originate_response(self, event: ev.OriginateResponse) -> Any:
        attempt = self.attempts.get(event.action_id)
        if attempt is None:
            return None
        self.timers.cancel(("dial-uncertain", attempt.call_id))
        if event.response == "Success":
            attempt.answered_at = attempt.answered_at or self.timers.clock()
            attempt.channel = event.channel
            return None
        attempt.originate_reason = event.reason
        return self._unanswered(attempt)

    def on_hangup(self, event: ev.Hangup) -> Any:
        attempt = self.attempts.get(event.unique_id)
        if attempt is None:
            return None
        if attempt.answered_at is not None:
            return self.finish(attempt)
        attempt.cause = event.cause
        return self._unanswered(attempt)

    def _unanswered(self, attempt: Attempt) -> Any:
        """Never answered: the hangup cause and Originate's reason both say why (the
        cause says more: a busy line's reason is 0); whichever comes second ends it."""
        if attempt.cause is not None and attempt.originate_reason is not None:
            self.timers.cancel(("dial-end", attempt.call_id))
            return self.finish(attempt)
        self.timers.after(
            ORIGINATE_WAIT, ("dial-end", attempt.call_id), lambda: self.finish(attempt)
        )
        return None

    def on_call_answered(self, event: ce.CallAnswered) -> None:
        attempt = self.attempts.get(event.call_id)
        if attempt is not None and attempt.connected_at is None:
            attempt.connected_at = event.at

    async def on_call_data(self, event: ce.CallDataChanged) -> None:
        """The agent's wrap-up code; the core's own codes change what becomes of the lead."""
        code = str(event.changes.get("disposition", ""))
        if code not in DISPOSITIONS:
            return
        live = self.attempts.get(event.call_id)
        if live is not None:  # the customer's hangup is not in yet: applied with it
            live.disposition = code
            return
        attempt = self._wrapping.pop(event.call_id, None)
        if attempt is not None:
            attempt.disposition = code
            await self._save_lead(attempt, "connected", event.at)

    # -- the customer answered: AMD's verdict ---------------------------------------------------
    async def answered(
        self, unique_id: str, channel: str, amd: str, cause: str
    ) -> OutboundDecision:
        attempt = self.attempts.get(unique_id)
        if attempt is None or attempt.ended:
            # Not ours (a restart lost it): FAIL says the identification message.
            log.warning("answered call %s is not a dial attempt", unique_id)
            return OutboundDecision(Status.FAIL)
        now = self.timers.clock()
        attempt.channel = channel or attempt.channel
        attempt.answered_at = attempt.answered_at or now
        attempt.greeted_at = now
        attempt.amd = AMD_VERDICTS.get(amd, "")
        attempt.amd_cause = "".join(c for c in cause if c.isalnum() or c in "-_")[:48]
        action = attempt.campaign.settings.amd_action
        if attempt.amd == "HANGUP":
            return OutboundDecision(Status.HANGUP)
        if attempt.amd == "MACHINE" and action == "message":
            prompt = attempt.campaign.machine_prompt
            return OutboundDecision(Status.HANGUP, prompt=prompt, after_greeting=bool(prompt))
        if attempt.amd == "MACHINE" and action != "agent":
            return OutboundDecision(Status.HANGUP)
        return await self._connect(attempt, now)

    async def _connect(self, attempt: Attempt, now: float) -> OutboundDecision:
        grace = attempt.campaign.settings.agent_grace_seconds
        deadline = now + grace
        # Predictive: no agent held; one who becomes free soon enough will do. An agent
        # held whose phone Asterisk can no longer ring is let go, and another one taken.
        polls = max(0, math.ceil((grace - MIN_RING) / POLL_SECONDS))
        for poll in range(polls + 1):
            if attempt.agent and not self.agents.phone_free(attempt.agent):
                await self._let_go(attempt)
            if not attempt.agent:
                attempt.agent = await self._take_agent(attempt)
            if attempt.agent or poll == polls or self.timers.clock() >= deadline - MIN_RING:
                break
            await asyncio.sleep(POLL_SECONDS)
        if not attempt.agent or not self.agents.phone_free(attempt.agent):
            return self._abandon(attempt, "no agent free")
        ring = max(MIN_RING, math.ceil(deadline - self.timers.clock()))
        call = self._live_call(attempt)
        self.calls.add(call)
        self.notifier.publish(
            ce.CallOffered(
                at=self.timers.clock(),
                call_id=call.call_id,
                unique_id=call.unique_id,
                queue=call.queue,
                agent=attempt.agent,
                wait=0.0,
            )
        )
        return OutboundDecision(
            Status.CONNECT,
            target=attempt.agent,
            ring_timeout=ring,
            recording=self.recordings.asterisk_path(call.call_id, call.entered_at),
        )

    async def _let_go(self, attempt: Attempt) -> None:
        """The agent held for the call cannot take it now: another one will. A phone
        Asterisk cannot reach pauses its agent; a phone on another call only frees them."""
        agent, attempt.agent = attempt.agent, ""
        gone = not self.agents.phone_reachable(agent)
        log.warning(
            "call %s: agent %s's phone is %s; another agent",
            attempt.call_id, agent, "unreachable" if gone else "busy",
        )  # fmt: skip
        status = self.agents.statuses.get(agent)
        if status is None or status.state is not AgentState.RINGING:
            return
        if gone:
            await self.agents.not_answered(agent, "CHANUNAVAIL", self.timers.clock())
        else:
            await self.agents.call_ended(agent, 0.0, self.timers.clock())

    async def _take_agent(self, attempt: Attempt) -> str:
        agent = self.staff.first_free(attempt.campaign)
        if not agent:
            return ""
        try:
            await self.agents.offer(agent, attempt.call_id, self.timers.clock())
        except AgentError:
            return ""
        return agent

    def _live_call(self, attempt: Attempt) -> LiveCall:
        lead = attempt.lead
        data = {k: str(v) for k, v in lead.data.items()}
        data.update(
            campaign=attempt.campaign.name,
            lead_id=str(lead.id),
            first_name=lead.first_name,
            last_name=lead.last_name,
            account=lead.account,
        )
        return LiveCall(
            call_id=attempt.call_id,
            unique_id=attempt.call_id,
            channel=attempt.channel,
            caller=attempt.number,
            caller_name=f"{lead.first_name} {lead.last_name}".strip(),
            dialled=attempt.number,
            entered_at=attempt.placed_at,
            state=CallState.RINGING,
            data=data,
            queue=attempt.campaign.settings.queue,
            enqueued_at=attempt.answered_at,
            agent=attempt.agent,
            offered_at=self.timers.clock(),
            offers=1,
            recording=self.recordings.relative_path(attempt.call_id, attempt.placed_at),
            node=attempt.node,
        )

    def _abandon(self, attempt: Attempt, why: str) -> OutboundDecision:
        """Nobody to take a live customer: the identification message, then goodbye."""
        log.info("call %s not connected: %s", attempt.call_id, why)
        if attempt.amd == "MACHINE":  # a machine passed to an agent: nothing owed
            return OutboundDecision(Status.HANGUP)
        return OutboundDecision(Status.HANGUP, prompt=attempt.campaign.id_prompt)

    # -- the agent's phone answered, or not -------------------------------------------------------
    async def agent_result(self, unique_id: str, dial_status: str) -> OutboundDecision:
        attempt = self.attempts.get(unique_id)
        if attempt is None:
            return OutboundDecision(Status.HANGUP)
        now = self.timers.clock()
        call = self.calls.get(attempt.call_id)
        if dial_status == "ANSWER":  # the agent hung up first: done
            if call is not None:
                self.acd.agent_hung_up(call, now)
            return OutboundDecision(Status.HANGUP)
        agent = attempt.agent
        if call is not None and call.state is CallState.RINGING:
            advance(call, CallEvent.END)
            self.notifier.publish(
                ce.CallRingNoAnswer(
                    at=now,
                    call_id=call.call_id,
                    unique_id=call.unique_id,
                    queue=call.queue,
                    agent=agent,
                    ring_seconds=now - (call.offered_at or now),
                    status=dial_status,
                )
            )
        status = self.agents.statuses.get(agent)
        if status is not None and status.state is AgentState.RINGING:
            await self.agents.not_answered(agent, dial_status, now)
        return self._abandon(attempt, f"agent {agent} did not answer ({dial_status})")

    # -- the end -----------------------------------------------------------------------------------
    async def give_up(self, call_id: str) -> None:
        """An Originate Asterisk never confirmed, and no channel showed up for it."""
        attempt = self.attempts.get(call_id)
        if attempt is not None and attempt.answered_at is None:
            await self.finish(attempt)

    async def finish(self, attempt: Attempt) -> None:
        if attempt.ended:
            return
        attempt.ended = True
        if attempt.answered_at is not None and attempt.greeted_at is None:
            # Gone before the answered route ran: hung up while AMD listened.
            attempt.amd = "HANGUP" if attempt.campaign.settings.amd else attempt.amd
        self.attempts.pop(attempt.call_id, None)
        now = self.timers.clock()
        await self.release(attempt.agent, attempt.call_id)
        await self._write(attempt, now)

    async def release(self, agent: str, call_id: str) -> None:
        """Let an agent held for ``call_id`` go (nobody answered, or a preview skipped)."""
        status = self.agents.statuses.get(agent)
        if status is None or status.state is not AgentState.RINGING or status.call_id != call_id:
            return
        await self.agents.call_ended(agent, 0.0, self.timers.clock())

    async def _write(self, attempt: Attempt, now: float) -> None:
        outcome = attempt.outcome()
        connected, answered = attempt.connected_at, attempt.answered_at
        end = {
            "answered_at": answered,
            "amd_result": attempt.amd,
            "amd_cause": attempt.amd_cause,
            "agent_connected_at": connected,
            "answer_to_agent_seconds": (
                round(connected - answered, 3) if connected and answered else None
            ),
            "agent": attempt.agent if connected else "",
            "outcome": outcome,
            "abandoned": outcome == "abandoned",
        }
        if outcome == "connected":
            self._wrapping[attempt.call_id] = attempt
            while len(self._wrapping) > WRAPPING_KEPT:
                self._wrapping.pop(next(iter(self._wrapping)))
        await asyncio.to_thread(
            self.store.finish_attempt, attempt.audit_id, attempt.call_id, end, now
        )
        await self._save_lead(attempt, outcome, now)

    async def _save_lead(self, attempt: Attempt, outcome: Outcome, now: float) -> None:
        code = attempt.disposition if outcome == "connected" else ""
        disposition = DISPOSITIONS.get(code)
        rules = attempt.campaign.settings.retry
        lead = retry.finish(attempt.lead_state, outcome, rules, now, disposition=disposition)
        log.info(
            "call %s, lead %s: %s (cause %s, reason %s, amd %s), lead %s",
            attempt.call_id,
            attempt.lead.id,
            outcome,
            attempt.cause,
            attempt.originate_reason,
            attempt.amd or "-",
            lead.status,
        )
        await asyncio.to_thread(self.store.save_lead, attempt.lead.id, lead)
        if disposition == "do-not-call":
            scope = campaign_scope(attempt.campaign.name)
            await asyncio.to_thread(self.store.add_dnc, scope, attempt.number, now)
