"""Which controller acts: the role of one controller of an active/standby pair.

PostgreSQL decides who is active (a session-level advisory lock held on a
connection of its own: adapters/db/leader_lock.py); this table decides what one
controller may do with what it last heard from PostgreSQL. Choices:

- **Only a confirmed lock acts.** The active controller checks its lock every
  ``check_interval`` seconds; it may act (route a call, place an Originate, tell
  the dialplan it is alive) only while its last confirmation is younger than
  ``fence_after``. A confirmation is dated when its check was *sent*, so a
  controller paused (a stopped process, a frozen VM) wakes up fenced and acts
  again only after a fresh check says the lock is still its own.
- **Losing is final.** A check that fails, says the lock is gone, or does not
  answer within ``fence_after`` makes the controller ``FENCED``: it stops acting
  and ends (the service restarts it as a standby). A check answered late (the
  controller's own loop stalled) is not a loss: the controller only stops acting
  until a fresh check confirms the lock. It never becomes active again
  on the same lock session: another controller may have acted meanwhile.
- **A new active controller waits ``fence_after`` before acting.** Any old
  leader's last confirmation was sent before the lock was released, so it is
  stale by then whatever that leader believes. Both durations are measured on
  each machine's own monotonic clock; no clocks need to agree.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.Enum):
    STANDBY = "standby"  # waiting for the lock; acts on nothing
    STARTING = "starting"  # holds the lock, waits out fence_after, then rebuilds its view
    ACTIVE = "active"
    FENCED = "fenced"  # lost the lock: acts on nothing, ends


class Check(enum.Enum):
    """What a check of the lock said."""

    HELD = "held"
    GONE = "gone"  # the lock is no longer this session's
    FAILED = "failed"  # the check itself failed (connection lost, timeout)


@dataclass(frozen=True)
class Timing:
    check_interval: float = 0.5
    fence_after: float = 1.5

    def __post_init__(self) -> None:
        if not 0 < self.check_interval < self.fence_after:
            raise ValueError("check_interval must be positive and below fence_after")


@dataclass
class Leadership:
    """One controller's role, moved only by the methods below (times: monotonic)."""

    timing: Timing
    role: Role = Role.STANDBY
    acquired_at: float | None = None
    confirmed_at: float | None = None  # when the last successful check was sent
    lost_reason: str = ""

    def acquired(self, sent_at: float, now: float) -> None:
        """The lock was granted to a try sent at ``sent_at`` and answered by ``now``."""
        if self.role is not Role.STANDBY:
            raise ValueError(f"the lock acquired while {self.role.value}")
        self.role = Role.STARTING
        self.acquired_at = now  # at or after the grant: the wait counts from here
        self.confirmed_at = sent_at

    def ready_to_start(self, now: float) -> bool:
        """True once an old leader's confirmation must have expired."""
        return (
            self.role is Role.STARTING
            and self.acquired_at is not None
            and now - self.acquired_at >= self.timing.fence_after
        )

    def started(self) -> None:
        if self.role is not Role.STARTING:
            raise ValueError(f"started while {self.role.value}")
        self.role = Role.ACTIVE

    def checked(self, sent_at: float, result: Check, reason: str = "") -> None:
        """The outcome of a check sent at ``sent_at``."""
        if self.role not in (Role.STARTING, Role.ACTIVE):
            return  # a late answer to a check of a lock already lost or never held
        if result is Check.HELD:
            if self.confirmed_at is None or sent_at > self.confirmed_at:
                self.confirmed_at = sent_at
            return
        self.lose(reason or f"lock check: {result.value}")

    def lose(self, reason: str) -> None:
        if self.role is Role.FENCED:
            return
        self.role = Role.FENCED
        self.lost_reason = reason

    def may_hold(self) -> bool:
        """Still holding the lock, as far as this controller knows (starting or active)."""
        return self.role in (Role.STARTING, Role.ACTIVE)

    def may_act(self, now: float) -> bool:
        """May this controller route, dial or signal now?"""
        return (
            self.role is Role.ACTIVE
            and self.confirmed_at is not None
            and now - self.confirmed_at <= self.timing.fence_after
        )
