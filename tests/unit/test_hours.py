"""Business hours: windows, holidays, time zones and DST, pure and fast."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.core.hours import (
    Schedule,
    ScheduleError,
    Window,
    closes_in,
    is_holiday,
    is_open,
    load_schedule,
    load_schedules,
    next_change,
    parse_window,
    windows_on,
)

NY = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def schedule(weekly: dict[str, list[str]], tz: str = "America/New_York", **extra: Any) -> Schedule:
    return load_schedule({"name": "s", "timezone": tz, "weekly": weekly, **extra})


OFFICE = schedule({day: ["08:00-18:00"] for day in WEEKDAYS}, country="US")


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0, sec: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, sec, tzinfo=NY)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, sec: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, sec, tzinfo=UTC)


# -- windows --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("08:00-18:00", Window(480, 1080)),
        ("24h", Window(0, 1440)),
        ("00:00-24:00", Window(0, 1440)),
        ("22:00-06:00", Window(1320, 1800)),
        ("23:59-00:00", Window(1439, 1440)),
        (" 09:30-12:15 ", Window(570, 735)),
    ],
)
def test_parse_window(text: str, window: Window) -> None:
    assert parse_window(text) == window


@pytest.mark.parametrize(
    "text", ["8-18", "08:00", "25:00-26:00", "10:00-10:00", "10:60-11:00", "24:00-02:00", "24:30"]
)
def test_bad_windows(text: str) -> None:
    with pytest.raises(ValueError):
        parse_window(text)


def test_window_text() -> None:
    assert [str(parse_window(t)) for t in ("24h", "22:00-06:00", "08:00-24:00")] == [
        "24h",
        "22:00-06:00",
        "08:00-24:00",
    ]


# -- validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone: unknown time zone 'Mars/Olympus'"),
        ({"timezone": "../etc/passwd"}, "timezone: unknown time zone"),
        ({"weekly": {"monday": ["24h"]}}, "weekly.monday"),
        ({"weekly": {"mon": ["8-18"]}}, "weekly.mon.0: bad window '8-18'"),
        (
            {"weekly": {"mon": ["08:00-12:00", "11:00-14:00"]}},
            "'mon 08:00-12:00' and 'mon 11:00-14:00' overlap",
        ),
        (
            {"weekly": {"mon": ["22:00-06:00"], "tue": ["05:00-09:00"]}},
            "'mon 22:00-06:00' and 'tue 05:00-09:00'",
        ),
        (
            {"weekly": {"sun": ["22:00-06:00"], "mon": ["05:00-09:00"]}},
            "'sun 22:00-06:00' and 'mon 05:00-09:00'",
        ),
        ({"special": {"2025-12-31": ["09:00-12:00", "10:00-11:00"]}}, "special 2025-12-31"),
        ({"country": "XX"}, "holidays: Country XX not available"),
        ({"country": "US", "subdivision": "ZZ"}, "does not have subdivision ZZ"),
        ({"subdivision": "CA"}, "subdivision given without a country"),
        ({"closed": ["not a date"]}, "closed.0"),
        ({"opening": {}}, "opening: Extra inputs are not permitted"),
        ({"name": "a b"}, "name:"),
    ],
)
def test_bad_schedules_name_source_and_field(changes: dict[str, Any], words: str) -> None:
    doc = {"name": "office", "timezone": "UTC", "weekly": {"mon": ["24h"]}, **changes}
    with pytest.raises(ScheduleError) as caught:
        load_schedule(doc, source="hours.toml: office")
    assert str(caught.value).startswith("hours.toml: office: ")
    assert words in str(caught.value)


def test_touching_windows_are_fine() -> None:
    schedule({"mon": ["08:00-12:00", "12:00-18:00", "22:00-24:00"], "tue": ["00:00-02:00"]})
    schedule({"sun": ["22:00-06:00"], "mon": ["06:00-09:00"]})


def test_load_schedules_names_them_by_table() -> None:
    loaded = load_schedules({"a": {"timezone": "UTC"}, "b": {"timezone": "Europe/Paris"}})
    assert {name: s.name for name, s in loaded.items()} == {"a": "a", "b": "b"}
    with pytest.raises(ScheduleError, match=r"^f\.toml: b: timezone"):
        load_schedules({"b": {"timezone": "nowhere"}}, source="f.toml")
    with pytest.raises(ScheduleError, match="expected a table"):
        load_schedules({"c": 3})


def test_the_name_can_come_from_outside_the_document() -> None:
    assert load_schedule({"timezone": "UTC"}, name="office").name == "office"
    assert load_schedule({"name": "own", "timezone": "UTC"}, name="office").name == "own"
    with pytest.raises(ScheduleError, match="name: Field required"):
        load_schedule({"timezone": "UTC"})


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(OFFICE, datetime(2025, 7, 7, 9, 0))


# -- opening and closing ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (ny(2025, 7, 7, 7, 59), False),  # Monday
        (ny(2025, 7, 7, 8, 0), True),
        (ny(2025, 7, 7, 17, 59, 59), True),
        (ny(2025, 7, 7, 18, 0), False),  # the end is exclusive
        (ny(2025, 7, 6, 12, 0), False),  # Sunday
        (utc(2025, 7, 7, 12, 0), True),  # 08:00 in New York (EDT)
        (utc(2025, 7, 7, 11, 59), False),
        (datetime(2025, 7, 7, 23, 30, tzinfo=PARIS), True),  # 17:30 in New York
        (datetime(2025, 7, 8, 0, 30, tzinfo=PARIS), False),  # 18:30 in New York
    ],
)
def test_is_open_in_the_schedules_zone(at: datetime, expected: bool) -> None:
    assert is_open(OFFICE, at) is expected


def test_next_change_and_closes_in_on_a_plain_day() -> None:
    assert next_change(OFFICE, ny(2025, 7, 7, 7, 0)) == ny(2025, 7, 7, 8, 0)
    assert next_change(OFFICE, ny(2025, 7, 7, 9, 0)) == ny(2025, 7, 7, 18, 0)
    assert closes_in(OFFICE, ny(2025, 7, 7, 17, 45)) == 15 * 60
    assert closes_in(OFFICE, ny(2025, 7, 7, 19, 0)) == 0.0  # closed
    change = next_change(OFFICE, utc(2025, 7, 7, 23, 0))
    assert change == ny(2025, 7, 8, 8, 0) and change is not None
    assert change.tzinfo is UTC


def test_friday_evening_opens_monday() -> None:
    assert next_change(OFFICE, ny(2025, 7, 11, 18, 0)) == ny(2025, 7, 14, 8, 0)


def test_queue_stops_taking_callers_before_closing() -> None:
    cutoff = 10 * 60  # the queue closes its doors 10 minutes before the office

    def accepts(at: datetime) -> bool:
        left = closes_in(OFFICE, at)
        return left is None or left > cutoff

    assert accepts(ny(2025, 7, 7, 17, 49))
    assert not accepts(ny(2025, 7, 7, 17, 50))
    assert not accepts(ny(2025, 7, 7, 20, 0))


def test_always_open_and_never_open() -> None:
    always = schedule({day: ["24h"] for day in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]})
    assert is_open(always, utc(2025, 3, 9, 7, 0))
    assert next_change(always, utc(2025, 3, 9, 7, 0)) is None
    assert closes_in(always, utc(2025, 3, 9, 7, 0)) is None
    never = schedule({})
    assert not is_open(never, utc(2025, 3, 9, 7, 0))
    assert next_change(never, utc(2025, 3, 9, 7, 0)) is None
    assert closes_in(never, utc(2025, 3, 9, 7, 0)) == 0.0


def test_contiguous_days_do_not_change_at_midnight() -> None:
    weekdays = schedule({day: ["24h"] for day in WEEKDAYS})
    assert next_change(weekdays, ny(2025, 7, 8, 12, 0)) == ny(2025, 7, 12, 0, 0)
    split = schedule({"mon": ["20:00-24:00"], "tue": ["00:00-02:00"]})
    assert next_change(split, ny(2025, 7, 7, 21, 0)) == ny(2025, 7, 8, 2, 0)


def test_nothing_beyond_the_horizon() -> None:
    closed = [date(2025, 7, 1) + timedelta(days=i) for i in range(20)]
    shut = schedule({day: ["08:00-18:00"] for day in WEEKDAYS}, closed=closed)
    assert next_change(shut, ny(2025, 7, 1, 9, 0)) is None
    assert next_change(shut, ny(2025, 7, 10, 9, 0)) == ny(2025, 7, 21, 8, 0)


# -- overnight windows --------------------------------------------------------------------

NIGHT = schedule({"mon": ["22:00-06:00"], "tue": ["22:00-06:00"]}, country="US")


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (ny(2025, 7, 7, 21, 59), False),  # Monday evening
        (ny(2025, 7, 7, 22, 0), True),
        (ny(2025, 7, 8, 0, 0), True),  # past midnight: still Monday's window
        (ny(2025, 7, 8, 5, 59), True),
        (ny(2025, 7, 8, 6, 0), False),
        (ny(2025, 7, 8, 22, 30), True),  # Tuesday's own window
        (ny(2025, 7, 9, 3, 0), True),
        (ny(2025, 7, 10, 3, 0), False),  # Wednesday has no window
    ],
)
def test_overnight_window(at: datetime, expected: bool) -> None:
    assert is_open(NIGHT, at) is expected


def test_overnight_window_changes() -> None:
    assert next_change(NIGHT, ny(2025, 7, 7, 23, 0)) == ny(2025, 7, 8, 6, 0)
    assert closes_in(NIGHT, ny(2025, 7, 8, 5, 0)) == 3600
    assert next_change(NIGHT, ny(2025, 7, 9, 7, 0)) == ny(2025, 7, 14, 22, 0)


def test_a_holiday_closes_the_windows_that_start_on_it() -> None:
    # Labor Day, Monday 2025-09-01: Monday night's window stays shut past midnight,
    # Tuesday night's window is untouched.
    assert not is_open(NIGHT, ny(2025, 9, 1, 23, 0))
    assert not is_open(NIGHT, ny(2025, 9, 2, 3, 0))
    assert is_open(NIGHT, ny(2025, 9, 2, 23, 0))
    # The day before a holiday keeps its overnight window into the holiday.
    eve = schedule({"thu": ["22:00-06:00"]}, country="US")
    assert is_open(eve, ny(2025, 7, 4, 3, 0))  # Thursday night into July 4th


# -- holidays and special days -----------------------------------------------------------


def test_independence_day_is_closed() -> None:
    assert is_holiday(OFFICE, date(2025, 7, 4))
    assert not is_open(OFFICE, ny(2025, 7, 4, 10, 0))  # a Friday
    assert next_change(OFFICE, ny(2025, 7, 3, 12, 0)) == ny(2025, 7, 3, 18, 0)
    assert next_change(OFFICE, ny(2025, 7, 3, 19, 0)) == ny(2025, 7, 7, 8, 0)


def test_observed_holiday_is_closed() -> None:
    assert is_holiday(OFFICE, date(2026, 7, 3))  # July 4th 2026 is a Saturday
    assert not is_open(OFFICE, ny(2026, 7, 3, 10, 0))


def test_without_a_country_holidays_are_working_days() -> None:
    plain = schedule({day: ["08:00-18:00"] for day in WEEKDAYS})
    assert is_open(plain, ny(2025, 7, 4, 10, 0))


def test_regional_holidays() -> None:
    week = {day: ["08:00-18:00"] for day in WEEKDAYS}
    bavaria = schedule(week, tz="Europe/Berlin", country="DE", subdivision="BY")
    berlin = schedule(week, tz="Europe/Berlin", country="DE", subdivision="BE")
    epiphany = datetime(2025, 1, 6, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # a Monday
    assert not is_open(bavaria, epiphany)
    assert is_open(berlin, epiphany)


def test_extra_closed_dates_and_special_windows() -> None:
    s = schedule(
        {day: ["08:00-18:00"] for day in WEEKDAYS},
        country="US",
        closed=["2025-12-24"],
        special={"2025-07-04": ["10:00-14:00"], "2025-07-07": [], "2025-07-12": ["09:00-12:00"]},
    )
    assert not is_open(s, ny(2025, 12, 24, 10, 0))
    assert is_open(s, ny(2025, 7, 4, 11, 0))  # a special window beats the holiday
    assert not is_open(s, ny(2025, 7, 4, 9, 0))  # and replaces the usual hours
    assert not is_open(s, ny(2025, 7, 7, 11, 0))  # [] = closed that day
    assert is_open(s, ny(2025, 7, 12, 10, 0))  # a Saturday opened specially
    assert windows_on(s, date(2025, 7, 8)) == (Window(480, 1080),)


# -- DST ----------------------------------------------------------------------------------

DAILY = schedule({d: ["08:00-18:00"] for d in [*WEEKDAYS, "sat", "sun"]})


def test_spring_forward_day_keeps_wall_clock_hours() -> None:
    # 2025-03-09: 02:00 EST -> 03:00 EDT. The day opens at 08:00 EDT (12:00 UTC).
    assert not is_open(DAILY, utc(2025, 3, 9, 11, 59))
    assert is_open(DAILY, utc(2025, 3, 9, 12, 0))
    assert is_open(DAILY, utc(2025, 3, 8, 13, 0))  # the day before: 08:00 EST
    assert closes_in(DAILY, utc(2025, 3, 9, 12, 0)) == 10 * 3600
    assert next_change(DAILY, utc(2025, 3, 9, 1, 0)) == utc(2025, 3, 9, 12, 0)


def test_overnight_window_across_spring_forward_is_an_hour_shorter() -> None:
    night = schedule({"sat": ["22:00-06:00"]})
    opening = utc(2025, 3, 9, 3, 0)  # Saturday 22:00 EST
    assert is_open(night, opening)
    assert closes_in(night, opening) == 7 * 3600  # to Sunday 06:00 EDT


def test_overnight_window_across_fall_back_is_an_hour_longer() -> None:
    night = schedule({"sat": ["22:00-06:00"]})
    opening = utc(2025, 11, 2, 2, 0)  # Saturday 22:00 EDT
    assert is_open(night, opening)
    assert closes_in(night, opening) == 9 * 3600  # to Sunday 06:00 EST
    assert next_change(night, opening) == ny(2025, 11, 2, 6, 0)


def test_a_boundary_in_the_skipped_hour_is_the_moment_the_clocks_jump() -> None:
    s = schedule({"sun": ["02:30-04:00"]})
    assert next_change(s, utc(2025, 3, 9, 6, 0)) == utc(2025, 3, 9, 7, 0)  # 03:00 EDT
    assert not is_open(s, utc(2025, 3, 9, 6, 59, 59))
    assert is_open(s, utc(2025, 3, 9, 7, 0))
    assert closes_in(s, utc(2025, 3, 9, 7, 0)) == 3600


def test_a_repeated_boundary_is_its_first_occurrence() -> None:
    s = schedule({"sun": ["00:00-01:30"]})
    assert next_change(s, utc(2025, 11, 2, 5, 0)) == utc(2025, 11, 2, 5, 30)  # 01:30 EDT
    assert not is_open(s, utc(2025, 11, 2, 6, 0))  # 01:00 EST, the second time round


def test_europe_changes_on_its_own_date() -> None:
    paris = schedule({d: ["08:00-18:00"] for d in WEEKDAYS}, tz="Europe/Paris", country="FR")
    # Europe moved to summer time on 2025-03-30 while New York already had (03-09).
    assert is_open(paris, utc(2025, 3, 28, 7, 0))  # 08:00 CET
    assert is_open(paris, utc(2025, 3, 31, 6, 0))  # 08:00 CEST
    assert not is_open(paris, utc(2025, 3, 31, 5, 59))
    in_new_york = datetime(2025, 3, 31, 2, 0, tzinfo=NY)  # = 08:00 Paris
    assert is_open(paris, in_new_york)
    assert next_change(paris, in_new_york) == datetime(2025, 3, 31, 18, 0, tzinfo=PARIS)
    assert not is_open(paris, datetime(2025, 5, 1, 10, 0, tzinfo=PARIS))  # Labour Day


# -- consistency ------------------------------------------------------------------------

SCHEDULES = [
    OFFICE,
    NIGHT,
    DAILY,
    schedule({"sun": ["02:30-04:00", "22:00-01:30"], "mon": ["01:30-02:30"]}),
    schedule({"fri": ["22:00-02:00"], "sat": ["02:00-03:00"]}, tz="Europe/London", country="GB"),
]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(SCHEDULES),
    st.datetimes(
        min_value=datetime(2025, 1, 1),
        max_value=datetime(2026, 12, 31),
        timezones=st.sampled_from([UTC, NY, PARIS]),
        allow_imaginary=False,
    ),
)
def test_the_state_holds_until_next_change_then_flips(s: Schedule, at: datetime) -> None:
    # Aware-datetime arithmetic in a local zone is wall-clock arithmetic; the
    # property is about instants, so work in UTC.
    at = at.astimezone(UTC)
    state = is_open(s, at)
    change = next_change(s, at)
    left = closes_in(s, at)
    if not state:
        assert left == 0.0
    if change is None:
        return
    assert at < change <= at + timedelta(days=14)
    assert is_open(s, change) is not state
    assert is_open(s, change - timedelta(seconds=1)) is state
    assert is_open(s, at + (change - at) / 2) is state
    if state:
        assert left == (change - at).total_seconds()


def test_only_ascii_digits_in_windows() -> None:
    with pytest.raises(ValueError):
        parse_window("\u0660\u0668:00-18:00")
