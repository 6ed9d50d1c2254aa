"""A lead's life: when it is dialled again, and when never.

States (``leads.status``)::

    new ──dial──> dialing ──finish──> scheduled (a retry is due at next_attempt_at)
    scheduled ──dial──> dialing          └──> done | dnc | invalid | exhausted (final)
    new | scheduled ──refuse──> scheduled (not now: hours, quiet period) | dnc | invalid

The whole table is ``TABLE``; anything else raises ``IllegalTransition``.
A refusal by the compliance check is not an attempt: it only moves the lead
to the time the check allows. A callback the customer asked for is kept even
when the attempts are used up: they asked for it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from callcenter.core.outbound.compliance import DialCheck
from callcenter.core.outbound.dispositions import AgentDisposition, Outcome
from callcenter.core.outbound.settings import RetryRules

LeadStatus = Literal["new", "scheduled", "dialing", "done", "dnc", "invalid", "exhausted"]
Event = Literal["dial", "finish", "refuse", "reopen"]
FINAL: frozenset[LeadStatus] = frozenset({"done", "dnc", "invalid", "exhausted"})
TABLE: dict[Event, frozenset[LeadStatus]] = {
    "dial": frozenset({"new", "scheduled"}),
    "finish": frozenset({"dialing"}),
    "refuse": frozenset({"new", "scheduled"}),
    "reopen": frozenset({"exhausted", "done"}),  # a supervisor gives the lead another go
}
NO_WINDOW_RETRY = 86400.0  # checked again a day later when no calling window is ahead


class IllegalTransition(Exception):
    def __init__(self, status: str, event: str) -> None:
        super().__init__(f"a lead that is {status} cannot take {event!r}")
        self.status = status
        self.event = event


@dataclass(frozen=True, slots=True)
class LeadState:
    status: LeadStatus = "new"
    attempts: int = 0
    next_attempt_at: float = 0.0
    last_attempt_at: float | None = None
    last_outcome: str = ""
    last_abandoned_at: float | None = None

    def due(self, now: float) -> bool:
        return self.status in TABLE["dial"] and self.next_attempt_at <= now


def _check(state: LeadState, event: Event) -> None:
    if state.status not in TABLE[event]:
        raise IllegalTransition(state.status, event)


def dial(state: LeadState, now: float) -> LeadState:
    _check(state, "dial")
    return replace(state, status="dialing", attempts=state.attempts + 1, last_attempt_at=now)


def refuse(state: LeadState, check: DialCheck, now: float) -> LeadState:
    """The compliance check said no: never (DNC, bad number, the dial policy) or not
    before a time."""
    _check(state, "refuse")
    if check.reason in ("dnc-site", "dnc-campaign"):
        return replace(state, status="dnc", last_outcome=check.reason)
    if check.reason in ("bad-number", "dial-policy"):
        return replace(state, status="invalid", last_outcome=check.reason)
    later = check.next_allowed_at
    when = later if later is not None and later > now else now + NO_WINDOW_RETRY
    return replace(state, status="scheduled", next_attempt_at=when, last_outcome=check.reason)


def finish(
    state: LeadState,
    outcome: Outcome,
    rules: RetryRules,
    now: float,
    disposition: AgentDisposition | None = None,
    callback_at: float | None = None,
) -> LeadState:
    """After the call: the outcome (and for a connected call, the agent's disposition)."""
    _check(state, "finish")
    ended = replace(state, last_outcome=outcome)
    if outcome == "connected":
        return _disposed(ended, rules, now, disposition or "completed", callback_at)
    if outcome == "invalid-number":
        return replace(ended, status="invalid")
    if outcome == "abandoned":
        ended = replace(ended, last_abandoned_at=now)
    return _retry(ended, rules, now + retry_delay(outcome, rules))


def retry_delay(outcome: Outcome, rules: RetryRules) -> float:
    """Seconds before the next attempt after an unsuccessful ``outcome``."""
    minutes = {
        "busy": rules.busy_minutes,
        "no-answer": rules.no_answer_minutes,
        "machine": rules.machine_minutes,
        "failed": rules.failed_minutes,
        "abandoned": rules.abandoned_quiet_hours * 60,
    }.get(outcome, rules.no_answer_minutes)
    return minutes * 60.0


def reopen(state: LeadState, now: float) -> LeadState:
    _check(state, "reopen")
    return replace(state, status="scheduled", attempts=0, next_attempt_at=now)


def _disposed(
    state: LeadState,
    rules: RetryRules,
    now: float,
    disposition: AgentDisposition,
    callback_at: float | None,
) -> LeadState:
    if disposition == "callback":
        if callback_at is None or callback_at <= now:
            raise ValueError("a callback needs a time in the future")
        return replace(
            state, status="scheduled", next_attempt_at=callback_at, last_outcome="callback"
        )
    if disposition == "do-not-call":
        return replace(state, status="dnc", last_outcome="do-not-call")
    if disposition == "wrong-number":
        return replace(state, status="invalid", last_outcome="wrong-number")
    if disposition == "retry":
        return _retry(state, rules, now + rules.no_answer_minutes * 60.0)
    return replace(state, status="done")


def _retry(state: LeadState, rules: RetryRules, at: float) -> LeadState:
    if state.attempts >= rules.max_attempts:
        return replace(state, status="exhausted")
    return replace(state, status="scheduled", next_attempt_at=at)
