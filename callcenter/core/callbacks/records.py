"""Callbacks as stored: a callback, one to book, and one dial attempt's audit entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PENDING = ("pending", "dialing")  # the statuses of a callback still to be carried out


@dataclass(frozen=True, slots=True)
class Callback:
    id: int
    kind: str  # keep-place | scheduled
    origin_call_id: str
    queue: str
    number: str
    priority: int
    extra: dict[str, int]
    data: dict[str, str]
    requested_at: float
    enqueued_at: float
    due_at: float
    attempts: int
    max_attempts: int
    status: str
    booked_by: str = ""
    last_outcome: str = ""
    notes: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class NewCallback:
    kind: str
    queue: str
    number: str
    requested_at: float
    enqueued_at: float
    due_at: float
    max_attempts: int
    origin_call_id: str = ""
    priority: int = 0
    extra: dict[str, int] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)
    booked_by: str = ""
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One dial attempt (or a refusal to dial), for the audit table."""

    callback_id: int
    call_id: str
    number: str
    at: float
    local_time: str
    dnc_check: str
    hours_check: str
    dialled: bool
