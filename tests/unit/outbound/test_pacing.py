"""Pacing: preview, progressive, predictive, and the abandon-rate governor."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.core.outbound.pacing import (
    MIN_HANDLES,
    MIN_RESOLVED,
    MIN_SAMPLE,
    SAFETY,
    AbandonStats,
    PacingInput,
    _binomial,
    _excess,
    _freed,
    connect_rate,
    finishing_after,
    finishing_share,
    finishing_shares,
    pace,
    ringing_connect_rates,
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


# -- busy agents: how long they have been on their call ---------------------------------------
TWENTIES = tuple([20.0] * 40)  # every recent handle lasted 20 s


def test_an_agent_near_the_end_of_a_typical_handle_counts_as_nearly_free() -> None:
    near = finishing_after(15.0, 7.0, TWENTIES)
    begun = finishing_after(1.0, 7.0, TWENTIES)
    assert near is not None and near > 0.9  # pessimistic, not 1
    assert begun == 0.0


def test_too_few_longer_handles_fall_back_to_the_exponential_chance() -> None:
    assert finishing_after(25.0, 7.0, TWENTIES) is None  # none lasted longer than 25 s
    few = tuple([20.0] * (MIN_HANDLES - 1))
    assert finishing_after(15.0, 7.0, few) is None
    state = replace(BASE, busy_elapsed=(500.0,) * 15, handle_times=TWENTIES)
    flat = finishing_share(BASE.mean_answer_seconds + BASE.grace_seconds, BASE.mean_handle_seconds)
    assert all(share == pytest.approx(flat, abs=0.005) for share in finishing_shares(state))
    assert pace(state).dial == pace(BASE).dial  # without times on call: as before


def test_the_finishing_share_is_read_pessimistically() -> None:
    # Half of the handles longer than 10 s ended within the next 10 s.
    handles = tuple([15.0] * 50 + [60.0] * 50)
    share = finishing_after(10.0, 10.0, handles)
    assert share is not None and 0.4 < share < 0.5


def test_agents_about_to_finish_let_predictive_place_more_calls() -> None:
    busy = replace(BASE, free_agents=0, busy_agents=6, dials=100, connects=30)
    busy = replace(busy, mean_handle_seconds=20.0, mean_answer_seconds=5.0)
    flat = pace(busy)
    ending = pace(replace(busy, busy_elapsed=(16.0,) * 6, handle_times=TWENTIES))
    begun = pace(replace(busy, busy_elapsed=(1.0,) * 6, handle_times=TWENTIES))
    assert begun.dial == 0 <= flat.dial < ending.dial
    for decision in (flat, ending):
        assert decision.expected_abandons <= (
            decision.target_abandon_pct / 100 * decision.expected_connects + 1e-9
        )


def test_the_freed_agents_match_a_monte_carlo_draw() -> None:
    rng = random.Random(11)
    shares = (0.0, 0.1, 0.5, 0.9, 0.95)
    calls, p, free = 6, 0.4, 1
    _, excess = _excess(_binomial(calls, p), _freed(shares), free, calls * p)
    draws = 40_000
    total = 0
    for _ in range(draws):
        connects = sum(rng.random() < p for _ in range(calls))
        agents = free + sum(rng.random() < q for q in shares)
        total += max(0, connects - agents)
    assert total / draws == pytest.approx(excess, rel=0.05)
    assert _freed((0.3,) * 7) == pytest.approx(_binomial(7, 0.3))


@settings(max_examples=300, deadline=None)
@given(
    STATES,
    st.lists(st.floats(0, 1200), max_size=30),
    st.lists(st.floats(1, 900), max_size=60),
)
def test_times_on_call_keep_expected_abandons_within_target(
    state: PacingInput, elapsed: list[float], handles: list[float]
) -> None:
    state = replace(state, busy_elapsed=tuple(elapsed), handle_times=tuple(handles))
    decision = pace(state)
    progressive = max(0, state.free_agents - state.in_flight)
    assert decision.dial >= progressive
    if decision.used == "predictive" and decision.dial > progressive:
        allowed = decision.target_abandon_pct / 100 * decision.expected_connects
        assert decision.expected_abandons <= allowed + 1e-9
        expected_agents = state.free_agents + sum(finishing_shares(state))
        assert decision.dial + state.in_flight <= state.max_dial_ratio * expected_agents + 1e-9


# -- calls in flight: how long they have been ringing -----------------------------------------
# 100 recent dials: people answered within 3 s (30), machines at 1 s (30), 40 rang out at 15 s.
RESOLVED = tuple([(2.0, True)] * 30 + [(1.0, False)] * 30 + [(15.0, False)] * 40)


def test_a_call_ringing_past_the_time_people_answer_counts_as_unlikely_to_connect() -> None:
    state = replace(BASE, in_flight=3, in_flight_ages=(0.5, 5.0, 10.0), resolved=RESOLVED)
    fresh, *late = ringing_connect_rates(state, 0.5)[::-1]
    assert 0.3 < fresh < 0.5  # 30 of 100, read pessimistically
    assert all(rate < 0.1 for rate in late)  # none of the 40 still ringing at 5 s connected


def test_too_few_dials_at_a_call_s_age_or_no_age_count_with_the_overall_rate() -> None:
    few = tuple([(2.0, True)] * 10 + [(15.0, False)] * (MIN_RESOLVED - 1))
    state = replace(BASE, in_flight=2, in_flight_ages=(5.0,), resolved=few)
    assert ringing_connect_rates(state, 0.4) == (0.4, 0.4)
    assert (
        pace(replace(BASE, in_flight=4, resolved=RESOLVED)).dial
        == pace(replace(BASE, in_flight=4)).dial
    )


def test_calls_ringing_out_no_longer_hold_back_calls_for_free_agents() -> None:
    state = replace(
        BASE, free_agents=2, busy_agents=4, in_flight=3, dials=100, connects=30,
        mean_handle_seconds=20.0, mean_answer_seconds=5.0,
    )  # fmt: skip
    unknown = pace(state)
    aged = pace(replace(state, in_flight_ages=(8.0, 9.0, 10.0), resolved=RESOLVED))
    assert unknown.dial == 0 < aged.dial
    assert aged.expected_abandons <= aged.target_abandon_pct / 100 * aged.expected_connects


@settings(max_examples=300, deadline=None)
@given(
    STATES,
    st.lists(st.floats(0, 60), max_size=40),
    st.lists(st.tuples(st.floats(0, 60), st.booleans()), max_size=120),
)
def test_ringing_ages_keep_expected_abandons_within_target(
    state: PacingInput, ages: list[float], resolved: list[tuple[float, bool]]
) -> None:
    state = replace(state, in_flight_ages=tuple(ages), resolved=tuple(resolved))
    decision = pace(state)
    progressive = max(0, state.free_agents - state.in_flight)
    assert decision.dial >= progressive
    if decision.used == "predictive" and decision.dial > progressive:
        allowed = decision.target_abandon_pct / 100 * decision.expected_connects
        assert decision.expected_abandons <= allowed + 1e-9
