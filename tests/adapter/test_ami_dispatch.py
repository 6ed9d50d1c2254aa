"""One call's AMI events are handled in order, each by every subscriber in the
table's order, an async handler finished before the next one runs; other calls
do not wait (adapters/ami/dispatch.py)."""

from __future__ import annotations

import asyncio

from callcenter.adapters.ami.dispatch import OrderedDispatch, lane_of
from callcenter.core import pbx_events as ev


def hangup(unique_id: str, linked_id: str = "") -> ev.Hangup:
    return ev.Hangup(unique_id=unique_id, linked_id=linked_id or unique_id, channel=unique_id)


async def test_one_calls_events_and_handlers_run_in_order() -> None:
    seen: list[str] = []
    gate = asyncio.Event()
    dispatch = OrderedDispatch()

    async def slow_first(event: ev.AmiEvent) -> None:
        seen.append(f"first:{event.event}:{event.get('uniqueid')}")
        await gate.wait()

    def then_sync(event: ev.AmiEvent) -> None:
        seen.append(f"second:{event.event}:{event.get('uniqueid')}")

    async def then_async(event: ev.AmiEvent) -> None:
        await asyncio.sleep(0)
        seen.append(f"third:{event.event}:{event.get('uniqueid')}")

    for kind in (ev.Hangup, ev.DialEnd):
        dispatch.subscribe(kind, slow_first)
        dispatch.subscribe(kind, then_sync)
        dispatch.subscribe(kind, then_async)

    # The agent's leg and the caller's share the caller's linked id: one lane.
    dispatch.dispatch(ev.DialEnd(unique_id="c1", linked_id="c1", raw={"uniqueid": "c1"}))
    dispatch.dispatch(ev.Hangup(unique_id="a1", linked_id="c1", raw={"uniqueid": "a1"}))
    dispatch.dispatch(ev.Hangup(unique_id="c1", linked_id="c1", raw={"uniqueid": "c1"}))
    await asyncio.sleep(0.01)
    assert seen == ["first:DialEnd:c1"]  # everything else waits behind the slow handler
    gate.set()
    for _ in range(50):
        await asyncio.sleep(0)
    assert seen == [
        "first:DialEnd:c1",
        "second:DialEnd:c1",
        "third:DialEnd:c1",
        "first:Hangup:a1",
        "second:Hangup:a1",
        "third:Hangup:a1",
        "first:Hangup:c1",
        "second:Hangup:c1",
        "third:Hangup:c1",
    ]
    assert dispatch.busy_lanes == 0


async def test_other_calls_do_not_wait_and_failures_do_not_stop_the_rest() -> None:
    seen: list[str] = []
    stuck = asyncio.Event()
    dispatch = OrderedDispatch()

    async def blocks_on_c1(event: ev.Hangup) -> None:
        if event.unique_id == "c1":
            await stuck.wait()
        seen.append(f"a:{event.unique_id}")

    def fails(event: ev.Hangup) -> None:
        raise RuntimeError("a broken subscriber")

    async def fails_later(event: ev.Hangup) -> None:
        raise RuntimeError("a broken async subscriber")

    dispatch.subscribe(ev.Hangup, blocks_on_c1)
    dispatch.subscribe(ev.Hangup, fails)
    dispatch.subscribe(ev.Hangup, fails_later)
    dispatch.subscribe(ev.Hangup, lambda event: seen.append(f"b:{event.unique_id}"))
    dispatch.dispatch(hangup("c1"))
    dispatch.dispatch(hangup("c2"))
    for _ in range(20):
        await asyncio.sleep(0)
    assert seen == ["a:c2", "b:c2"]
    stuck.set()
    for _ in range(20):
        await asyncio.sleep(0)
    assert seen == ["a:c2", "b:c2", "a:c1", "b:c1"]
    await dispatch.stop()


async def test_synchronous_handlers_run_at_once_without_a_task() -> None:
    seen: list[str] = []
    dispatch = OrderedDispatch()
    dispatch.subscribe(ev.ContactStatus, lambda event: seen.append(event.aor))
    dispatch.dispatch(ev.ContactStatus(aor="agent1"))
    assert seen == ["agent1"] and dispatch.busy_lanes == 0


def test_lanes() -> None:
    assert lane_of(ev.Hangup(unique_id="a1", linked_id="c1")) == "c1"
    assert lane_of(ev.OriginateResponse(action_id="cb1", unique_id="")) == "cb1"
    assert lane_of(ev.ContactStatus(aor="agent1")) == ""
