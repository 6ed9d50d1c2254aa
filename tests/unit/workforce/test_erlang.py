"""Erlang C and Erlang A against tables and an independent exact computation."""

from __future__ import annotations

import math

import pytest

from callcenter.core.workforce.erlang import (
    ErlangInputError,
    Goal,
    agents_needed,
    erlang_a_performance,
    erlang_b,
    erlang_c,
    erlang_c_performance,
)

# The classic Erlang C example: 100 calls per 30 minutes, 180 s handle time -> A = 10 Erl,
# target 80 % in 20 s. P(wait) and service level per agent count, 4 decimals, as
# printed in standard Erlang C tables (e.g. Call Centre Helper's "Erlang C formula
# made simple" worked example) and as pyworkforce 0.5.1's ErlangC gives them (run
# outside the project: it brings pandas and OR-Tools, so it is not a dependency).
RATE, AHT, TARGET = 100 / 1800, 180.0, 20.0
TABLE = {  # agents: (P(wait), service level within 20 s)
    11: (0.6821, 0.3896),
    12: (0.4494, 0.6402),
    13: (0.2853, 0.7956),
    14: (0.1741, 0.8884),
    15: (0.1020, 0.9415),
}


@pytest.mark.parametrize("agents", sorted(TABLE))
def test_erlang_c_matches_the_published_table(agents: int) -> None:
    wait, level = TABLE[agents]
    found = erlang_c_performance(agents, RATE, AHT, TARGET)
    assert round(found.wait_probability, 4) == wait
    assert round(found.service_level, 4) == level
    assert found.average_wait == pytest.approx(wait * AHT / (agents - 10), abs=0.02)


def test_erlang_b_table_values() -> None:
    # Erlang B tables: 10 Erl on 10 trunks blocks 21.46 %; 5 trunks for 1 Erl: 0.31 %.
    assert round(erlang_b(10, 10.0), 4) == 0.2146
    assert round(erlang_b(5, 1.0), 4) == 0.0031


def test_erlang_c_stays_stable_for_large_centres() -> None:
    # A^n / n! overflows a float near n = 170; the recursion does not care.
    wait = erlang_c(1000, 950.0)
    assert 0 < wait < 1
    assert erlang_c(900, 950.0) == 1.0


def test_staffing_for_the_classic_example() -> None:
    found = agents_needed(RATE, AHT, Goal(level=0.8, target=20, max_occupancy=1.0))
    assert found.agents == 14
    # pyworkforce 0.5.1: 480 calls / 30 min, AHT 4 min, 90 % in 15 s, max occupancy 90 %
    # -> 74 positions, service level 0.9164.
    big = agents_needed(480 / 1800, 240.0, Goal(level=0.9, target=15, max_occupancy=0.9))
    assert big.agents == 74
    assert round(big.service_level, 4) == 0.9164


def test_the_occupancy_cap_can_decide() -> None:
    # 80/20 needs 14 agents (occupancy 0.714); at most 70 % busy needs 15 (0.667).
    assert agents_needed(RATE, AHT, Goal(0.8, 20, 0.7)).agents == 15


def test_no_calls_need_no_agents() -> None:
    assert agents_needed(0.0, AHT, Goal()).agents == 0
    assert agents_needed(0.0, AHT, Goal(), patience=60).agents == 0


@pytest.mark.parametrize(
    "call",
    [
        lambda: erlang_c_performance(3, -1.0, AHT, TARGET),
        lambda: erlang_c_performance(3, RATE, 0.0, TARGET),
        lambda: erlang_a_performance(3, RATE, AHT, TARGET, 0.0),
        lambda: Goal(level=1.2),
        lambda: Goal(target=0),
        lambda: Goal(max_occupancy=0),
    ],
)
def test_bad_input_is_a_clear_error(call: object) -> None:
    assert callable(call)
    with pytest.raises(ErlangInputError):
        call()


