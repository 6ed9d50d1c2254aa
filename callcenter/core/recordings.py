"""Recordings as stored, the console's search filter, and an agent's calls with theirs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Recording:
    id: int
    call_id: str
    agent: str
    queue: str
    caller_number: str
    path: str
    started_at: float
    ended_at: float | None
    mutes: list[list[float | None]]

    @property
    def duration(self) -> float | None:
        return None if self.ended_at is None else max(0.0, self.ended_at - self.started_at)


@dataclass(frozen=True, slots=True)
class RecordingFilter:
    since: float | None = None  # started at or after (epoch seconds)
    until: float | None = None  # started before
    agent: str = ""
    queue: str = ""
    caller: str = ""  # part of the caller's number


@dataclass(frozen=True, slots=True)
class AgentCall:
    call_id: str
    entered_at: float
    answered_at: float | None
    ended_at: float | None
    caller_number: str
    caller_name: str
    queue: str
    outcome: str
    wait_seconds: float | None
    talk_seconds: float | None
    disposition: str
    recording_id: int | None
