"""The line: callers join a queue (or overflow out of it), keep their place,
leave it, and are told their position and expected wait.

No PBX here: joining is a decision plus domain events. Whether an agent takes
the caller at once is the offering's business (services/inbound/offering.py).
"""

from __future__ import annotations

import logging
import math

from callcenter.core.acd.model import AgentState
from callcenter.core.acd.router import Router
from callcenter.core.acd.waits import (
    DEFAULT_EXPECTED_TALK,
    Line,
    TalkFit,
    WaitEstimate,
    WaitHistory,
    agents_now,
    estimate,
    line_for,
)
from callcenter.core.calls.live import CallBook, LiveCall
from callcenter.core.calls.state import CallEvent, advance
from callcenter.core.dialplan import Decision, Status
from callcenter.core.events import (
    AgentStateChanged,
    CallAbandoned,
    CallOverflowed,
    CallQueued,
    WaitAnnounced,
)
from callcenter.core.queues import (
    FEW_MINUTES,
    Overflow,
    QueueSettings,
    SpokenWait,
    spoken_wait,
)
from callcenter.services.agents import AgentService
from callcenter.services.inbound.wait_timers import WaitTimers
from callcenter.services.notify import Notifier
from callcenter.services.queues import QueueDirectory

log = logging.getLogger(__name__)

MAX_OVERFLOW_HOPS = 3


