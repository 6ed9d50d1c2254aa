"""A campaign's settings document (stored as JSON in ``campaigns.settings``).

Validated on the way in (API, import) and on the way out (the dialer), so a
bad document is refused with the field named rather than dialled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
)

from callcenter.core.dial_policy import Country
from callcenter.core.hours import DAY_MINUTES, WEEKDAYS, Weekday, Window, WindowField
from callcenter.core.outbound.numbers import is_e164
from callcenter.core.outbound.zones import check_zone

Mode = Literal["preview", "progressive", "predictive"]
AmdAction = Literal["hangup", "message", "agent"]
AbandonRule = Literal["tcpa-30d", "ofcom-24h"]
ABANDON_WINDOW_SECONDS: dict[AbandonRule, float] = {
    "tcpa-30d": 30 * 86400.0,  # US TCPA: 3 % of live answers per campaign over 30 days
    "ofcom-24h": 86400.0,  # UK Ofcom: 3 % of live calls per campaign in any 24 h
}
CAMPAIGN_NAME = r"^[a-z][a-z0-9_-]{0,31}$"


class CampaignSettingsError(ValueError):
    """A settings document is wrong; the message names every bad field."""


def _same_day(window: Window) -> Window:
    if window.end > DAY_MINUTES:
        raise ValueError(f"calling window {window} runs past midnight: split it into two days")
    return window


def _caller_id(number: str) -> str:
    if number and not is_e164(number):
        raise ValueError(f"caller id {number!r} must be an E.164 number like +12125550100")
    return number


# Spoken by text to speech: one line of printable text, no control characters.
SpokenText = Annotated[str, Field(max_length=500, pattern=r"^[^\x00-\x1f\x7f]*$")]

DayWindow = Annotated[WindowField, AfterValidator(_same_day), PlainSerializer(str)]
ZoneName = Annotated[str, AfterValidator(check_zone)]


def _default_windows() -> dict[Weekday, tuple[Window, ...]]:
    weekdays = {day: (Window(9 * 60, 20 * 60),) for day in WEEKDAYS[:5]}
    return {**weekdays, "sat": (Window(10 * 60, 17 * 60),)}


class RetryRules(BaseModel):
    """When a lead is tried again after each outcome, and how often at most."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    busy_minutes: float = Field(10.0, ge=1, le=10080)
    no_answer_minutes: float = Field(60.0, ge=1, le=10080)
    machine_minutes: float = Field(240.0, ge=1, le=10080)
    failed_minutes: float = Field(30.0, ge=1, le=10080)
    # An abandoned lead is redialled no sooner than this (Ofcom: 72 h without a
    # guaranteed agent); the compliance check enforces it at dial time as well.
    abandoned_quiet_hours: float = Field(72.0, ge=0, le=720)
    max_attempts: int = Field(5, ge=1, le=100)


class CampaignSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Mode = "progressive"
    queue: str = Field("", pattern=r"^([a-z][a-z0-9_-]{0,31})?$")  # whose agents work it
    caller_id: Annotated[str, AfterValidator(_caller_id)] = ""
    default_region: str = Field("US", pattern=r"^[A-Z]{2}$")  # for numbers without a +
    # Countries whose numbers may be dialled; empty: the site's ([dial_policy]).
    allowed_countries: tuple[Country, ...] = ()
    default_timezone: ZoneName = "UTC"  # a lead whose zone cannot be known
    calling_hours: DayWindow = Window(8 * 60, 21 * 60)  # the law's hours, callee's local time
    windows: dict[Weekday, tuple[DayWindow, ...]] = Field(default_factory=_default_windows)
    abandon_cap_pct: float = Field(3.0, ge=0, le=10)
    abandon_rule: AbandonRule = "tcpa-30d"
    agent_grace_seconds: float = Field(2.0, gt=0, le=10)  # answered, no agent by then: abandoned
    amd: bool = True
    amd_action: AmdAction = "hangup"
    ring_seconds: int = Field(20, ge=15, le=120)  # TCPA: let it ring at least 15 s
    max_dial_ratio: float = Field(3.0, ge=1, le=10)  # predictive: calls per available agent
    # The [[trunks]] entry to dial through; empty: the first one with a contact.
    trunk: str = Field("", pattern=r"^([a-z][a-z0-9_-]{0,31})?$")
    # What an abandoned call hears (who called, how to opt out) and what is left on a
    # machine; empty: a text built from the campaign's name and caller id.
    identification_text: SpokenText = ""
    machine_message_text: SpokenText = ""
    retry: RetryRules = Field(default_factory=RetryRules)

    @property
    def abandon_window_seconds(self) -> float:
        return ABANDON_WINDOW_SECONDS[self.abandon_rule]

    @property
    def quiet_seconds(self) -> float:
        return self.retry.abandoned_quiet_hours * 3600.0

    def document(self) -> dict[str, Any]:
        """The JSON form stored in the database (windows as 'HH:MM-HH:MM' text)."""
        return self.model_dump(mode="json")


def load_settings(data: Mapping[str, Any], *, source: str = "campaign") -> CampaignSettings:
    try:
        return CampaignSettings.model_validate(dict(data))
    except ValidationError as exc:
        lines = [
            f"{source}: {'.'.join(str(p) for p in err['loc']) or '(top)'}: {_message(err)}"
            for err in exc.errors()
        ]
        raise CampaignSettingsError("\n".join(lines)) from None


def _message(err: Mapping[str, Any]) -> str:
    cause = err.get("ctx", {}).get("error")
    return str(cause) if isinstance(cause, Exception) else str(err["msg"])
