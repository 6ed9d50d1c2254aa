"""Interval reports per queue and per agent, computed from the stored history.

Every figure comes from core/stats.py (the same definitions as the
wallboard): call_events -> fold_legs -> queue_figures for queues, and
agent_state_log -> spans_from_log -> agent_time/occupancy for agents.
Intervals are 15, 30 or 60 minutes of the site's local time (settings.timezone,
else the machine's), so a DST day has 23 or 25 one-hour rows, each labelled
with its own UTC offset.

Where a figure lands:
- queues: a leg counts in the interval in which it entered the queue;
- agents: calls offered / missed / abandoned while ringing count when they
  happened; answered and handled calls (and their handle time) count in the
  interval in which the agent answered; state times are split at interval
  boundaries.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from callcenter.core import repeat_contacts, stats, survey
from callcenter.core.acd.waits import EstimateRecord, summarize
from callcenter.core.calls.segments import is_transfer
from callcenter.core.repeat_contacts import DEFAULT_WINDOW_HOURS, Judged, Resolution
from callcenter.core.stats import CallEventRecord, Figures, Leg, StateSpan
from callcenter.core.survey import CsatFigures, SurveyResult
from callcenter.services.console.staffing import StaffingQuery, StaffingReport, staffing_report
from callcenter.services.repositories import ReportQueries, SurveyResults

INTERVALS = (15, 30, 60)
MAX_DAYS = 31
DEFAULT_TARGET = 20.0
FIRST_YEAR, LAST_YEAR = 2000, 2099
STEP = 15 * 60  # the finest interval: stepping by it meets every interval start


class ReportInputError(ValueError):
    """A report request that cannot be answered; names the query field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# -- time: the site's zone, the period, the intervals ---------------------------------
@dataclass(frozen=True)
class SiteZone:
    """The site's time zone; ``zone`` None means the machine's own (DST-aware)."""

    name: str
    zone: tzinfo | None = None

    @classmethod
    def from_setting(cls, name: str) -> SiteZone:
        if name:
            return cls(name, ZoneInfo(name))
        return cls(datetime.now().astimezone().tzname() or "local")

    def offset(self, at: float) -> float:
        if self.zone is None:
            return float(time.localtime(at).tm_gmtoff)
        delta = datetime.fromtimestamp(at, UTC).astimezone(self.zone).utcoffset()
        return delta.total_seconds() if delta else 0.0

    def local(self, at: float) -> datetime:
        return datetime.fromtimestamp(at, timezone(timedelta(seconds=self.offset(at))))

    def instant(self, wall: datetime) -> float:
        """Epoch seconds of a wall-clock time (its first occurrence in autumn)."""
        if wall.tzinfo is not None:
            return wall.timestamp()
        if self.zone is None:
            return wall.timestamp()  # naive: Python reads it as the machine's time
        return wall.replace(tzinfo=self.zone, fold=0).timestamp()


@dataclass(frozen=True)
class Period:
    since: float
    until: float
    minutes: int


def _wall(text: str, field: str) -> tuple[datetime, bool]:
    """A datetime, and whether the text was a bare date."""
    try:
        if len(text) == 10:
            found, whole_day = datetime.combine(date.fromisoformat(text), datetime.min.time()), True
        else:
            found, whole_day = datetime.fromisoformat(text), False
    except ValueError:
        raise ReportInputError(
            field, f"{text!r} is not a date (YYYY-MM-DD) or date and time (YYYY-MM-DDTHH:MM)"
        ) from None
    if not FIRST_YEAR <= found.year <= LAST_YEAR:
        raise ReportInputError(field, f"the year must be {FIRST_YEAR} to {LAST_YEAR}")
    return found, whole_day


