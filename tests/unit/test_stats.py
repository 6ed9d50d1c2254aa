"""The standard figures (core/stats.py): legs from call events, figures from legs."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter.core.stats import (
    CallEventRecord,
    Leg,
    StateSpan,
    agent_time,
    fold_legs,
    interval_start,
    occupancy,
    queue_figures,
    spans_from_log,
)


def ev(call: str, at: float, kind: str, agent: str = "", **detail: Any) -> CallEventRecord:
    return CallEventRecord(call, at, kind, agent, detail)


def answered_call(call: str, queue: str, at: float, wait: float, talk: float) -> list[Any]:
    return [
        ev(call, at, "queued", queue=queue),
        ev(call, at + wait, "answered", "a1", queue=queue, wait=wait),
        ev(call, at + wait + talk, "completed", "a1", talk=talk),
        ev(call, at + wait + talk, "ended", outcome="completed"),
    ]


# -- fold_legs ------------------------------------------------------------------------
def test_an_answered_call_is_one_leg_with_wait_talk_and_wrapup() -> None:
    events = [*answered_call("c1", "support", 100.0, 4.0, 60.0)]
    events.append(ev("c1", 174.0, "wrapup", "a1", seconds=10.0))
    (leg,) = fold_legs(events)
    assert (leg.queue, leg.outcome, leg.agent) == ("support", "answered", "a1")
    assert (leg.offered_at, leg.answered_at, leg.wait) == (100.0, 104.0, 4.0)
    assert (leg.talk, leg.wrapup, leg.ended) == (60.0, 10.0, True)


def test_overflow_between_queues_makes_two_legs_each_with_its_own_wait() -> None:
    events = [
        ev("c1", 0.0, "queued", queue="sales"),
        ev("c1", 30.0, "overflow", queue="sales", reason="max-wait", action="queue", wait=30.0),
        ev("c1", 30.0, "queued", queue="support"),
        # The answered event's wait counts from the first queue (40 s): the
        # support leg waited 10 s of it.
        ev("c1", 40.0, "answered", "a1", queue="support", wait=40.0),
        ev("c1", 100.0, "completed", "a1", talk=60.0),
    ]
    sales, support = fold_legs(events)
    assert (sales.queue, sales.outcome, sales.wait) == ("sales", "overflowed", 30.0)
    assert (support.queue, support.outcome, support.wait) == ("support", "answered", 10.0)
    assert support.offered_at == 30.0


def test_ring_no_answer_and_back_in_line_is_the_same_leg() -> None:
    events = [
        ev("c1", 0.0, "queued", queue="support"),
        ev("c1", 1.0, "offered", "a1", queue="support"),
        ev("c1", 16.0, "ring-no-answer", "a1", ring_seconds=15.0, status="NOANSWER"),
        ev("c1", 16.0, "queued", queue="support"),  # a recovery or re-queue may repeat it
        ev("c1", 20.0, "answered", "a2", queue="support", wait=20.0),
    ]
    (leg,) = fold_legs(events)
    assert (leg.outcome, leg.agent, leg.offered_at, leg.wait) == ("answered", "a2", 0.0, 20.0)


def test_back_into_a_queue_the_call_overflowed_from_is_a_new_leg() -> None:
    # sales -> (max wait) -> billing turns it away (nobody staffed) -> sales again.
    events = [
        ev("c1", 0.0, "queued", queue="sales"),
        ev("c1", 60.0, "overflow", queue="sales", reason="max-wait", action="queue"),
        ev("c1", 60.0, "overflow", queue="billing", reason="unstaffed", action="queue"),
        ev("c1", 60.0, "queued", queue="sales"),
        ev("c1", 65.0, "answered", "a1", queue="sales", wait=65.0),
    ]
    first, second = fold_legs(events)
    assert (first.outcome, first.wait) == ("overflowed", 60.0)
    assert (second.outcome, second.offered_at, second.wait) == ("answered", 60.0, 5.0)


def test_a_new_queue_without_an_overflow_event_closes_the_waiting_leg() -> None:
    events = [ev("c1", 0.0, "queued", queue="sales"), ev("c1", 7.0, "queued", queue="support")]
    sales, support = fold_legs(events)
    assert (sales.outcome, sales.wait, support.outcome) == ("overflowed", 7.0, "waiting")


def test_abandoned_while_an_agent_phone_rang_is_abandoned() -> None:
    events = [
        ev("c1", 0.0, "queued", queue="support"),
        ev("c1", 2.0, "offered", "a1", queue="support"),
        ev("c1", 5.0, "abandoned", "a1", queue="support", wait=5.0, position=1),
        ev("c1", 5.0, "ended", outcome="abandoned"),
    ]
    (leg,) = fold_legs(events)
    assert (leg.outcome, leg.wait, leg.agent) == ("abandoned", 5.0, "")


def test_wrapup_belongs_to_the_leg_the_agent_talked_on() -> None:
    events = [
        *answered_call("c1", "support", 0.0, 2.0, 30.0),
        # The call moved on to another queue after the talk (e.g. a transfer),
        # the agent's wrap-up still belongs to the support leg.
        ev("c1", 33.0, "queued", queue="billing"),
        ev("c1", 40.0, "wrapup", "a1", seconds=8.0),
        ev("c1", 41.0, "wrapup", "a9", seconds=5.0),  # an agent who never talked on it
        ev("c9", 41.0, "wrapup", "a1", seconds=5.0),  # a call never seen queued
    ]
    support, billing = fold_legs(events)
    assert (support.wrapup, billing.wrapup) == (8.0, 0.0)


def test_a_caller_gone_without_an_outcome_is_dropped() -> None:
    events = [
        ev("c1", 0.0, "queued", queue="support"),
        ev("c1", 9.0, "ended", outcome="dropped"),
        ev("c2", 0.0, "queued", queue="support"),
        ev("c2", 3.0, "fallback", reason="controller"),
    ]
    assert [(leg.outcome, leg.wait) for leg in fold_legs(events)] == [
        ("dropped", 9.0),
        ("dropped", 3.0),
    ]


def test_events_outside_a_leg_and_unrelated_kinds_are_ignored() -> None:
    events = [
        ev("c1", 0.0, "entered", caller="+1555"),
        ev("c1", 1.0, "answered", "a1", queue="support"),  # never queued: no leg
        ev("c1", 2.0, "ivr", outcome="queued"),
        ev("c1", 3.0, "queued", queue="support"),
        ev("c1", 4.0, "data", disposition="sale"),
        ev("c1", 5.0, "completed", "a1", talk=1.0),  # not answered yet: ignored
        ev("c1", 6.0, "overflow", queue="support"),
        ev("c1", 7.0, "answered", "a1", queue="support"),  # after the overflow: ignored
    ]
    (leg,) = fold_legs(events)
    assert (leg.outcome, leg.wait, leg.talk) == ("overflowed", 3.0, None)


def _per_call_events() -> st.SearchStrategy[list[list[CallEventRecord]]]:
    outcome = st.sampled_from(["answered", "abandoned", "overflow", "ended", "requeue"])

    @st.composite
    def one_call(draw: st.DrawFn, index: int) -> list[CallEventRecord]:
        call, at = f"c{index}", draw(st.floats(0, 1000))
        events = [ev(call, at, "queued", queue=draw(st.sampled_from(["a", "b"])))]
        for _ in range(draw(st.integers(0, 4))):
            at += draw(st.floats(0, 50))
            kind = draw(outcome)
            if kind == "requeue":
                events.append(ev(call, at, "queued", queue=draw(st.sampled_from(["a", "b"]))))
            else:
                events.append(ev(call, at, kind, "x"))
        return events

    return st.integers(1, 6).flatmap(
        lambda n: st.tuples(*(one_call(i) for i in range(n))).map(list)
    )


@given(_per_call_events(), st.randoms(use_true_random=False))
def test_each_call_folds_on_its_own(calls: list[list[CallEventRecord]], rnd: Any) -> None:
    """Interleaving calls changes nothing: a call's legs depend on its own events only
    (the wallboard re-folds one call at a time)."""
    cursors = [0] * len(calls)
    merged: list[CallEventRecord] = []
    while any(c < len(events) for c, events in zip(cursors, calls, strict=True)):
        i = rnd.choice([i for i, events in enumerate(calls) if cursors[i] < len(events)])
        merged.append(calls[i][cursors[i]])
        cursors[i] += 1
    alone = [leg for events in calls for leg in fold_legs(events)]
    key = lambda leg: (leg.call_id, leg.offered_at, leg.queue)  # noqa: E731
    assert sorted(fold_legs(merged), key=key) == sorted(alone, key=key)


# -- queue_figures --------------------------------------------------------------------
def leg(offered_at: float, outcome: str, wait: float | None = None, **kw: Any) -> Leg:
    return Leg("c", "q", offered_at, outcome=outcome, wait=wait, **kw)


def test_figures_follow_the_standard_definitions() -> None:
    legs = [
        leg(0, "answered", 5.0, talk=100.0, wrapup=20.0, ended=True),
        leg(10, "answered", 20.0, talk=50.0, ended=True),  # exactly on target: within
        leg(20, "answered", 45.0),  # still talking: answered, not handled
        leg(30, "abandoned", 12.0),
        leg(40, "overflowed", 60.0),
        leg(50, "dropped", 3.0),
    ]
    f = queue_figures(legs, target=20.0, since=0, until=100, now=200)
    assert (f.offered, f.answered, f.answered_within_target) == (6, 3, 2)
    assert (f.abandoned, f.overflowed, f.waiting, f.handled) == (1, 1, 0, 2)
    assert f.service_level == pytest.approx(2 / 6)
    assert f.asa == pytest.approx((5 + 20 + 45) / 3)
    assert f.aht == pytest.approx((100 + 20 + 50) / 2)
    assert f.abandon_rate == pytest.approx(1 / 6)
    assert f.as_dict()["service_level"] == f.service_level


def test_waiting_legs_count_as_offered_only_once_past_the_target() -> None:
    legs = [leg(100, "waiting"), leg(85, "waiting"), leg(70, "answered", 3.0)]
    f = queue_figures(legs, target=20.0, since=0, until=math.inf, now=110)
    # 100: 10 s in, undecided (left out); 85: 25 s in, already missed the target.
    assert (f.waiting, f.offered, f.answered_within_target) == (2, 2, 1)
    assert f.service_level == pytest.approx(1 / 2)
    exactly = queue_figures([leg(90, "waiting")], 20.0, 0, math.inf, now=110)
    assert (exactly.offered, exactly.waiting) == (1, 1)


def test_the_window_holds_legs_offered_in_it_from_since_to_before_until() -> None:
    legs = [leg(t, "answered", 1.0) for t in (99.9, 100.0, 150.0, 199.9, 200.0)]
    f = queue_figures(legs, target=20.0, since=100.0, until=200.0, now=300.0)
    assert f.offered == 3


def test_no_calls_means_no_ratio() -> None:
    f = queue_figures([], target=20.0, since=0, until=1, now=1)
    assert (f.service_level, f.asa, f.aht, f.abandon_rate) == (None, None, None, None)
    undecided = queue_figures([leg(0, "waiting")], 20.0, 0, 1, now=1)
    assert (undecided.offered, undecided.waiting, undecided.service_level) == (0, 1, None)


def test_interval_start_honours_the_local_offset() -> None:
    assert interval_start(3_600 * 10 + 1_000, 15) == 3_600 * 10 + 900
    # UTC+2: 10:16:40 UTC is 12:16:40 local; the 30-min interval starts 12:00 local.
    assert interval_start(3_600 * 10 + 1_000, 30, utc_offset=7_200) == 3_600 * 10
    assert interval_start(3_600 * 10 + 1_000, 60, utc_offset=1_800) == 3_600 * 9 + 1_800


# -- agents' time -----------------------------------------------------------------------
def test_agent_time_clips_spans_to_the_window_and_occupancy_uses_busy_states() -> None:
    spans = [
        StateSpan("a1", "ready", 0, 100),
        StateSpan("a1", "ringing", 100, 110),
        StateSpan("a1", "on_call", 110, 290),
        StateSpan("a1", "wrap_up", 290, 320),
        StateSpan("a1", "paused", 320, 400),
        StateSpan("a1", "ready", 400, 500),
    ]
    times = agent_time(spans, since=50, until=450)
    assert times == {"ready": 100, "ringing": 10, "on_call": 180, "wrap_up": 30, "paused": 80}
    assert occupancy(times) == pytest.approx(220 / 320)  # paused is left out
    assert occupancy({"paused": 10.0}) is None


def test_spans_from_the_state_log_run_to_the_next_change_or_until() -> None:
    rows = [("a1", "ready", 0.0), ("a2", "paused", 5.0), ("a1", "on_call", 10.0)]
    spans = spans_from_log(rows, until=30.0)
    assert sorted(spans, key=lambda s: (s.agent, s.start)) == [
        StateSpan("a1", "ready", 0.0, 10.0),
        StateSpan("a1", "on_call", 10.0, 30.0),
        StateSpan("a2", "paused", 5.0, 30.0),
    ]
    assert spans_from_log([("a1", "ready", 50.0)], until=30.0) == [
        StateSpan("a1", "ready", 50.0, 50.0)
    ]
