"""Pacing: preview, progressive, predictive, and the abandon-rate governor."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.core.outbound.pacing import (
    MIN_SAMPLE,
    SAFETY,
    AbandonStats,
    PacingInput,
    _binomial,
    _excess,
    connect_rate,
    finishing_share,
    pace,
    target_abandon_pct,
)

BASE = PacingInput(
    mode="predictive",
    free_agents=5,
    busy_agents=15,
    in_flight=0,
    dials=2000,
    connects=500,
    mean_handle_seconds=120.0,
    mean_answer_seconds=12.0,
    abandons=AbandonStats(live_answered=1000, abandoned=5),
)


def test_preview_places_nothing_by_itself() -> None:
    decision = pace(replace(BASE, mode="preview"))
    assert decision.dial == 0 and decision.used == "preview"


def test_progressive_is_one_call_per_free_agent() -> None:
    assert pace(replace(BASE, mode="progressive")).dial == 5
    assert pace(replace(BASE, mode="progressive", in_flight=3)).dial == 2
    assert pace(replace(BASE, mode="progressive", in_flight=9)).dial == 0
    assert pace(replace(BASE, mode="progressive", free_agents=0)).used == "hold"


def test_predictive_overdials_when_far_from_the_cap() -> None:
    decision = pace(BASE)
    assert decision.used == "predictive" and decision.dial > BASE.free_agents
    assert decision.expected_abandons <= decision.target_abandon_pct / 100 * (
        decision.expected_connects
    )


def test_predictive_falls_back_to_progressive_at_the_cap() -> None:
    at_cap = replace(BASE, abandons=AbandonStats(1000, 30))
    decision = pace(at_cap)
    assert decision.used == "progressive" and decision.dial == 5
    assert "cap" in decision.reason


def test_predictive_waits_for_a_sample_before_overdialling() -> None:
    decision = pace(replace(BASE, dials=MIN_SAMPLE - 1, connects=5))
    assert decision.used == "progressive" and "warming up" in decision.reason


def test_governor_targets_a_share_of_the_cap_then_backs_off() -> None:
    assert target_abandon_pct(AbandonStats(0, 0), 3.0) == pytest.approx(3.0 * SAFETY)
    assert target_abandon_pct(AbandonStats(1000, 20), 3.0) == pytest.approx(3.0 * SAFETY)
    middle = target_abandon_pct(AbandonStats(1000, 26), 3.0)
    assert 0 < middle < 3.0 * SAFETY
    assert target_abandon_pct(AbandonStats(1000, 30), 3.0) == 0.0
    assert target_abandon_pct(AbandonStats(1000, 0), 0.0) == 0.0


def test_connect_rate_is_pessimistic_and_converges() -> None:
    assert connect_rate(0, 0) == 1.0
    assert connect_rate(40, 10) > 0.25
    assert connect_rate(100_000, 25_000) == pytest.approx(0.25, abs=0.005)


def test_finishing_share() -> None:
    assert finishing_share(12, 120) == pytest.approx(0.0952, abs=1e-3)
    assert finishing_share(12, 0) == 1.0


def test_the_excess_maths_matches_a_monte_carlo_draw() -> None:
    rng = random.Random(7)
    calls, p, free, busy, q = 14, 0.3, 2, 10, 0.2
    expected, excess = _excess(_binomial(calls, p), _binomial(busy, q), free, calls * p)
    draws = 40_000
    total = 0
    for _ in range(draws):
        connects = sum(rng.random() < p for _ in range(calls))
        agents = free + sum(rng.random() < q for _ in range(busy))
        total += max(0, connects - agents)
    assert total / draws == pytest.approx(excess, rel=0.05)
    assert expected == pytest.approx(4.2)


STATES = st.builds(
    PacingInput,
    mode=st.just("predictive"),
    free_agents=st.integers(0, 30),
    busy_agents=st.integers(0, 30),
    in_flight=st.integers(0, 40),
    dials=st.integers(0, 5000),
    connects=st.integers(0, 5000),
    mean_handle_seconds=st.floats(10, 900),
    mean_answer_seconds=st.floats(1, 40),
    abandons=st.builds(AbandonStats, st.integers(0, 5000), st.integers(0, 300)),
    cap_pct=st.sampled_from([0.0, 1.0, 3.0, 5.0]),
    max_dial_ratio=st.floats(1, 5),
)


@settings(max_examples=300, deadline=None)
@given(STATES)
def test_predictive_never_places_fewer_than_progressive(state: PacingInput) -> None:
    progressive = pace(replace(state, mode="progressive")).dial
    predictive = pace(state)
    assert predictive.dial >= progressive
    assert predictive.dial >= 0


@settings(max_examples=300, deadline=None)
@given(STATES)
def test_overdial_keeps_expected_abandons_within_target(state: PacingInput) -> None:
    decision = pace(state)
    progressive = max(0, state.free_agents - state.in_flight)
    if decision.used == "predictive" and decision.dial > progressive:
        allowed = decision.target_abandon_pct / 100 * decision.expected_connects
        assert decision.expected_abandons <= allowed + 1e-9
        expected_agents = state.free_agents + state.busy_agents * finishing_share(
            state.mean_answer_seconds + state.grace_seconds, state.mean_handle_seconds
        )
        assert decision.dial + state.in_flight <= state.max_dial_ratio * expected_agents + 1e-9


@settings(max_examples=200, deadline=None)
@given(STATES, st.integers(0, 300))
def test_more_abandons_never_mean_more_calls(state: PacingInput, more: int) -> None:
    worse = replace(
        state, abandons=AbandonStats(state.abandons.live_answered, state.abandons.abandoned + more)
    )
    assert pace(worse).dial <= pace(state).dial
