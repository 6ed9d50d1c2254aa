"""Interval reports over a hand-made hour of a call center, as call_events and agent_state_log rows.

Site time zone Europe/Paris (UTC+1 in January); the report asks for
09:00-10:00 local in 30-minute intervals: [T0, T0+1800) and [T0+1800, T0+3600),
with T0 = 2026-01-15 08:00 UTC. "Now" is T0+3510, while c5 still waits.

c1 support: waits 10 s, alice answers, talks 120 s, wraps up 30 s.
c2 support: the caller hangs up after 40 s of waiting (abandoned).
c3 support -> sales: max wait after 60 s overflows it; bob answers 15 s
   after it entered sales (the event's own "wait" says 75: since the first queue).
c4 sales: alice's phone rings 15 s unanswered (she is paused), then bob
   answers; 30 s in the queue; no wrap-up.
c5 support: entered 10 s before "now": undecided, not yet offered.
c6 support: bob's phone rings, the caller hangs up after 5 s.
"""

from __future__ import annotations

from typing import Any

import pytest

from callcenter.core.stats import CallEventRecord, spans_from_log
from callcenter.services.console.reports import (
    Period,
    ReportInputError,
    SiteZone,
    agent_report,
    intervals,
    parse_period,
    queue_report,
)

T0 = 1768464000.0  # 2026-01-15T08:00:00Z = 09:00 in Paris
NOW = T0 + 3510
TARGETS = {"support": 20.0, "sales": 15.0}

Event = tuple[str, float, str, str, dict[str, Any]]  # call, at, kind, agent, detail


def _q(call: str, at: float, queue: str) -> Event:
    return (call, T0 + at, "queued", "", {"queue": queue})


CALL_EVENTS: list[Event] = [
    ("c1", T0 + 50, "entered", "", {}),
    _q("c1", 60, "support"),
    ("c1", T0 + 65, "offered", "alice", {"queue": "support"}),
    ("c1", T0 + 70, "answered", "alice", {"queue": "support", "wait": 10.0}),
    ("c1", T0 + 190, "completed", "alice", {"talk": 120.0}),
    ("c1", T0 + 190, "ended", "", {"outcome": "completed"}),
    ("c1", T0 + 220, "wrapup", "alice", {"seconds": 30.0}),
    _q("c2", 300, "support"),
    ("c2", T0 + 340, "abandoned", "", {"queue": "support", "wait": 40.0}),
    ("c2", T0 + 340, "ended", "", {"outcome": "abandoned"}),
    _q("c3", 1000, "support"),
    ("c3", T0 + 1060, "overflow", "", {"queue": "support", "action": "queue", "target": "sales"}),
    _q("c3", 1060, "sales"),
    ("c3", T0 + 1070, "offered", "bob", {"queue": "sales"}),
    ("c3", T0 + 1075, "answered", "bob", {"queue": "sales", "wait": 75.0}),
    ("c3", T0 + 1135, "completed", "bob", {"talk": 60.0}),
    ("c3", T0 + 1135, "ended", "", {"outcome": "completed"}),
    ("c3", T0 + 1155, "wrapup", "bob", {"seconds": 20.0}),
    _q("c4", 2000, "sales"),
    ("c4", T0 + 2002, "offered", "alice", {"queue": "sales"}),
    ("c4", T0 + 2017, "ring-no-answer", "alice", {"ring_seconds": 15.0}),
    _q("c4", 2017, "sales"),
    ("c4", T0 + 2020, "offered", "bob", {"queue": "sales"}),
    ("c4", T0 + 2030, "answered", "bob", {"queue": "sales", "wait": 30.0}),
    ("c4", T0 + 2090, "completed", "bob", {"talk": 60.0}),
    ("c4", T0 + 2090, "ended", "", {"outcome": "completed"}),
    _q("c6", 2500, "support"),
    ("c6", T0 + 2500, "offered", "bob", {"queue": "support"}),
    ("c6", T0 + 2505, "abandoned", "bob", {"queue": "support", "wait": 5.0}),
    ("c6", T0 + 2505, "ended", "", {"outcome": "abandoned"}),
    _q("c5", 3500, "support"),
]

