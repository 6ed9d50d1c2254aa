"""Skills-based routing end to end: who gets offered which call, and when.

Every test: SIPp callers reach the IVR over the trunk, press keys, wait; the
agents are baresip softphones in manual answer mode (their CALL_INCOMING
events are the ground truth of "this phone was offered a call").
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from callcenter.adapters.db.models import AgentStateLogRow, CallEventRow, CallRow, WaitEstimateRow
from callcenter.core.acd.model import AgentState
from callcenter.core.calls.state import CallState
from callcenter.simulate.procs import wait_for
from callcenter.simulate.softphone import Softphone
from tests.e2e.conftest import CALLER_PORT, CallCenter
from tests.e2e.sites import agent, queue_node, quiet_queue, site

pytestmark = pytest.mark.e2e


def incoming_from(phone: Softphone, number: str, timeout: float, after: int = 0) -> dict:
    event = phone.wait_event("CALL_INCOMING", timeout, after=after)
    assert number in event["peeruri"], (number, event)
    return event


def call_of(center: CallCenter, number: str) -> CallRow:
    (row,) = center.rows(CallRow, CallRow.caller_number == number)
    return row


def events_of(center: CallCenter, call_id: str) -> list[CallEventRow]:
    return center.rows(CallEventRow, CallEventRow.call_id == call_id)


def waiting(center: CallCenter) -> int:
    return center.get(lambda c: len(c.calls.in_state(CallState.WAITING)))


# -- 1. skills ---------------------------------------------------------------------------

SKILLS_SITE = site(
    agents=[
        agent("eve", 1001, support=3, sales=3),
        agent("ana", 1002, support=3, billing=3, spanish=4),
    ],
    queues=[
        quiet_queue("billing", requirements={"billing": 2}),
        quiet_queue("support", requirements={"support": 1}),
    ],
    choices={"1": "billing", "2": "spanish"},
    nodes={
        "billing": queue_node("billing"),
        "spanish": queue_node("support", skills={"spanish": 3}),
    },
)


@pytest.mark.parametrize(
    ("key", "needs"),
    [("1", "the queue's own skill (billing>=2)"), ("2", "the menu's extra skill (spanish>=3)")],
)
def test_keypad_choice_reaches_only_an_agent_with_the_needed_skill(
    callcenter: CallCenter, key: str, needs: str
) -> None:
    callcenter.load_site(SKILLS_SITE)
    eve = callcenter.softphone(callcenter.account("eve"))
    ana = callcenter.softphone(callcenter.account("ana"))
    # eve logs in first: longest idle, so she would get any call she is eligible for.
    callcenter.login("eve")
    callcenter.login("ana")
    callcenter.wait_available("eve", "ana")
    assert callcenter.get(lambda c: c.agents.status("eve").since < c.agents.status("ana").since)

    call = callcenter.place_call([800, key, 3500], "5550100", "Skilled", end="bye")
    incoming_from(ana, "5550100", 10)
    ana.accept()
    ana.wait_event("CALL_ESTABLISHED", 5)
    ana.wait_event("CALL_CLOSED", 15)
    result = call.finish()
    assert (result.successful, result.failed) == (1, 0), result.log

    assert "CALL_INCOMING" not in eve.event_types(), (needs, eve.event_types())
    # eve stayed ready and idle the whole time (never rung, never paused).
    assert callcenter.get(lambda c: c.agents.available("eve"))
    row = call_of(callcenter, "5550100")
    assert (row.agent, row.outcome, row.offers) == ("ana", "completed", 1)
    offered = [e.agent for e in events_of(callcenter, row.id) if e.kind == "offered"]
    assert offered == ["ana"]
    assert not callcenter.rows(CallEventRow, CallEventRow.agent == "eve")
    callcenter.wait_no_calls()


# -- 2a. priorities -----------------------------------------------------------------------

PRIORITY_SITE = site(
    agents=[agent("solo", 1001, support=3)],
    queues=[quiet_queue("support", requirements={"support": 1})],
    choices={"1": "low", "5": "normal", "9": "high"},
    nodes={
        "low": queue_node("support", priority=1),
        "normal": queue_node("support", priority=5),
        "high": queue_node("support", priority=9),
    },
)


def test_high_priority_call_is_offered_before_a_longer_waiting_low_priority_one(
    callcenter: CallCenter,
) -> None:
    callcenter.load_site(PRIORITY_SITE)
    phone = callcenter.softphone(callcenter.account("solo"))
    callcenter.login("solo")
    callcenter.wait_available("solo")
    # The agent is busy with a first call.
    first = callcenter.place_call([800, "5"], "5550200", "First", port=CALLER_PORT)
    incoming_from(phone, "5550200", 10)
    phone.accept()
    phone.wait_event("CALL_ESTABLISHED", 5)

    # A low-priority caller, then (later) a high-priority one, both wait.
    low = callcenter.place_call([800, "1"], "5550201", "Low", port=CALLER_PORT + 10)
    wait_for(lambda: waiting(callcenter) == 1, 10, "the low-priority caller waiting")
    high = callcenter.place_call(
        [800, "9"], "5550209", "High", address="127.0.0.3", port=CALLER_PORT + 20
    )
    wait_for(lambda: waiting(callcenter) == 2, 10, "both callers waiting")
    assert phone.event_types().count("CALL_INCOMING") == 1

    # The agent ends the first call: the high-priority caller rings first.
    for call, number in ((first, "5550209"), (high, "5550201"), (low, None)):
        call.wait_listening()
        seen = len(phone.events)
        phone.hangup()
        if number is None:
            phone.wait_event("CALL_CLOSED", 5, after=seen)
            break
        incoming_from(phone, number, 10, after=seen)
        phone.accept()
        phone.wait_event("CALL_ESTABLISHED", 5, after=seen)
        if number == "5550209":
            assert waiting(callcenter) == 1  # the low-priority caller still waits

    for call in (first, low, high):
        result = call.finish(15)
        assert (result.successful, result.failed) == (1, 0), result.log

    low_call, high_call = call_of(callcenter, "5550201"), call_of(callcenter, "5550209")
    assert (low_call.priority, high_call.priority) == (1, 9)
    assert low_call.enqueued_at < high_call.enqueued_at
    offer_at = {
        call.id: next(e.at for e in events_of(callcenter, call.id) if e.kind == "offered")
        for call in (low_call, high_call)
    }
    assert offer_at[high_call.id] < offer_at[low_call.id]
    assert high_call.wait_seconds < low_call.wait_seconds
    assert {low_call.outcome, high_call.outcome} == {"completed"}
    # The high-priority caller was told it is next, though another caller waited longer.
    (estimate,) = callcenter.rows(WaitEstimateRow, WaitEstimateRow.call_id == high_call.id)
    assert estimate.position == 1
    callcenter.wait_no_calls()


# -- 2b. relaxation -----------------------------------------------------------------------

RELAX_AFTER = 4.0


def test_requirements_relax_after_the_configured_wait(callcenter: CallCenter) -> None:
    callcenter.load_site(
        site(
            agents=[agent("bea", 1001, billing=2)],
            queues=[
                quiet_queue(
                    "accounts",
                    requirements={"billing": 4},
                    relax=[{"after": RELAX_AFTER, "requirements": {"billing": 2}}],
                )
            ],
            choices={"1": "accounts"},
            nodes={"accounts": queue_node("accounts")},
        )
    )
    phone = callcenter.softphone(callcenter.account("bea"))
    callcenter.login("bea")
    callcenter.wait_available("bea")

    placed = callcenter.place_call([800, "1"], "5550300", "Relaxed")
    wait_for(lambda: waiting(callcenter) == 1, 10, "the caller waiting")
    seen_waiting = time.monotonic()
    event = incoming_from(phone, "5550300", RELAX_AFTER + 5)
    assert event["_at"] - seen_waiting >= RELAX_AFTER - 0.3
    phone.accept()
    phone.wait_event("CALL_ESTABLISHED", 5)
    phone.hangup()
    result = placed.finish(15)
    assert (result.successful, result.failed) == (1, 0), result.log

    call = call_of(callcenter, "5550300")
    (offered,) = [e for e in events_of(callcenter, call.id) if e.kind == "offered"]
    assert offered.agent == "bea"
    assert call.enqueued_at is not None
    assert RELAX_AFTER <= offered.at - call.enqueued_at <= RELAX_AFTER + 0.75
    assert call.outcome == "completed"
    callcenter.wait_no_calls()


# -- 3. ring-no-answer ------------------------------------------------------------------------


def test_ring_no_answer_pauses_the_agent_and_offers_the_call_to_the_next(
    callcenter: CallCenter,
) -> None:
    callcenter.load_site(
        site(
            agents=[agent("first", 1001, support=3), agent("second", 1002, support=3)],
            queues=[quiet_queue("support", requirements={"support": 1}, ring_timeout=5)],
            choices={"1": "support"},
            nodes={"support": queue_node("support")},
        )
    )
    first = callcenter.softphone(callcenter.account("first"))
    second = callcenter.softphone(callcenter.account("second"))
    callcenter.login("first")
    callcenter.login("second")
    callcenter.wait_available("first", "second")

    placed = callcenter.place_call([800, "1"], "5550400", "Patient")
    rang = incoming_from(first, "5550400", 10)  # and never answered
    assert "CALL_INCOMING" not in second.event_types()
    closed = first.wait_event("CALL_CLOSED", 10)
    assert 4.5 <= closed["_at"] - rang["_at"] <= 7.0
    incoming_from(second, "5550400", 5)
    second.accept()
    second.wait_event("CALL_ESTABLISHED", 5)

    status = callcenter.get(lambda c: c.agents.status("first"))
    assert (status.state, status.reason) == (AgentState.PAUSED, "ring-no-answer")
    assert not callcenter.get(lambda c: c.router.is_available("first"))
    second.hangup()
    result = placed.finish(15)
    assert (result.successful, result.failed) == (1, 0), result.log

    call = call_of(callcenter, "5550400")
    assert (call.offers, call.agent, call.outcome) == (2, "second", "completed")
    kinds = [(e.kind, e.agent) for e in events_of(callcenter, call.id) if e.agent]
    assert kinds[:3] == [("offered", "first"), ("ring-no-answer", "first"), ("offered", "second")]
    assert ("answered", "second") in kinds
    (no_answer,) = [e for e in events_of(callcenter, call.id) if e.kind == "ring-no-answer"]
    assert 4.5 <= no_answer.detail["ring_seconds"] <= 7.0
    assert no_answer.detail["status"] == "NOANSWER"
    log = [
        (row.state, row.reason)
        for row in callcenter.rows(AgentStateLogRow, AgentStateLogRow.agent == "first")
    ]
    assert log == [("ready", ""), ("ringing", ""), ("paused", "ring-no-answer")]
    # The second agent was never paused.
    assert callcenter.get(lambda c: c.agents.status("second").state) is AgentState.READY
    callcenter.wait_no_calls()


# -- 4. abandon ------------------------------------------------------------------------------


def queue_log_lines(path: Path, unique_id: str) -> list[list[str]]:
    if not path.exists():
        return []
    return [
        fields
        for line in path.read_text(errors="replace").splitlines()
        if len(fields := line.split("|")) >= 5 and fields[1] == unique_id
    ]


def test_caller_hanging_up_while_waiting_is_an_abandoned_call(callcenter: CallCenter) -> None:
    callcenter.load_site(
        site(
            agents=[agent("pat", 1001, support=3)],
            queues=[quiet_queue("support", requirements={"support": 1})],
            choices={"1": "support"},
            nodes={"support": queue_node("support")},
        )
    )
    phone = callcenter.softphone(callcenter.account("pat"))
    callcenter.login("pat")
    # Logged in (the queue is staffed) but on a break: nobody can answer.
    callcenter.thread.run(callcenter.controller.agents.pause("pat", "lunch", time.time()))

    placed = callcenter.place_call([800, "1", 3000], "5550500", "Impatient", end="bye")
    wait_for(lambda: waiting(callcenter) == 1, 10, "the caller waiting")
    seen_waiting = time.monotonic()
    wait_for(placed.ended, 10, "the caller hanging up")
    measured = time.monotonic() - seen_waiting
    result = placed.finish()
    assert (result.successful, result.failed) == (1, 0), result.log
    callcenter.wait_no_calls()

    call = call_of(callcenter, "5550500")
    assert call.outcome == "abandoned"
    assert call.wait_seconds is not None
    assert abs(call.wait_seconds - measured) <= 0.5, (call.wait_seconds, measured)
    assert 2.9 <= call.wait_seconds <= 4.0  # the scenario waits 3 s (+ its key's 250 ms)
    (abandoned,) = [e for e in events_of(callcenter, call.id) if e.kind == "abandoned"]
    assert abandoned.detail["queue"] == "support"
    assert abandoned.detail["position"] == 1
    assert "CALL_INCOMING" not in phone.event_types()

    queue_log = callcenter.pbx.settings.pbx_dir / "log" / "queue_log"
    lines = wait_for(
        lambda: (
            (found := queue_log_lines(queue_log, call.unique_id))
            and {"ENTERQUEUE", "ABANDON"} <= {f[4] for f in found}
            and found
        ),
        5,
        "ENTERQUEUE and ABANDON in queue_log",
    )
    by_event = {fields[4]: fields for fields in lines}  # type: ignore[union-attr]
    assert by_event["ENTERQUEUE"][2] == "support"
    assert by_event["ENTERQUEUE"][6] == "5550500"  # url|callerid|position
    assert by_event["ABANDON"][2] == "support"
    assert abs(int(by_event["ABANDON"][7]) - call.wait_seconds) <= 1  # position|orig|wait
