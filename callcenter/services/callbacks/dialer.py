"""A callback's turn: the agent is reserved, the customer is called, then connected.

Order of things for one attempt:
1. checks: the dial policy (services/dial_guard.py), do-not-call and the callee's
   calling hours (refused: an audit row, no dial; a policy refusal is audited too);
2. audit row and the callback's status "dialing" in the database, then the
   Originate to the customer over the outbound trunk into ``cc-callback``;
3. the customer answers: AMD listens (dialplan/callback.conf) and the
   ``callback-answer`` route decides: a person goes to the reserved agent
   through ``cc-connect`` (recorded like any queued call), a machine is not a
   reached customer;
4. otherwise (no answer, busy, machine) the agent is released and the policy
   says retry later (same place in line) or give up.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from callcenter.core import pbx_events as ev
from callcenter.core.acd.model import AgentState
from callcenter.core.callbacks.policy import (
    CallbackSettings,
    Outcome,
    after_attempt,
    dial_check,
    outcome_of_amd,
    outcome_of_cause,
    outcome_of_originate,
)
from callcenter.core.callbacks.records import Attempt, Callback
from callcenter.core.calls.live import CallBook, LiveCall
from callcenter.core.calls.state import CallState
from callcenter.core.dial_policy import DialRefusal, Verdict
from callcenter.core.dialplan import Context, Var, inherited
from callcenter.core.events import CallbackAttempted
from callcenter.core.outbound.numbers import is_e164
from callcenter.services.agents import AgentService
from callcenter.services.callbacks.places import Callbacks
from callcenter.services.dial_guard import DialGuard
from callcenter.services.inbound.acd import Acd
from callcenter.services.notify import Notifier
from callcenter.services.ports import OriginateUncertain, Origination, Originator, PbxUnavailable
from callcenter.services.queues import QueueDirectory
from callcenter.services.repositories import CallbackRepository
from callcenter.services.timers import Timers

log = logging.getLogger(__name__)

ANSWER_GRACE = 60.0  # seconds past the ring time before a silent attempt counts as failed
STORAGE_RETRY = 30.0  # seconds before a place whose turn the storage failed is lined up again
CAUSE_WAIT = 2.0  # seconds an uninformative Originate failure waits for the channel's Hangup


@dataclass(slots=True)
class Dialling:
    call: LiveCall
    callback: Callback
    attempt: int
    attempt_id: int
    channel_id: str  # ours: the customer's channel, or (agent first) the agent's
    settings: CallbackSettings
    agent_channel: str = ""  # agent first: the agent's channel once they answered

    @property
    def agent_first(self) -> bool:
        return self.settings.dial_first == "agent"


@dataclass(frozen=True, slots=True)
class Answer:
    """What the callback-answer route tells the dialplan."""

    connect_to: str = ""  # the reserved agent; empty: hang up (or wait, see ``wait``)
    ring_timeout: float = 15.0
    wait: bool = False  # the agent went away meanwhile: the customer waits in line


class CallbackDialer:
    def __init__(
        self,
        callbacks: Callbacks,
        repo: CallbackRepository,
        acd: Acd,
        agents: AgentService,
        calls: CallBook,
        queues: QueueDirectory,
        notifier: Notifier,
        timers: Timers,
        originator: Originator,
        trunk: Callable[[], str],
        asterisk_path: Callable[[str, float], str],
        dnc_scopes: Callable[[str], list[str]],
        guard: DialGuard,
    ) -> None:
        self.guard = guard
        self.callbacks = callbacks
        self.repo = repo
        self.acd = acd
        self.agents = agents
        self.calls = calls
        self.queues = queues
        self.originator = originator
        self.trunk = trunk
        self.asterisk_path = asterisk_path
        self.dnc_scopes = dnc_scopes
        self.timers = timers
        self.notifier = notifier
        self._dialling: dict[str, Dialling] = {}  # by our channel id (= action id)
        # Several nodes ([[pbx.nodes]]): the node a customer is dialled on (the least
        # busy node that is up); None on a single box.
        self.pick_node: Callable[[], str] | None = None
        # Agent first, in conversation: the agent's channel id -> agent, and its queue.
        self._talking: dict[str, str] = {}
        self._queue_of: dict[str, str] = {}

    # -- the turn has come ------------------------------------------------------------------
    async def turn(self, call: LiveCall, agent: str) -> None:
        assert call.callback_id is not None
        try:
            ready = await self._ready(call)
        except Exception as exc:
            # The storage failed (the database away): no audit row, so no dial. The agent
            # held for the place is free at once (inbound calls go on reaching them) and
            # the place comes back in line, its time kept, to try again.
            now = self.timers.clock()
            log.warning(
                "call %s: callback %s not dialled, the storage failed (%s); again in %.0f s",
                call.call_id, call.callback_id, exc, STORAGE_RETRY,
            )  # fmt: skip
            await self.acd.release_reserved(call, now)
            self.callbacks.requeue_at(call, now + STORAGE_RETRY)
            return
        if ready is not None:
            await self._dial(call, *ready)

    async def _ready(self, call: LiveCall) -> tuple[Callback, CallbackSettings, int] | None:
        """What storage says before dialling (the callback, the DNC lists; then the audit
        row and the status written): what to dial, or None if it is not to be dialled."""
        assert call.callback_id is not None
        callback = await asyncio.to_thread(self.repo.get, call.callback_id)
        queue = self.queues.get(call.queue)
        if callback is None or queue is None or callback.status not in ("pending", "dialing"):
            log.warning("call %s: callback %s is gone; releasing", call.call_id, call.callback_id)
            await self.acd.release_reserved(call, self.timers.clock())
            self.callbacks.end_place(call, "callback-gone", self.timers.clock())
            return None
        settings = queue.callback
        now = self.timers.clock()
        listed_in = await asyncio.to_thread(self.dnc_scopes, callback.number)
        rules = self.guard.rules(settings.allowed_countries)
        verdict = dial_check(callback.number, settings.region, listed_in, now, rules)
        if verdict.policy is not None:
            origin = ("callback", str(callback.id))
            refusal = DialRefusal.of(
                Verdict(verdict.number, verdict.policy, verdict.detail),
                callback.number, origin, "callback-dialer", now,
            )  # fmt: skip
            await asyncio.to_thread(self.guard.record, refusal)
        audit = Attempt(
            callback_id=callback.id,
            call_id=call.call_id,
            number=callback.number,
            at=now,
            local_time=verdict.audit_local_time,
            dnc_check=verdict.dnc_check,
            hours_check=verdict.hours_check,
            dialled=verdict.ok,
        )
        attempt_id = await asyncio.to_thread(self.repo.attempt, audit)
        if not verdict.ok:
            hours = verdict.reason == "outside-calling-hours" and verdict.next_allowed_at
            outcome = (
                Outcome.OUT_OF_HOURS
                if hours
                else Outcome.DNC
                if verdict.reason.startswith("dnc")
                else Outcome.INVALID
            )
            reopens = verdict.next_allowed_at or now
            log.info("callback %d not dialled: %s", callback.id, verdict.detail)
            await self._finish(call, callback, callback.attempts, outcome, settings, reopens)
            return None
        attempt = callback.attempts + 1
        await asyncio.to_thread(self.repo.update, callback.id, status="dialing", attempts=attempt)
        return callback, settings, attempt_id

    async def _dial(
        self, call: LiveCall, callback: Callback, settings: CallbackSettings, attempt_id: int
    ) -> None:
        attempt = callback.attempts + 1
        channel_id = f"cb{callback.id}a{attempt}x{secrets.token_hex(4)}"
        dialling = Dialling(call, callback, attempt, attempt_id, channel_id, settings)
        self._dialling[channel_id] = dialling
        try:
            if not is_e164(callback.number):
                raise ValueError(f"{callback.number!r} is not an E.164 number")
            await self.originator.originate(self._origination(dialling))
        except OriginateUncertain as exc:
            log.warning(
                "callback %d: Originate uncertain (%s); waiting for events", callback.id, exc
            )
        except (PbxUnavailable, ValueError) as exc:
            log.warning("callback %d: not placed (%s)", callback.id, exc)
            await self._attempt_over(channel_id, Outcome.FAILED)
            return
        log.info(
            "callback %d: attempt %d to %s (agent %s)",
            callback.id,
            attempt,
            callback.number,
            call.agent,
        )
        self.timers.after(
            settings.ring_seconds + self._agent_ring(call) + ANSWER_GRACE,
            ("callback-silent", channel_id),
            lambda: self._attempt_over(channel_id, Outcome.FAILED),
        )

    def _origination(self, dialling: Dialling) -> Origination:
        call, number, trunk = dialling.call, dialling.callback.number, self.trunk()
        variables = (
            (inherited(Var.CALL_ID), call.call_id),
            (Var.MOH.value, self._moh(call)),
            (inherited(Var.REC_FILE), self.asterisk_path(call.call_id, call.entered_at)),
        )
        if dialling.agent_first:
            # The agent's phone first; cc-callback-agent then rings PJSIP/<number>@<trunk>.
            return Origination(
                endpoint=call.agent,
                context=Context.CALLBACK_AGENT,
                exten="s",
                action_id=dialling.channel_id,
                channel_id=dialling.channel_id,
                caller_id=f'"Callback" <{number}>',
                ring_seconds=int(self._agent_ring(call)),
                variables=(
                    *variables,
                    (Var.CB_NUMBER.value, number),
                    (Var.CB_TRUNK.value, trunk),
                    (Var.RING_TIMEOUT.value, str(dialling.settings.ring_seconds)),
                ),
            )
        # PJSIP/<number>@<trunk>: the number was checked E.164, the trunk is configured.
        node = self.pick_node() if self.pick_node is not None else ""
        call.node = node or call.node  # the customer's node: the call's from now on
        return Origination(
            endpoint=f"{number}@{trunk}",
            context=Context.CALLBACK,
            exten="s",
            action_id=dialling.channel_id,
            channel_id=dialling.channel_id,
            caller_id=f'"Callback" <{call.dialled or "callcenter"}>',
            ring_seconds=dialling.settings.ring_seconds,
            variables=variables,
            node=node,
        )

    def _agent_ring(self, call: LiveCall) -> float:
        queue = self.queues.get(call.queue)
        return queue.ring_timeout if queue is not None else 15.0

    def _moh(self, call: LiveCall) -> str:
        queue = self.queues.get(call.queue)
        return queue.moh if queue is not None else "default"

    # -- what comes back ----------------------------------------------------------------------
    def on_originate_response(self, event: ev.OriginateResponse) -> Awaitable[None] | None:
        dialling = self._dialling.get(event.action_id)
        if dialling is None:
            return None
        if event.response == "Success":
            dialling.agent_channel = event.channel
            return None
        if dialling.agent_first:
            return self._attempt_over(event.action_id, Outcome.AGENT_MISSED)
        outcome = outcome_of_originate(event.reason)
        if outcome is Outcome.FAILED:
            # Reason 0 says nothing: the channel's Hangup (its cause) follows; wait for it.
            self.timers.after(
                CAUSE_WAIT,
                ("callback-silent", event.action_id),
                lambda: self._attempt_over(event.action_id, Outcome.FAILED),
            )
            return None
        return self._attempt_over(event.action_id, outcome)

    def on_hangup(self, event: ev.Hangup) -> Awaitable[None] | None:
        dialling = self._dialling.get(event.unique_id)
        if dialling is not None:
            if dialling.agent_first:
                # Before the agent answered: missed; after: they gave up on the ringing.
                gone = Outcome.FAILED if dialling.agent_channel else Outcome.AGENT_MISSED
                return self._attempt_over(event.unique_id, gone)
            return self._attempt_over(event.unique_id, outcome_of_cause(event.cause))
        agent = self._talking.pop(event.unique_id, None)
        if agent is not None:
            return self._agent_first_ended(event.unique_id, agent)
        return None

    async def _agent_first_ended(self, channel_id: str, agent: str) -> None:
        """Agent first: the agent's channel was the call's; its end frees the agent."""
        status = self.agents.statuses.get(agent)
        if status is None or status.state is not AgentState.ON_CALL:
            return
        now = self.timers.clock()
        queue = self._queue_of.pop(channel_id, "")
        await self.acd.agent_done(agent, queue, now - status.since, now)

    async def agent_result(self, channel_id: str, dial_status: str) -> None:
        """Agent first: the Dial to the customer ended without a person put through."""
        outcome = {"NOANSWER": Outcome.NO_ANSWER, "BUSY": Outcome.BUSY}.get(
            dial_status, Outcome.FAILED
        )
        await self._attempt_over(channel_id, outcome)

    def _find(self, channel_id: str, call_id: str) -> Dialling | None:
        found = self._dialling.get(channel_id)
        if found is None and call_id:  # agent first: the customer's leg is Dial's, not ours
            found = next(
                (d for d in self._dialling.values() if d.agent_first and d.call.call_id == call_id),
                None,
            )
        return found

    async def answered(
        self, channel_id: str, channel: str, amd_status: str, amd_cause: str, call_id: str = ""
    ) -> Answer:
        """The customer picked up and AMD has listened (the callback-answer route)."""
        dialling = self._find(channel_id, call_id)
        if dialling is None:
            return Answer()
        channel_id = dialling.channel_id
        outcome = outcome_of_amd(amd_status)
        await asyncio.to_thread(
            self.repo.attempt_result,
            dialling.attempt_id,
            answered_at=self.timers.clock(),
            amd_result=amd_status[:16],
            amd_cause=amd_cause[:48],
        )
        if outcome is not Outcome.REACHED:
            await self._attempt_over(channel_id, outcome)
            return Answer()
        self._dialling.pop(channel_id)
        self.timers.cancel(("callback-silent", channel_id))
        call, now = dialling.call, self.timers.clock()
        if dialling.agent_first:
            return await self._put_through(dialling, channel, now)
        self.calls.attach(call, channel_id, channel)
        await self._record(dialling, Outcome.REACHED, "done", None, now)
        await asyncio.to_thread(
            self.repo.update, dialling.callback.id, status="done", last_outcome="reached"
        )
        agent = call.agent
        if call.state is CallState.RINGING and agent and self._still_reserved(agent, call):
            await asyncio.to_thread(self.repo.attempt_result, dialling.attempt_id, agent=agent)
            return Answer(agent, self._agent_ring(call))
        await self.acd.release_reserved(call, now)
        await self.acd.line_up(call, now)
        return Answer(wait=True)

    async def _put_through(self, dialling: Dialling, channel: str, now: float) -> Answer:
        """Agent first: the agent is on the line already; the customer joins them. The
        call's unique id stays the agent's channel (its end is the call's end); its
        channel is the customer's leg, the one call control holds and moves."""
        call = dialling.call
        self.calls.attach(call, dialling.channel_id, channel or dialling.agent_channel)
        self.calls.set_agent_channel(call, dialling.agent_channel)
        self._talking[dialling.channel_id] = call.agent
        self._queue_of[dialling.channel_id] = call.queue
        await asyncio.to_thread(self.repo.attempt_result, dialling.attempt_id, agent=call.agent)
        await self._record(dialling, Outcome.REACHED, "done", None, now)
        await asyncio.to_thread(
            self.repo.update, dialling.callback.id, status="done", last_outcome="reached"
        )
        await self.acd.agent_answered(dialling.channel_id, now)
        return Answer(call.agent, self._agent_ring(call))

    def _still_reserved(self, agent: str, call: LiveCall) -> bool:
        status = self.agents.statuses.get(agent)
        return status is not None and status.state is AgentState.RINGING

    async def _attempt_over(self, channel_id: str, outcome: Outcome) -> None:
        dialling = self._dialling.pop(channel_id, None)
        if dialling is None:
            return
        self.timers.cancel(("callback-silent", channel_id))
        await self._finish(
            dialling.call, dialling.callback, dialling.attempt, outcome, dialling.settings,
            self.timers.clock(), dialling,
        )  # fmt: skip

    async def _finish(
        self,
        call: LiveCall,
        callback: Callback,
        attempts: int,
        outcome: Outcome,
        settings: CallbackSettings,
        reopens_at: float,
        dialling: Dialling | None = None,
    ) -> None:
        now = self.timers.clock()
        if outcome is Outcome.AGENT_MISSED and dialling is not None:
            attempts -= 1  # the customer's phone never rang
            await self.agents.not_answered(call.agent, "NOANSWER", now)
            await asyncio.to_thread(self.repo.attempt_result, dialling.attempt_id, dialled=False)
        await self.acd.release_reserved(call, now)
        step = after_attempt(outcome, attempts, settings, now, reopens_at)
        log.info("callback %d: %s after %d attempts: %s", callback.id, outcome, attempts, step)
        if dialling is not None:  # the attempt's audit row first: the status is the last word
            await self._record(dialling, outcome, step.status, step.retry_at, now)
        await asyncio.to_thread(
            self.repo.update,
            callback.id,
            status=step.status,
            attempts=attempts,
            last_outcome=outcome.value,
            due_at=step.retry_at if step.retry_at is not None else callback.due_at,
        )
        if dialling is None:
            self.notifier.publish(
                CallbackAttempted(
                    at=now,
                    call_id=call.call_id,
                    callback_id=callback.id,
                    attempt=attempts,
                    number=callback.number,
                    agent="",
                    outcome=outcome.value,
                    next_status=step.status,
                    retry_at=step.retry_at,
                )
            )
        if step.retry_at is not None:
            self.callbacks.requeue_at(call, step.retry_at)
            return
        self.callbacks.end_place(call, f"callback-{step.status}", now)

    async def _record(
        self, dialling: Dialling, outcome: Outcome, status: str, retry_at: float | None, now: float
    ) -> None:
        await asyncio.to_thread(
            self.repo.attempt_result, dialling.attempt_id, outcome=outcome.value
        )
        self.notifier.publish(
            CallbackAttempted(
                at=now,
                call_id=dialling.call.call_id,
                callback_id=dialling.callback.id,
                attempt=dialling.attempt,
                number=dialling.callback.number,
                agent=dialling.call.agent,
                outcome=outcome.value,
                next_status=status,
                retry_at=retry_at,
            )
        )
