"""The controller run in-process on its own event loop thread, for tests that
need to look inside it (its view of Asterisk, its route traces)."""

from __future__ import annotations

import asyncio
import io
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from callcenter.config import Settings
from callcenter.runtime import Controller

T = TypeVar("T")


class ControllerThread:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.controller: Controller | None = None
        self._thread = threading.Thread(target=self._run, name="controller", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.controller = Controller(self.settings)
            self.loop.run_until_complete(self.controller.start())
        except BaseException as exc:  # reported to the test thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()

    def start(self, timeout: float = 15) -> Controller:
        self._thread.start()
        self._ready.wait(timeout)
        if self._error is not None:
            raise self._error
        assert self.controller is not None
        self.run(self.controller.ami.wait_connected(timeout))
        return self.controller

    def run(self, coro: Awaitable[T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    def call(self, fn: Callable[[], T], timeout: float = 10) -> T:
        async def wrapper() -> T:
            return fn()

        return self.run(wrapper(), timeout)

    def stop(self) -> None:
        if self.controller is not None and self._thread.is_alive():
            try:
                self.run(self.controller.stop())
            except TimeoutError:
                self._report_stuck()
                raise

    def _report_stuck(self) -> None:
        """What the controller's tasks were waiting for when stop() timed out."""
        try:
            tasks = list(asyncio.all_tasks(self.loop))
        except RuntimeError:  # the loop changed its task set meanwhile
            return
        for task in tasks:
            stack = io.StringIO()
            task.print_stack(file=stack)
            print(f"controller task still running at stop: {stack.getvalue()}", file=sys.stderr)
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
        self.loop.close()


def state(thread: ControllerThread, getter: Callable[[Controller], Any]) -> Any:
    """Read something off the controller safely, on its own loop."""
    assert thread.controller is not None
    controller = thread.controller
    return thread.call(lambda: getter(controller))
