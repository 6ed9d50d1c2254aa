"""Callbacks end to end: the real Asterisk, SIPp callers and customers, a baresip agent.

- A waiting caller presses the offered key, confirms their number and hangs
  up; their place is kept between a live caller who came earlier and one who
  came later, and when the turn comes the customer is called (AMD hears a
  person), connected to the agent, recorded, and counted in the queue's figures.
- A scheduled callback booked before the controller stops fires after it restarts.
- A callback whose number is on the do-not-call list is never dialled.
- A voicemail greeting is not a reached customer: retried, then given up.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from callcenter.adapters.db.models import (
    CallbackRow,
    CallEventRow,
    CallRow,
    DialAttemptRow,
    RecordingRow,
)
from callcenter.core.stats import CallEventRecord, fold_legs
from callcenter.simulate.loop_thread import ControllerThread
from callcenter.simulate.procs import wait_for
from callcenter.simulate.softphone import Softphone
from tests.e2e.conftest import CALLER_PORT, CallCenter, PlacedCall
from tests.e2e.outbound_support import Outbound, zone_in_hours
from tests.e2e.sites import agent, menu_flow, queue_node

pytestmark = pytest.mark.e2e

# Numbers the simulated customers answer as a person (last digit 0-3), one per zone,
# so a test can pick one whose local time is inside calling hours now.
PERSON = {
    "America/New_York": "+12125550101",
    "America/Chicago": "+13125550101",
    "America/Los_Angeles": "+14155550101",
    "Pacific/Honolulu": "+18085550101",
    "Europe/London": "+442079460101",
    "Europe/Berlin": "+493012345670",
    "Asia/Dubai": "+97142345670",
    "Asia/Tokyo": "+81312345670",
    "Australia/Sydney": "+61291234560",
}


def person_number(last_digit: str = "1") -> str:
    """A number inside its calling hours now; the last digit picks the customer's behaviour."""
    zone = zone_in_hours()
    if zone not in PERSON:
        pytest.skip(f"no test number for {zone}")
    return PERSON[zone][:-1] + last_digit


# Key 1: wait in the queue. Key 2: book a callback (key 1 there: now, 2: in an hour).
NODES: dict[str, Any] = {
    "support": queue_node("support"),
    "later": {
        "type": "callback",
        "queue": "support",
        "prompts": ["beep"],
        "choices": {"1": 0, "2": 60},
        "timeout": 6,
    },
}


def callback_site(**callback: Any) -> dict[str, Any]:
    rules = {
        "enabled": True,
        "offer_after_estimate": 0,
        "max_attempts": 2,
        "retry_delay": 5,
        "ring_seconds": 20,
        **callback,
    }
    return {
        "agents": [agent("alice", 1001, support=3)],
        "queues": [
            {
                "name": "support",
                "requirements": {"support": 1},
                "announce": {"on_entry": True, "interval": 0, "position": False, "estimate": False},
                "callback": rules,
            }
        ],
        "flows": {"main": {"document": menu_flow({"1": "support", "2": "later"}, NODES)}},
    }


def start_alice(center: CallCenter, site: dict[str, Any]) -> Softphone:
    center.load_site(site)
    phone = center.softphone(center.account("alice"), auto_answer=True)
    center.login("alice")
    center.wait_available("alice")
    return phone


def alice_call(center: CallCenter) -> tuple[str, str]:
    """(call id, caller number) of the call alice is on, or ("", "")."""

    def read(c: Any) -> tuple[str, str]:
        status = c.agents.status("alice")
        call = c.calls.get(status.call_id or "")
        if call is None or status.state.value != "on_call":
            return "", ""
        return call.call_id, call.caller

    return center.get(read)  # type: ignore[no-any-return]


def wait_talking_to(center: CallCenter, number: str, timeout: float = 40) -> str:
    wait_for(lambda: alice_call(center)[1] == number, timeout, f"alice talking to {number}")
    return alice_call(center)[0]


