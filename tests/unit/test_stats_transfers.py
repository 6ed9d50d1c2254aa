"""Transfers and holds in the queue figures and the agents' report (core/stats.py,
services/console/reports.py): segments carry each agent's talk and hold."""

from __future__ import annotations

import math

from callcenter.core.stats import CallEventRecord, fold_legs, queue_figures
from callcenter.services.console.reports import SiteZone, agent_report, parse_period

R = CallEventRecord


def seg(call: str, at: float, agent: str, talk: float, hold: float, holds: int, reason: str) -> R:
    detail = {"talk": talk, "hold": hold, "holds": holds, "reason": reason}
    return R(call, at, "segment", agent, detail)


EVENTS = [
    # c1: support, ann answers, holds 20 s, transfers to bob, who completes it.
    R("c1", 0.0, "queued", "", {"queue": "support"}),
    R("c1", 5.0, "answered", "ann"),
    seg("c1", 65.0, "ann", 40.0, 20.0, 1, "transfer-agent"),
    R("c1", 70.0, "answered", "bob"),
    seg("c1", 100.0, "bob", 30.0, 0.0, 0, "completed"),
    R("c1", 100.0, "completed", "bob", {"talk": 30.0}),
    R("c1", 110.0, "wrapup", "ann", {"seconds": 10.0}),
    R("c1", 105.0, "wrapup", "bob", {"seconds": 5.0}),
    R("c1", 100.0, "ended"),
    # c2: support, ann answers, transfers to billing; cat answers there.
    R("c2", 200.0, "queued", "", {"queue": "support"}),
    R("c2", 210.0, "answered", "ann"),
    seg("c2", 250.0, "ann", 40.0, 0.0, 0, "transfer-queue"),
    R("c2", 250.0, "queued", "", {"queue": "billing"}),
    R("c2", 260.0, "answered", "cat"),
    seg("c2", 300.0, "cat", 40.0, 0.0, 0, "completed"),
    R("c2", 300.0, "completed", "cat", {"talk": 40.0}),
]


def test_a_leg_sums_its_agents_segments_and_a_transfer_to_a_queue_starts_a_new_leg() -> None:
    legs = fold_legs(sorted(EVENTS, key=lambda e: (e.call_id, e.at)))
    by = {(leg.call_id, leg.queue): leg for leg in legs}
    c1 = by[("c1", "support")]
    assert (c1.talk, c1.hold, c1.holds, c1.transfers, c1.ended) == (70.0, 20.0, 1, 1, True)
    assert c1.wrapup == 15.0  # both agents' wrap-up on the one leg
    c2 = by[("c2", "support")]
    assert (c2.talk, c2.transfers, c2.ended, c2.outcome) == (40.0, 1, True, "answered")
    billing = by[("c2", "billing")]
    assert (billing.talk, billing.wait, billing.agent) == (40.0, 10.0, "cat")

    support = queue_figures([leg for leg in legs if leg.queue == "support"], 20, 0, math.inf, 1000)
    assert (support.offered, support.handled, support.transfers, support.holds) == (2, 2, 2, 1)
    assert support.hold_total == 20.0
    # AHT: (talk + hold + wrap-up) per handled leg: (70 + 20 + 15 + 40) / 2.
    assert support.aht == 72.5


def test_records_older_than_segments_keep_the_talk_of_completed() -> None:
    legs = fold_legs(
        [
            R("c9", 0.0, "queued", "", {"queue": "support"}),
            R("c9", 3.0, "answered", "ann"),
            R("c9", 63.0, "completed", "ann", {"talk": 60.0}),
        ]
    )
    assert (legs[0].talk, legs[0].ended, legs[0].transfers) == (60.0, True, 0)


def test_each_agent_of_a_transferred_call_gets_their_own_talk_hold_and_wrap_up() -> None:
    zone = SiteZone.from_setting("UTC")
    period = parse_period("2026-01-15T08:00", "2026-01-15T09:00", 60, zone)
    shifted = [
        R(e.call_id, e.at + period.since, e.kind, e.agent, e.detail)
        for e in sorted(EVENTS, key=lambda e: (e.call_id, e.at))
    ]
    report = agent_report(shifted, [], period, zone)
    rows = {series.name: series.lines[0].figures for series in report.series}
    keys = ("answered", "handled", "talk_seconds", "hold_seconds", "holds", "transfers",
            "wrapup_seconds", "aht_seconds")  # fmt: skip
    assert tuple(rows["ann"][k] for k in keys) == (2, 2, 80.0, 20.0, 1, 2, 10.0, 55.0)
    assert tuple(rows["bob"][k] for k in keys) == (1, 1, 30.0, 0.0, 0, 0, 5.0, 35.0)
    assert tuple(rows["cat"][k] for k in keys) == (1, 1, 40.0, 0.0, 0, 0, 0.0, 40.0)
