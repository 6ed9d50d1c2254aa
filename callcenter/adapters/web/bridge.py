"""Crossing from Flask's threads to the controller's event loop.

The console runs in threads beside the asyncio controller (one process). Reads
and changes of live state always run on the loop, through this bridge, so no
service is ever touched from two threads at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopBridge:
    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float = 10.0) -> None:
        self.loop = loop
        self.timeout = timeout

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the controller's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(self.timeout)

    def call(self, fn: Callable[[], T]) -> T:
        """Run a plain function on the loop (a consistent read of live state)."""

        async def wrapper() -> T:
            return fn()

        return self.run(wrapper())
