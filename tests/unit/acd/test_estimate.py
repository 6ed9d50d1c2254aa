"""The deterministic wait schedule (the fallback of core/acd/waits.py) and the
absolute accuracy report."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter.core.acd import estimate
from callcenter.core.acd.agent_state import AgentStatus
from callcenter.core.acd.estimate import (
    AgentLoad,
    accuracy,
    estimate_wait,
    load_for,
)
from callcenter.core.acd.model import AgentState


def free(handle_time: float, free_in: float = 0.0) -> AgentLoad:
    return AgentLoad(free_in, handle_time)


@pytest.mark.parametrize(
    ("ahead", "agents", "expected"),
    [
        (0, [free(60)], 0.0),
        (1, [free(60)], 60.0),
        (2, [free(60)], 120.0),
        (2, [free(60, free_in=30)], 150.0),
        (0, [free(60), free(60)], 0.0),
        (1, [free(60), free(60)], 0.0),
        (2, [free(60), free(60)], 60.0),
        (3, [free(60), free(60)], 60.0),
        (4, [free(60), free(60)], 120.0),
        # A is slow and free soon, B fast and free later: starts A10 B50 B70 B90 A110 B110.
        (0, [free(100, 10), free(20, 50)], 10.0),
        (1, [free(100, 10), free(20, 50)], 50.0),
        (2, [free(100, 10), free(20, 50)], 70.0),
        (3, [free(100, 10), free(20, 50)], 90.0),
        (4, [free(100, 10), free(20, 50)], 110.0),
        (5, [free(100, 10), free(20, 50)], 110.0),
    ],
)
def test_hand_computed_waits(ahead: int, agents: list[AgentLoad], expected: float) -> None:
    assert estimate_wait(ahead, agents) == expected


def test_no_agents_means_no_estimate() -> None:
    assert estimate_wait(0, []) is None
    assert estimate_wait(10, []) is None


def test_negative_ahead_is_refused() -> None:
    with pytest.raises(ValueError, match="ahead"):
        estimate_wait(-1, [free(60)])


def test_a_huge_line_is_answered_in_closed_form() -> None:
    agents = [free(100.0) for _ in range(10)]
    # 50,000 calls ahead: 5,000 rounds of ten calls, 100 s each.
    assert estimate_wait(50_000, agents) == pytest.approx(500_000.0, rel=1e-9)


loads = st.builds(
    AgentLoad,
    free_in=st.floats(0, 600, allow_nan=False),
    handle_time=st.floats(1, 900, allow_nan=False),
)


@given(st.integers(0, 400), st.lists(loads, min_size=1, max_size=8))
def test_counting_starts_agrees_with_the_simulation(ahead: int, agents: list[AgentLoad]) -> None:
    simulated = estimate._simulate(ahead, agents)
    counted = estimate._nth_start(ahead + 1, agents)
    assert counted == pytest.approx(simulated, rel=1e-9, abs=1e-6)


@given(st.integers(0, 50), st.lists(loads, min_size=1, max_size=6), loads)
def test_more_calls_ahead_never_shorten_and_more_agents_never_lengthen(
    ahead: int, agents: list[AgentLoad], extra: AgentLoad
) -> None:
    wait = estimate_wait(ahead, agents)
    assert wait is not None
    assert estimate_wait(ahead + 1, agents) >= wait  # type: ignore[operator]
    assert estimate_wait(ahead, [*agents, extra]) <= wait  # type: ignore[operator]


@pytest.mark.parametrize(
    ("free_in", "handle_time"), [(-1, 60), (0, 0), (0, -5), (float("inf"), 60)]
)
def test_nonsense_loads_are_refused(free_in: float, handle_time: float) -> None:
    with pytest.raises(ValueError):
        AgentLoad(free_in, handle_time)


@pytest.mark.parametrize(
    ("state", "since", "expected"),
    [
        (AgentState.READY, 0.0, AgentLoad(0.0, 120.0)),
        (AgentState.RINGING, 95.0, AgentLoad(120.0, 120.0)),
        (AgentState.ON_CALL, 60.0, AgentLoad(80.0, 120.0)),  # 40 s into a 120 s call
        (AgentState.ON_CALL, -100.0, AgentLoad(estimate.BUSY_FLOOR, 120.0)),  # running over
        (AgentState.WRAP_UP, 90.0, AgentLoad(20.0, 120.0)),  # 10 s into 30 s wrap-up
        (AgentState.WRAP_UP, 0.0, AgentLoad(0.0, 120.0)),
        (AgentState.PAUSED, 0.0, None),
        (AgentState.LOGGED_OUT, 0.0, None),
    ],
)
def test_load_for_each_agent_state(
    state: AgentState, since: float, expected: AgentLoad | None
) -> None:
    assert load_for(AgentStatus(state, since), 100.0, 120.0, wrapup=30.0) == expected


def test_accuracy_report() -> None:
    pairs = [(60.0, 50.0), (100.0, 200.0), (300.0, 380.0), (0.0, 20.0)]
    # errors +10, -100, -80, -20; within: 10<=30 yes, 100>50 no, 80<=95 yes, 20<=30 yes.
    assert accuracy(pairs) == {
        "count": 4,
        "mean_abs_error_s": 52.5,
        "median_abs_error_s": 50.0,
        "mean_signed_error_s": -47.5,
        "within_30s_or_25pct": 0.75,
    }


def test_accuracy_of_nothing() -> None:
    report = accuracy(iter([]))
    assert report["count"] == 0
    assert report["mean_abs_error_s"] is None
    assert report["within_30s_or_25pct"] is None
