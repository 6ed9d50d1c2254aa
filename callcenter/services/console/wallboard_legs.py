"""Today's queue legs for the wallboard, kept up to date one call event at a time (pure).

The figures come from core/stats.py, the definitions the reports use too:
each domain event becomes the same CallEventRecord the RecordWriter stores as
a call_events row (``record_of``), and a call's legs are re-folded from its
own events with ``fold_legs`` whenever one arrives (a call's legs depend on
its events only, so one call at a time gives the same legs as the whole day
at once). Legs are filed in one-minute buckets per queue; a bucket's Figures
are computed with ``queue_figures`` and kept until a leg in it changes, so a
busy day costs a few buckets' work per update, not the whole day's.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from callcenter.core import events as ev
from callcenter.core.stats import CallEventRecord, Figures, Leg, fold_legs, queue_figures

MINUTE = 60.0
Bucket = tuple[str, int]  # (queue, minute of the day)


def record_of(event: ev.Event) -> CallEventRecord | None:
    """The call_events row the RecordWriter writes for ``event`` (kinds fold_legs reads).

    Rounded like the stored rows, so a board rebuilt from the database equals the live one.
    """
    match event:
        case ev.CallQueued():
            return CallEventRecord(event.call_id, event.at, "queued", "", {"queue": event.queue})
        case ev.CallAnswered():
            detail = {"queue": event.queue, "wait": round(event.wait, 3)}
            return CallEventRecord(event.call_id, event.at, "answered", event.agent, detail)
        case ev.CallAbandoned():
            detail = {"queue": event.queue, "wait": round(event.wait, 3)}
            return CallEventRecord(
                event.call_id, event.at, "abandoned", event.while_ringing, detail
            )
        case ev.CallOverflowed():
            detail = {"queue": event.queue, "reason": event.reason, "action": event.action}
            return CallEventRecord(event.call_id, event.at, "overflow", "", detail)
        case ev.CallCompleted():
            detail = {"talk": round(event.talk, 3)}
            return CallEventRecord(event.call_id, event.at, "completed", event.agent, detail)
        case ev.CallSegmentEnded():
            detail = {
                "talk": round(event.talk, 3), "hold": round(event.hold, 3),
                "holds": event.holds, "reason": event.reason,
            }  # fmt: skip
            return CallEventRecord(event.call_id, event.at, "segment", event.agent, detail)
        case ev.CallEnded():
            return CallEventRecord(event.call_id, event.at, "ended")
        case ev.CallFellBack():
            return CallEventRecord(event.call_id, event.at, "fallback")
        case ev.AgentStateChanged() if event.previous == "wrap_up" and event.call_id:
            # The RecordWriter's rule: wrap-up is written when the agent leaves it.
            detail = {"seconds": round(event.previous_seconds, 3)}
            return CallEventRecord(event.call_id, event.at, "wrapup", event.agent, detail)
    return None


def add_figures(parts: Iterable[Figures], target: float) -> Figures:
    """Figures of the union of disjoint sets of legs: their counts and totals added."""
    parts = list(parts)
    return Figures(
        offered=sum(f.offered for f in parts),
        answered=sum(f.answered for f in parts),
        answered_within_target=sum(f.answered_within_target for f in parts),
        abandoned=sum(f.abandoned for f in parts),
        overflowed=sum(f.overflowed for f in parts),
        waiting=sum(f.waiting for f in parts),
        handled=sum(f.handled for f in parts),
        wait_answered_total=sum(f.wait_answered_total for f in parts),
        handle_total=sum(f.handle_total for f in parts),
        target=target,
        transfers=sum(f.transfers for f in parts),
        holds=sum(f.holds for f in parts),
        hold_total=sum(f.hold_total for f in parts),
    )


@dataclass(slots=True)
class _Call:
    records: list[CallEventRecord]
    legs: list[Leg]


class LegBook:
    """Today's legs, by call and by (queue, minute), with cached per-minute Figures."""

    def __init__(self, day_start: float) -> None:
        self.day_start = day_start
        self._calls: dict[str, _Call] = {}
        self._buckets: dict[Bucket, dict[str, list[Leg]]] = defaultdict(dict)
        self._figures: dict[Bucket, Figures] = {}
        self._waiting: dict[str, set[Bucket]] = {}  # calls with a waiting leg today

    # -- input ----------------------------------------------------------------------------
    def add(self, record: CallEventRecord) -> None:
        call = self._calls.get(record.call_id)
        if call is None:
            if record.kind != "queued":
                return  # the call never queued today: no leg to change
            call = self._calls[record.call_id] = _Call([], [])
        call.records.append(record)
        self._file(record.call_id, call, fold_legs(call.records))

    def _file(self, call_id: str, call: _Call, legs: list[Leg]) -> None:
        for old in self._buckets_of(call.legs):
            self._buckets[old].pop(call_id, None)
            self._figures.pop(old, None)
        call.legs = legs
        waiting: set[Bucket] = set()
        for leg in legs:
            bucket = self.bucket_of(leg)
            if bucket is None:
                continue
            self._buckets[bucket].setdefault(call_id, []).append(leg)
            self._figures.pop(bucket, None)
            if leg.outcome == "waiting":
                waiting.add(bucket)
        if waiting:
            self._waiting[call_id] = waiting
        else:
            self._waiting.pop(call_id, None)

    def bucket_of(self, leg: Leg) -> Bucket | None:
        if leg.offered_at < self.day_start:
            return None  # offered before today: kept for folding, counted nowhere today
        return leg.queue, int((leg.offered_at - self.day_start) // MINUTE)

    def _buckets_of(self, legs: list[Leg]) -> Iterator[Bucket]:
        for leg in legs:
            bucket = self.bucket_of(leg)
            if bucket is not None:
                yield bucket

    def roll(self, day_start: float) -> None:
        """A new day: keep only calls still in progress (their later legs may be today's)."""
        self.day_start = day_start
        live = {
            call_id: call
            for call_id, call in self._calls.items()
            if not any(r.kind in ("ended", "fallback") for r in call.records)
        }
        self._calls, self._buckets, self._figures, self._waiting = {}, defaultdict(dict), {}, {}
        for call_id, call in live.items():
            self._calls[call_id] = call
            self._file(call_id, call, call.legs)

    # -- figures ------------------------------------------------------------------------
    def minute_figures(self, queue: str, target: float, now: float) -> dict[int, Figures]:
        """Figures of the legs offered in each minute of today that has any."""
        undecided = {b for buckets in self._waiting.values() for b in buckets if b[0] == queue}
        out: dict[int, Figures] = {}
        for bucket, calls in self._buckets.items():
            if bucket[0] != queue or not calls:
                continue
            cached = self._figures.get(bucket)
            # A waiting leg changes its bucket's figures by the clock alone (the
            # undecided rule), so those buckets are recomputed every time.
            if cached is None or cached.target != target or bucket in undecided:
                legs = [leg for legs in calls.values() for leg in legs]
                cached = queue_figures(legs, target, -math.inf, math.inf, now)
                self._figures[bucket] = cached
            out[bucket[1]] = cached
        return out

    def figures_since(self, queue: str, target: float, since: float, now: float) -> Figures:
        """Figures of the legs offered from ``since`` (within today) until now."""
        first = int((max(since, self.day_start) - self.day_start) // MINUTE)
        legs = [
            leg
            for (name, minute), calls in self._buckets.items()
            if name == queue and minute >= first
            for legs in calls.values()
            for leg in legs
        ]
        return queue_figures(legs, target, since, math.inf, now)

    def next_decision(self, targets: dict[str, float], now: float) -> float | None:
        """When the next waiting leg reaches its queue's target (and starts to count)."""
        due = [
            leg.offered_at + targets[leg.queue]
            for call_id in self._waiting
            for leg in self._calls[call_id].legs
            if leg.outcome == "waiting" and leg.queue in targets
        ]
        later = [when for when in due if when > now]
        return min(later) if later else None

    def legs(self) -> list[Leg]:
        """Every leg offered today (tests, the history's waiting peaks)."""
        return [leg for calls in self._buckets.values() for legs in calls.values() for leg in legs]
