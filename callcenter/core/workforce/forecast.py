"""Calls and handle time per interval for the coming days (pure).

Method: a weighted seasonal average. The calls forecast for interval i of a
day with weekday w is the average of the calls in interval i on the same
weekday of the last ``weeks`` weeks, the most recent week weighted ``weeks``,
the one before ``weeks - 1``, ... the oldest 1: weekly seasonality (weekdays
differ) and daily seasonality (intervals differ) together, leaning on recent
weeks when the level moves. Handle time: total handle seconds / handled calls
in the same weekday and interval, weighted the same way; where those saw no
handled call, the same interval on any day, then the whole history, then a
default handle time (180 s in the console). A weekday the history has not seen yet uses the
average of every day seen in that interval.

``backtest`` measures it: forecast the last ``holdout`` days from the days
before them and compare with what happened (WAPE = sum |forecast - actual| /
sum actual; MAPE = mean |forecast - actual| / actual over intervals with calls).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, slots=True)
class Observed:
    """What one interval of one day saw in one queue."""

    day: date
    index: int  # interval of the day, 0 = the first
    calls: int
    handled: int = 0
    handle_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Predicted:
    day: date
    index: int
    calls: float
    aht: float  # seconds


@dataclass
class _Sums:
    calls: float = 0.0
    weight: float = 0.0
    handled: float = 0.0
    handle: float = 0.0

    def add(self, weight: float, seen: Observed | None) -> None:
        self.weight += weight
        if seen is not None:
            self.calls += weight * seen.calls
            self.handled += weight * seen.handled
            self.handle += weight * seen.handle_seconds

    def aht(self) -> float | None:
        return self.handle / self.handled if self.handled else None


def forecast(
    history: Iterable[Observed],
    days_seen: Sequence[date],
    days: Sequence[date],
    per_day: int,
    default_aht: float,
    weeks: int = 4,
) -> list[Predicted]:
    """Forecast ``days`` from the ``days_seen`` (days with no call are zeros, not gaps:
    the caller lists every day the product was recording)."""
    if not days_seen:
        return [Predicted(d, i, 0.0, default_aht) for d in days for i in range(per_day)]
    seen = {(o.day, o.index): o for o in history}
    last = max(days_seen)
    by_weekday: dict[tuple[int, int], _Sums] = defaultdict(_Sums)
    by_interval: dict[int, _Sums] = defaultdict(_Sums)
    everything = _Sums()
    for day in days_seen:
        age = (last - day).days // 7  # 0: the last week
        weight = float(weeks - age)
        if weight <= 0:
            continue
        for index in range(per_day):
            observed = seen.get((day, index))
            by_weekday[(day.weekday(), index)].add(weight, observed)
            by_interval[index].add(weight, observed)
            everything.add(weight, observed)
    found = []
    for day in days:
        for index in range(per_day):
            same = by_weekday.get((day.weekday(), index))
            pool = by_interval[index]
            calls_from = same if same is not None and same.weight else pool
            calls = calls_from.calls / calls_from.weight if calls_from.weight else 0.0
            aht = (same.aht() if same else None) or pool.aht() or everything.aht() or default_aht
            found.append(Predicted(day, index, calls, aht))
    return found


@dataclass(frozen=True, slots=True)
class Accuracy:
    intervals: int  # intervals compared
    actual_calls: int
    wape: float | None  # sum |error| / sum actual
    mape: float | None  # mean |error| / actual, intervals with calls only
    daily_wape: float | None  # the same on each day's total


def accuracy(predicted: Iterable[Predicted], history: Iterable[Observed]) -> Accuracy:
    actual = {(o.day, o.index): o.calls for o in history}
    errors, total, ratios = 0.0, 0, []
    day_forecast: dict[date, float] = defaultdict(float)
    day_actual: dict[date, int] = defaultdict(int)
    count = 0
    for p in predicted:
        real = actual.get((p.day, p.index), 0)
        count += 1
        errors += abs(p.calls - real)
        total += real
        day_forecast[p.day] += p.calls
        day_actual[p.day] += real
        if real:
            ratios.append(abs(p.calls - real) / real)
    daily = sum(abs(day_forecast[d] - day_actual[d]) for d in day_forecast)
    return Accuracy(
        count,
        total,
        errors / total if total else None,
        sum(ratios) / len(ratios) if ratios else None,
        daily / total if total else None,
    )


def backtest(
    history: Sequence[Observed],
    days_seen: Sequence[date],
    per_day: int,
    default_aht: float,
    weeks: int = 4,
    holdout: int = 7,
) -> Accuracy | None:
    """Forecast the last ``holdout`` days seen from the days before; None without both."""
    ordered = sorted(days_seen)
    if len(ordered) <= holdout:
        return None
    cut = ordered[-holdout]
    train_days = [d for d in ordered if d < cut]
    test_days = [d for d in ordered if d >= cut]
    train = [o for o in history if o.day < cut]
    predicted = forecast(train, train_days, test_days, per_day, default_aht, weeks)
    return accuracy(predicted, [o for o in history if o.day >= cut])


def method_text() -> str:
    """The method, as this module's docstring states it (for the API and the page)."""
    paragraph = (__doc__ or "").split("\n\n")[1]
    return " ".join(paragraph.split()).replace("``", "").removeprefix("Method: ")


def days_from(start: date, count: int) -> list[date]:
    return [start + timedelta(days=n) for n in range(count)]
