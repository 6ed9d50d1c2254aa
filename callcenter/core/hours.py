"""Business hours and holidays (pure: the clock is always passed in).

A schedule is a week of opening windows in one IANA time zone, minus public
holidays (from the ``holidays`` package) and extra closed dates, with special
windows that replace everything else on given dates. All maths is done on
UTC instants so DST days come out right (a 08:00-18:00 day is 9 or 11 real
hours long when the clocks change).

Decisions the callers rely on:
- A window belongs to the day it starts on. An overnight window
  ("22:00-06:00") runs into the next morning, and a holiday or special date
  replaces the windows that *start* on it.
- A boundary time that does not exist (skipped by a spring-forward change)
  means the moment the clocks jump; one that exists twice (autumn) means its
  first occurrence: the first instant the wall clock reads that time.
- Nothing is looked for beyond ``HORIZON`` (14 days).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from itertools import pairwise
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    model_validator,
)

HORIZON = timedelta(days=14)
DAY_MINUTES = 24 * 60
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_WINDOW = re.compile(r"([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})")


class ScheduleError(ValueError):
    """A schedule document is wrong; the message names the source and field."""


@dataclass(frozen=True, slots=True, order=True)
class Window:
    """Opening window in minutes after local midnight; ``end`` > 1440 runs overnight."""

    start: int
    end: int

    def __str__(self) -> str:
        if (self.start, self.end) == (0, DAY_MINUTES):
            return "24h"
        end = self.end % DAY_MINUTES if self.end > DAY_MINUTES else self.end
        return f"{_hhmm(self.start)}-{_hhmm(end)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_window(value: object) -> Window:
    if isinstance(value, Window):
        return value
    if not isinstance(value, str):
        raise ValueError(f"a window is a string like '08:00-18:00' or '24h', not {value!r}")
    text = value.strip()
    if text == "24h":
        return Window(0, DAY_MINUTES)
    match = _WINDOW.fullmatch(text)
    if not match:
        raise ValueError(f"bad window {value!r}: expected 'HH:MM-HH:MM' or '24h'")
    sh, sm, eh, em = (int(part) for part in match.groups())
    if sh > 23 or sm > 59 or eh > 24 or em > 59 or (eh == 24 and em != 0):
        raise ValueError(f"bad window {value!r}: no such time of day")
    start, end = sh * 60 + sm, eh * 60 + em
    if start == end:
        raise ValueError(f"empty window {value!r} (use '24h' for all day)")
    if end < start:
        end += DAY_MINUTES  # overnight: closes the next morning
    return Window(start, end)


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name)") from None
    return name


WindowField = Annotated[Window, PlainValidator(parse_window)]


class Schedule(BaseModel):
    """Opening hours of one kind (e.g. "office"); see the module docstring."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    timezone: Annotated[str, AfterValidator(_check_timezone)]
    weekly: dict[Weekday, tuple[WindowField, ...]] = {}
    country: str | None = None  # ISO 3166 code whose public holidays close the day
    subdivision: str | None = None  # state/province for regional holidays
    closed: frozenset[date] = frozenset()  # extra closed dates
    special: dict[date, tuple[WindowField, ...]] = {}  # replaces the day's windows

    @model_validator(mode="after")
    def _check(self) -> Schedule:
        _check_holidays(self.country, self.subdivision)
        _check_no_overlap(_weekly_spans(self.weekly), circular=True, where="weekly")
        for day, windows in self.special.items():
            spans = [(w.start, w.end, str(w)) for w in windows]
            _check_no_overlap(spans, circular=False, where=f"special {day}")
        return self

    @property
    def zone(self) -> tzinfo:
        return ZoneInfo(self.timezone)


def load_schedule(
    data: Mapping[str, Any], *, source: str = "", name: str | None = None
) -> Schedule:
    """Validate one schedule document; errors name the source and the field.

    ``name`` fills in the document's name when it is stored under one
    elsewhere (a ``[schedules.office]`` table need not repeat "office").
    """
    document = {"name": name, **data} if name is not None else dict(data)
    try:
        return Schedule.model_validate(document)
    except ValidationError as exc:
        where = source or "schedule"
        lines = [
            f"{where}: {'.'.join(str(p) for p in err['loc']) or '(top)'}: {_message(err)}"
            for err in exc.errors()
        ]
        raise ScheduleError("\n".join(lines)) from None


def load_schedules(data: Mapping[str, Any], *, source: str = "") -> dict[str, Schedule]:
    """A file of schedules, one table each, named by its key (``[office]``)."""
    schedules = {}
    for name, table in data.items():
        if not isinstance(table, Mapping):
            raise ScheduleError(f"{source or 'schedules'}: {name}: expected a table")
        where = f"{source}: {name}" if source else name
        schedules[name] = load_schedule(table, source=where, name=name)
    return schedules


