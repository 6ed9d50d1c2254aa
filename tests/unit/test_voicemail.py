"""Messages as Asterisk describes them, and who may take or close one."""

from __future__ import annotations

import pytest

from callcenter.core.voicemail import (
    HANDLED,
    NEW,
    TAKEN,
    Voicemail,
    VoicemailError,
    box_queues,
    check_handle,
    check_take,
    parse_message,
    summarise,
)

TXT = """;
; Message Information file
;
[message]
origmailbox=200
context=cc-voicemail
exten=s
callerchan=PJSIP/sipp-00000001
callerid="Patient" <5550600>
origdate=Mon Dec  7 02:15:00 PM UTC 2026
origtime=1796652900
category=0123456789abcdef
msg_id=1796652900-00000000
flag=
duration=7
"""


def test_a_message_is_read_with_its_call_and_caller() -> None:
    message = parse_message(TXT, "200")
    assert message is not None
    assert message.msg_id == "1796652900-00000000"
    assert (message.box, message.caller_number, message.caller_name) == (
        "200",
        "5550600",
        "Patient",
    )
    assert (message.left_at, message.duration) == (1796652900.0, 7.0)
    assert message.call_id == "0123456789abcdef"


def test_the_caller_is_e164_in_the_region() -> None:
    message = parse_message(TXT.replace("5550600", "0612345678"), "200", "FR")
    assert message is not None and message.caller_number == "+33612345678"


def test_an_unfinished_or_foreign_description_is_skipped_or_unlinked() -> None:
    assert parse_message("[message]\ncallerid=x\n", "200") is None
    odd = parse_message(TXT.replace("category=0123456789abcdef", "category=;drop"), "200")
    assert odd is not None and odd.call_id == ""
    withheld = parse_message(TXT.replace('"Patient" <5550600>', "Unknown"), "200")
    assert withheld is not None and withheld.caller_number == ""


def test_each_box_belongs_to_one_queue() -> None:
    assert box_queues({"sales": {"200"}, "billing": {"200", "300"}}) == {
        "200": "billing",
        "300": "billing",
    }


def _message(
    status: str,
    owner: str = "",
    queue: str = "support",
    handled_at: float | None = None,
    callback_id: int | None = None,
) -> Voicemail:
    return Voicemail(
        id=1, msg_id="m", box="200", queue=queue, call_id="", caller_number="",
        caller_name="", left_at=0.0, duration=1.0, path="200/INBOX/msg0000", status=status,
        owner=owner, handled_by="", handled_at=handled_at, callback_id=callback_id, ivr_path=[],
    )  # fmt: skip


def test_a_message_taken_is_its_owners() -> None:
    check_take(_message(NEW), "pat")
    check_take(_message(TAKEN, "pat"), "pat")
    with pytest.raises(VoicemailError) as taken:
        check_take(_message(TAKEN, "sam"), "pat")
    assert taken.value.code == "taken"
    with pytest.raises(VoicemailError):
        check_take(_message(HANDLED), "pat")


def test_a_supervisor_may_close_anyones_message() -> None:
    check_handle(_message(TAKEN, "sam"), "boss", supervisor=True)
    with pytest.raises(VoicemailError):
        check_handle(_message(TAKEN, "sam"), "pat", supervisor=False)
    with pytest.raises(VoicemailError):
        check_handle(_message(HANDLED), "boss", supervisor=True)


def test_reports_count_messages_handled_and_time_to_handle_per_queue() -> None:
    rows = summarise([
        _message(HANDLED, handled_at=60.0, callback_id=4),
        _message(HANDLED, handled_at=180.0),
        _message(TAKEN, "pat"),
        _message(NEW, queue="billing"),
    ])  # fmt: skip
    billing, support = rows
    assert (billing.queue, billing.messages, billing.open, billing.handled) == ("billing", 1, 1, 0)
    assert billing.mean_handle_seconds is None
    assert (support.messages, support.handled, support.open, support.called_back) == (3, 2, 1, 1)
    assert (support.mean_handle_seconds, support.max_handle_seconds) == (120.0, 180.0)
