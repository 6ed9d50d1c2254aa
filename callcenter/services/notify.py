"""In-process publish/subscribe of domain events (core/events.py).

Services publish; the call records, queue_log, live console and webhooks
subscribe. A failing subscriber is logged and never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from callcenter.core.events import Event

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
Subscriber = Callable[[Any], "Awaitable[None] | None"]


class Notifier:
    def __init__(self) -> None:
        self._subscribers: dict[type[Event], list[Subscriber]] = defaultdict(list)
        self._all: list[Subscriber] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, kind: type[E], handler: Callable[[E], Awaitable[None] | None]) -> None:
        self._subscribers[kind].append(handler)

    def subscribe_all(self, handler: Callable[[Event], Awaitable[None] | None]) -> None:
        self._all.append(handler)

    def publish(self, event: Event) -> None:
        for handler in (*self._subscribers.get(type(event), ()), *self._all):
            try:
                result = handler(event)
            except Exception:
                log.exception("subscriber %r failed on %s", handler, type(event).__name__)
                continue
            if asyncio.iscoroutine(result):
                task = asyncio.ensure_future(result)
                self._tasks.add(task)
                task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("async subscriber failed", exc_info=task.exception())
