"""AMI events to their handlers: in the table's order, one call at a time.

Every event of one call (its lane: the channel's linked id, which the agent's
leg shares with the caller's) is handled after the one before it has been
handled completely, by every subscriber in subscription order; an async
handler is awaited before the next handler runs. Different calls do not wait
for each other. Events about no call (contacts, devices) share one lane.

A lane costs nothing while its handlers are synchronous: they run at once in
the reader's callback. A task is made only when a handler has to be awaited,
and it drains the lane (events that came meanwhile) before it ends.
A failing handler is logged; the next one still runs.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from callcenter.core.pbx_events import AmiEvent, ChannelEvent, OriginateResponse
from callcenter.tasks import cancel_and_wait

log = logging.getLogger(__name__)

Handler = Callable[[Any], "Awaitable[None] | None"]
# An event whose handler at ``index - 1`` returned ``awaitable``: await it, then go on at index.
_Pending = tuple[Awaitable[Any], AmiEvent, int]


def lane_of(event: AmiEvent) -> str:
    if isinstance(event, ChannelEvent):
        return event.linked_id or event.unique_id
    if isinstance(event, OriginateResponse):
        return event.unique_id or event.action_id
    return ""


class OrderedDispatch:
    def __init__(self) -> None:
        self._handlers: dict[type[AmiEvent], list[Handler]] = defaultdict(list)
        self._any: list[Handler] = []
        self._lanes: dict[str, deque[AmiEvent]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, kind: type[AmiEvent], handler: Handler) -> None:
        self._handlers[kind].append(handler)

    def subscribe_all(self, handler: Handler) -> None:
        self._any.append(handler)

    def handlers(self, event: AmiEvent) -> list[Handler]:
        return [*self._handlers.get(type(event), ()), *self._any]

    @property
    def busy_lanes(self) -> int:
        return len(self._lanes)

    def dispatch(self, event: AmiEvent) -> None:
        if type(event) not in self._handlers and not self._any:
            return
        key = lane_of(event)
        waiting = self._lanes.get(key)
        if waiting is not None:
            waiting.append(event)  # behind the event being handled
            return
        pending = self._run(event, 0)
        if pending is None:
            return
        self._lanes[key] = deque()
        task = asyncio.ensure_future(self._drain(key, pending))
        task.set_name(f"ami-lane-{key or 'global'}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _run(self, event: AmiEvent, start: int) -> _Pending | None:
        handlers = self.handlers(event)
        for index in range(start, len(handlers)):
            try:
                result = handlers[index](event)
            except Exception:
                log.exception("AMI handler %r failed on %s", handlers[index], event.event)
                continue
            if inspect.isawaitable(result):
                return result, event, index + 1
        return None

    async def _drain(self, key: str, pending: _Pending | None) -> None:
        try:
            while True:
                if pending is None:
                    waiting = self._lanes[key]
                    if not waiting:
                        return
                    pending = self._run(waiting.popleft(), 0)
                    continue
                awaitable, event, after = pending
                try:
                    await awaitable
                except Exception:
                    log.exception("AMI handler failed on %s", event.event)
                pending = self._run(event, after)
        finally:
            self._lanes.pop(key, None)

    async def stop(self) -> None:
        await cancel_and_wait(list(self._tasks))
