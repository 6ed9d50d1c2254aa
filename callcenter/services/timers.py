"""Named timers on the event loop: set, replace, cancel by key."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

log = logging.getLogger(__name__)


class Timers:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._handles: dict[Hashable, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def at(self, when: float, key: Hashable, action: Callable[[], Awaitable[None] | None]) -> None:
        """Run ``action`` at epoch time ``when`` (replacing a timer with the same key)."""
        self.cancel(key)
        loop = asyncio.get_running_loop()
        delay = max(0.0, when - self.clock())
        self._handles[key] = loop.call_later(delay, self._fire, key, action)

    def after(
        self, delay: float, key: Hashable, action: Callable[[], Awaitable[None] | None]
    ) -> None:
        self.at(self.clock() + delay, key, action)

    def cancel(self, key: Hashable) -> None:
        handle = self._handles.pop(key, None)
        if handle is not None:
            handle.cancel()

    def pending(self, key: Hashable) -> bool:
        return key in self._handles

    def cancel_all(self) -> None:
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()
        for task in self._tasks:
            task.cancel()

    def _fire(self, key: Hashable, action: Callable[[], Awaitable[None] | None]) -> None:
        self._handles.pop(key, None)
        try:
            result = action()
        except Exception:
            log.exception("timer %r failed", key)
            return
        if asyncio.iscoroutine(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("timer task failed", exc_info=task.exception())
