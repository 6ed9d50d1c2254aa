"""The controller on an event loop thread of its own, driven from the calling thread.

Tests, benchmarks and the console lab run the product's controller in-process,
on one asyncio loop as `callcenter run` does, but drive it from plain code on
another thread. They cross only through ``run`` and ``call``
(run_coroutine_threadsafe): nothing the loop owns is touched off the loop.

The controller is reached only through Controller(settings), start(), stop()
and ami.wait_connected(): the rest of its shape is the composition root's.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from callcenter.config import Settings
from callcenter.runtime import Controller
from callcenter.simulate.netns import enter_netns

T = TypeVar("T")


class LoopThread:
    """An asyncio event loop running on a daemon thread of its own."""

    def __init__(self, name: str = "loop", netns: str = "") -> None:
        self.loop = asyncio.new_event_loop()
        self.netns = netns  # run inside this network namespace (simulate/nodes_lab.py)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        if self.netns:
            enter_netns(self.netns)
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run a coroutine on the loop; its result, or TimeoutError after ``timeout`` s."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[[], T], timeout: float = 10) -> T:
        """Run a plain function on the loop (to read or change what the loop owns)."""

        async def on_loop() -> T:
            return fn()

        return self.run(on_loop(), timeout)

    def tasks(self) -> list[asyncio.Task[Any]]:
        """The loop's unfinished tasks (read on the loop, unless it does not answer)."""
        if self.running:
            try:
                return self.call(_other_tasks, 2)
            except TimeoutError:  # blocked: read from here, which may race with the loop
                pass
        try:
            return list(asyncio.all_tasks(self.loop))
        except RuntimeError:  # the task set changed while it was read
            return []

    def stop(self, timeout: float = 10) -> None:
        """Cancel what still runs on the loop, stop the loop and close it.

        Tasks still there ``timeout`` s after their cancellation are reported on
        stderr with their stacks; a loop that does not stop is left open.
        """
        if self.running:
            try:
                stuck = self.run(_cancel_others(timeout), timeout + 2)
            except TimeoutError:  # the loop itself is blocked
                stuck = self.tasks()
            report_tasks(stuck, f"{self._thread.name} task still running at stop")
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
        if not self.running and not self.loop.is_closed():
            self.loop.close()


def _other_tasks() -> list[asyncio.Task[Any]]:
    current = asyncio.current_task()
    return [task for task in asyncio.all_tasks() if task is not current]


async def _cancel_others(timeout: float) -> list[asyncio.Task[Any]]:
    """Cancel every other task on this loop; those not ended after ``timeout`` s."""
    others = _other_tasks()
    for task in others:
        task.cancel()
    if not others:
        return []
    _, pending = await asyncio.wait(others, timeout=timeout)
    return list(pending)


def report_tasks(tasks: list[asyncio.Task[Any]], label: str) -> None:
    """Print what each task was waiting for (its stack) on stderr."""
    for task in tasks:
        stack = io.StringIO()
        task.print_stack(file=stack)
        print(f"{label}: {stack.getvalue()}", file=sys.stderr)


class ControllerThread:
    """The product's Controller built, started and stopped on a LoopThread.

    ``before_start`` runs on the loop with the new controller, before it starts
    (to subscribe to its notifier, say).
    """

    def __init__(
        self,
        settings: Settings,
        before_start: Callable[[Controller], None] | None = None,
        netns: str = "",
    ) -> None:
        self.settings = settings
        self.controller: Controller | None = None
        self._before_start = before_start
        self._loop = LoopThread("controller", netns)
        self.loop = self._loop.loop

    async def _build(self) -> Controller:
        # Set before start(): a controller that fails half-way is still stopped by stop().
        self.controller = controller = Controller(self.settings)
        if self._before_start is not None:
            self._before_start(controller)
        await controller.start()
        return controller

    def start(self, connect: float | None = 15, timeout: float = 30) -> Controller:
        """Build and start the controller (within ``timeout`` s), then wait ``connect``
        s for its AMI login (``None``: do not wait, no Asterisk is behind it)."""
        self._loop.start()
        try:
            controller = self._loop.run(self._build(), timeout)
            if connect is not None:
                self._loop.run(controller.ami.wait_connected(connect), connect + timeout)
        except BaseException:
            with contextlib.suppress(Exception):  # the start's own error is the one to see
                self.stop()
            raise
        return controller

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return self._loop.run(coro, timeout)

    def call(self, fn: Callable[[], T], timeout: float = 10) -> T:
        return self._loop.call(fn, timeout)

    def stop(self, timeout: float = 30) -> None:
        """Stop the controller, then its loop (even when the controller's stop fails).

        A controller whose stop() takes longer than ``timeout`` s has its tasks'
        stacks reported on stderr, then TimeoutError is raised.
        """
        try:
            if self.controller is not None and self._loop.running:
                try:
                    self._loop.run(self.controller.stop(), timeout)
                except TimeoutError:
                    report_tasks(self._loop.tasks(), "controller task still running at stop")
                    raise
        finally:
            self._loop.stop()
