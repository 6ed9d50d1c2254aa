"""The dial-time check: DNC, calling hours in the lead's zone, campaign windows, quiet period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.adapters.db.models import DialAttemptRow
from callcenter.core.outbound.compliance import (
    AUDIT_TIME_LENGTH,
    DialCheck,
    LeadFacts,
    campaign_scope,
    check_dial,
    hours_verdict,
)
from callcenter.core.outbound.settings import CampaignSettings, load_settings
from callcenter.core.outbound.zones import lead_zones

NY = ZoneInfo("America/New_York")
NY_NUMBER = "+12125550100"  # Manhattan
LA_NUMBER = "+13105550100"  # Los Angeles
LONDON_NUMBER = "+442079460000"
EVERY_DAY = {day: ["08:00-21:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
OPEN = load_settings({"windows": EVERY_DAY, "default_timezone": "Europe/Paris"})


def at(zone: ZoneInfo | str, year: int, month: int, day: int, hour: int, minute: int) -> float:
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    return datetime(year, month, day, hour, minute, tzinfo=tz).timestamp()


def check(
    number: str = NY_NUMBER,
    now: float | None = None,
    *,
    rules: CampaignSettings = OPEN,
    listed_in: tuple[str, ...] = (),
    timezone: str = "",
    abandoned: float | None = None,
    reserved: bool = False,
) -> DialCheck:
    return check_dial(
        LeadFacts(number, timezone, abandoned),
        rules,
        campaign="spring",
        listed_in=listed_in,
        now=at(NY, 2026, 11, 24, 12, 0) if now is None else now,
        agent_reserved=reserved,
    )


# -- do not call ---------------------------------------------
def test_clear_number_inside_hours_may_be_dialled() -> None:
    result = check()
    assert result.ok and result.reason == "ok"
    assert result.dnc_check == "clear" and result.hours_check == "inside"
    assert result.zones.zones == ("America/New_York",) and result.zones.source == "number"
    assert result.next_allowed_at == at(NY, 2026, 11, 24, 12, 0)


def test_site_dnc_blocks_and_is_never_allowed_later() -> None:
    result = check(listed_in=("site",))
    assert not result.ok and result.reason == "dnc-site" and result.dnc_check == "listed-site"
    assert result.next_allowed_at is None
    assert result.hours_check == "inside"  # still checked, for the audit row


def test_campaign_dnc_blocks_only_its_own_campaign() -> None:
    assert check(listed_in=(campaign_scope("spring"),)).reason == "dnc-campaign"
    assert check(listed_in=(campaign_scope("autumn"),)).ok


def test_number_is_normalised_before_anything() -> None:
    result = check("(212) 555-0100")
    assert result.ok and result.number == NY_NUMBER


def test_bad_number_is_refused_with_the_reason() -> None:
    result = check("12ab")
    assert result.reason == "bad-number" and "not a phone number" in result.detail
    assert result.dnc_check == "not-checked" and result.next_allowed_at is None


# -- calling hours in the lead's own time --------------------------------------------------------
def test_lead_in_another_zone_is_dialled_inside_its_own_window() -> None:
    # 22:30 in New York is 19:30 in Los Angeles.
    now = at(NY, 2026, 11, 24, 22, 30)
    new_york, los_angeles = check(NY_NUMBER, now), check(LA_NUMBER, now)
    assert new_york.reason == "outside-calling-hours"
    assert new_york.local_time.hour == 22
    assert los_angeles.ok and los_angeles.local_time.hour == 19
    assert new_york.next_allowed_at == at(NY, 2026, 11, 25, 8, 0)


def test_early_morning_waits_for_eight_local() -> None:
    result = check(LONDON_NUMBER, at("Europe/London", 2026, 11, 24, 7, 59))
    assert result.reason == "outside-calling-hours"
    assert result.next_allowed_at == at("Europe/London", 2026, 11, 24, 8, 0)
    assert "Europe/London" in result.zones.zones


def test_the_leads_own_zone_wins_over_the_numbers() -> None:
    now = at(NY, 2026, 11, 24, 22, 30)
    assert check(NY_NUMBER, now, timezone="America/Los_Angeles").ok
    assert check(NY_NUMBER, now, timezone="America/Los_Angeles").zones.source == "lead"


def test_unknown_lead_zone_is_said_and_the_number_used() -> None:
    zones = lead_zones("Mars/Olympus", NY_NUMBER, "UTC")
    assert zones.zones == ("America/New_York",) and "Mars/Olympus" in zones.note


def test_unknown_number_zone_falls_back_to_the_campaign_default_and_says_so() -> None:
    zones = lead_zones("", "+80012345678", "Europe/Paris")  # international freephone
    assert zones.source == "campaign-default" and zones.zones == ("Europe/Paris",)
    assert "campaign default" in zones.describe()


def test_area_code_with_two_zones_must_be_inside_hours_in_both() -> None:
    # Alaska's 907 covers Anchorage and Adak (an hour behind): 08:30 Anchorage is 07:30 Adak.
    zones = lead_zones("", "+19075550100", "UTC")
    assert set(zones.zones) == {"America/Anchorage", "America/Adak"}
    result = check("+19075550100", at("America/Anchorage", 2026, 11, 24, 8, 30))
    assert result.reason == "outside-calling-hours"
    assert result.local_time.tzinfo == ZoneInfo("America/Adak")
    assert result.next_allowed_at == at("America/Adak", 2026, 11, 24, 8, 0)


def test_campaign_window_by_weekday() -> None:
    rules = load_settings({})  # default windows: Mon-Fri 09-20, Sat 10-17, no Sunday
    sunday_noon = at(NY, 2026, 11, 29, 12, 0)
    result = check(now=sunday_noon, rules=rules)
    assert result.reason == "outside-campaign-window"
    assert result.next_allowed_at == at(NY, 2026, 11, 30, 9, 0)  # Monday 09:00
    assert check(now=at(NY, 2026, 11, 28, 16, 59), rules=rules).ok  # Saturday
    assert not check(now=at(NY, 2026, 11, 28, 17, 0), rules=rules).ok


def test_spring_forward_day_opens_at_eight_local() -> None:
    # 2027-03-14: US clocks go from 02:00 EST to 03:00 EDT.
    result = check(now=at(NY, 2027, 3, 14, 1, 30))
    opened = datetime.fromtimestamp(result.next_allowed_at or 0, NY)
    assert (opened.hour, opened.minute, opened.utcoffset()) == (8, 0, timedelta(hours=-4))


def test_empty_windows_mean_never() -> None:
    rules = load_settings({"windows": {}})
    assert check(rules=rules).next_allowed_at is None


# -- quiet period after an abandoned call ---------------------------------------------
def test_abandoned_lead_waits_out_the_quiet_period() -> None:
    now = at(NY, 2026, 11, 24, 12, 0)
    result = check(now=now, abandoned=now - 3600)
    assert result.reason == "quiet-period" and result.hours_check == "inside"
    assert result.quiet_until == now - 3600 + 72 * 3600
    assert result.next_allowed_at == result.quiet_until  # 11:00 three days on is inside hours
    assert result.audit()["hours_check"] == "quiet-period"


def test_quiet_period_over_or_agent_reserved() -> None:
    now = at(NY, 2026, 11, 24, 12, 0)
    assert check(now=now, abandoned=now - 73 * 3600).ok
    assert check(now=now, abandoned=now - 3600, reserved=True).ok


def test_quiet_period_ending_at_night_waits_for_morning() -> None:
    now = at(NY, 2026, 11, 24, 12, 0)
    abandoned = at(NY, 2026, 11, 23, 23, 0) - 72 * 3600 + 3600 * 24  # quiet until 24th 23:00
    result = check(now=now, abandoned=abandoned)
    assert result.reason == "quiet-period"
    assert result.next_allowed_at == at(NY, 2026, 11, 25, 8, 0)


# -- the audit row ---------------------------------------------
def test_audit_fields_are_columns_of_the_attempts_table_and_fit() -> None:
    result = check("+19075550100", at(NY, 2026, 11, 24, 12, 0))
    fields = result.audit()
    columns = {c.name: c for c in DialAttemptRow.__table__.columns}
    for name, value in fields.items():
        assert name in columns
        length = getattr(columns[name].type, "length", None)
        assert length is None or len(str(value)) <= length
    assert len(result.audit_local_time) <= AUDIT_TIME_LENGTH
    assert result.audit_local_time.startswith("2026-11-24T")


# -- properties ---------------------------------------------
ZONES = ["America/New_York", "America/Los_Angeles", "Europe/London", "Asia/Kolkata"]
NOW = st.floats(min_value=at("UTC", 2026, 1, 1, 0, 0), max_value=at("UTC", 2028, 1, 1, 0, 0))


@settings(max_examples=300, deadline=None)
@given(now=NOW, zone_name=st.sampled_from(ZONES))
def test_a_dial_allowed_is_inside_the_window_in_local_time(now: float, zone_name: str) -> None:
    rules = load_settings({})
    result = check(now=now, rules=rules, timezone=zone_name)
    local = datetime.fromtimestamp(now, ZoneInfo(zone_name))
    minute = local.hour * 60 + local.minute
    weekday_ok = local.weekday() < 5 and 9 * 60 <= minute < 20 * 60
    saturday_ok = local.weekday() == 5 and 10 * 60 <= minute < 17 * 60
    assert result.ok == (weekday_ok or saturday_ok)


@settings(max_examples=200, deadline=None)
@given(now=NOW, zone_name=st.sampled_from(ZONES), quiet=st.floats(0, 100 * 3600))
def test_next_allowed_is_allowed_and_nothing_earlier_is(
    now: float, zone_name: str, quiet: float
) -> None:
    rules = load_settings({})
    abandoned = now - 72 * 3600 + quiet
    result = check(now=now, rules=rules, timezone=zone_name, abandoned=abandoned)
    assert result.next_allowed_at is not None and result.next_allowed_at >= now
    later = check(now=result.next_allowed_at, rules=rules, timezone=zone_name, abandoned=abandoned)
    assert later.ok
    step = 600.0
    probe = now
    while probe < result.next_allowed_at - 1:
        zones = lead_zones(zone_name, "", "UTC")
        inside = hours_verdict(zones, rules, probe)[0] == "inside"
        assert not (inside and probe >= abandoned + 72 * 3600)
        probe += step


@pytest.mark.parametrize("when", [datetime(2026, 11, 24, 17, 0, tzinfo=UTC)])
def test_local_time_is_the_leads_wall_clock(when: datetime) -> None:
    result = check(LONDON_NUMBER, when.timestamp())
    assert result.local_time.utcoffset() == timedelta(0) and result.local_time.hour == 17
