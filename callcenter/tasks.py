"""Stopping asyncio tasks for certain.

On Python 3.11 ``asyncio.wait_for`` swallows a cancellation that lands as the
future it awaits completes (an AMI answer arriving as ``stop()`` runs): the task
goes on to its next ``sleep`` and a plain ``cancel(); await task`` waits forever.
``cancel_and_wait`` cancels again until every task has ended.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

RECANCEL_SECONDS = 0.5


async def cancel_and_wait(tasks: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel ``tasks`` and return once all have ended (re-cancelling the stubborn)."""
    tasks = list(tasks)
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=RECANCEL_SECONDS)
    for task in tasks:  # an error a task ended with is told, not left unretrieved
        if not task.cancelled() and task.exception() is not None:
            log.warning("task ended with an error at stop: %r", task.exception())
