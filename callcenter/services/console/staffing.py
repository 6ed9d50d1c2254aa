"""Forecast and staffing per queue: the history in intervals, the forecast of the
coming days, the agents Erlang C and Erlang A say are needed, and the agents who
were actually logged in (the whole site: agents are not tied to one queue).

The history is the last ``weeks`` weeks of whole days before today (plus one
week, from which the forecast's error is measured: the last week seen is
forecast from the weeks before it). Days before the first call the database
holds are not history, not zeros.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

from callcenter.core import stats
from callcenter.core.stats import StateSpan
from callcenter.core.workforce.erlang import Goal
from callcenter.core.workforce.forecast import Accuracy, Observed, backtest, days_from, forecast
from callcenter.core.workforce.staffing import Need, patience_estimate, plan
from callcenter.services.repositories import ReportQueries

DEFAULT_AHT = 180.0  # seconds: handle time assumed for a queue with no handled call yet
MAX_DAYS, MAX_WEEKS = 14, 12


@dataclass(frozen=True)
class StaffingQuery:
    queue: str
    days: int = 7
    interval: int = 30
    weeks: int = 4
    level: float = 0.8
    max_occupancy: float = 0.85
    patience: float | None = None  # seconds; None: measured on the queue


@dataclass(frozen=True)
class StaffingRow:
    start: float
    end: float
    need: Need
    logged_in: float | None  # average agents logged in, for intervals already begun
    logged_in_week_before: float | None  # the same interval a week earlier


@dataclass(frozen=True)
class StaffingReport:
    queue: str
    query: StaffingQuery
    target: float
    patience: float | None
    patience_measured: bool
    history_days: int
    accuracy: Accuracy | None
    rows: list[StaffingRow]


class Zone(Protocol):
    """The part of reports.SiteZone used here."""

    def instant(self, wall: datetime) -> float: ...
    def local(self, at: float) -> datetime: ...


def wall_start(zone: Zone, day: date, index: int, minutes: int) -> float:
    return zone.instant(datetime.combine(day, time()) + timedelta(minutes=index * minutes))


def observed(
    legs: Iterable[stats.Leg], zone: Zone, minutes: int
) -> tuple[list[Observed], list[tuple[float, bool]]]:
    """The queue's legs per (day, interval of the day), and (wait, abandoned) pairs."""
    calls: dict[tuple[date, int], list[float]] = defaultdict(lambda: [0, 0, 0.0])
    waits = []
    for leg in legs:
        local = zone.local(leg.offered_at)
        key = (local.date(), (local.hour * 60 + local.minute) // minutes)
        cell = calls[key]
        cell[0] += 1
        if leg.outcome == "answered" and leg.ended:
            cell[1] += 1
            cell[2] += (leg.talk or 0.0) + leg.wrapup
        if leg.outcome in ("answered", "abandoned") and leg.wait is not None:
            waits.append((leg.wait, leg.outcome == "abandoned"))
    found = [Observed(d, i, int(c[0]), int(c[1]), c[2]) for (d, i), c in sorted(calls.items())]
    return found, waits


def logged_in(spans: Iterable[StateSpan], start: float, end: float) -> float:
    """Average agents logged in over [start, end)."""
    seconds = sum(
        max(0.0, min(s.end, end) - max(s.start, start)) for s in spans if s.state != "logged_out"
    )
    return seconds / (end - start)


def staffing_report(
    history: ReportQueries,
    targets: Mapping[str, float],
    zone: Zone,
    now: float,
    query: StaffingQuery,
    default_target: float,
) -> StaffingReport:
    minutes, per_day = query.interval, 24 * 60 // query.interval
    today = zone.local(now).date()
    first = today - timedelta(days=7 * (query.weeks + 1))
    since, until = zone.instant(datetime.combine(first, time())), wall_start(zone, today, 0, 1)
    every = [
        leg
        for leg in stats.fold_legs(history.call_events(since, until, ("queued",)))
        if since <= leg.offered_at < until
    ]
    seen, waits = observed((leg for leg in every if leg.queue == query.queue), zone, minutes)
    # The product's first recorded day (any queue): days before it are no history.
    begin = zone.local(min(leg.offered_at for leg in every)).date() if every else today
    days_seen = days_from(begin, (today - begin).days)
    target = targets.get(query.queue, default_target)
    measured = patience_estimate(waits)
    patience = query.patience or measured
    predicted = forecast(
        [o for o in seen if o.day >= today - timedelta(days=7 * query.weeks)],
        [d for d in days_seen if d >= today - timedelta(days=7 * query.weeks)],
        days_from(today, query.days),
        per_day,
        DEFAULT_AHT,
        query.weeks,
    )
    goal = Goal(query.level, target, query.max_occupancy)
    needs = plan(predicted, minutes * 60.0, goal, patience)
    end = wall_start(zone, today + timedelta(days=query.days), 0, 1)
    rows_log = history.state_rows(until - 7 * 86400, min(end, now))
    spans = stats.spans_from_log(rows_log, min(end, now))
    rows = []
    for need in needs:
        start = wall_start(zone, need.predicted.day, need.predicted.index, minutes)
        stop = start + minutes * 60
        earlier = wall_start(
            zone, need.predicted.day - timedelta(days=7), need.predicted.index, minutes
        )
        rows.append(
            StaffingRow(
                start,
                stop,
                need,
                logged_in(spans, start, min(stop, now)) if start < now else None,
                logged_in(spans, earlier, min(earlier + minutes * 60, now))
                if earlier < now
                else None,
            )
        )
    return StaffingReport(
        query.queue,
        query,
        target,
        patience,
        patience is not None and query.patience is None,
        len(days_seen),
        backtest(seen, days_seen, per_day, DEFAULT_AHT, query.weeks) if days_seen else None,
        rows,
    )