def parse_period(
    from_text: str, to_text: str, minutes: int, zone: SiteZone, max_days: int = MAX_DAYS
) -> Period:
    """``to`` as a bare date means the end of that day, so from=to=D is the whole day D."""
    if minutes not in INTERVALS:
        raise ReportInputError("interval", f"must be 15, 30 or 60 (minutes), not {minutes}")
    start, _ = _wall(from_text, "from")
    end, whole_day = _wall(to_text, "to")
    if whole_day:
        end += timedelta(days=1)
    since, until = zone.instant(start), zone.instant(end)
    if until <= since:
        raise ReportInputError("to", "must be after 'from'")
    if until - since > max_days * 86400 + 3600:  # + an hour: a range across a DST change
        raise ReportInputError("to", f"the range may cover at most {max_days} days")
    return Period(since, until, minutes)


def bucket(at: float, minutes: int, zone: SiteZone) -> float:
    return stats.interval_start(at, minutes, zone.offset(at))


@dataclass(frozen=True)
class Slot:
    key: float  # the interval's start as bucket() gives it
    start: float  # clipped to the period
    end: float


def intervals(period: Period, zone: SiteZone) -> list[Slot]:
    """Every interval of the period, in order."""
    keys: list[float] = []
    at = period.since
    while at < period.until:
        key = bucket(at, period.minutes, zone)
        if not keys or key > keys[-1]:
            keys.append(key)
        at += STEP
    ends = [*keys[1:], period.until]
    return [
        Slot(key, max(key, period.since), min(end, period.until))
        for key, end in zip(keys, ends, strict=True)
    ]


def split_spans(spans: Iterable[StateSpan], slots: list[Slot]) -> list[list[StateSpan]]:
    """The spans touching each slot (so per-slot sums need not scan every span)."""
    starts = [slot.start for slot in slots]
    found: list[list[StateSpan]] = [[] for _ in slots]
    for span in spans:
        index = max(0, bisect_right(starts, span.start) - 1)
        while index < len(slots) and slots[index].start < span.end:
            found[index].append(span)
            index += 1
    return found


# -- rounding: the JSON and the CSV show the very same numbers -----------------------
def _r(value: float | None, places: int = 1) -> float | None:
    return None if value is None else round(value, places)


def queue_row(figures: Figures) -> dict[str, Any]:
    return {
        "offered": figures.offered,
        "answered": figures.answered,
        "answered_within_target": figures.answered_within_target,
        "abandoned": figures.abandoned,
        "overflowed": figures.overflowed,
        "waiting": figures.waiting,
        "handled": figures.handled,
        "service_level": _r(figures.service_level, 4),
        "asa_seconds": _r(figures.asa),
        "aht_seconds": _r(figures.aht),
        "abandon_rate": _r(figures.abandon_rate, 4),
        "transfers": figures.transfers,
        "holds": figures.holds,
        "hold_seconds": _r(figures.hold_total),
    }


def total_figures(parts: Iterable[Figures]) -> Figures:
    """Queues added up: each leg was judged against its own queue's target."""
    items = list(parts)
    targets = {f.target for f in items}

    def add(name: str) -> Any:
        return sum(getattr(f, name) for f in items)

    return Figures(
        add("offered"), add("answered"), add("answered_within_target"), add("abandoned"),
        add("overflowed"), add("waiting"), add("handled"), add("wait_answered_total"),
        add("handle_total"), targets.pop() if len(targets) == 1 else 0.0,
        add("transfers"), add("holds"), add("hold_total"),
    )  # fmt: skip


# -- queues -----------------------------------------------------------------------
@dataclass
class Line:
    """One row of a report: an interval (or the totals) and its figures."""

    start: float
    end: float
    figures: dict[str, Any]


@dataclass
class Series:
    name: str  # queue or agent
    lines: list[Line]
    totals: dict[str, Any]
    target: float | None = None


@dataclass
class Report:
    period: Period
    zone: SiteZone
    series: list[Series]
    totals: dict[str, Any]


