"""Deterministic wait schedules and the absolute accuracy of estimates (pure).

The estimate callers hear is core/acd/waits.py: it draws the wait from the
agents as they are now. This file keeps its expected-value fallback (each
agent free at a known time, then one call per handle time), used when there
are too many agents to draw, and the absolute error summary.
"""

from __future__ import annotations

import heapq
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypedDict

from callcenter.core.acd.agent_state import AgentStatus
from callcenter.core.acd.model import AgentState

BUSY_FLOOR = 5.0  # a call running over its average still needs some time to end
SIMULATE_UP_TO = 1_000  # calls ahead; beyond, count start times instead (same answer)


@dataclass(frozen=True, slots=True)
class AgentLoad:
    """One eligible agent: free in ``free_in`` s, then a call per ``handle_time`` s."""

    free_in: float
    handle_time: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.free_in) and self.free_in >= 0):
            raise ValueError(f"free_in must be a finite number >= 0, got {self.free_in}")
        if not (math.isfinite(self.handle_time) and self.handle_time > 0):
            raise ValueError(f"handle_time must be a finite number > 0, got {self.handle_time}")


def load_for(
    status: AgentStatus, now: float, handle_time: float, wrapup: float = 0.0
) -> AgentLoad | None:
    """An agent's load, or None if nobody can say when they will take a call.

    Paused and logged-out agents are left out: their return is unknown, and an
    estimate that leaves them out errs long, which callers forgive more easily.
    ``handle_time`` includes wrap-up, so a ringing agent is free in one handle time.
    """
    elapsed = now - status.since
    match status.state:
        case AgentState.READY:
            return AgentLoad(0.0, handle_time)
        case AgentState.RINGING:
            return AgentLoad(handle_time, handle_time)
        case AgentState.ON_CALL:
            return AgentLoad(max(handle_time - elapsed, BUSY_FLOOR), handle_time)
        case AgentState.WRAP_UP:
            return AgentLoad(max(wrapup - elapsed, 0.0), handle_time)
    return None


def estimate_wait(ahead: int, agents: Sequence[AgentLoad]) -> float | None:
    """Seconds until an agent takes a caller with ``ahead`` calls in front of them.

    Each call ahead goes to the next agent to free up, who is free again one
    handle time later; the caller gets the agent free after that. None without
    agents. Exact simulation in O(ahead log n) up to SIMULATE_UP_TO calls ahead;
    beyond, bisection on time over each agent's arithmetic progression of start
    times, O(n log range), equal to the simulation within 1e-9 relative.
    """
    if ahead < 0:
        raise ValueError(f"ahead must be >= 0, got {ahead}")
    if not agents:
        return None
    if ahead <= SIMULATE_UP_TO:
        return _simulate(ahead, agents)
    return _nth_start(ahead + 1, agents)


def _simulate(ahead: int, agents: Sequence[AgentLoad]) -> float:
    free = [(agent.free_in, index) for index, agent in enumerate(agents)]
    heapq.heapify(free)
    for _ in range(ahead):
        at, index = free[0]
        heapq.heapreplace(free, (at + agents[index].handle_time, index))
    return free[0][0]


def _starts_by(time: float, agents: Sequence[AgentLoad]) -> int:
    """How many calls the agents have started by ``time`` (inclusive)."""
    return sum(
        math.floor((time - a.free_in) / a.handle_time) + 1 for a in agents if a.free_in <= time
    )


def _nth_start(n: int, agents: Sequence[AgentLoad]) -> float:
    low = min(a.free_in for a in agents) - 1.0  # nothing started yet
    high = min(a.free_in + (n - 1) * a.handle_time for a in agents)  # one agent alone
    for _ in range(200):
        if high - low <= 1e-12 * max(1.0, high):
            break
        middle = (low + high) / 2
        if _starts_by(middle, agents) >= n:
            high = middle
        else:
            low = middle
    return high


class Accuracy(TypedDict):
    count: int
    mean_abs_error_s: float | None
    median_abs_error_s: float | None
    mean_signed_error_s: float | None  # > 0: estimates too long on average
    within_30s_or_25pct: float | None  # share of estimates within 30 s or 25 % of actual


def accuracy(pairs: Iterable[tuple[float, float]]) -> Accuracy:
    """How good (estimate, actual) pairs were; None figures when there are no pairs.

    "Within" is generous on purpose for short waits (30 s absolute) and for
    long ones (25 % relative), the tolerance callers themselves apply.
    """
    pairs = list(pairs)
    if not pairs:
        return Accuracy(
            count=0,
            mean_abs_error_s=None,
            median_abs_error_s=None,
            mean_signed_error_s=None,
            within_30s_or_25pct=None,
        )
    errors = [estimate - actual for estimate, actual in pairs]
    absolute = [abs(error) for error in errors]
    within = sum(
        1
        for error, (_, actual) in zip(absolute, pairs, strict=True)
        if error <= max(30.0, 0.25 * actual)
    )
    return Accuracy(
        count=len(pairs),
        mean_abs_error_s=statistics.fmean(absolute),
        median_abs_error_s=statistics.median(absolute),
        mean_signed_error_s=statistics.fmean(errors),
        within_30s_or_25pct=within / len(pairs),
    )