def waiting(center: CallCenter, number: str) -> bool:
    return bool(
        center.get(
            lambda c: any(x.caller == number and x.state.value == "waiting" for x in c.calls.all())
        )
    )


def caller(center: CallCenter, steps: list[str | int], number: str, slot: int) -> PlacedCall:
    return center.place_call(steps, number, f"Caller {slot}", port=CALLER_PORT + 10 * slot)


def test_kept_place_is_called_back_in_order(callcenter: CallCenter, outbound: Outbound) -> None:
    center = callcenter
    phone = start_alice(center, callback_site())
    keeper = person_number("1")
    # A talks to alice; L1 waits; the keeper joins, takes the offer, hangs up; L2 comes later.
    first = caller(center, ["1", 120_000], "5550100", 0)
    wait_talking_to(center, "5550100")
    early = caller(center, ["1", 120_000], "5550111", 1)
    wait_for(lambda: waiting(center, "5550111"), 15, "L1 waiting")
    five: list[str | int] = ["5", 300]
    one: list[str | int] = ["1", 400]
    presses = five * 8 + [500] + one * 16
    offer_keys: list[str | int] = ["1", 1500, *presses]
    kept = caller(center, offer_keys, keeper, 2)
    wait_for(lambda: bool(center.rows(CallbackRow)), 40, "the callback requested")
    wait_for(kept.ended, 20, "the keeper hung up by the call center")
    late = caller(center, ["1", 120_000], "5550122", 3)
    wait_for(lambda: waiting(center, "5550122"), 15, "L2 waiting")
    (booked,) = center.rows(CallbackRow)
    assert (booked.kind, booked.status, booked.number) == ("keep-place", "pending", keeper)
    assert center.get(lambda c: c.calls.get(booked.origin_call_id).virtual)

    order = []
    for expected in ("5550111", keeper, "5550122"):
        phone.hangup()
        order.append(expected)
        call_id = wait_talking_to(center, expected)
        if expected == keeper:
            assert call_id == booked.origin_call_id  # the same call, its place kept
            facts = center.get(lambda c, i=call_id: c.desktop.live_facts(i))
            assert facts.data["callback"] == "keep-place"
            assert facts.data["callback.number"] == keeper
            assert waiting(center, "5550122"), "the later live caller still waits"
    phone.hangup()
    for placed in (first, early, late):
        placed.finish(30)
    center.wait_no_calls(20)

    (done,) = center.rows(CallbackRow)
    assert (done.status, done.attempts, done.last_outcome) == ("done", 1, "reached")
    (attempt,) = center.rows(DialAttemptRow, DialAttemptRow.callback_id == done.id)
    assert attempt.dialled and attempt.dnc_check == "clear" and attempt.hours_check == "inside"
    assert attempt.amd_result in ("HUMAN", "NOTSURE") and attempt.outcome == "reached"
    assert attempt.agent == "alice"
    row = center.rows(CallRow, CallRow.id == done.origin_call_id)[0]
    assert row.outcome == "completed" and row.agent == "alice"
    assert row.wait_seconds is not None and row.wait_seconds > 5  # counted from the first enqueue
    assert center.rows(RecordingRow, RecordingRow.call_id == done.origin_call_id)
    events = center.rows(CallEventRow, order_by=CallEventRow.at)
    mine = [e for e in events if e.call_id == done.origin_call_id]
    kinds = [e.kind for e in mine]
    assert kinds.index("callback") < kinds.index("callback-attempt") < kinds.index("answered")
    # From the agent's reservation to the customer talking to them: ring, AMD, agent's ring.
    reserved = [e.at for e in mine if e.kind == "offered"][-1]
    joined = next(e.at for e in mine if e.kind == "answered")
    print(f"callback: agent reserved -> customer talking to the agent: {joined - reserved:.1f} s")
    assert 0 < joined - reserved < 30
    legs = fold_legs(CallEventRecord(e.call_id, e.at, e.kind, e.agent, e.detail) for e in events)
    answered = {leg.call_id: leg.outcome for leg in legs}
    assert answered[done.origin_call_id] == "answered"  # in the queue's service level
    reports = center.controller.reports
    day = reports.zone.local(time.time()).strftime("%Y-%m-%d")
    totals = reports.queues(reports.period(day, day, 60), "support").totals
    assert (totals["offered"], totals["answered"], totals["abandoned"]) == (4, 4, 0)