def _message(err: Mapping[str, Any]) -> str:
    cause = err.get("ctx", {}).get("error")
    return str(cause) if isinstance(cause, Exception) else str(err["msg"])


def _check_holidays(country: str | None, subdivision: str | None) -> None:
    if country is None:
        if subdivision is not None:
            raise ValueError("subdivision given without a country")
        return
    try:
        holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError as exc:
        raise ValueError(f"holidays: {exc}") from None


def _weekly_spans(weekly: Mapping[Weekday, tuple[Window, ...]]) -> list[tuple[int, int, str]]:
    spans = []
    for day, windows in weekly.items():
        offset = WEEKDAYS.index(day) * DAY_MINUTES
        spans += [(offset + w.start, offset + w.end, f"{day} {w}") for w in windows]
    return spans


def _check_no_overlap(spans: list[tuple[int, int, str]], *, circular: bool, where: str) -> None:
    week = 7 * DAY_MINUTES
    if circular:  # Sunday night runs into Monday morning
        spans = spans + [(s - week, e - week, label) for s, e, label in spans if e > week]
    ordered = sorted(spans)
    for (_, end, first), (start, _, second) in pairwise(ordered):
        if start < end:
            raise ValueError(f"{where}: windows {first!r} and {second!r} overlap")


# -- questions ------------------------------------------------------------------


def is_holiday(schedule: Schedule, day: date) -> bool:
    if day in schedule.closed:
        return True
    if schedule.country is None:
        return False
    return day in _public_holidays(schedule.country, schedule.subdivision, day.year)


def windows_on(schedule: Schedule, day: date) -> tuple[Window, ...]:
    """The windows that start on this local date."""
    if day in schedule.special:
        return schedule.special[day]
    if is_holiday(schedule, day):
        return ()
    return schedule.weekly.get(WEEKDAYS[day.weekday()], ())


def is_open(schedule: Schedule, at: datetime) -> bool:
    at = _utc(at)
    return any(start <= at < end for start, end in _spans(schedule, at, at))


def next_change(schedule: Schedule, at: datetime) -> datetime | None:
    """When it next opens (if closed) or closes (if open), within HORIZON; in UTC.

    UTC rather than the schedule's zone: PEP 495 makes an ambiguous local time
    compare unequal to every instant of another zone, a trap for callers.
    """
    at = _utc(at)
    limit = at + HORIZON
    # The first span not over yet: we are in it (it closes) or before it (it opens).
    change = next(
        (end if start <= at else start for start, end in _spans(schedule, at, limit) if at < end),
        None,
    )
    return change if change is not None and change <= limit else None


def closes_in(schedule: Schedule, at: datetime) -> float | None:
    """Seconds until closing: 0.0 when closed, None when open beyond HORIZON.

    Closed is 0.0 rather than None so that "closes within N minutes" checks
    refuse callers when closed without a special case.
    """
    if not is_open(schedule, at):
        return 0.0
    change = next_change(schedule, at)
    return None if change is None else (change - at).total_seconds()


# -- instants -------------------------------------------------------------------


def _utc(at: datetime) -> datetime:
    # In UTC, adding HORIZON is elapsed time, not wall-clock time.
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("business hours need a timezone-aware datetime")
    return at.astimezone(UTC)


def _spans(schedule: Schedule, at: datetime, limit: datetime) -> list[tuple[datetime, datetime]]:
    """Merged opening spans (UTC) that may touch [at, limit]; contiguous ones joined."""
    zone = schedule.zone
    first = at.astimezone(zone).date() - timedelta(days=1)  # yesterday's overnight window
    last = limit.astimezone(zone).date()
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(_raw_spans(schedule, zone, first, last)):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _raw_spans(
    schedule: Schedule, zone: tzinfo, first: date, last: date
) -> Iterator[tuple[datetime, datetime]]:
    day = first
    while day <= last:
        for window in windows_on(schedule, day):
            yield _instant(day, window.start, zone), _instant(day, window.end, zone)
        day += timedelta(days=1)


def _instant(day: date, minutes: int, zone: tzinfo) -> datetime:
    """The first UTC instant at which the local clock reads ``day`` + ``minutes``."""
    wall = datetime.combine(day, time()) + timedelta(minutes=minutes)
    early = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if early.astimezone(zone).replace(tzinfo=None) == wall:
        return early  # exists; fold=0 is the first of two in autumn
    # Skipped by a spring-forward change: fold 0 and 1 give instants on
    # either side of the jump; bisect for the jump. Zone changes happen on
    # whole seconds, so flooring the upper bound lands exactly on it.
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = min(low, early), max(low, early)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


@lru_cache(maxsize=64)
def _public_holidays(country: str, subdivision: str | None, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision, years=year)
