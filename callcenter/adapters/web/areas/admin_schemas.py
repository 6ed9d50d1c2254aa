"""What the admin API takes and gives (pydantic, shown in the OpenAPI document).

Items are validated here field by field; whether a change fits the rest of
the site (a skill nobody defined, a queue a flow names) is the admin
service's whole-site check.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from callcenter.services.site import AgentEntry

NUMBER = r"^[A-Za-z0-9+*#_-]{1,32}$"
SCHEDULE_NAME = r"^[A-Za-z0-9_-]{1,64}$"
USERNAME = r"^[A-Za-z0-9_.@-]{1,32}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- results ---------------------------------------------------------------------------
class Applied(BaseModel):
    applied: bool = Field(
        description="the controller reloaded: the change is live (Asterisk and routing)"
    )
    warning: str = Field("", description="why it is saved but not live yet, if it is not")


# -- agents ----------------------------------------------------------------------------
class AgentIn(AgentEntry):
    """An agent: the SIP account (username, password: see AgentEntry) and skill levels 1-5."""


class AgentOut(BaseModel):
    username: str
    name: str
    extension: str
    active: bool
    static_contact: str
    skills: dict[str, int]


class AgentList(BaseModel):
    agents: list[AgentOut]


class AgentSaved(Applied):
    agent: AgentOut
    password: str = Field(description="the SIP password if it was set or generated (shown once)")


class ActiveIn(_In):
    active: bool


# -- skills ----------------------------------------------------------------------------
class SkillIn(_In):
    description: str = Field("", max_length=120)


class SkillOut(BaseModel):
    name: str
    description: str
    agents: int = Field(description="agents who have it")
    queues: list[str] = Field(description="queues that ask for it")


class SkillList(BaseModel):
    skills: list[SkillOut]


class SkillSaved(Applied):
    skill: SkillOut


# -- queues, schedules, flows ----------------------------------------------------------
class QueueList(BaseModel):
    queues: list[dict[str, Any]] = Field(description="queue documents, as stored")


class QueueSaved(Applied):
    queue: dict[str, Any]


class ScheduleIn(_In):
    document: dict[str, Any] = Field(
        description="timezone, weekly windows, country/subdivision holidays, closed dates, "
        "special dates"
    )


class ScheduleOut(BaseModel):
    name: str
    document: dict[str, Any]


class ScheduleList(BaseModel):
    schedules: list[ScheduleOut]


class ScheduleSaved(Applied):
    schedule: ScheduleOut


class PreviewQuery(_In):
    days: int = Field(14, ge=1, le=60, description="how many days ahead, from today")


class PreviewDay(BaseModel):
    day: str = Field(description="YYYY-MM-DD in the schedule's time zone")
    windows: list[str] = Field(description="opening windows; none: closed all day")
    holiday: str = Field(description="public holiday's name, 'closed' (extra date) or empty")
    special: bool = Field(description="special hours replace the week's on this date")


class SchedulePreview(BaseModel):
    name: str
    timezone: str
    open_now: bool
    next_change: str | None = Field(description="when it next opens or closes (local time)")
    days: list[PreviewDay]


class FlowIn(_In):
    document: dict[str, Any] = Field(description="the IVR flow: start node and nodes")
    numbers: list[str] = Field([], max_length=100, description="dialled numbers that start it")

    @field_validator("numbers")
    @classmethod
    def _numbers(cls, numbers: list[str]) -> list[str]:
        for number in numbers:
            if not re.fullmatch(NUMBER, number):
                raise ValueError(f"bad number {number!r} (digits, + * # _ -; up to 32)")
        if len(set(numbers)) != len(numbers):
            raise ValueError("a number is listed twice")
        return numbers


class FlowOut(BaseModel):
    name: str
    document: dict[str, Any]
    numbers: list[str]


class FlowList(BaseModel):
    flows: list[FlowOut]


class FlowSaved(Applied):
    flow: FlowOut


# -- console users ---------------------------------------------------------------------
class UserOut(BaseModel):
    username: str
    role: str
    agent: str
    active: bool


class UserList(BaseModel):
    users: list[UserOut]


class UserSaved(BaseModel):
    user: UserOut
    password: str = Field("", description="the password if it was set or generated (shown once)")


class PasswordIn(_In):
    password: str = Field("", max_length=200, description="empty: one is generated")
