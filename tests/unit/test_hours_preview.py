"""A schedule read day by day, as the admin page shows it before it is trusted."""

from __future__ import annotations

from datetime import UTC, date, datetime

from callcenter.core.hours import load_schedule
from callcenter.core.hours_preview import preview

OFFICE = load_schedule(
    {
        "timezone": "Europe/Paris",
        "weekly": {day: ["08:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
        "country": "FR",
        "closed": ["2026-12-24"],
        "special": {"2026-12-31": ["08:00-12:00"]},
    },
    name="office",
)


def test_the_days_ahead_name_holidays_closed_dates_and_special_hours() -> None:
    seen = preview(OFFICE, datetime(2026, 12, 23, 9, 0, tzinfo=UTC), 10)
    assert seen.open_now
    assert seen.next_change == datetime(2026, 12, 23, 17, 0, tzinfo=UTC)  # 18:00 in Paris
    plan = {d.day: (d.windows, d.holiday, d.special) for d in seen.days}
    assert plan[date(2026, 12, 23)] == (("08:00-18:00",), "", False)
    assert plan[date(2026, 12, 24)] == ((), "closed", False)
    assert plan[date(2026, 12, 25)] == ((), "Christmas Day", False)
    assert plan[date(2026, 12, 26)] == ((), "", False)  # a Saturday: simply closed
    assert plan[date(2026, 12, 31)] == (("08:00-12:00",), "", True)
    assert plan[date(2027, 1, 1)] == ((), "New Year's Day", False)
    assert len(seen.days) == 10


def test_the_first_day_is_the_local_date_of_now() -> None:
    # 23:30 UTC on the 22nd is already the 23rd in Paris.
    seen = preview(OFFICE, datetime(2026, 12, 22, 23, 30, tzinfo=UTC), 1)
    assert [d.day for d in seen.days] == [date(2026, 12, 23)]
    assert not seen.open_now
