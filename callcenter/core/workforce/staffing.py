"""Agents needed per interval for a forecast, and the callers' patience (pure).

Each interval is taken as a steady state of its own (the usual interval-by-
interval Erlang staffing): the forecast calls over the interval's length give
the arrival rate, the forecast handle time the service time. Erlang C assumes
nobody hangs up; Erlang A uses the patience measured on the queue, so it needs
fewer agents where callers give up (and counts those who do).

Patience: with exponential patience, the most likely mean patience from a
history is the total time callers spent waiting (answered and abandoned alike:
an answered caller was patient at least that long) divided by the number who
abandoned. Below ``MIN_ABANDONED`` abandons it is not estimated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from callcenter.core.workforce.erlang import Goal, Performance, agents_needed
from callcenter.core.workforce.forecast import Predicted

MIN_ABANDONED = 5


def patience_estimate(waits: Iterable[tuple[float, bool]]) -> float | None:
    """Mean patience (seconds) from (wait, abandoned) pairs; None with too few abandons."""
    total, abandoned = 0.0, 0
    for wait, gave_up in waits:
        total += max(0.0, wait)
        abandoned += gave_up
    if abandoned < MIN_ABANDONED or total <= 0:
        return None
    return total / abandoned


@dataclass(frozen=True, slots=True)
class Need:
    predicted: Predicted
    erlang_c: Performance
    erlang_a: Performance | None  # None without a patience


def plan(
    predicted: Iterable[Predicted], seconds: float, goal: Goal, patience: float | None
) -> list[Need]:
    """Agents needed per forecast interval of ``seconds`` seconds."""
    found = []
    for p in predicted:
        rate = p.calls / seconds
        with_abandons = agents_needed(rate, p.aht, goal, patience) if patience else None
        found.append(Need(p, agents_needed(rate, p.aht, goal), with_abandons))
    return found