STATE_LOG: list[tuple[str, str, float]] = [
    ("alice", "ready", T0 - 600),  # before the period: the state she starts it in
    ("alice", "ringing", T0 + 65),
    ("alice", "on_call", T0 + 70),
    ("alice", "wrap_up", T0 + 190),
    ("alice", "ready", T0 + 220),
    ("alice", "ringing", T0 + 2002),
    ("alice", "paused", T0 + 2017),
    ("bob", "ready", T0 + 900),
    ("bob", "ringing", T0 + 1070),
    ("bob", "on_call", T0 + 1075),
    ("bob", "wrap_up", T0 + 1135),
    ("bob", "ready", T0 + 1155),
    ("bob", "ringing", T0 + 2020),
    ("bob", "on_call", T0 + 2030),
    ("bob", "ready", T0 + 2090),
    ("bob", "ringing", T0 + 2500),
    ("bob", "ready", T0 + 2505),
    ("bob", "logged_out", T0 + 7200),  # after the period: not read
]


# -- the figures ---------------------------------------------------------------------------
PARIS = SiteZone.from_setting("Europe/Paris")
QUEUE_KEYS = ("offered", "answered", "answered_within_target", "abandoned", "overflowed",
              "waiting", "handled", "service_level", "asa_seconds", "aht_seconds",
              "abandon_rate")  # fmt: skip
AGENT_KEYS = ("offered", "answered", "missed", "abandoned", "handled", "talk_seconds",
              "wrapup_seconds", "aht_seconds", "ready_seconds", "ringing_seconds",
              "on_call_seconds", "wrap_up_seconds", "paused_seconds", "occupancy")  # fmt: skip


def records() -> list[CallEventRecord]:
    # Time order per call, as the database query returns them.
    ordered = sorted(enumerate(CALL_EVENTS), key=lambda item: (item[1][0], item[1][1], item[0]))
    return [CallEventRecord(*event) for _, event in ordered]


def period() -> Period:
    return parse_period("2026-01-15T09:00", "2026-01-15T10:00", 30, PARIS)