# -- Erlang A ---------------------------------------------------------------------
def exact_erlang_a(
    agents: int, rate: float, aht: float, target: float, patience: float
) -> tuple[float, float, float]:
    """P(wait), P(abandon) and the service level of M/M/n+M, computed the long way:
    the birth-death chain truncated far out, and for each caller who finds j others
    waiting, the chance of reaching an agent within ``target`` (a small absorbing
    chain solved by uniformization). Independent of the closed forms under test."""
    mu, theta = 1 / aht, 1 / patience
    top = agents + 400
    weights = [1.0]
    for k in range(1, top + 1):
        weights.append(weights[-1] * rate / (min(k, agents) * mu + max(k - agents, 0) * theta))
    total = sum(weights)
    p = [w / total for w in weights]
    wait = sum(p[agents:])
    queue = sum((k - agents) * p[k] for k in range(agents, top + 1))
    abandon = theta * queue / rate
    # Uniformized chain of a tagged caller with j ahead: j -> j-1 at n mu + j theta,
    # from 0 to "answered" at n mu, and gone at theta from anywhere.
    depth = 300
    fast = agents * mu + depth * theta + theta
    steps = int(fast * target + 12 * math.sqrt(fast * target) + 30)
    answered = [0.0] * (depth + 1)  # answered by now, starting j ahead
    poisson = math.exp(-fast * target)
    within = [poisson * a for a in answered]
    for step in range(1, steps + 1):
        answered = [
            (
                (agents * mu * 1.0 if j == 0 else (agents * mu + j * theta) * answered[j - 1])
                + (fast - agents * mu - j * theta - theta) * answered[j]
            )
            / fast
            for j in range(depth + 1)
        ]
        poisson *= fast * target / step
        within = [w + poisson * a for w, a in zip(within, answered, strict=True)]
    # answered[j] after k steps: absorbed within k jumps; weighted by the Poisson
    # number of jumps in ``target`` seconds it gives P(answered within target).
    served = sum(p[agents + j] * within[j] for j in range(depth + 1))
    return wait, abandon, (1 - wait) + served


@pytest.mark.parametrize(
    ("agents", "patience"), [(14, 120.0), (12, 60.0), (10, 300.0), (8, 180.0), (16, 30.0)]
)
def test_erlang_a_matches_the_exact_chain(agents: int, patience: float) -> None:
    wait, abandon, level = exact_erlang_a(agents, RATE, AHT, TARGET, patience)
    found = erlang_a_performance(agents, RATE, AHT, TARGET, patience)
    assert found.wait_probability == pytest.approx(wait, abs=1e-6)
    assert found.abandon_probability == pytest.approx(abandon, abs=1e-6)
    assert found.service_level == pytest.approx(level, abs=1e-4)
    assert found.average_wait == pytest.approx(abandon * patience, rel=1e-9)


@pytest.mark.parametrize("agents", sorted(TABLE))
def test_erlang_a_tends_to_erlang_c_as_patience_grows(agents: int) -> None:
    c = erlang_c_performance(agents, RATE, AHT, TARGET)
    a = erlang_a_performance(agents, RATE, AHT, TARGET, patience=1e9)
    assert a.wait_probability == pytest.approx(c.wait_probability, abs=1e-6)
    assert a.service_level == pytest.approx(c.service_level, abs=1e-6)
    assert a.abandon_probability < 1e-6
    assert erlang_a_performance(agents, RATE, AHT, TARGET, math.inf) == c


def test_impatient_callers_need_fewer_agents_and_patience_orders_them() -> None:
    goal = Goal(0.8, 20, 1.0)
    needed = [agents_needed(RATE, AHT, goal, patience=p).agents for p in (30, 120, 600, 1e9)]
    assert needed == sorted(needed)
    assert needed[-1] == 14  # endless patience: Erlang C's answer
    assert needed[0] < 14


def test_an_overloaded_queue_sheds_the_excess_by_abandonment() -> None:
    # 10 Erl on 8 agents with a very long patience: 2 Erl's worth give up.
    found = erlang_a_performance(8, RATE, AHT, TARGET, patience=1e9)
    assert found.abandon_probability == pytest.approx(0.2, abs=1e-6)
    assert found.occupancy == pytest.approx(1.0, abs=1e-6)


def test_an_impossible_goal_is_a_clear_error_not_a_long_search() -> None:
    with pytest.raises(ErlangInputError, match="more than 10000 agents"):
        agents_needed(RATE, AHT, Goal(0.8, 20, max_occupancy=0.0001))
