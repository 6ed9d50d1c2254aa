"""A clock that moves only when a test says so, and the timers and jobs that run on it.

``ManualTimers`` is a ``Timers`` (services/timers.py) whose clock is a number:
``advance`` moves it forward and runs every timer that falls due on the way,
in time order (ties: the order they were set), each awaited to its end before
the next, so a test never sleeps on wall time and sees one order only. A
timer's failure is not logged and swallowed as on the loop: it fails the test,
and so do timers that keep falling due without end (``TimerLoop``).

``ManualScheduler`` is the one-shot job scheduler Callbacks use (APScheduler's
``once``/``cancel`` in production), its jobs kept on the same timers.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Awaitable, Callable, Hashable

from callcenter.services.timers import Timers

Action = Callable[[], Awaitable[None] | None]


MAX_FIRINGS = 10_000  # timers fired by one advance before it is called a loop


class TimerLoop(RuntimeError):
    """Timers kept falling due without the clock moving on: they re-arm in the past."""


class ManualTimers(Timers):
    def __init__(self, start: float) -> None:
        self.now = start
        super().__init__(clock=lambda: self.now)
        self._due: dict[Hashable, tuple[float, int, Action]] = {}
        self._order = itertools.count()

    def at(self, when: float, key: Hashable, action: Action) -> None:
        self._due[key] = (when, next(self._order), action)

    def cancel(self, key: Hashable) -> None:
        self._due.pop(key, None)

    def pending(self, key: Hashable) -> bool:
        return key in self._due

    def cancel_all(self) -> None:
        self._due.clear()

    def when(self, key: Hashable) -> float | None:
        """When the timer ``key`` fires (None: not set)."""
        due = self._due.get(key)
        return due[0] if due is not None else None

    def keys(self) -> list[Hashable]:
        return list(self._due)

    async def advance(self, seconds: float) -> None:
        await self.run_until(self.now + seconds)

    async def run_until(self, until: float) -> None:
        """Move the clock to ``until``, firing each timer due by then at its own time."""
        for _ in range(MAX_FIRINGS):
            due = [(when, order, key) for key, (when, order, _) in self._due.items()]
            due = [entry for entry in due if entry[0] <= until]
            if not due:
                break
            when, _, key = min(due)
            _, _, action = self._due.pop(key)
            self.now = max(self.now, when)
            result = action()
            if inspect.isawaitable(result):
                await result
        else:
            raise TimerLoop(f"{MAX_FIRINGS} timers fired by {until}; the last: {key!r}")
        self.now = max(self.now, until)


class ManualScheduler:
    """``Scheduler`` (services/callbacks/places.py) over ManualTimers."""

    def __init__(self, timers: ManualTimers) -> None:
        self.timers = timers

    def once(self, job_id: str, job: Callable[[], Awaitable[None]], at: float) -> None:
        self.timers.at(at, ("job", job_id), job)

    def cancel(self, job_id: str) -> None:
        self.timers.cancel(("job", job_id))

    def pending(self, job_id: str) -> bool:
        return self.timers.pending(("job", job_id))
