"""A call's segments: one per agent who talked with the caller (pure).

A call passes through queues and agents; each agent's part is a segment, from the
answer to the moment the agent is no longer on it (a transfer, or the end of the
conversation). Hold is counted inside the segment: the caller on hold is still the
agent's call, so

* hold time: the sum of the segment's holds (an unfinished hold ends with it);
* talk time: the segment's length less its hold time;
* handle time (AHT's numerator, docs in README "Call control"): talk + hold + the
  agent's wrap-up, which the agents' state log holds, not the segment.

``Holds`` keeps the running hold of the segment in progress on the live call.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Holds:
    """Holds of the segment in progress."""

    since: float | None = None  # the hold in progress began then
    seconds: float = 0.0  # finished holds, this segment
    count: int = 0

    @property
    def on_hold(self) -> bool:
        return self.since is not None

    def start(self, now: float) -> bool:
        """False when already on hold (nothing changes)."""
        if self.since is not None:
            return False
        self.since = now
        self.count += 1
        return True

    def stop(self, now: float) -> float | None:
        """The hold's length, or None when not on hold."""
        if self.since is None:
            return None
        length = max(0.0, now - self.since)
        self.seconds += length
        self.since = None
        return length

    def total(self, now: float) -> float:
        """Hold time so far, the hold in progress included."""
        running = max(0.0, now - self.since) if self.since is not None else 0.0
        return self.seconds + running


@dataclass(frozen=True, slots=True)
class Segment:
    """One agent's part of a call, finished."""

    agent: str
    queue: str
    answered_at: float
    ended_at: float
    talk: float
    hold: float
    holds: int
    reason: str  # completed | transfer-queue | transfer-agent | consult-complete | ...
    target: str = ""  # the queue or agent a transfer went to


# A consultation completed, or the agent left a three-way conference: the call went on
# with another agent, a transfer as a blind one to an agent is (services/inbound/consult.py).
CONSULT_REASONS = frozenset({"consult-complete", "conference-left"})


def is_transfer(reason: str) -> bool:
    """A segment's reason says the call went on elsewhere (counted as a transfer)."""
    return reason.startswith("transfer-") or reason in CONSULT_REASONS


def close_segment(
    agent: str,
    queue: str,
    answered_at: float,
    holds: Holds,
    now: float,
    reason: str,
    target: str = "",
) -> Segment:
    """The segment as it ends now; ``holds`` is reset for the next one."""
    holds.stop(now)
    hold = min(holds.seconds, max(0.0, now - answered_at))
    segment = Segment(
        agent=agent,
        queue=queue,
        answered_at=answered_at,
        ended_at=now,
        talk=max(0.0, now - answered_at - hold),
        hold=hold,
        holds=holds.count,
        reason=reason,
        target=target,
    )
    holds.seconds, holds.count = 0.0, 0
    return segment
