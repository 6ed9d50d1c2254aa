"""The wallboard service on a fake clock: figures, the undecided rule, the day, the series."""

from __future__ import annotations

import math

import pytest

from callcenter.core import events as ev
from callcenter.core.acd.agent_state import AgentStatus
from callcenter.core.acd.model import AgentState
from callcenter.core.calls.state import CallState
from callcenter.core.stats import fold_legs, queue_figures
from callcenter.core.survey import SurveyResult
from callcenter.services.console.wallboard_legs import record_of
from callcenter.services.console.wallboard_snapshot import QueueBoard, WallboardOut
from tests.unit.wallboard_support import (
    MIDNIGHT,
    T0,
    a_morning,
    answered,
    live_call,
    queued,
    rig,
)


def queue(board: WallboardOut, name: str) -> QueueBoard:
    return next(q for q in board.queues if q.queue == name)


def test_figures_are_core_stats_over_the_same_call_events() -> None:
    r = rig()
    events = a_morning()
    for event in events:
        r.publish(event)
    r.clock.now = T0 + 300
    board = r.board.snapshot()

    support, sales = queue(board, "support"), queue(board, "sales")
    # c1 answered in target; c2 abandoned; c3 overflowed: 3 offered in support.
    t = support.today
    assert (t.offered, t.answered, t.answered_within_target, t.abandoned, t.overflowed) == (
        3, 1, 1, 1, 1,
    )  # fmt: skip
    assert t.service_level == pytest.approx(1 / 3)
    assert t.abandon_rate == pytest.approx(1 / 3)
    assert (t.asa_seconds, t.aht_seconds, t.handled) == (5.0, 70.0, 1)  # 60 talk + 10 wrap-up
    # In sales c3 waited 4 s (its own leg), within the 10 s target; still talking.
    s = sales.today
    assert (s.offered, s.answered, s.service_level, s.asa_seconds, s.aht_seconds) == (
        1, 1, 1.0, 4.0, None,
    )  # fmt: skip

    # The very definition, computed the other way: all events folded at once.
    legs = fold_legs(r for r in map(record_of, events) if r is not None)
    expected = queue_figures(
        [leg for leg in legs if leg.queue == "support"], 20, MIDNIGHT, math.inf, T0 + 300
    )
    assert support.today.model_dump() == {
        **expected.as_dict(),
        "target_seconds": 20.0,
    }
    assert support.last_30_min == support.today  # everything happened in the last 5 min


def test_a_waiting_caller_counts_as_offered_once_past_the_target_and_wakes_the_board() -> None:
    r = rig()
    r.calls.add(live_call("c1", "support", T0, CallState.WAITING))
    r.publish(queued("c1", "support", T0))
    r.clock.now = T0 + 19
    early = queue(r.board.snapshot(), "support")
    assert (early.waiting, early.today.offered, early.today.service_level) == (1, 0, None)
    assert early.longest_wait_since == T0
    # The next change by the clock alone is when it reaches the 20 s target.
    assert r.board._book.next_decision({"support": 20.0}, r.clock.now) == T0 + 20
    r.clock.now = T0 + 20
    late = queue(r.board.snapshot(), "support")
    assert (late.today.offered, late.today.service_level, late.today.waiting) == (1, 0.0, 1)


def test_ringing_callers_still_wait_and_the_longest_wait_is_the_oldest() -> None:
    r = rig()
    r.calls.add(live_call("c1", "support", T0 - 30, CallState.RINGING))
    r.calls.add(live_call("c2", "support", T0 - 10, CallState.WAITING))
    r.calls.add(live_call("c3", "support", T0 - 90, CallState.TALKING))
    board = queue(r.board.snapshot(), "support")
    assert (board.waiting, board.longest_wait_since) == (2, T0 - 30)


