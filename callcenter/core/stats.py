"""Call-center figures with their standard definitions, in one place (pure).

The wallboard (live, from events as they happen) and the reports (from the
database's call_events) both fold the same call events into queue *legs* with
``fold_legs`` and compute figures with ``queue_figures``, so they cannot
disagree.

Definitions (shown on the console's pages):
- A leg is one call's stay in one queue. A call that overflows from A to B has
  a leg in each; the A leg ends "overflowed".
- Offered: legs that entered the queue in the period.
- Answered: legs an agent answered. Abandoned: the caller hung up while
  waiting or while an agent's phone rang. Overflowed: moved on by a rule
  while waiting (maximum wait). A caller turned away on arrival (queue
  closed, nobody staffed) never entered the queue: no leg, not offered.
- Wait: the time a leg spent in its queue, from entering it to being
  answered, abandoned or moved on (a caller who overflows from A to B starts
  a new wait in B; a ring-no-answer puts them back in the same leg).
- Service level: legs answered within the queue's target, divided by offered
  legs, leaving out legs still waiting that have not yet reached the target
  (their outcome is not known yet).
- ASA (average speed of answer): total wait of answered legs / answered legs.
- AHT (average handle time): (talk + hold + wrap-up) / handled legs (answered
  legs whose conversation has ended, or that an agent transferred to another
  queue). A leg an agent transferred to another agent is one leg: the handle
  time of both agents counts in it. Talk excludes hold (core/calls/segments.py).
- Transfers: legs' agent segments that ended in a blind transfer (to a queue or
  an agent), a completed consultation or the agent leaving a three-way conference
  (segments.is_transfer), counted in the leg's queue. Holds and hold time: the holds of
  those legs' segments.
- Abandon rate: abandoned / offered.
- Occupancy (per agent): time handling calls (ringing, talking, wrap-up) /
  (that time + time ready and idle).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from callcenter.core.calls.segments import is_transfer


@dataclass(slots=True)
class Leg:
    call_id: str
    queue: str
    offered_at: float
    outcome: str = "waiting"  # waiting | answered | abandoned | overflowed | dropped
    agent: str = ""
    wait: float | None = None  # until answered, abandoned or overflowed
    answered_at: float | None = None
    talk: float | None = None
    wrapup: float = 0.0
    ended: bool = False  # conversation over (talk known)
    hold: float = 0.0
    holds: int = 0
    transfers: int = 0  # agents' segments on this leg that ended in a transfer
    segments: int = 0  # agents' segments on this leg (0 in records older than them)


@dataclass(frozen=True, slots=True)
class CallEventRecord:
    """A call_events row, or the same fact from a live domain event."""

    call_id: str
    at: float
    # queued | answered | abandoned | overflow | completed | wrapup | ended | fallback | segment
    kind: str
    agent: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)


def fold_legs(events: Iterable[CallEventRecord]) -> list[Leg]:
    """Turn call events (in time order per call) into queue legs."""
    legs: list[Leg] = []
    current: dict[str, Leg] = {}
    # The leg each agent talked on, per call: wrap-up comes after the talk and
    # belongs to that leg even if the call has since moved on.
    talked: dict[tuple[str, str], Leg] = {}
    for e in events:
        leg = current.get(e.call_id)
        if e.kind == "queued":
            queue = str(e.detail.get("queue", ""))
            if leg is not None and leg.queue == queue and leg.outcome == "waiting":
                continue  # back in line after ring-no-answer: same leg
            if leg is not None and leg.outcome == "waiting":
                leg.outcome, leg.wait = "overflowed", e.at - leg.offered_at
            leg = Leg(e.call_id, queue, e.at)
            legs.append(leg)
            current[e.call_id] = leg
        elif e.kind == "wrapup":
            spoke = talked.get((e.call_id, e.agent))
            if spoke is not None:
                spoke.wrapup += float(e.detail.get("seconds", 0.0))
        elif leg is None:
            continue
        elif e.kind == "answered" and leg.outcome == "waiting":
            # The leg's own wait: the event's "wait" counts from the caller's
            # first queue, which is not this leg's wait after an overflow.
            leg.outcome, leg.agent, leg.answered_at = "answered", e.agent, e.at
            leg.wait = e.at - leg.offered_at
            talked[(e.call_id, e.agent)] = leg
        elif e.kind == "abandoned" and leg.outcome == "waiting":
            leg.outcome, leg.wait = "abandoned", e.at - leg.offered_at
        elif e.kind == "overflow" and leg.outcome == "waiting":
            leg.outcome, leg.wait = "overflowed", e.at - leg.offered_at
        elif e.kind == "segment":
            # One agent's part (written before "completed"): talk and hold add up on the
            # leg it was answered in, and that agent's wrap-up follows it there.
            spoke = talked.get((e.call_id, e.agent), leg)
            talked[(e.call_id, e.agent)] = spoke
            spoke.segments += 1
            spoke.talk = (spoke.talk or 0.0) + float(e.detail.get("talk", 0.0))
            spoke.hold += float(e.detail.get("hold", 0.0))
            spoke.holds += int(e.detail.get("holds", 0))
            reason = str(e.detail.get("reason", ""))
            if is_transfer(reason):
                spoke.transfers += 1
            if reason == "transfer-queue":
                spoke.ended = True  # this leg's handling is over; the next queue's begins
        elif e.kind == "completed" and leg.outcome == "answered":
            if not leg.segments:  # records older than segments: the talk is here
                leg.talk = float(e.detail.get("talk", 0.0))
            leg.ended = True
        elif e.kind in ("ended", "fallback") and leg.outcome == "waiting":
            leg.outcome, leg.wait = "dropped", e.at - leg.offered_at
    return legs


@dataclass(frozen=True, slots=True)
class Figures:
    offered: int
    answered: int
    answered_within_target: int
    abandoned: int
    overflowed: int
    waiting: int
    handled: int
    wait_answered_total: float
    handle_total: float
    target: float
    transfers: int = 0
    holds: int = 0
    hold_total: float = 0.0

    @property
    def service_level(self) -> float | None:
        return self.answered_within_target / self.offered if self.offered else None

    @property
    def asa(self) -> float | None:
        return self.wait_answered_total / self.answered if self.answered else None

    @property
    def aht(self) -> float | None:
        return self.handle_total / self.handled if self.handled else None

    @property
    def abandon_rate(self) -> float | None:
        return self.abandoned / self.offered if self.offered else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "offered": self.offered, "answered": self.answered,
            "answered_within_target": self.answered_within_target,
            "abandoned": self.abandoned, "overflowed": self.overflowed,
            "waiting": self.waiting, "handled": self.handled, "target_seconds": self.target,
            "service_level": self.service_level, "asa_seconds": self.asa,
            "aht_seconds": self.aht, "abandon_rate": self.abandon_rate,
            "transfers": self.transfers, "holds": self.holds,
            "hold_seconds": self.hold_total,
        }  # fmt: skip


def queue_figures(
    legs: Iterable[Leg], target: float, since: float, until: float, now: float
) -> Figures:
    """Figures for legs offered in [since, until), as known at ``now``."""
    offered = answered = within = abandoned = overflowed = waiting = handled = 0
    transfers = holds = 0
    wait_total = handle_total = hold_total = 0.0
    for leg in legs:
        if not since <= leg.offered_at < until:
            continue
        if leg.outcome == "waiting":
            waiting += 1
            if now - leg.offered_at < target:
                continue  # undecided: not yet counted as offered
        offered += 1
        if leg.outcome == "answered":
            answered += 1
            wait = leg.wait or 0.0
            wait_total += wait
            within += wait <= target
            transfers += leg.transfers
            holds += leg.holds
            hold_total += leg.hold
            if leg.ended:
                handled += 1
                handle_total += (leg.talk or 0.0) + leg.hold + leg.wrapup
        elif leg.outcome == "abandoned":
            abandoned += 1
        elif leg.outcome == "overflowed":
            overflowed += 1
    return Figures(offered, answered, within, abandoned, overflowed, waiting, handled,
                   wait_total, handle_total, target, transfers, holds, hold_total)  # fmt: skip


def interval_start(at: float, minutes: int, utc_offset: float = 0.0) -> float:
    """Start of the 15/30/60-minute interval holding ``at`` (local time via offset)."""
    size = minutes * 60
    return (at + utc_offset) // size * size - utc_offset


@dataclass(frozen=True, slots=True)
class StateSpan:
    agent: str
    state: str
    start: float
    end: float


def agent_time(spans: Iterable[StateSpan], since: float, until: float) -> dict[str, float]:
    """Seconds per state within [since, until)."""
    totals: dict[str, float] = {}
    for span in spans:
        overlap = min(span.end, until) - max(span.start, since)
        if overlap > 0:
            totals[span.state] = totals.get(span.state, 0.0) + overlap
    return totals


BUSY_STATES = ("ringing", "on_call", "wrap_up")


def occupancy(times: Mapping[str, float]) -> float | None:
    busy = sum(times.get(state, 0.0) for state in BUSY_STATES)
    available = busy + times.get("ready", 0.0)
    return busy / available if available > 0 else None


def spans_from_log(rows: Iterable[tuple[str, str, float]], until: float) -> list[StateSpan]:
    """(agent, state, at) rows in time order -> spans; the last span runs until ``until``."""
    spans: list[StateSpan] = []
    open_: dict[str, tuple[str, float]] = {}
    for agent, state, at in rows:
        if agent in open_:
            previous, start = open_[agent]
            spans.append(StateSpan(agent, previous, start, at))
        open_[agent] = (state, at)
    for agent, (state, start) in open_.items():
        spans.append(StateSpan(agent, state, start, max(start, until)))
    return spans
