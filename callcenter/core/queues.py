"""A queue's settings as administrators write them, validated (pure).

The routing part becomes the ACD core's QueueConfig; the rest (what the
waiting caller hears, overflow, business hours) is used by the services.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from callcenter.core.acd.model import QueueConfig, RelaxStep, Strategy
from callcenter.core.acd.waits import DEFAULT_EXPECTED_TALK
from callcenter.core.callbacks.policy import CallbackSettings
from callcenter.core.survey import SurveySettings

NAME = r"^[a-z][a-z0-9_-]{0,31}$"
SOUND = r"^[A-Za-z0-9_][A-Za-z0-9_/-]{0,79}$"
# A queue name or a voicemail box: both go into Asterisk configuration and dialplan as is.
TARGET = r"^$|^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"

Levels = dict[str, int]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_levels(levels: Levels) -> Levels:
    for skill, level in levels.items():
        if not 1 <= level <= 5:
            raise ValueError(f"skill {skill!r}: level {level} is not between 1 and 5")
    return levels


class Relax(_Strict):
    after: float = Field(gt=0, description="seconds of waiting after which this step applies")
    requirements: Levels = {}

    _levels = field_validator("requirements")(_check_levels)


class Overflow(_Strict):
    """Where a caller goes: another queue, a voicemail box, or a goodbye."""

    action: Literal["queue", "voicemail", "hangup"] = "voicemail"
    target: str = Field("", pattern=TARGET)
    prompt: str = Field("", pattern=r"^$|^" + SOUND[1:])

    @model_validator(mode="after")
    def _target(self) -> Overflow:
        if self.action in ("queue", "voicemail") and not self.target:
            raise ValueError(f"overflow to {self.action} needs a target")
        return self


FEW_MINUTES: Literal["few_minutes"] = "few_minutes"
# What a caller is told of the wait: a number of minutes, "a few minutes", or nothing.
SpokenWait = int | Literal["few_minutes"] | None
TELL_MINUTES_FROM = 60.0  # seconds: shorter waits are not spoken (the position is)


class Announce(_Strict):
    on_entry: bool = True
    # Seconds between announcements while waiting; 0 turns periodic ones off.
    interval: float = Field(45.0, ge=0)
    position: bool = True
    estimate: bool = True
    # When the estimate is one the product would not stand by (too few calls measured,
    # too uncertain, nobody staffed): say nothing of the wait, or play
    # ``few_minutes_prompt`` (the site's own, e.g. "your wait may be a few minutes").
    unreliable: Literal["nothing", "few_minutes"] = "nothing"
    few_minutes_prompt: str = Field("", pattern=r"^$|^" + SOUND[1:])

    @model_validator(mode="after")
    def _few_minutes_said_somehow(self) -> Announce:
        if self.unreliable == FEW_MINUTES and not self.few_minutes_prompt:
            raise ValueError("unreliable = 'few_minutes' needs a few_minutes_prompt to play")
        return self


def spoken_wait(announce: Announce, seconds: float | None, reliable: bool) -> SpokenWait:
    """What the caller hears of an estimate: whole minutes, "a few minutes", or nothing."""
    if not announce.estimate:
        return None
    if not reliable or seconds is None:
        return FEW_MINUTES if announce.unreliable == "few_minutes" else None
    if seconds < TELL_MINUTES_FROM:
        return None
    return max(1, round(seconds / 60))


class QueueSettings(_Strict):
    name: str = Field(pattern=NAME)
    requirements: Levels = {}
    strategy: Strategy = Strategy.LONGEST_IDLE
    weight: float = Field(1.0, gt=0)
    relax: list[Relax] = []
    default_priority: int = Field(0, ge=0, le=100)
    wrapup: float = Field(0.0, ge=0, le=3600)
    # Typical talk time, seconds: what wait estimates assume until calls are measured.
    expected_talk: float = Field(DEFAULT_EXPECTED_TALK, gt=0, le=36000)
    ring_timeout: float = Field(15.0, ge=5, le=120)
    service_level_target: float = Field(20.0, gt=0)
    # A caller back in this queue within this many hours of an answered call is a
    # repeat contact: that call did not resolve it (core/repeat_contacts.py).
    repeat_window_hours: float = Field(168.0, gt=0, le=24 * 90)
    max_wait: float | None = Field(None, gt=0)
    on_max_wait: Overflow = Overflow(action="hangup", prompt="vm-nobodyavail")
    # Nobody logged in with the needed skills: announce and go elsewhere, never an endless wait.
    on_unstaffed: Overflow = Overflow(action="hangup", prompt="vm-nobodyavail")
    schedule: str = ""
    on_closed: Overflow = Overflow(action="hangup", prompt="vm-nobodyavail")
    # Stop taking new callers this many seconds before closing.
    closing_margin: float = Field(0.0, ge=0)
    moh: str = Field("default", pattern=r"^[A-Za-z0-9_-]{1,32}$")
    announce: Announce = Announce()
    voicemail_box: str = Field("", pattern=TARGET)
    # Keep-my-place and scheduled callbacks (core/callbacks/policy.py).
    callback: CallbackSettings = CallbackSettings()
    # The post-call survey (core/survey.py).
    survey: SurveySettings = SurveySettings()

    _levels = field_validator("requirements")(_check_levels)

    @model_validator(mode="after")
    def _consistent(self) -> QueueSettings:
        self.to_config()  # the ACD core's own checks (relax steps may only loosen, ...)
        for overflow in (self.on_max_wait, self.on_unstaffed, self.on_closed):
            if overflow.action == "queue" and overflow.target == self.name:
                raise ValueError("a queue cannot overflow into itself")
        return self

    def voicemail_boxes(self) -> set[str]:
        """Every voicemail box this queue may send callers to."""
        overflows = (self.on_max_wait, self.on_unstaffed, self.on_closed)
        boxes = {o.target for o in overflows if o.action == "voicemail"}
        return boxes | ({self.voicemail_box} if self.voicemail_box else set())

    def to_config(self) -> QueueConfig:
        return QueueConfig(
            name=self.name,
            requirements=dict(self.requirements),
            strategy=self.strategy,
            weight=self.weight,
            relax=tuple(RelaxStep(step.after, dict(step.requirements)) for step in self.relax),
            wrapup=self.wrapup,
            ring_timeout=self.ring_timeout,
            max_wait=self.max_wait,
            service_level_target=self.service_level_target,
        )

    def sounds(self) -> list[tuple[str, str]]:
        """(field, prompt) pairs of every prompt set for this queue's callers."""
        overflows = {
            "on_max_wait": self.on_max_wait,
            "on_unstaffed": self.on_unstaffed,
            "on_closed": self.on_closed,
        }
        found = [(f"{field}.prompt", o.prompt) for field, o in overflows.items() if o.prompt]
        if self.announce.few_minutes_prompt:
            found.append(("announce.few_minutes_prompt", self.announce.few_minutes_prompt))
        found += [(f"callback.{field}", p) for field, p in self.callback.sounds()]
        return found + [(f"survey.{field}", p) for field, p in self.survey.sounds()]

    def overflow_targets(self) -> set[str]:
        return {
            o.target
            for o in (self.on_max_wait, self.on_unstaffed, self.on_closed)
            if o.action == "queue"
        }
