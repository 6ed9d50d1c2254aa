"""A callback's turn: the agent is reserved, the customer is called, then connected.

Order of things for one attempt:
1. checks: do-not-call and the callee's calling hours (refused: an audit row, no dial);
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

from callcenter.adapters.agi.variables import Context, Var, inherited
from callcenter.adapters.ami import events as ev
from callcenter.adapters.ami.client import AmiClient
from callcenter.adapters.db.callbacks import Attempt, Callback, CallbackRepository
from callcenter.core.acd.model import AgentState
from callcenter.core.callbacks.policy import (
    CallbackSettings,
    Outcome,
    after_attempt,
    dial_check,
    outcome_of_amd,
    outcome_of_originate,
)
from callcenter.core.events import CallbackAttempted
from callcenter.core.outbound.numbers import is_e164
from callcenter.services.acd import Acd
from callcenter.services.callbacks import Callbacks
from callcenter.services.live import CallState, LiveCall
from callcenter.services.ports import OriginateUncertain, Origination, Originator, PbxUnavailable

log = logging.getLogger(__name__)

ANSWER_GRACE = 60.0  # seconds past the ring time before a silent attempt counts as failed


@dataclass(slots=True)
class Dialling:
    call: LiveCall
    callback: Callback
    attempt: int
    attempt_id: int
    channel_id: str
    settings: CallbackSettings


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
        originator: Originator,
        trunk: Callable[[], str],
        asterisk_path: Callable[[str, float], str],
        dnc_scopes: Callable[[str], list[str]],
    ) -> None:
        self.callbacks = callbacks
        self.repo = repo
        self.acd = acd
        self.originator = originator
        self.trunk = trunk
        self.asterisk_path = asterisk_path
        self.dnc_scopes = dnc_scopes
        self.timers = acd.timers
        self.notifier = acd.notifier
        self._dialling: dict[str, Dialling] = {}  # by our channel id (= action id)
        acd.callback_turn = self.turn

    def subscribe(self, ami: AmiClient) -> None:
        """Every AMI event the callback dialer consumes, in one place."""
        ami.subscribe(ev.OriginateResponse, self._on_originate_response)
        ami.subscribe(ev.Hangup, self._on_hangup)

    # -- the turn has come ------------------------------------------------------------------
    async def turn(self, call: LiveCall, agent: str) -> None:
        assert call.callback_id is not None
        callback = await asyncio.to_thread(self.repo.get, call.callback_id)
        queue = self.acd.queues.get(call.queue)
        if callback is None or queue is None or callback.status not in ("pending", "dialing"):
            log.warning("call %s: callback %s is gone; releasing", call.call_id, call.callback_id)
            await self.acd.release_reserved(call, self.timers.clock())
            self.callbacks.end_place(call, "callback-gone", self.timers.clock())
            return
        settings = queue.callback
        now = self.timers.clock()
        listed_in = await asyncio.to_thread(self.dnc_scopes, callback.number)
        verdict = dial_check(callback.number, settings.region, listed_in, now)
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
            return
        await self._dial(call, callback, settings, attempt_id)

    async def _dial(
        self, call: LiveCall, callback: Callback, settings: CallbackSettings, attempt_id: int
    ) -> None:
        attempt = callback.attempts + 1
        channel_id = f"cb{callback.id}a{attempt}x{secrets.token_hex(4)}"
        await asyncio.to_thread(self.repo.update, callback.id, status="dialing", attempts=attempt)
        dialling = Dialling(call, callback, attempt, attempt_id, channel_id, settings)
        self._dialling[channel_id] = dialling
        try:
            # PJSIP/<number>@<trunk>: the number is checked E.164 again, the trunk is configured.
            if not is_e164(callback.number):
                raise ValueError(f"{callback.number!r} is not an E.164 number")
            endpoint = f"{callback.number}@{self.trunk()}"
            await self.originator.originate(
                Origination(
                    endpoint=endpoint,
                    context=Context.CALLBACK,
                    exten="s",
                    action_id=channel_id,
                    channel_id=channel_id,
                    caller_id=f'"Callback" <{call.dialled or "callcenter"}>',
                    ring_seconds=settings.ring_seconds,
                    variables=(
                        (Var.CALL_ID.value, call.call_id),
                        (Var.MOH.value, self._moh(call)),
                        (
                            inherited(Var.REC_FILE),
                            self.asterisk_path(call.call_id, call.entered_at),
                        ),
                    ),
                )
            )
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
            settings.ring_seconds + ANSWER_GRACE,
            ("callback-silent", channel_id),
            lambda: self._attempt_over(channel_id, Outcome.FAILED),
        )

    def _recording(self, call: LiveCall) -> str:
        return self.asterisk_path(call.call_id, call.entered_at)

    def _moh(self, call: LiveCall) -> str:
        queue = self.acd.queues.get(call.queue)
        return queue.moh if queue is not None else "default"

    # -- what comes back ----------------------------------------------------------------------
    def _on_originate_response(self, event: ev.OriginateResponse) -> Awaitable[None] | None:
        if event.action_id in self._dialling and event.response != "Success":
            return self._attempt_over(event.action_id, outcome_of_originate(event.reason))
        return None

    def _on_hangup(self, event: ev.Hangup) -> Awaitable[None] | None:
        if event.unique_id in self._dialling:
            return self._attempt_over(event.unique_id, Outcome.NO_ANSWER)
        return None

    async def answered(
        self, channel_id: str, channel: str, amd_status: str, amd_cause: str
    ) -> Answer:
        """The customer picked up and AMD has listened (the callback-answer route)."""
        dialling = self._dialling.get(channel_id)
        if dialling is None:
            return Answer()
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
        self.acd.calls.attach(call, channel_id, channel)
        await asyncio.to_thread(
            self.repo.update, dialling.callback.id, status="done", last_outcome="reached"
        )
        await self._record(dialling, Outcome.REACHED, "done", None, now)
        agent = call.agent
        if call.state is CallState.RINGING and agent and self._still_reserved(agent, call):
            await asyncio.to_thread(self.repo.attempt_result, dialling.attempt_id, agent=agent)
            return Answer(agent, dialling.settings.ring_seconds)
        await self.acd.release_reserved(call, now)
        await self.acd.line_up(call, now)
        return Answer(wait=True)

    def _still_reserved(self, agent: str, call: LiveCall) -> bool:
        status = self.acd.agents.statuses.get(agent)
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
        await self.acd.release_reserved(call, now)
        step = after_attempt(outcome, attempts, settings, now, reopens_at)
        await asyncio.to_thread(
            self.repo.update,
            callback.id,
            status=step.status,
            last_outcome=outcome.value,
            due_at=step.retry_at if step.retry_at is not None else callback.due_at,
        )
        if dialling is not None:
            await self._record(dialling, outcome, step.status, step.retry_at, now)
        else:
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
