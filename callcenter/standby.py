"""The standby controller: wait for the active controller's lock, then hold it.

``Leader`` joins the lock (adapters/db/leader_lock.py) and the role table
(core/leadership.py): ``wait_until_active`` polls the lock until PostgreSQL grants
it, waits out ``fence_after`` (an old leader's confirmation expires), and the
watchdog then checks the lock every ``check_interval``. ``may_act`` is the fence
the composition root hands the parts that act (the Pbx port's actions, FastAGI,
the heartbeat); ``on_lost`` is told once, when the lock is lost.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable

from callcenter.adapters.db.leader_lock import LeaderLock, LockUnavailable
from callcenter.config import HaSettings
from callcenter.core.leadership import Check, Leadership, Role, Timing

log = logging.getLogger(__name__)

# Each try waits this long in PostgreSQL for the lock, which is granted the moment
# the holder's session ends; between tries the standby says who holds it.
ACQUIRE_WAIT = 2.0


def node_name(settings: HaSettings) -> str:
    return settings.node or socket.gethostname().split(".")[0][:32] or "controller"


class Leader:
    def __init__(
        self,
        lock: LeaderLock,
        timing: Timing,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lock = lock
        self.node = lock.node
        self.timing = timing
        self.leadership = Leadership(timing)
        self._monotonic = monotonic
        self._lost: list[Callable[[str], None]] = []
        self._watch: asyncio.Task[None] | None = None
        self.active_since: float | None = None  # wall clock, for the console
        self.holder: str | None = None  # who held the lock when last asked (standby)

    @classmethod
    def from_settings(cls, settings: HaSettings, database_url: str) -> Leader:
        lock = LeaderLock(database_url, settings.lock_key, node_name(settings))
        return cls(lock, Timing(settings.check_interval, settings.fence_after))

    @property
    def role(self) -> Role:
        return self.leadership.role

    def may_act(self) -> bool:
        return self.leadership.may_act(self._monotonic())

    def on_lost(self, callback: Callable[[str], None]) -> None:
        self._lost.append(callback)

    async def wait_until_active(self) -> None:
        """Return holding the lock, once an old leader cannot act any more."""
        told: str | None = ""
        while True:
            sent = self._monotonic()
            try:
                granted = await asyncio.to_thread(self.lock.acquire, ACQUIRE_WAIT)
                holder = None if granted else await asyncio.to_thread(self.lock.holder)
            except LockUnavailable as exc:
                granted, holder = False, f"unknown (PostgreSQL: {exc})"
                await asyncio.sleep(self.timing.check_interval)  # then connect again
            if granted:
                break
            self.holder = holder
            if holder != told:
                log.info("standby %s: the active controller is %s", self.node, holder)
                told = holder
        self.leadership.acquired(sent, self._monotonic())
        wait = self.timing.fence_after
        log.warning("controller %s holds the lock; acting in %.1fs", self.node, wait)
        self._watch = asyncio.create_task(self._watchdog(), name="leader-watchdog")
        while not self.leadership.ready_to_start(self._monotonic()):
            if self.role is not Role.STARTING:
                raise LostLock(self.leadership.lost_reason)
            await asyncio.sleep(0.05)

    def started(self) -> None:
        self.leadership.started()
        self.active_since = time.time()
        self.holder = self.node

    async def _watchdog(self) -> None:
        while self.leadership.may_hold():
            sent = self._monotonic()
            try:
                held = await asyncio.wait_for(
                    asyncio.to_thread(self.lock.held), self.timing.fence_after
                )
                self.leadership.checked(sent, Check.HELD if held else Check.GONE)
            except TimeoutError:
                self.leadership.checked(sent, Check.FAILED, "lock check unanswered")
            except LockUnavailable as exc:
                self.leadership.checked(sent, Check.FAILED, f"lock session lost: {exc}")
            if not self.leadership.may_hold():
                break
            await asyncio.sleep(max(0.0, sent + self.timing.check_interval - self._monotonic()))
        reason = self.leadership.lost_reason
        log.error("controller %s lost the lock (%s): it stops acting now", self.node, reason)
        for callback in self._lost:
            callback(reason)

    async def stop(self) -> None:
        """Give the lock up (the process ends, or it was lost)."""
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
        if self.role is not Role.FENCED:
            self.leadership.lose("stopped")
        await asyncio.to_thread(self.lock.release)


class LostLock(Exception):
    """The lock was lost before this controller started acting."""