def figures(row: dict[str, Any], keys: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(row[key] for key in keys)


def test_the_period_is_read_in_the_sites_time_zone() -> None:
    assert period() == Period(T0, T0 + 3600, 30)
    assert [(s.start, s.end) for s in intervals(period(), PARIS)] == [
        (T0, T0 + 1800),
        (T0 + 1800, T0 + 3600),
    ]
    assert PARIS.local(T0).isoformat() == "2026-01-15T09:00:00+01:00"


def test_queue_figures_per_interval_overflow_abandon_and_wrapup() -> None:
    report = queue_report(records(), TARGETS, period(), PARIS, NOW)
    by_queue = {s.name: s for s in report.series}
    assert list(by_queue) == ["sales", "support"]
    support, sales = by_queue["support"], by_queue["sales"]
    # offered answered within abandoned overflowed waiting handled SL ASA AHT abandon-rate
    assert [figures(line.figures, QUEUE_KEYS) for line in support.lines] == [
        (3, 1, 1, 1, 1, 0, 1, 0.3333, 10.0, 150.0, 0.3333),  # c1 talk 120 + wrap-up 30
        (1, 0, 0, 1, 0, 1, 0, 0.0, None, None, 1.0),  # c5 undecided: waiting, not offered
    ]
    assert figures(support.totals, QUEUE_KEYS) == (4, 1, 1, 2, 1, 1, 1, 0.25, 10.0, 150.0, 0.5)
    assert support.target == 20.0 and sales.target == 15.0
    # c3 counts in both queues: overflowed in support, answered in sales after
    # 15 s there (not the 75 s since it first queued), within sales' 15 s target.
    assert [figures(line.figures, QUEUE_KEYS) for line in sales.lines] == [
        (1, 1, 1, 0, 0, 0, 1, 1.0, 15.0, 80.0, 0.0),
        (1, 1, 0, 0, 0, 0, 1, 0.0, 30.0, 60.0, 0.0),  # c4: 30 s > 15 s target
    ]
    assert figures(sales.totals, QUEUE_KEYS) == (2, 2, 1, 0, 0, 0, 2, 0.5, 22.5, 70.0, 0.0)
    assert figures(report.totals, QUEUE_KEYS) == (
        6, 3, 2, 2, 1, 1, 3, 0.3333, 18.3, 96.7, 0.3333,
    )  # fmt: skip


def test_queue_filter_keeps_one_queue() -> None:
    report = queue_report(records(), TARGETS, period(), PARIS, NOW, only="sales")
    assert [s.name for s in report.series] == ["sales"]
    assert report.totals["offered"] == 2


def test_agent_figures_per_interval_with_occupancy() -> None:
    spans = spans_from_log([r for r in STATE_LOG if r[2] < NOW], NOW)
    report = agent_report(records(), spans, period(), PARIS)
    alice, bob = report.series
    assert (alice.name, bob.name) == ("alice", "bob")
    # offered answered missed abandoned handled talk wrap AHT | ready ringing on_call wrap_up
    # paused | occupancy = (ringing + on call + wrap-up) / (that + ready)
    assert [figures(line.figures, AGENT_KEYS) for line in alice.lines] == [
        (1, 1, 0, 0, 1, 120.0, 30.0, 150.0, 1645.0, 5.0, 120.0, 30.0, 0.0, 0.0861),
        (1, 0, 1, 0, 0, 0.0, 0.0, None, 202.0, 15.0, 0.0, 0.0, 1493.0, 0.0691),
    ]
    assert [figures(line.figures, AGENT_KEYS) for line in bob.lines] == [
        (1, 1, 0, 0, 1, 60.0, 20.0, 80.0, 815.0, 5.0, 60.0, 20.0, 0.0, 0.0944),
        (2, 1, 0, 1, 1, 60.0, 0.0, 60.0, 1635.0, 15.0, 60.0, 0.0, 0.0, 0.0439),
    ]
    assert figures(alice.totals, AGENT_KEYS) == (
        2, 1, 1, 0, 1, 120.0, 30.0, 150.0, 1847.0, 20.0, 120.0, 30.0, 1493.0, 0.0843,
    )  # fmt: skip
    assert figures(report.totals, AGENT_KEYS) == (
        5, 3, 1, 1, 3, 240.0, 50.0, 96.7, 4297.0, 40.0, 240.0, 50.0, 1493.0, 0.0713,
    )  # fmt: skip


def test_a_spring_forward_day_has_23_hourly_intervals_labelled_with_their_offsets() -> None:
    day = parse_period("2026-03-29", "2026-03-29", 60, PARIS)
    slots = intervals(day, PARIS)
    assert len(slots) == 23
    labels = [PARIS.local(s.start).strftime("%H:%M%z") for s in slots[:4]]
    assert labels == ["00:00+0100", "01:00+0100", "03:00+0200", "04:00+0200"]
    assert all(s.end - s.start == 3600 for s in slots)


@pytest.mark.parametrize(
    ("start", "end", "minutes", "field", "words"),
    [
        ("2026-01-15", "2026-01-15", 20, "interval", "15, 30 or 60"),
        ("2026-01-15T10:00", "2026-01-15T09:00", 60, "to", "after 'from'"),
        ("2026-01-01", "2026-02-01", 60, "to", "at most 31 days"),
        ("15/01/2026", "2026-01-16", 60, "from", "is not a date"),
        ("2026-01-15", "9999-12-31", 60, "to", "year must be"),
    ],
)
def test_bad_periods_are_refused_naming_the_field(
    start: str, end: str, minutes: int, field: str, words: str
) -> None:
    with pytest.raises(ReportInputError) as caught:
        parse_period(start, end, minutes, PARIS)
    assert caught.value.field == field and words in caught.value.message


def test_thirty_one_whole_days_are_allowed() -> None:
    whole = parse_period("2026-01-01", "2026-01-31", 15, PARIS)
    assert whole.until - whole.since == 31 * 86400
    assert len(intervals(whole, PARIS)) == 31 * 96
