"""What a schedule means day by day: the check an administrator reads before
trusting it (pure; the clock is passed in)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import holidays

from callcenter.core.hours import Schedule, is_holiday, is_open, next_change, windows_on


@dataclass(frozen=True, slots=True)
class DayPlan:
    day: date
    windows: tuple[str, ...]  # "08:00-18:00", "24h"; none: closed all day
    holiday: str  # the public holiday's name, "closed" for an extra closed date, or ""
    special: bool  # the day's windows come from a special date


@dataclass(frozen=True, slots=True)
class Preview:
    open_now: bool
    next_change: datetime | None  # UTC; None: no change within the horizon
    days: list[DayPlan]


def preview(schedule: Schedule, now: datetime, days: int) -> Preview:
    """From ``now``'s local date in the schedule's zone, ``days`` days on."""
    first = now.astimezone(schedule.zone).date()
    plans = [_plan(schedule, first + timedelta(days=n)) for n in range(days)]
    return Preview(is_open(schedule, now), next_change(schedule, now), plans)


def _plan(schedule: Schedule, day: date) -> DayPlan:
    windows = tuple(str(w) for w in windows_on(schedule, day))
    return DayPlan(day, windows, _holiday(schedule, day), day in schedule.special)


def _holiday(schedule: Schedule, day: date) -> str:
    if not is_holiday(schedule, day):
        return ""
    if day in schedule.closed or schedule.country is None:
        return "closed"
    names = holidays.country_holidays(schedule.country, subdiv=schedule.subdivision, years=day.year)
    return str(names.get(day) or "public holiday")
