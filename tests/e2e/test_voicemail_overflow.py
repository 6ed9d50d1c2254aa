"""A caller who waits too long is sent to the queue's voicemail box, and a message is left;
the console lists it within seconds, linked to the call, and it is played, taken and called
back (a callback booked through the dial policy)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from callcenter.adapters.db.models import CallRow
from callcenter.simulate.procs import wait_for
from tests.e2e.conftest import CallCenter
from tests.e2e.voicemail_support import leave_message, load_overflow_site

pytestmark = pytest.mark.e2e


def test_max_wait_overflows_to_a_voicemail_box_and_the_console_works_the_message(
    callcenter: CallCenter, tmp_path: Path
) -> None:
    load_overflow_site(callcenter)
    callcenter.softphone(callcenter.account("pat"))
    callcenter.login("pat")
    callcenter.thread.run(callcenter.controller.agents.pause("pat", "lunch", time.time()))

    # The box exists in Asterisk once the controller has published the queues' boxes.
    boxes = callcenter.pbx.cli("voicemail show users for callcenter")
    assert "200" in boxes, boxes

    # The caller speaks once the box's greeting is over (app_voicemail keeps no silence).
    hung_up = leave_message(callcenter, tmp_path)
    callcenter.wait_no_calls()

    inbox = callcenter.pbx.settings.pbx_dir / "spool" / "voicemail" / "callcenter" / "200" / "INBOX"
    messages = wait_for(lambda: sorted(inbox.glob("msg*.txt")), 10, "a voicemail message")
    assert messages and "5550600" in messages[0].read_text()
    (call,) = callcenter.rows(CallRow, CallRow.caller_number.contains("5550600"))
    assert call.outcome == "max-wait-voicemail"
    assert call.wait_seconds is not None and 1.9 <= call.wait_seconds <= 4

    # The console: the message appears within seconds, linked to its call.
    web = callcenter.controller.web
    assert web is not None
    client = web.app.test_client()  # type: ignore[attr-defined]
    token = callcenter.controller.users.create_token("vm-supervisor", "supervisor")
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"

    def listed() -> list[dict[str, Any]]:
        answer = client.get("/api/voicemail?queue=support&status=new")
        assert answer.status_code == 200, answer.get_json()
        found: list[dict[str, Any]] = answer.get_json()["voicemails"]
        return found

    (message,) = wait_for(listed, 10, "the message in the console")
    seen_after = time.monotonic() - hung_up
    assert seen_after < 10, seen_after
    assert message["call_id"] == call.id and message["caller"] == "+12125550600"
    assert message["queue"] == "support" and message["duration"] >= 1, message

    played = client.get(f"/api/voicemail/{message['id']}/audio")
    assert played.status_code == 200 and played.data[:4] == b"RIFF" and len(played.data) > 8000
    taken = client.post(f"/api/voicemail/{message['id']}/take")
    assert taken.status_code == 200 and taken.get_json()["status"] == "taken"
    called = client.post(f"/api/voicemail/{message['id']}/callback", json={})
    assert called.status_code == 201, called.get_json()
    booked = client.get("/api/callbacks").get_json()["callbacks"]
    (callback,) = [c for c in booked if c["id"] == called.get_json()["callback_id"]]
    assert callback["number"] == "+12125550600" and callback["queue"] == "support"
    assert callback["origin_call_id"] == call.id
    print(f"voicemail listed {seen_after:.2f} s after the caller hung up")
