"""First-contact resolution: repeat callers within and outside the window (pure)."""

from __future__ import annotations

import pytest

from callcenter.core.repeat_contacts import (
    Contact,
    Earlier,
    caller_key,
    judge,
    number_spellings,
    recent_contacts,
    tally,
    total,
)

HOUR, DAY = 3600.0, 86400.0
WINDOWS = {"billing": 7 * DAY, "sales": 2 * DAY}


def window(queue: str) -> float:
    return WINDOWS.get(queue, 7 * DAY)


def call(n: int, who: str, queue: str, at: float, answered: bool = True, **kw: str) -> Contact:
    return Contact(f"c{n}", who, queue, at, answered, **kw)


def test_the_same_caller_is_one_key_however_the_number_is_written() -> None:
    assert caller_key("+1 (202) 555-0143", None) == caller_key("2025550143", None)
    assert caller_key("+12025550143", None) == "number:+12025550143"
    assert caller_key("1001", None) == "number:1001"  # an internal extension
    assert caller_key("", None) == "" and caller_key("", 7) == "customer:7"
    assert caller_key("+12025550143", 7) == "customer:7"  # the customer, from any phone


def test_the_spellings_of_one_number_are_found_together() -> None:
    spellings = number_spellings("+12025550143")
    assert {"+12025550143", "12025550143", "0012025550143", "2025550143"} <= spellings
    assert number_spellings("2025550143") == spellings
    assert number_spellings("1001") == {"1001"} and number_spellings("") == set()
    french = number_spellings("+33612345678", "FR")
    assert "0612345678" in french  # the national form keeps its trunk prefix


def test_a_caller_back_within_the_window_is_a_repeat() -> None:
    now = 30 * DAY
    contacts = [
        call(1, "a", "billing", 0, agent="alice", disposition="resolved"),
        call(2, "a", "billing", 3 * DAY, agent="bob", disposition="resolved"),  # repeat of 1
        call(3, "a", "billing", 11 * DAY, agent="bob"),  # 8 days after 2: outside
        call(4, "b", "billing", 0, agent="alice"),
        call(5, "b", "sales", 1 * DAY, agent="alice"),  # another queue: not a repeat of 4
    ]
    judged = {j.contact.call_id: j for j in judge(contacts, window, now)}
    assert judged["c1"].repeat is not None and judged["c1"].repeat.call_id == "c2"
    assert judged["c2"].resolved and judged["c3"].resolved and judged["c4"].resolved
    assert judged["c5"].resolved
    by_agent = tally(judged.values(), lambda c: c.agent)
    assert by_agent["alice"].answered == 3 and by_agent["alice"].repeated == 1
    assert by_agent["alice"].fcr == pytest.approx(2 / 3)
    assert by_agent["bob"].fcr == 1.0


def test_an_unanswered_return_still_counts_and_unanswered_calls_are_not_judged() -> None:
    contacts = [
        call(1, "a", "sales", 0),
        call(2, "a", "sales", HOUR, answered=False),  # gave up: still came back
        call(3, "a", "sales", 10 * DAY, answered=False),
    ]
    judged = judge(contacts, window, now=20 * DAY)
    assert [j.contact.call_id for j in judged] == ["c1"]
    assert judged[0].repeat is not None and judged[0].repeat.call_id == "c2"


def test_the_window_is_per_queue() -> None:
    # 3 days later: a repeat in billing (7-day window), not in sales (2 days).
    contacts = [
        call(1, "a", "billing", 0),
        call(2, "a", "billing", 3 * DAY),
        call(3, "b", "sales", 0),
        call(4, "b", "sales", 3 * DAY),
    ]
    judged = {j.contact.call_id: j for j in judge(contacts, window, now=30 * DAY)}
    assert judged["c1"].repeat is not None
    assert judged["c3"].repeat is None and judged["c3"].resolved


def test_an_open_window_without_a_repeat_is_pending() -> None:
    contacts = [
        call(1, "a", "billing", 0),
        call(2, "b", "billing", 0),
        call(3, "b", "billing", DAY),
    ]
    judged = {j.contact.call_id: j for j in judge(contacts, window, now=2 * DAY)}
    assert judged["c1"].pending and not judged["c1"].resolved
    assert judged["c2"].repeat is not None and not judged["c2"].pending
    whole = total(tally(judged.values(), lambda c: c.queue).values())
    # c1 and c3 pending, c2 repeated: FCR 0 of 1 decided.
    assert (whole.answered, whole.repeated, whole.pending, whole.fcr) == (3, 1, 2, 0.0)


def test_nobody_known_is_never_a_contact() -> None:
    contacts = [call(1, "", "billing", 0), call(2, "", "billing", HOUR)]
    assert judge(contacts, window, now=30 * DAY) == []


def test_the_pop_says_how_often_the_caller_called() -> None:
    now = 10 * DAY
    earlier = [
        Earlier(now - 1 * DAY, "billing", "Billing question"),
        Earlier(now - 2 * DAY, "billing", "Billing question"),
        Earlier(now - 3 * DAY, "sales", ""),
        Earlier(now - 9 * DAY, "billing", "Complaint"),  # outside 7 days
    ]
    found = recent_contacts(earlier, "billing", now, {"billing": 168.0})
    assert (found.count, found.same_queue, found.about) == (3, 2, "Billing question")
    assert found.summary() == (
        "Called 3 times in the last 7 days (2 to this queue), mostly about Billing question"
    )
    once = recent_contacts(earlier[:1], "billing", now, {"billing": 24.0})
    assert once.summary() == "Called once in the last day (1 to this queue), about Billing question"
    assert recent_contacts([], "billing", now, {}).summary() == ""