def test_agents_with_state_reason_since_name_and_their_call_queue() -> None:
    r = rig()
    r.agents.statuses["alice"] = AgentStatus(AgentState.ON_CALL, T0 - 7, call_id="c9")
    r.agents.statuses["ghost"] = AgentStatus(AgentState.WRAP_UP, T0 - 3)
    r.calls.add(live_call("c9", "sales", T0 - 40, CallState.TALKING))
    board = r.board.snapshot()
    rows = {a.agent: a for a in board.agents}
    assert (rows["alice"].name, rows["alice"].state, rows["alice"].queue) == (
        "Alice Smith", "on_call", "sales",
    )  # fmt: skip
    assert (rows["bob"].state, rows["bob"].reason, rows["bob"].since) == (
        "paused",
        "lunch",
        T0 - 50,
    )
    assert (rows["ghost"].name, rows["carol"].state) == ("ghost", "logged_out")
    # Sales needs the skill: alice (on call) has it, carol is logged out, bob lacks it.
    sales = queue(board, "sales").agents
    assert (sales.on_call, sales.paused, sales.ready, sales.wrap_up) == (1, 0, 0, 0)
    support = queue(board, "support").agents
    assert (support.on_call, support.paused, support.wrap_up) == (1, 1, 1)


def test_today_starts_at_local_midnight_and_a_new_day_starts_empty() -> None:
    before = MIDNIGHT - 30  # 23:59:30 the day before, Paris time
    r = rig(now=before)
    r.publish(queued("c0", "support", before))
    r.publish(answered("c0", "support", "alice", before + 40, 40))  # answered after midnight
    r.clock.now = MIDNIGHT + 60
    board = r.board.snapshot()
    assert board.day_start == MIDNIGHT
    assert queue(board, "support").today.offered == 0  # offered yesterday
    assert len(board.series.queues[0].waiting) == 2  # minutes 00:00 and 00:01
    r.publish(queued("c1", "support", MIDNIGHT + 61))
    r.clock.now = MIDNIGHT + 100
    assert queue(r.board.snapshot(), "support").today.offered == 1


def test_a_board_rebuilt_from_history_equals_the_live_one() -> None:
    live = rig()
    events = a_morning()
    for event in events:
        live.publish(event)
    live.clock.now = T0 + 400
    history = [record for record in map(record_of, events) if record is not None]
    rebuilt = rig(now=T0 + 400, history=history)
    rebuilt.board.rebuild(history)
    a, b = live.board.snapshot(), rebuilt.board.snapshot()
    assert a.queues == b.queues
    assert [s.service_level for s in a.series.queues] == [s.service_level for s in b.series.queues]


def test_the_service_level_series_is_the_day_so_far_minute_by_minute() -> None:
    r = rig()
    for event in a_morning():
        r.publish(event)
    r.clock.now = T0 + 400
    board = r.board.snapshot()
    support = next(s for s in board.series.queues if s.queue == "support")
    minute = 540  # 09:00
    assert len(support.service_level) == minute + 7  # up to 09:06 included
    assert support.service_level[minute - 1] is None  # nothing offered before 9:00
    assert support.service_level[minute] == 1.0  # c1 answered in 5 s
    assert support.service_level[minute + 1] == 0.5  # c2 (09:01:40) abandoned
    assert support.service_level[minute + 3] == pytest.approx(0.3333)  # c3 overflowed
    assert support.service_level[-1] == pytest.approx(
        queue(board, "support").today.service_level, abs=1e-4
    )


def test_the_waiting_series_keeps_each_minute_peak() -> None:
    r = rig()
    r.calls.add(live_call("c1", "support", T0, CallState.WAITING))
    r.calls.add(live_call("c2", "support", T0 + 1, CallState.WAITING))
    r.board.snapshot()  # two waiting in 09:00
    r.clock.now = T0 + 70
    r.calls.remove("c1")  # 09:01:10: one left (the board looks at every change)
    r.board.snapshot()
    r.clock.now = T0 + 150  # 09:02:30
    board = r.board.snapshot()
    support = next(s for s in board.series.queues if s.queue == "support")
    # 09:01 had two waiting until 09:01:10; 09:02 only one all along.
    assert support.waiting[540:] == [2, 2, 1]