def queue_report(
    events: Iterable[CallEventRecord],
    targets: Mapping[str, float],
    period: Period,
    zone: SiteZone,
    now: float,
    only: str = "",
) -> Report:
    slots = intervals(period, zone)
    by_queue: dict[str, dict[float, list[Leg]]] = defaultdict(lambda: defaultdict(list))
    for leg in stats.fold_legs(events):
        if period.since <= leg.offered_at < period.until and (not only or leg.queue == only):
            by_queue[leg.queue][bucket(leg.offered_at, period.minutes, zone)].append(leg)
    series, totals = [], []
    for name in sorted(by_queue):
        target = targets.get(name, DEFAULT_TARGET)
        groups = by_queue[name]
        lines = []
        for slot in slots:
            figures = stats.queue_figures(
                groups.get(slot.key, []), target, slot.start, slot.end, now
            )
            lines.append(Line(slot.start, slot.end, queue_row(figures)))
        every = [leg for legs in groups.values() for leg in legs]
        whole = stats.queue_figures(every, target, period.since, period.until, now)
        totals.append(whole)
        series.append(Series(name, lines, queue_row(whole), target))
    return Report(period, zone, series, queue_row(total_figures(totals)))


# -- agents -----------------------------------------------------------------------
@dataclass
class AgentTally:
    offered: int = 0
    missed: int = 0  # rang, not answered (ring-no-answer)
    abandoned: int = 0  # the caller hung up while this agent's phone rang
    answered: int = 0
    handled: int = 0
    talk: float = 0.0
    wrapup: float = 0.0
    hold: float = 0.0
    holds: int = 0
    transfers: int = 0
    times: dict[str, float] = field(default_factory=dict)

    def add(self, other: AgentTally) -> None:
        for name in ("offered", "missed", "abandoned", "answered", "handled", "talk", "wrapup",
                     "hold", "holds", "transfers"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for state, seconds in other.times.items():
            self.times[state] = self.times.get(state, 0.0) + seconds

    def row(self) -> dict[str, Any]:
        handle = self.talk + self.hold + self.wrapup
        return {
            "offered": self.offered,
            "answered": self.answered,
            "missed": self.missed,
            "abandoned": self.abandoned,
            "handled": self.handled,
            "talk_seconds": _r(self.talk),
            "wrapup_seconds": _r(self.wrapup),
            "hold_seconds": _r(self.hold),
            "holds": self.holds,
            "transfers": self.transfers,
            "aht_seconds": _r(handle / self.handled if self.handled else None),
            **{f"{s}_seconds": _r(self.times.get(s, 0.0)) for s in AGENT_STATES},
            "occupancy": _r(stats.occupancy(self.times), 4),
        }


AGENT_STATES = ("ready", "ringing", "on_call", "wrap_up", "paused")
COUNTED = {"offered": "offered", "ring-no-answer": "missed", "abandoned": "abandoned"}
AGENT_KINDS = (*COUNTED, "answered")


def agent_report(
    events: Iterable[CallEventRecord],
    spans: Iterable[StateSpan],
    period: Period,
    zone: SiteZone,
    only: str = "",
) -> Report:
    slots = intervals(period, zone)
    tallies: dict[str, dict[float, AgentTally]] = defaultdict(lambda: defaultdict(AgentTally))
    records = list(events)

    def place(agent: str, at: float) -> AgentTally | None:
        if not agent or (only and agent != only) or not period.since <= at < period.until:
            return None
        return tallies[agent][bucket(at, period.minutes, zone)]

    for e in records:
        tally = place(e.agent, e.at) if e.kind in COUNTED else None
        if tally is not None:
            setattr(tally, COUNTED[e.kind], getattr(tally, COUNTED[e.kind]) + 1)
    # Calls with agents' segments (call control, core/calls/segments.py): each agent's
    # answer, talk, hold and wrap-up are their own, whoever answered the leg first.
    segmented = {e.call_id for e in records if e.kind == "segment"}
    for e in records:
        if e.call_id not in segmented:
            continue
        tally = place(e.agent, e.at)
        if tally is None:
            continue
        if e.kind == "answered":
            tally.answered += 1
        elif e.kind == "wrapup":
            tally.wrapup += float(e.detail.get("seconds", 0.0))
        elif e.kind == "segment":
            tally.handled += 1
            tally.talk += float(e.detail.get("talk", 0.0))
            tally.hold += float(e.detail.get("hold", 0.0))
            tally.holds += int(e.detail.get("holds", 0))
            tally.transfers += is_transfer(str(e.detail.get("reason", "")))
    for leg in stats.fold_legs(records):
        if leg.call_id in segmented:
            continue
        tally = place(leg.agent, leg.answered_at) if leg.answered_at is not None else None
        if tally is not None:
            tally.answered += 1
            if leg.ended:
                tally.handled += 1
                tally.talk += leg.talk or 0.0
                tally.wrapup += leg.wrapup
    by_agent: dict[str, list[StateSpan]] = defaultdict(list)
    for span in spans:
        # Logged out counts for nothing; an agent logged out all along is left out.
        if (
            span.state != "logged_out"
            and span.end > span.start
            and (not only or span.agent == only)
        ):
            by_agent[span.agent].append(span)
    series, grand = [], AgentTally()
    for name in sorted(set(tallies) | set(by_agent)):
        lines, whole = [], AgentTally()
        for slot, touching in zip(slots, split_spans(by_agent[name], slots), strict=True):
            tally = tallies[name].get(slot.key) or AgentTally()
            tally.times = stats.agent_time(touching, slot.start, slot.end)
            whole.add(tally)
            lines.append(Line(slot.start, slot.end, tally.row()))
        grand.add(whole)
        series.append(Series(name, lines, whole.row()))
    return Report(period, zone, series, grand.row())


# -- wait estimates ----------------------------------------------------------------
def estimate_row(records: list[EstimateRecord]) -> dict[str, Any]:
    """How far the estimates were from the waits that followed: |estimate - actual| /
    actual, median and 90th percentile, for all of them and for those the product
    stood by (the figures callers may have been told)."""
    every = summarize([(r.estimate, r.actual) for r in records])
    told = summarize([(r.estimate, r.actual) for r in records if r.reliable])
    return {
        "estimates": every.count,
        "median_error": _r(every.median, 4),
        "p90_error": _r(every.p90, 4),
        "reliable": told.count,
        "reliable_median_error": _r(told.median, 4),
        "reliable_p90_error": _r(told.p90, 4),
    }


def estimate_report(records: Iterable[EstimateRecord], only: str = "") -> EstimateReport:
    by_queue: dict[str, list[EstimateRecord]] = defaultdict(list)
    kept = [r for r in records if not only or r.queue == only]
    for record in kept:
        by_queue[record.queue].append(record)
    return EstimateReport(
        {name: estimate_row(by_queue[name]) for name in sorted(by_queue)}, estimate_row(kept)
    )


@dataclass
class EstimateReport:
    queues: dict[str, dict[str, Any]]
    totals: dict[str, Any]


# -- first-contact resolution -------------------------------------------------------
@dataclass
class ResolutionReport:
    queues: dict[str, Resolution]
    agents: dict[str, Resolution]
    dispositions: dict[str, Resolution]
    totals: Resolution
    windows: dict[str, float]  # hours, per queue shown


def resolution_report(
    contacts: list[repeat_contacts.Contact],
    hours: Mapping[str, float],
    period: Period,
    now: float,
    only: str = "",
) -> ResolutionReport:
    def window(queue: str) -> float:
        return hours.get(queue, DEFAULT_WINDOW_HOURS) * 3600

    judged: list[Judged] = [
        j
        for j in repeat_contacts.judge(contacts, window, now)
        if period.since <= j.contact.at < period.until and (not only or j.contact.queue == only)
    ]
    queues = repeat_contacts.tally(judged, lambda c: c.queue)
    return ResolutionReport(
        queues,
        repeat_contacts.tally(judged, lambda c: c.agent),
        repeat_contacts.tally(judged, lambda c: c.disposition),
        repeat_contacts.total(queues.values()),
        {name: hours.get(name, DEFAULT_WINDOW_HOURS) for name in queues},
    )


# -- post-call surveys (CSAT) ----------------------------------------------------------
@dataclass
class CsatReport:
    intervals: list[tuple[Slot, CsatFigures]]  # every interval of the period, in order
    queues: dict[str, CsatFigures]
    agents: dict[str, CsatFigures]
    dispositions: dict[str, CsatFigures]  # "" for calls with none (yet)
    totals: CsatFigures


def csat_report(results: list[SurveyResult], period: Period, zone: SiteZone) -> CsatReport:
    """A survey counts in the interval in which it was offered (the agent hung up)."""
    slots = intervals(period, zone)
    per_slot = survey.by(results, lambda r: str(bucket(r.at, period.minutes, zone)))
    empty = survey.figures(())
    return CsatReport(
        [(slot, per_slot.get(str(slot.key), empty)) for slot in slots],
        survey.by(results, lambda r: r.queue),
        survey.by(results, lambda r: r.agent),
        survey.by(results, lambda r: r.disposition),
        survey.figures(results),
    )


class Reports:
    """Reports over the stored history; runs in the console's threads, never on the loop."""

    def __init__(
        self,
        history: ReportQueries,
        targets: Callable[[], Mapping[str, float]],
        zone: SiteZone,
        clock: Callable[[], float],
        windows: Callable[[], Mapping[str, float]] = dict,
        surveys: SurveyResults | None = None,
    ) -> None:
        self._surveys = surveys
        self._history = history
        self._targets = targets
        self.zone = zone
        self._clock = clock
        self._windows = windows  # each queue's repeat-contact window, hours

    def period(self, from_text: str, to_text: str, minutes: int) -> Period:
        return parse_period(from_text, to_text, minutes, self.zone)

    def queues(self, period: Period, queue: str = "") -> Report:
        events = self._history.call_events(period.since, period.until, ("queued",))
        return queue_report(events, self._targets(), period, self.zone, self._clock(), queue)

    def agents(self, period: Period, agent: str = "") -> Report:
        now = self._clock()
        events = self._history.call_events(period.since, period.until, AGENT_KINDS)
        rows = self._history.state_rows(period.since, min(period.until, now))
        spans = stats.spans_from_log(rows, min(period.until, now))
        return agent_report(events, spans, period, self.zone, agent)

    def estimates(self, period: Period, queue: str = "") -> EstimateReport:
        """The accuracy of the wait estimates made in the period, per queue."""
        return estimate_report(self._history.wait_estimates(period.since, period.until), queue)

    def resolution(self, period: Period, queue: str = "") -> ResolutionReport:
        """First-contact resolution of the calls answered in the period."""
        hours = dict(self._windows())
        now = self._clock()
        widest = max([DEFAULT_WINDOW_HOURS, *hours.values()]) * 3600
        contacts = self._history.contacts(period.since, min(period.until + widest, now + 1))
        return resolution_report(contacts, hours, period, now, queue)

    def csat(self, period: Period, queue: str = "", agent: str = "") -> CsatReport:
        """Post-call surveys offered in the period: CSAT and response rate."""
        found = self._surveys.between(period.since, period.until, queue) if self._surveys else []
        return csat_report([r for r in found if not agent or r.agent == agent], period, self.zone)

    def staffing(self, query: StaffingQuery) -> StaffingReport:
        """Forecast and staffing for one queue from today on (services/console/staffing.py)."""
        return staffing_report(
            self._history, self._targets(), self.zone, self._clock(), query, DEFAULT_TARGET
        )
