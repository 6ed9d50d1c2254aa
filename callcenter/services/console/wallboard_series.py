"""The wallboard's day: local midnight, and the per-minute series its charts draw (pure).

Two series per queue, one point per minute since local midnight:
- service level: the day's service level so far, over the calls offered up to
  the end of that minute, judged with what is known now (the same figure as
  the queue tile's "today", so the last point is the tile's number);
- calls waiting: the most callers waiting at once during that minute.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, time, timedelta, tzinfo

from callcenter.core.stats import Figures

MINUTE = 60.0


def local_midnight(at: float, zone: tzinfo | None) -> float:
    """Epoch of the local midnight that starts the day holding ``at`` (None: the machine's zone)."""
    day = datetime.fromtimestamp(at, zone).date()
    return datetime.combine(day, time(), tzinfo=zone).timestamp()


def next_midnight(day_start: float, zone: tzinfo | None) -> float:
    day = datetime.fromtimestamp(day_start, zone).date() + timedelta(days=1)
    return datetime.combine(day, time(), tzinfo=zone).timestamp()


def minute_of(at: float, day_start: float) -> int:
    return int((at - day_start) // MINUTE)


def service_level_series(per_minute: Mapping[int, Figures], minutes: int) -> list[float | None]:
    """Cumulative service level after each minute (answered within target / offered)."""
    offered = within = 0
    points: list[float | None] = []
    for minute in range(minutes):
        figures = per_minute.get(minute)
        if figures is not None:
            offered += figures.offered
            within += figures.answered_within_target
        points.append(round(within / offered, 4) if offered else None)
    return points


def waiting_peaks(
    intervals: Iterable[tuple[float, float]], day_start: float, minutes: int
) -> list[int]:
    """Most intervals open at once in each minute (intervals: [start, end) of waits)."""
    steps = sorted(
        [(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals],
        key=lambda step: (step[0], step[1]),  # at the same instant, leave before joining
    )
    peaks: list[int] = []
    count = index = 0
    for minute in range(minutes):
        end = day_start + (minute + 1) * MINUTE
        peak = count
        while index < len(steps) and steps[index][0] < end:
            count += steps[index][1]
            peak = max(peak, count)
            index += 1
        peaks.append(peak)
    return peaks


class PeakSeries:
    """Calls waiting per queue, one peak per minute, fed by live observations."""

    def __init__(self) -> None:
        self._peaks: dict[str, list[int]] = {}
        self._last: dict[str, int] = {}

    def reset(self, rebuilt: Mapping[str, list[int]], last: Mapping[str, int]) -> None:
        self._peaks = {queue: list(points) for queue, points in rebuilt.items()}
        self._last = dict(last)

    def new_day(self) -> None:
        """Midnight: no points yet, but whoever waits now still waits."""
        self._peaks = {}

    def observe(self, queue: str, minute: int, count: int) -> None:
        points = self._peaks.setdefault(queue, [])
        # Minutes without an observation kept the last count the whole time.
        points.extend([self._last.get(queue, 0)] * (minute + 1 - len(points)))
        if minute < len(points):
            points[minute] = max(points[minute], count)
        self._last[queue] = count

    def points(self, queue: str, minutes: int) -> list[int]:
        points = self._peaks.get(queue, [])[:minutes]
        return points + [self._last.get(queue, 0)] * (minutes - len(points))
