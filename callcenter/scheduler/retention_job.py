"""The daily recordings retention run."""

from __future__ import annotations

import asyncio
import logging

from callcenter.scheduler.runner import JobScheduler
from callcenter.services.console.retention import Retention, RetentionError

log = logging.getLogger(__name__)

JOB_ID = "recordings-retention"
ACTOR = "system:retention"
AT = (3, 30)  # site time: after midnight's reports, before the morning shift


def add_retention_job(scheduler: JobScheduler, retention: Retention) -> None:
    async def run() -> None:
        try:
            await asyncio.to_thread(retention.run, ACTOR)
        except RetentionError as exc:
            # Bad settings or a run already going: nothing deleted; tell whoever reads the log.
            log.error("recordings retention not run: %s", exc)

    scheduler.daily(JOB_ID, run, *AT)