class Queueing:
    def __init__(
        self,
        router: Router,
        agents: AgentService,
        calls: CallBook,
        queues: QueueDirectory,
        notifier: Notifier,
        history: WaitHistory,
        wait_timers: WaitTimers,
    ) -> None:
        self.router = router
        self.agents = agents
        self.calls = calls
        self.queues = queues
        self.notifier = notifier
        self.history = history
        self._pause_reasons: dict[str, str] = {}  # agent -> reason of the pause they are on
        self.wait_timers = wait_timers

    # -- joining -------------------------------------------------------------------------
    def join(
        self,
        call: LiveCall,
        settings: QueueSettings,
        priority: int,
        extra: dict[str, int],
        now: float,
        hops: int = 0,
    ) -> Decision | None:
        """None: the caller is in line (in ``call.queue``); else where they go instead."""
        if not self.queues.accepting(settings, now):
            return self.overflow(call, settings, settings.on_closed, "closed", now, hops)
        if call.queue != settings.name or call.joined_at is None:
            call.joined_at = now
        call.queue, call.priority, call.extra = settings.name, priority, dict(extra)
        call.enqueued_at = call.enqueued_at or now
        self.router.enqueue(
            call.call_id, settings.name, priority, call.enqueued_at, extra, call.avoid
        )
        if not self._staffed(call, settings, now):
            self.router.remove_call(call.call_id)
            return self.overflow(call, settings, settings.on_unstaffed, "unstaffed", now, hops)
        advance(call, CallEvent.QUEUE)
        position, wait = self.position_and_estimate(call, now)
        self.publish_queued(call, now, position, wait)
        return None

    def publish_queued(self, call: LiveCall, at: float, position: int, wait: WaitEstimate) -> None:
        self.notifier.publish(
            CallQueued(
                at=at,
                call_id=call.call_id,
                unique_id=call.unique_id,
                queue=call.queue,
                priority=call.priority,
                extra=dict(call.extra),
                caller=call.caller,
                position=position,
                estimate=wait.seconds,
                reliable=wait.reliable,
            )
        )

    def _staffed(self, call: LiveCall, settings: QueueSettings, now: float) -> bool:
        """Someone logged in could take this call now or after every relaxation."""
        if self.router.eligible_staffed(call.call_id, now):
            return True
        last = settings.to_config().requirements_at(math.inf, call.extra)
        return any(
            all(skills.get(s, 0) >= level for s, level in last.items())
            for agent, skills in self.agents.skills.items()
            if self.agents.statuses[agent].state is not AgentState.LOGGED_OUT
        )

    def overflow(
        self,
        call: LiveCall,
        settings: QueueSettings,
        overflow: Overflow,
        reason: str,
        now: float,
        hops: int,
    ) -> Decision | None:
        self.notifier.publish(
            CallOverflowed(
                at=now,
                call_id=call.call_id,
                unique_id=call.unique_id,
                queue=settings.name,
                reason=reason,
                action=overflow.action,
                target=overflow.target,
                wait=call.wait(now),
            )
        )
        log.info(
            "call %s: %s in %s -> %s %s",
            call.call_id,
            reason,
            settings.name,
            overflow.action,
            overflow.target,
        )
        call.overflows += 1
        # Hops in one decision and over the call's life: queues that overflow into each
        # other pass a caller on at most this often, then the caller hears goodbye.
        if overflow.action == "queue" and max(hops, call.overflows) <= MAX_OVERFLOW_HOPS:
            target = self.queues.get(overflow.target)
            if target is not None:
                priority = max(call.priority, target.default_priority)
                return self.join(call, target, priority, call.extra, now, hops + 1)
        if overflow.action == "voicemail":
            advance(call, CallEvent.VOICEMAIL)
            return Decision(Status.VOICEMAIL, overflow.target, overflow.prompt)
        advance(call, CallEvent.END)
        return Decision(Status.HANGUP, prompt=overflow.prompt)

    # -- places in line ------------------------------------------------------------------
    def requeue(self, call: LiveCall, now: float) -> None:
        """Back in the router's line with the call's original enqueue time (its place)."""
        self.router.enqueue(
            call.call_id, call.queue, call.priority, call.enqueued_at or now, call.extra,
            call.avoid,
        )  # fmt: skip

    def leave(self, call: LiveCall) -> None:
        """Out of the line: no more offers, no more timers."""
        self.router.remove_call(call.call_id)
        self.wait_timers.cancel(call.call_id)

    def abandoned(self, call: LiveCall, now: float, while_ringing: str = "") -> None:
        position = 1 if while_ringing else self.router.calls_ahead(call.call_id, now) + 1
        self.history.abandoned(call.queue, call.wait(now))
        self.notifier.publish(
            CallAbandoned(
                at=now,
                call_id=call.call_id,
                unique_id=call.unique_id,
                queue=call.queue,
                wait=call.wait(now),
                position=position,
                while_ringing=while_ringing,
            )
        )

    def learn(self, talks: list[tuple[str, str, float]]) -> None:
        """Talk times of calls before a restart, oldest first (CallRecords.recent_talks):
        estimates hold from the first caller after it, not from the prior."""
        for queue, agent, seconds in talks:
            self.history.talk(queue, agent, seconds)

    def on_agent_state(self, e: AgentStateChanged) -> None:
        """Pauses are measured by reason, so estimates can count agents due back."""
        if e.previous == "paused" and e.agent in self._pause_reasons:
            self.history.paused(self._pause_reasons.pop(e.agent), e.previous_seconds)
        if e.state == "paused":
            self._pause_reasons[e.agent] = e.reason

    # -- what the waiting caller hears ---------------------------------------------------
    def position_and_estimate(self, call: LiveCall, now: float) -> tuple[int, WaitEstimate]:
        """The caller's place in line and the estimate of their wait (core/acd/waits.py)."""
        ahead = self.router.calls_ahead(call.call_id, now)
        expected_ahead = self.router.expected_ahead(call.call_id, now)
        settings = self.queues.get(call.queue)
        expected = settings.expected_talk if settings else DEFAULT_EXPECTED_TALK
        wrapup = settings.wrapup if settings else 0.0
        agents = agents_now(
            self.router.eligible_over_time(call.call_id, now),
            self.agents.statuses,
            self.agents.available,
            lambda agent: self.history.fit(call.queue, expected, agent),
            wrapup,
            now,
            self.history.pause_fit,
        )

        def line() -> Line | None:  # only if a draw needs it
            return line_for(
                self.router,
                call.call_id,
                self.agents.statuses,
                self.agents.available,
                lambda agent: self._work(agent, call.queue),
                self._queue_fit,
                self._wrapup,
                now,
                self.history.pause_fit,
            )

        wait = estimate(
            expected_ahead,
            agents,
            answer_delay=self.history.answer_delay(call.queue),
            abandon_rate=self.history.abandon_rate(call.queue),
            line=line,
        )
        return ahead + 1, wait

    def _queue_fit(self, queue: str) -> TalkFit:
        return self.history.fit(queue, self._expected(queue))

    def _work(self, agent: str, queue: str) -> tuple[TalkFit, float]:
        """Talk times (at the agent's pace) and wrap-up of the call the agent is on or
        being offered; of ``queue`` when that call is not known."""
        call_id = self.agents.statuses[agent].call_id
        current = self.calls.get(call_id) if call_id else None
        if current is not None and current.queue:
            queue = current.queue
        return self.history.fit(queue, self._expected(queue), agent), self._wrapup(queue)

    def _expected(self, queue: str) -> float:
        settings = self.queues.get(queue)
        return settings.expected_talk if settings else DEFAULT_EXPECTED_TALK

    def _wrapup(self, queue: str) -> float:
        settings = self.queues.get(queue)
        return settings.wrapup if settings else 0.0

    def announcement(self, call: LiveCall, now: float) -> tuple[int, SpokenWait]:
        """Position and what to say of the wait now; the estimate is logged for accuracy."""
        position, wait = self.position_and_estimate(call, now)
        settings = self.queues.get(call.queue)
        spoken = spoken_wait(settings.announce, wait.seconds, wait.reliable) if settings else None
        self.notifier.publish(
            WaitAnnounced(
                at=now,
                call_id=call.call_id,
                queue=call.queue,
                position=position,
                estimate=wait.seconds,
                reliable=wait.reliable,
                why_not=wait.why_not.value,
                told=_words(spoken),
            )
        )
        return position, spoken


def _words(spoken: SpokenWait) -> str:
    if spoken == FEW_MINUTES:
        return "a few minutes"
    if isinstance(spoken, int):
        return f"{spoken} minute{'s' if spoken > 1 else ''}"
    return ""
