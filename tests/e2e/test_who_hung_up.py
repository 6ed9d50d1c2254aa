"""Who hung up, as the SIP side saw it, equals the records and the queue_log.

One call the agent (a baresip softphone) ends; one call the caller (SIPp)
ends. Asterisk's own queues write COMPLETEAGENT / COMPLETECALLER to queue_log;
ours must too, and the call's record must say the same.
"""

from __future__ import annotations

import time

import pytest

from callcenter.adapters.db.models import CallEventRow, CallRow
from tests.e2e.conftest import CallCenter
from tests.e2e.sites import one_queue_site

pytestmark = pytest.mark.e2e


def completed_by(center: CallCenter, number: str, agent: str = "ann") -> str:
    """Who hung up a completed call, as its record's `completed` event says."""
    (call,) = center.rows(CallRow, CallRow.caller_number == number)
    events = center.rows(CallEventRow, CallEventRow.call_id == call.id)
    (completed,) = [e for e in events if e.kind == "completed"]
    assert call.outcome == "completed" and call.agent == agent
    return str(completed.detail["ended_by"])


def queue_log_lines(center: CallCenter, unique_id: str) -> list[list[str]]:
    path = center.pbx.settings.pbx_dir / "log" / "queue_log"
    lines = [line.split("|") for line in path.read_text().splitlines()]
    return [fields for fields in lines if len(fields) > 4 and fields[1] == unique_id]


def test_the_side_that_hangs_up_is_recorded_and_written_to_queue_log(
    callcenter: CallCenter,
) -> None:
    center = callcenter
    center.load_site(one_queue_site("ann"))
    phone = center.softphone(center.account("ann"))
    center.login("ann")
    center.wait_available("ann")

    # The agent ends the first call: the caller waits for Asterisk's BYE.
    first = center.place_call([1000, "1"], "+15550101", end="await")
    phone.wait_event("CALL_INCOMING", 15)
    phone.accept()
    phone.wait_event("CALL_ESTABLISHED", 5)
    time.sleep(1.0)
    seen = len(phone.events)
    phone.hangup()
    phone.wait_event("CALL_CLOSED", 5, after=seen)
    assert first.finish().successful == 1  # the caller got a BYE: the agent hung up
    center.wait_no_calls(15)
    center.wait_available("ann", timeout=20)

    # The caller ends the second call (its script sends BYE); the agent sees it close.
    seen = len(phone.events)
    second = center.place_call([1000, "1", 3000], "+15550102", end="bye")
    phone.wait_event("CALL_INCOMING", 15, after=seen)
    phone.accept()
    phone.wait_event("CALL_ESTABLISHED", 5, after=seen)
    phone.wait_event("CALL_CLOSED", 15, after=seen)
    assert second.finish().successful == 1
    center.wait_no_calls(15)

    assert completed_by(center, "+15550101") == "agent"
    assert completed_by(center, "+15550102") == "caller"
    for number, kind in (("+15550101", "COMPLETEAGENT"), ("+15550102", "COMPLETECALLER")):
        (call,) = center.rows(CallRow, CallRow.caller_number == number)
        events = [fields[4] for fields in queue_log_lines(center, call.unique_id)]
        assert kind in events, (number, events)
        assert {"COMPLETEAGENT", "COMPLETECALLER"} - {kind} - set(events), events
