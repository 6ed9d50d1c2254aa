"""May this lead's number be dialled now? The one check before every outbound dial.

Rules, all in the callee's local time and all recorded for the audit row:
- the dial policy (core/dial_policy.py): countries, number types, networks;
- do-not-call: the site's list and the campaign's own (scopes "site" and
  "campaign:<name>"); numbers compared in E.164 form;
- calling hours: the law's window (TCPA 08:00-21:00 by default) and the
  campaign's own windows per weekday, in every zone the lead may be in
  (``zones.lead_zones``);
- quiet period: no redial of a lead whose last call was abandoned within the
  campaign's quiet period, unless an agent is already on the line for it
  (preview, callbacks): Ofcom's "guaranteed agent".

Every rule is evaluated even when an earlier one fails, so the audit row
always says what each check found. Pure: the clock and the DNC look-up
result come in as arguments.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from callcenter.core.dial_policy import DialRules, check_number
from callcenter.core.dial_policy import Reason as PolicyReason
from callcenter.core.hours import WEEKDAYS, Window
from callcenter.core.outbound.numbers import BadNumber, normalise
from callcenter.core.outbound.settings import CampaignSettings
from callcenter.core.outbound.zones import LeadZones, lead_zones, zone

Reason = Literal[
    "ok",
    "bad-number",
    "dial-policy",
    "dnc-site",
    "dnc-campaign",
    "quiet-period",
    "outside-calling-hours",
    "outside-campaign-window",
]
HoursCheck = Literal["inside", "outside-calling-hours", "outside-campaign-window"]
DncCheck = Literal["clear", "listed-site", "listed-campaign", "not-checked"]
SITE_SCOPE = "site"
LOOKAHEAD_DAYS = 8  # a week of windows, plus the day we are in
AUDIT_TIME_LENGTH = 40  # dial_attempts.lead_local_time


def campaign_scope(campaign: str) -> str:
    return f"campaign:{campaign}"


@dataclass(frozen=True, slots=True)
class LeadFacts:
    """What the check needs to know about a lead."""

    number: str
    timezone: str = ""
    last_abandoned_at: float | None = None


@dataclass(frozen=True, slots=True)
class DialCheck:
    ok: bool
    reason: Reason  # the first rule that forbids the dial, in the order of the module docstring
    detail: str  # a sentence for people
    number: str  # E.164 (the raw text when it is not a valid number)
    zones: LeadZones
    local_time: datetime  # the lead's wall clock (the deciding zone's, with its offset)
    dnc_check: DncCheck
    hours_check: HoursCheck
    quiet_until: float | None  # end of the quiet period, when one applies now
    next_allowed_at: float | None  # earliest time the hours and quiet rules allow; None: never
    policy: PolicyReason | None = None  # the dial policy's reason, when it refused

    @property
    def audit_local_time(self) -> str:
        """ISO time with offset and zone abbreviation, e.g. '2026-11-24T09:15-05:00 EST'."""
        stamp = self.local_time.isoformat(timespec="minutes")
        return f"{stamp} {self.local_time.tzname() or ''}".strip()[:AUDIT_TIME_LENGTH]

    def audit(self) -> dict[str, Any]:
        """The dial_attempts columns this check fills in."""
        return {
            "number": self.number,
            "lead_local_time": self.audit_local_time,
            "dnc_check": self.dnc_check,
            "hours_check": self.hours_check if self.reason != "quiet-period" else "quiet-period",
            "dialled": False,
        }


def check_dial(
    lead: LeadFacts,
    settings: CampaignSettings,
    *,
    campaign: str,
    listed_in: Collection[str],
    now: float,
    agent_reserved: bool = False,
    rules: DialRules | None = None,
) -> DialCheck:
    """Decide for one lead at ``now`` (epoch seconds).

    ``listed_in`` holds the DNC scopes that list the lead's number (the caller
    looks the E.164 number up); scopes of other campaigns are ignored. ``rules``: the
    dial policy's (None: not checked here).
    """
    number, number_error = _number(lead.number, settings.default_region)
    policy = None
    if rules is not None and not number_error:
        policy = check_number(number, settings.default_region, rules)
    zones = lead_zones(lead.timezone, number, settings.default_timezone)
    dnc = _dnc(listed_in, campaign) if not number_error else "not-checked"
    hours, deciding_zone = hours_verdict(zones, settings, now)
    quiet_until = _quiet_until(lead, settings, now, agent_reserved)
    local = datetime.fromtimestamp(now, zone(deciding_zone))
    refused = policy.detail if policy is not None and not policy.ok else ""
    reason, detail = _first_failure(
        number_error, refused, dnc, quiet_until, hours, zones, local, campaign
    )
    never = reason in ("bad-number", "dial-policy", "dnc-site", "dnc-campaign")
    return DialCheck(
        ok=reason == "ok",
        reason=reason,
        detail=detail,
        number=number,
        zones=zones,
        local_time=local,
        dnc_check=dnc,
        hours_check=hours,
        quiet_until=quiet_until,
        next_allowed_at=None if never else next_allowed(zones, settings, now, quiet_until),
        policy=policy.reason if policy is not None else None,
    )


def _number(raw: str, region: str) -> tuple[str, str]:
    try:
        return normalise(raw, region), ""
    except BadNumber as exc:
        return raw.strip()[:24], str(exc)


def _dnc(listed_in: Collection[str], campaign: str) -> DncCheck:
    if SITE_SCOPE in listed_in:
        return "listed-site"
    if campaign_scope(campaign) in listed_in:
        return "listed-campaign"
    return "clear"


def _quiet_until(
    lead: LeadFacts, settings: CampaignSettings, now: float, agent_reserved: bool
) -> float | None:
    if agent_reserved or lead.last_abandoned_at is None:
        return None
    until = lead.last_abandoned_at + settings.quiet_seconds
    return until if until > now else None


def _first_failure(
    number_error: str,
    refused: str,
    dnc: DncCheck,
    quiet_until: float | None,
    hours: HoursCheck,
    zones: LeadZones,
    local: datetime,
    campaign: str,
) -> tuple[Reason, str]:
    clock = f"{local:%a %H:%M} {local.tzname()} in {zones.describe()}"
    if number_error:
        return "bad-number", number_error
    if refused:
        return "dial-policy", refused
    if dnc == "listed-site":
        return "dnc-site", "the number is on the site's do-not-call list"
    if dnc == "listed-campaign":
        return "dnc-campaign", f"the number is on campaign {campaign}'s do-not-call list"
    if quiet_until is not None:
        when = datetime.fromtimestamp(quiet_until, UTC).isoformat(timespec="minutes")
        return "quiet-period", f"the last call to this lead was abandoned; quiet until {when}"
    if hours == "outside-calling-hours":
        return hours, f"outside the legal calling hours: {clock}"
    if hours == "outside-campaign-window":
        return hours, f"outside the campaign's calling windows: {clock}"
    return "ok", f"may dial: {clock}"


# -- hours ------------------------------------------------------------------------------------
def hours_verdict(
    zones: LeadZones, settings: CampaignSettings, at: float
) -> tuple[HoursCheck, str]:
    """Inside hours in every zone? Returns the verdict and the zone that decided it."""
    for name in zones.zones:
        verdict = _zone_verdict(datetime.fromtimestamp(at, zone(name)), settings)
        if verdict != "inside":
            return verdict, name
    return "inside", zones.zones[0]


def _zone_verdict(local: datetime, settings: CampaignSettings) -> HoursCheck:
    minute = local.hour * 60 + local.minute + local.second / 60
    if not _inside(settings.calling_hours, minute):
        return "outside-calling-hours"
    windows = settings.windows.get(WEEKDAYS[local.weekday()], ())
    if not any(_inside(w, minute) for w in windows):
        return "outside-campaign-window"
    return "inside"


def _inside(window: Window, minute: float) -> bool:
    return window.start <= minute < window.end


def next_allowed(
    zones: LeadZones, settings: CampaignSettings, now: float, quiet_until: float | None
) -> float | None:
    """The earliest instant >= now at which hours and quiet period both allow a dial.

    The allowed times are an intersection of unions of windows, so the first of
    them is ``now``, the quiet period's end, or some window's opening: try those
    in order. (A window opening inside a spring-forward gap is tried an hour
    late: later, never earlier, than the law allows.)
    """
    earliest = max(now, quiet_until or now)
    candidates = _candidates(zones, settings, now) | {earliest}
    for at in sorted(c for c in candidates if c >= earliest):
        if hours_verdict(zones, settings, at)[0] == "inside":
            return at
    return None


def _candidates(zones: LeadZones, settings: CampaignSettings, now: float) -> set[float]:
    found: set[float] = set()
    for name in zones.zones:
        tz = zone(name)
        first = datetime.fromtimestamp(now, tz).date()
        for offset in range(LOOKAHEAD_DAYS + 1):
            day = first + timedelta(days=offset)
            windows = settings.windows.get(WEEKDAYS[day.weekday()], ())
            for start in {settings.calling_hours.start, *(w.start for w in windows)}:
                found.add(_local_instant(day, start, name))
    return found


def _local_instant(day: date, minutes: int, name: str) -> float:
    wall = datetime.combine(day, time(), tzinfo=zone(name)) + timedelta(minutes=minutes)
    return wall.timestamp()