def book(center: CallCenter, number: str, after: float) -> int:
    callback = center.thread.run(
        center.controller.callbacks.book(
            "support",
            number,
            time.time() + after,
            time.time(),
            booked_by="alice",
            origin=("agent", "alice"),
            where="api",
        )
    )
    return int(callback.id)


@pytest.mark.parametrize("e2e_database", ["sqlite", "postgresql"], indirect=True)
def test_scheduled_callback_fires_after_a_restart(
    callcenter: CallCenter, outbound: Outbound
) -> None:
    center = callcenter
    phone = start_alice(center, callback_site())
    number = person_number("2")
    callback_id = book(center, number, after=6)
    # A place kept earlier (its caller waited since a minute ago) is in the database too.
    kept_number = person_number("3")
    kept_id = keep_place_row(center, kept_number, enqueued_at=time.time() - 60)
    center.thread.stop()  # the controller goes down before the booked time
    time.sleep(8)  # the booked time passes while nobody runs
    center.thread = ControllerThread(center.settings)
    center.start()  # alice's login, the kept place and the booking come back from the database
    wait_talking_to(center, kept_number, timeout=60)  # the older place first
    phone.hangup()
    wait_talking_to(center, number, timeout=60)
    phone.hangup()
    center.wait_no_calls(20)
    for done_id in (callback_id, kept_id):
        (row,) = center.rows(CallbackRow, CallbackRow.id == done_id)
        assert (row.status, row.attempts, row.last_outcome) == ("done", 1, "reached")
    assert outbound.customer_calls(2) == 2


def keep_place_row(center: CallCenter, number: str, enqueued_at: float) -> int:
    with center.controller.storage.sessions.begin() as session:
        row = CallbackRow(
            kind="keep-place",
            origin_call_id="1a2b3c4d5e6f7a8b9",
            queue="support",
            number=number,
            requested_at=enqueued_at + 20,
            enqueued_at=enqueued_at,
            due_at=enqueued_at + 20,
            data={"callback": "keep-place", "menu.welcome": "1"},
        )
        session.add(row)
        session.flush()
        return int(row.id)


def wait_status(
    center: CallCenter, callback_id: int, status: str, timeout: float, what: str
) -> None:
    def now() -> str:
        return str(center.rows(CallbackRow, CallbackRow.id == callback_id)[0].status)

    wait_for(lambda: now() == status, timeout, what)


def test_a_do_not_call_number_is_not_dialled(callcenter: CallCenter, outbound: Outbound) -> None:
    center = callcenter
    start_alice(center, callback_site())
    number = person_number("3")
    callback_id = book(center, number, after=2)
    outbound.dnc(number)  # listed after the booking: the dial-time check must catch it
    wait_status(center, callback_id, "dnc", 30, "the callback refused at dial time")
    (attempt,) = center.rows(DialAttemptRow, DialAttemptRow.callback_id == callback_id)
    assert not attempt.dialled and attempt.dnc_check == "listed-site"
    center.wait_available("alice")  # the reserved agent is free again
    assert outbound.customer_calls(0) == 0


def test_a_voicemail_greeting_is_not_reached(callcenter: CallCenter, outbound: Outbound) -> None:
    center = callcenter
    start_alice(center, callback_site())
    machine = person_number("4")  # the simulated customer answers with a machine's greeting
    callback_id = book(center, machine, after=1)
    wait_status(center, callback_id, "failed", 90, "two machine answers, then given up")
    attempts = center.rows(DialAttemptRow, DialAttemptRow.callback_id == callback_id)
    assert [a.amd_result for a in attempts] == ["MACHINE", "MACHINE"]
    assert [a.outcome for a in attempts] == ["machine", "machine"]
    assert alice_call(center) == ("", "")  # alice never got the machine
    center.wait_available("alice")


