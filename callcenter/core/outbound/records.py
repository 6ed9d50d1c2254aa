"""Campaigns as stored: a campaign, its leads, its imports, its figures, its audit entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from callcenter.core.outbound.retry import LeadState


class CampaignExists(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    name: str
    settings: dict[str, Any]
    status: str
    created_at: float


@dataclass(frozen=True, slots=True)
class LeadImport:
    id: int
    campaign_id: int
    filename: str
    started_at: float
    finished_at: float | None
    rows: int
    good: int
    bad: int
    errors: list[Any]
    status: str
    size_bytes: int
    read_bytes: int
    encoding: str
    warning: str


@dataclass(frozen=True, slots=True)
class Figures:
    """A campaign's progress: leads by status, and attempts since a time."""

    leads: dict[str, int] = field(default_factory=dict)
    attempts: int = 0
    dialled: int = 0
    live_answered: int = 0
    connected: int = 0
    abandoned: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LeadRecord:
    id: int
    campaign_id: int
    phone: str
    first_name: str
    last_name: str
    account: str
    timezone: str
    data: dict[str, Any]
    state: LeadState

    @property
    def attempts(self) -> int:
        return self.state.attempts


@dataclass(frozen=True, slots=True)
class NewDialAttempt:
    """One dial attempt's audit entry (dial_attempts), or a refusal to dial; the
    check's fields (compliance.DialCheck.audit) are named as its own."""

    campaign_id: int
    lead_id: int
    call_id: str
    at: float
    number: str
    lead_local_time: str = ""
    dnc_check: str = ""
    hours_check: str = ""
    dialled: bool = False
    outcome: str = ""


@dataclass(frozen=True, slots=True)
class DialSample:
    dials: int  # placed and over (an outcome written): a call still on is not counted yet
    connects: int  # answered by a person (connected or abandoned)
    abandoned: int
    mean_answer_seconds: float | None
    mean_handle_seconds: float | None
    handle_times: tuple[float, ...] = ()  # the most recent handles (talk + wrap-up), newest first
    # The most recent dials that are over, newest first: (seconds from dialling until
    # answered, or until the call ended unanswered; whether it needed an agent).
    resolved: tuple[tuple[float, bool], ...] = ()
