"""cancel_and_wait: a task that swallows a cancellation is still stopped."""

from __future__ import annotations

import asyncio

import pytest

from callcenter import tasks
from callcenter.tasks import cancel_and_wait


async def _swallows_once(ticks: list[int]) -> None:
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        ticks.append(1)  # what Python 3.11's wait_for does in a race: carry on
    await asyncio.Event().wait()


def test_a_task_that_swallows_the_first_cancel_is_cancelled_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tasks, "RECANCEL_SECONDS", 0.01)

    async def scenario() -> list[int]:
        ticks: list[int] = []
        task = asyncio.create_task(_swallows_once(ticks))
        await asyncio.sleep(0)
        await asyncio.wait_for(cancel_and_wait([task]), 2)
        assert task.cancelled()
        return ticks

    assert asyncio.run(scenario()) == [1]


def test_ended_and_failed_tasks_are_waited_without_raising(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def fails() -> None:
        raise RuntimeError("boom")

    async def scenario() -> None:
        failed = asyncio.create_task(fails())
        await asyncio.sleep(0)
        await cancel_and_wait([failed, asyncio.create_task(asyncio.sleep(0))])

    asyncio.run(scenario())
    assert "boom" in caplog.text
