"""One APScheduler for the controller, on its own event loop.

Jobs are coroutines run on the loop; a job that blocks (database, files)
moves its work to a thread itself. Missed runs (the controller was down at
the time) are run once when it comes back, within the grace period, never
several times over.
"""

from __future__ import annotations

import asyncio
import contextlib
import zoneinfo
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, tzinfo

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

Job = Callable[[], Awaitable[None]]
GRACE_SECONDS = 6 * 3600


def site_zone(name: str) -> tzinfo | None:
    """The site's IANA zone; None means the machine's own."""
    return zoneinfo.ZoneInfo(name) if name else None


class JobScheduler:
    def __init__(self, zone: tzinfo | None) -> None:
        self._scheduler = AsyncIOScheduler(
            timezone=zone,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": GRACE_SECONDS,
            },
        )

    def daily(self, job_id: str, job: Job, hour: int, minute: int) -> None:
        """Run ``job`` every day at hour:minute, site time (replacing a job with that id)."""
        self._scheduler.add_job(
            job,
            CronTrigger(hour=hour, minute=minute),
            id=job_id,
            name=job_id,
            replace_existing=True,
        )

    def once(self, job_id: str, job: Job, at: float) -> None:
        """Run ``job`` once at ``at`` (epoch seconds); a time already past runs at once
        (within the grace period). Replaces a job with that id."""
        when = datetime.fromtimestamp(at, UTC)
        self._scheduler.add_job(
            job, DateTrigger(run_date=when), id=job_id, name=job_id, replace_existing=True
        )

    def cancel(self, job_id: str) -> None:
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(job_id)

    def next_run(self, job_id: str) -> float | None:
        job = self._scheduler.get_job(job_id)
        when = getattr(job, "next_run_time", None) if job is not None else None
        return when.timestamp() if when is not None else None

    def start(self) -> None:
        """Start on the running loop (call from a coroutine on the controller's loop)."""
        self._scheduler.start()

    async def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # the shutdown itself runs as a loop callback
