"""A kept place: a call in the CallBook with no channel, and the one-shot scheduler job."""

from __future__ import annotations

import asyncio
import functools
import time

from callcenter.core.calls.live import CallBook, LiveCall
from callcenter.scheduler.runner import JobScheduler


def call(unique_id: str = "u1") -> LiveCall:
    return LiveCall("c1", unique_id, "PJSIP/sipp-1", "5550100", "", "", 0.0, callback_id=None)


def test_a_detached_call_keeps_its_place_but_not_its_channel() -> None:
    book = CallBook()
    live = call()
    book.add(live)
    live.callback_id = 7
    book.detach(live)
    assert live.virtual and book.get("c1") is live
    assert book.by_unique_id("u1") is None  # the old channel's hangup is not this call's end
    assert book.by_unique_id("") is None
    book.attach(live, "cb7a1x", "PJSIP/customers-2")
    assert not live.virtual and book.by_unique_id("cb7a1x") is live


def test_a_call_without_callback_is_never_virtual() -> None:
    live = call()
    live.channel = ""
    assert not live.virtual


async def test_a_one_shot_job_runs_once_even_when_its_time_has_passed() -> None:
    ran: list[int] = []

    async def job(n: int) -> None:
        ran.append(n)

    scheduler = JobScheduler(None)
    scheduler.start()
    try:
        scheduler.once("past", functools.partial(job, 1), time.time() - 60)
        scheduler.once("soon", functools.partial(job, 2), time.time() + 0.2)
        scheduler.once("cancelled", functools.partial(job, 3), time.time() + 0.2)
        scheduler.cancel("cancelled")
        scheduler.cancel("never-there")
        for _ in range(100):
            if len(ran) >= 2:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
    finally:
        await scheduler.stop()
    assert sorted(ran) == [1, 2]
