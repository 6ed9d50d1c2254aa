"""The shipped example flow and schedules load cleanly and behave as documented."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from callcenter.core.hours import is_open, load_schedules
from callcenter.core.ivr import (
    Collect,
    Digits,
    Done,
    Enqueue,
    IvrSession,
    Lookup,
    LookupResult,
    NoInput,
    Play,
    Voicemail,
    load_flow,
)
from tests.unit.ivr.flows import QUEUES, example

SCHEDULES = load_schedules(example("hours.toml"), source="examples/ivr/hours.toml")
MAIN = load_flow(
    example("main.toml"), queues=QUEUES, schedules=SCHEDULES, source="examples/ivr/main.toml"
)
NEW_YORK = ZoneInfo("America/New_York")


def test_example_flow_loads_without_warnings() -> None:
    assert MAIN.name == "main"
    assert MAIN.warnings == ()
    assert MAIN.hours == "office" and MAIN.closed_node == "closed"


def test_example_schedules() -> None:
    office = SCHEDULES["office"]
    assert is_open(office, datetime(2025, 7, 7, 9, 0, tzinfo=NEW_YORK))  # a Monday
    assert not is_open(office, datetime(2025, 7, 4, 9, 0, tzinfo=NEW_YORK))  # Independence Day
    assert not is_open(office, datetime(2025, 12, 24, 9, 0, tzinfo=NEW_YORK))  # extra closed day
    assert is_open(office, datetime(2025, 11, 28, 12, 0, tzinfo=NEW_YORK))  # special morning
    assert not is_open(office, datetime(2025, 11, 28, 14, 0, tzinfo=NEW_YORK))
    night = SCHEDULES["night_support"]
    assert is_open(night, datetime(2025, 7, 8, 3, 0, tzinfo=ZoneInfo("Europe/Paris")))


def test_closed_caller_can_leave_a_message() -> None:
    open_now = is_open(SCHEDULES["office"], datetime(2025, 7, 6, 9, 0, tzinfo=NEW_YORK))  # Sunday
    session = IvrSession(MAIN, caller="+15551234", open_now=open_now)
    assert session.start() == Play(("custom/closed", "custom/opening-hours"))
    assert session.feed(Done()) == Collect(("custom/leave-message-press-1",), 1, 4.0, None)
    assert session.feed(Digits("1")) == Voicemail("general@default")
    assert session.outcome == "voicemail"


def test_gold_customer_is_welcomed_back_and_jumps_the_sales_queue() -> None:
    session = IvrSession(MAIN, caller="+15551234", open_now=True)
    assert session.start() == Lookup("caller_number", "+15551234")
    assert session.feed(LookupResult(True, {"tier": "gold"})) == Play(("custom/welcome-back",))
    assert isinstance(session.feed(Done()), Collect)
    assert session.feed(Digits("1")) == Enqueue("sales", 9, {"sales": 2})
    assert session.path == ["identify", "route_known", "vip_welcome", "welcome", "sales"]


def test_silent_caller_reaches_the_operator() -> None:
    session = IvrSession(MAIN, caller="", open_now=True)
    session.start()
    session.feed(NoInput())
    session.feed(NoInput())
    assert session.feed(NoInput()) == Enqueue("operator", 4, {})
    assert session.data == {"hours.open": "1", "customer_found": "0"}
