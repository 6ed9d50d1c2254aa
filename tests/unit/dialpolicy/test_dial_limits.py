"""Booking limits: per origin and for the whole site, over a sliding hour."""

from __future__ import annotations

from callcenter.core.dial_limits import BookingLimits


def test_one_origin_is_held_to_its_limit_in_an_hour() -> None:
    limits = BookingLimits({"caller": 3}, total=100)
    assert [limits.take("caller", "+12125550100", t) for t in (0, 10, 20)] == [None] * 3
    assert limits.take("caller", "+12125550100", 30) == "rate-limit"
    assert limits.take("caller", "+12125550199", 30) is None  # another caller
    assert limits.take("caller", "+12125550100", 3599) == "rate-limit"
    assert limits.take("caller", "+12125550100", 3600.5) is None  # the first one aged out


def test_refused_bookings_do_not_count() -> None:
    limits = BookingLimits({"caller": 1}, total=100)
    assert limits.take("caller", "a", 0) is None
    for t in range(1, 50):
        assert limits.take("caller", "a", t) == "rate-limit"
    assert limits.take("caller", "a", 3601) is None


def test_the_site_cap_holds_across_origins() -> None:
    limits = BookingLimits({"caller": 3, "agent": 50}, total=5)
    for i in range(5):
        assert limits.take("agent", f"agent{i}", float(i)) is None
    assert limits.take("caller", "+12125550100", 10) == "hourly-cap"
    assert limits.take("agent", "agent9", 3600.5) is None


def test_kinds_without_a_limit_only_meet_the_cap() -> None:
    limits = BookingLimits({"caller": 1}, total=3)
    assert [limits.take("user", "admin", 0) for _ in range(4)] == [None, None, None, "hourly-cap"]


def test_memory_follows_the_last_hour() -> None:
    limits = BookingLimits({"caller": 3}, total=10**6)
    for i in range(5000):
        limits.take("caller", str(i), float(i))
    assert len(limits._seen) < 1024 + 3700
    later = 5000 + 3600.0 * 2
    limits.take("caller", "late", later)
    assert len(limits._seen) <= 3
