"""A caller who waits too long is sent to the queue's voicemail box, and a message is left."""

from __future__ import annotations

import time

import pytest

from callcenter.adapters.db.models import CallRow
from callcenter.simulate.procs import wait_for
from tests.e2e.conftest import CallCenter
from tests.e2e.sites import agent, queue_node, quiet_queue, site

pytestmark = pytest.mark.e2e


def test_max_wait_overflows_to_a_voicemail_box_that_records_the_message(
    callcenter: CallCenter,
) -> None:
    overflow = {"action": "voicemail", "target": "200"}
    callcenter.load_site(
        site(
            agents=[agent("pat", 1001, support=3)],
            queues=[
                quiet_queue(
                    "support", requirements={"support": 1}, max_wait=2, on_max_wait=overflow
                )
            ],
            choices={"1": "support"},
            nodes={"support": queue_node("support")},
        )
    )
    callcenter.softphone(callcenter.account("pat"))
    callcenter.login("pat")
    callcenter.thread.run(callcenter.controller.agents.pause("pat", "lunch", time.time()))

    # The box exists in Asterisk once the controller has published the queues' boxes.
    boxes = callcenter.pbx.cli("voicemail show users for callcenter")
    assert "200" in boxes, boxes

    placed = callcenter.place_call([800, "1", 20000], "5550600", "Patient", end="bye")
    wait_for(placed.ended, 40, "the caller leaving a message and hanging up")
    result = placed.finish()
    assert (result.successful, result.failed) == (1, 0), result.log
    callcenter.wait_no_calls()

    inbox = callcenter.pbx.settings.pbx_dir / "spool" / "voicemail" / "callcenter" / "200" / "INBOX"
    messages = wait_for(lambda: sorted(inbox.glob("msg*.txt")), 10, "a voicemail message")
    assert messages and "5550600" in messages[0].read_text()
    (call,) = callcenter.rows(CallRow, CallRow.caller_number == "5550600")
    assert call.outcome == "max-wait-voicemail"
    assert call.wait_seconds is not None and 1.9 <= call.wait_seconds <= 4
