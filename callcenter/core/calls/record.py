"""A call's stored record (the ``calls`` table): its life summarised, as last written.

The live call is ``LiveCall`` (core/calls/live.py); this is what remains of it,
read back after a restart (recovery), for the desktop's history, or written
by the dialer when it places a call. Defaults are those of a new record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class CallRecord:
    id: str
    unique_id: str
    entered_at: float
    direction: str = "inbound"
    caller_number: str = ""
    caller_name: str = ""
    dialled: str = ""
    flow: str = ""
    ivr_path: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)
    customer_id: int | None = None
    queue: str = ""
    priority: int = 0
    requirements: dict[str, Any] = field(default_factory=dict)
    enqueued_at: float | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    agent: str = ""
    outcome: str = ""
    offers: int = 0
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    wrapup_seconds: float | None = None
    disposition: str = ""
    notes: str = ""
    node: str = ""  # the Asterisk node the caller (customer) is on; '' on one box