def test_a_callback_booked_in_the_ivr(callcenter: CallCenter, outbound: Outbound) -> None:
    center = callcenter
    phone = start_alice(center, callback_site())
    number = person_number("0")
    one: list[str | int] = ["1", 400]
    booker = caller(center, ["2", 1500, "1", 1500, *(one * 12)], number, 0)
    wait_for(booker.ended, 40, "the caller booked and was sent off")
    call_id = wait_talking_to(center, number, timeout=60)
    facts = center.get(lambda c: c.desktop.live_facts(call_id))
    assert facts.data["callback"] == "scheduled" and facts.data["callback.booked_for"]
    phone.hangup()
    center.wait_no_calls(20)
    (row,) = center.rows(CallbackRow)
    assert (row.kind, row.booked_by, row.status) == ("scheduled", "ivr", "done")
    origin = center.rows(CallRow, CallRow.id == row.origin_call_id)[0]
    assert origin.outcome == "ivr-callback"


def test_agent_first_rings_the_agent_then_the_customer(
    callcenter: CallCenter, outbound: Outbound
) -> None:
    center = callcenter
    phone = start_alice(center, callback_site(dial_first="agent"))
    number = person_number("1")
    callback_id = book(center, number, after=1)
    call_id = wait_talking_to(center, number, timeout=60)
    facts = center.get(lambda c: c.desktop.live_facts(call_id))
    assert facts.data["callback"] == "scheduled"
    phone.hangup()
    center.wait_available("alice", timeout=20)  # the agent's own leg ended: free again
    center.wait_no_calls(20)
    (row,) = center.rows(CallbackRow, CallbackRow.id == callback_id)
    assert (row.status, row.attempts, row.last_outcome) == ("done", 1, "reached")
    (attempt,) = center.rows(DialAttemptRow, DialAttemptRow.callback_id == callback_id)
    assert attempt.dialled and attempt.amd_result in ("HUMAN", "NOTSURE")
    call = center.rows(CallRow, CallRow.id == call_id)[0]
    assert call.outcome == "completed" and call.agent == "alice"
    assert center.rows(RecordingRow, RecordingRow.call_id == call_id)
    assert outbound.customer_calls(1) == 1


def test_a_busy_number_is_retried_then_given_up(callcenter: CallCenter, outbound: Outbound) -> None:
    center = callcenter
    start_alice(center, callback_site())
    busy = person_number("6")  # the simulated customer answers 486 Busy Here
    callback_id = book(center, busy, after=1)
    wait_status(center, callback_id, "failed", 60, "two busy answers, then given up")
    (row,) = center.rows(CallbackRow, CallbackRow.id == callback_id)
    assert (row.attempts, row.last_outcome) == (2, "busy")
    attempts = center.rows(DialAttemptRow, DialAttemptRow.callback_id == callback_id)
    assert [(a.dialled, a.outcome) for a in attempts] == [(True, "busy"), (True, "busy")]
    assert attempts[1].at - attempts[0].at >= 5  # the queue's retry delay
    center.wait_available("alice")
    ended = center.rows(CallRow, CallRow.direction == "callback")
    assert [c.outcome for c in ended] == ["callback-failed"]


def test_nobody_answers(callcenter: CallCenter, outbound: Outbound) -> None:
    center = callcenter
    start_alice(center, callback_site(max_attempts=1, ring_seconds=15))
    silent = person_number("7")  # the simulated customer lets it ring
    callback_id = book(center, silent, after=1)
    wait_status(center, callback_id, "failed", 60, "the ringing given up")
    (row,) = center.rows(CallbackRow, CallbackRow.id == callback_id)
    assert (row.attempts, row.last_outcome) == (1, "no-answer")
    center.wait_available("alice")
