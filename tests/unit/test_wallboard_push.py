"""Pushing pictures: a burst of events costs one picture, a quiet board wakes on its own."""

from __future__ import annotations

import asyncio
import time

from callcenter.core.calls.state import CallState
from callcenter.core.records_backlog import RecordsBacklog
from callcenter.services.console.wallboard_snapshot import WallboardOut
from tests.unit.wallboard_support import T0, a_morning, live_call, queued, rig


async def wait_until(condition: object, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


async def test_a_burst_of_events_is_one_push_and_later_changes_wait_their_turn() -> None:
    r = rig()
    r.board.coalesce = 0.2
    pushed: list[tuple[float, WallboardOut]] = []
    r.board.on_publish(lambda board: pushed.append((time.monotonic(), board)))
    await r.board.start()
    try:
        began = time.monotonic()
        for tag in "abcdefghij":  # 120 events in one go
            for event in a_morning(tag):
                r.publish(event)
        await wait_until(lambda: len(pushed) == 1)
        assert pushed[0][0] - began < 0.1  # the first change goes out at once
        assert pushed[0][1].queues[1].today.offered == 30  # with every event in it
        r.publish(queued("c9", "support", T0 + 1))
        r.publish(queued("c8", "support", T0 + 2))
        await wait_until(lambda: len(pushed) == 2)
        assert pushed[1][0] - pushed[0][0] >= 0.19  # coalesced: one more, not two
        await asyncio.sleep(0.3)
        assert len(pushed) == 2
    finally:
        r.board.stop()


async def test_a_waiting_caller_reaching_the_target_is_pushed_without_any_event() -> None:
    r = rig(real_clock=True)
    now = time.time()
    pushed: list[WallboardOut] = []
    r.board.on_publish(pushed.append)
    await r.board.start()
    try:
        # Joined 19.8 s ago in a queue with a 20 s target: it starts to count in 0.2 s.
        r.calls.add(live_call("c1", "support", now - 19.8, CallState.WAITING))
        r.publish(queued("c1", "support", now - 19.8))
        await wait_until(lambda: len(pushed) == 1)
        assert pushed[0].queues[1].today.offered == 0
        await wait_until(lambda: len(pushed) == 2, timeout=1.0)
        assert pushed[1].queues[1].today.offered == 1
        assert pushed[1].queues[1].today.service_level == 0.0
    finally:
        r.board.stop()


async def test_the_records_falling_behind_are_pushed_when_the_writer_says_so() -> None:
    r = rig()
    pushed: list[WallboardOut] = []
    r.board.on_publish(pushed.append)
    await r.board.start()
    try:
        assert not r.board.snapshot().records.behind
        r.records.now = RecordsBacklog(
            waiting=120, behind_since=T0 - 30, last_error="database unreachable", journal=20
        )
        # The records writer tells from its own thread.
        await asyncio.to_thread(r.board.changed_soon)
        await wait_until(lambda: len(pushed) == 1)
        records = pushed[0].records
        assert (records.behind, records.waiting, records.since) == (True, 120, T0 - 30)
        assert (records.last_error, records.journal, records.dropped) == (
            "database unreachable",
            20,
            0,
        )
        r.records.now = RecordsBacklog()
        await asyncio.to_thread(r.board.changed_soon)
        await wait_until(lambda: len(pushed) == 2)
        assert not pushed[1].records.behind and pushed[1].records.waiting == 0
    finally:
        r.board.stop()


async def test_a_node_link_going_down_or_up_is_pushed() -> None:
    links = {"alpha": True, "beta": True}
    r = rig(nodes=links)
    pushed: list[WallboardOut] = []
    r.board.on_publish(pushed.append)
    await r.board.start()
    try:
        links["beta"] = False
        r.board.changed()  # what NodeLinks.on_link_change calls
        await wait_until(lambda: len(pushed) == 1)
        assert [(n.node, n.up) for n in pushed[0].nodes] == [("alpha", True), ("beta", False)]
    finally:
        r.board.stop()
