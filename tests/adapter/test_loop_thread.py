"""The harness that runs the controller on a loop thread of its own
(callcenter/simulate/loop_thread.py), on plain coroutines."""

from __future__ import annotations

import asyncio
import threading

import pytest

from callcenter.simulate.loop_thread import LoopThread


def test_runs_coroutines_and_functions_on_its_own_thread() -> None:
    loop = LoopThread("test-loop")
    loop.start()
    try:

        async def where() -> str:
            await asyncio.sleep(0)
            return threading.current_thread().name

        assert loop.run(where()) == "test-loop"
        assert loop.call(lambda: threading.current_thread().name) == "test-loop"
        with pytest.raises(TimeoutError):
            loop.run(asyncio.sleep(5), timeout=0.05)
    finally:
        loop.stop()
    assert not loop.running
    assert loop.loop.is_closed()


def test_stop_cancels_what_is_left_and_reports_what_will_not_end(
    capsys: pytest.CaptureFixture[str],
) -> None:
    loop = LoopThread("test-loop")
    loop.start()
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def stubborn() -> None:
        for _ in range(3):
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                await asyncio.sleep(0.5)  # ignores the first cancellation for a while

    loop.call(lambda: [asyncio.ensure_future(forever()), asyncio.ensure_future(stubborn())])
    # The stubborn task is left pending on a closed loop: asyncio says so when it is collected.
    loop.loop.set_exception_handler(lambda _loop, _context: None)
    assert len(loop.tasks()) == 2

    loop.stop(timeout=0.2)

    assert cancelled.is_set()
    reported = capsys.readouterr().err
    assert "test-loop task still running at stop" in reported
    assert "stubborn" in reported and "forever" not in reported
    assert not loop.running