def test_the_waiting_series_is_rebuilt_from_the_legs_after_a_restart() -> None:
    events = a_morning()
    history = [record for record in map(record_of, events) if record is not None]
    r = rig(now=T0 + 250, history=history)
    r.board.rebuild(history)
    support, sales = sorted(r.board.snapshot().series.queues, key=lambda s: s.queue != "support")
    # c1 waits 09:00:00-05; c2 09:01:40-02:10; c3 09:03:20-03:32 then in sales until 03:36.
    assert support.waiting[540:] == [1, 1, 1, 1, 0]
    assert sales.waiting[540:] == [0, 0, 0, 1, 0]


def test_pushes_carry_only_the_series_points_that_changed() -> None:
    r = rig()
    first = r.board.update()
    assert first.series.start == 0 and len(first.series.queues[0].waiting) == 541
    r.clock.now = T0 + 130
    quiet = r.board.update()
    assert quiet.series.start == 541  # only the new minutes 09:01 and 09:02
    assert [len(s.waiting) for s in quiet.series.queues] == [2, 2]
    assert r.board.update().series.start == 542  # the current minute always goes
    r.publish(queued("c1", "support", T0 + 5))  # a late event about 09:00
    r.publish(answered("c1", "support", "alice", T0 + 8, 3))
    assert r.board.update().series.start == 540


def test_todays_csat_per_queue_from_survey_events_and_from_storage_at_start() -> None:
    r = rig()
    (support,) = [q for q in r.board.snapshot().queues if q.queue == "support"]
    assert support.survey_today is None  # no survey on the queue, none offered
    yesterday = SurveyResult("old", T0 - 86400, "support", "alice", (1,))
    r.board.rebuild_surveys([yesterday, SurveyResult("c0", T0 - 60, "support", "alice", (5,))])
    r.publish(ev.SurveyFinished(at=T0, call_id="c1", queue="support", agent="alice", scores=(4, 2)))
    r.publish(ev.SurveyFinished(at=T0, call_id="c2", queue="support", agent="bob", scores=(None,)))
    (support,) = [q for q in r.board.snapshot().queues if q.queue == "support"]
    survey = support.survey_today
    assert survey is not None
    assert (survey.offered, survey.responded) == (3, 2)
    assert survey.csat == pytest.approx(2 / 3) and survey.response_rate == pytest.approx(2 / 3)
    (sales,) = [q for q in r.board.snapshot().queues if q.queue == "sales"]
    assert sales.survey_today is None


def test_the_board_names_the_active_controller_only_when_there_are_two() -> None:
    r = rig()
    assert r.board.snapshot().controller == ""  # one box: nothing to say
    r.board.controller = "node-b"  # [ha]: set when this controller became the active one
    assert r.board.snapshot().payload()["controller"] == "node-b"


def test_each_pbx_node_link_is_shown_with_when_it_last_changed() -> None:
    assert rig().board.snapshot().nodes == []  # one box: nothing to say
    links = {"alpha": True, "beta": True}
    r = rig(nodes=links)  # [[pbx.nodes]]: bootstrap passes NodeLinks.connected_nodes
    first = r.board.snapshot().payload()["nodes"]
    assert first == [
        {"node": "alpha", "up": True, "since": T0},
        {"node": "beta", "up": True, "since": T0},
    ]
    r.clock.now = T0 + 60
    links["beta"] = False  # beta's Asterisk died
    r.clock.now = T0 + 61
    assert [(n.node, n.up, n.since) for n in r.board.snapshot().nodes] == [
        ("alpha", True, T0),
        ("beta", False, T0 + 61),
    ]
    r.clock.now = T0 + 90
    assert r.board.snapshot().nodes[1].since == T0 + 61  # still down, since then
    links["beta"] = True
    assert r.board.snapshot().nodes[1].model_dump() == {
        "node": "beta",
        "up": True,
        "since": T0 + 90,
    }
