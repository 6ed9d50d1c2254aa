"""A call's segments and holds (core/calls/segments.py), and the transfer step of the
call's state table."""

from __future__ import annotations

import pytest

from callcenter.core.calls.live import LiveCall
from callcenter.core.calls.segments import Holds, close_segment
from callcenter.core.calls.state import CallEvent, CallState, IllegalCallTransition, advance


def test_holds_add_up_and_a_second_hold_while_held_changes_nothing() -> None:
    holds = Holds()
    assert holds.start(10.0) and not holds.start(12.0)
    assert holds.on_hold and holds.total(15.0) == 5.0
    assert holds.stop(18.0) == 8.0 and holds.stop(19.0) is None
    assert holds.start(30.0)
    assert holds.total(31.0) == 9.0 and holds.count == 2


def test_a_segment_splits_its_length_into_talk_and_hold_and_resets_the_holds() -> None:
    holds = Holds()
    holds.start(110.0)
    holds.stop(130.0)
    holds.start(150.0)  # still on hold when the segment ends: counted up to its end
    segment = close_segment("ann", "support", 100.0, holds, 160.0, "transfer-queue", "billing")
    assert (segment.talk, segment.hold, segment.holds) == (30.0, 30.0, 2)
    assert (segment.reason, segment.target, segment.ended_at) == (
        "transfer-queue",
        "billing",
        160.0,
    )
    assert (holds.seconds, holds.count, holds.on_hold) == (0.0, 0, False)


def test_hold_never_exceeds_the_segment() -> None:
    holds = Holds(seconds=50.0, count=1)  # a clock step back must not give negative talk
    segment = close_segment("ann", "support", 100.0, holds, 120.0, "completed")
    assert (segment.talk, segment.hold) == (0.0, 20.0)


def test_a_transfer_puts_a_talking_call_back_in_line_and_only_a_talking_one() -> None:
    call = LiveCall("c1", "1.1", "PJSIP/sipp-1", "+15550001", "", "5000", 0.0, CallState.TALKING)
    assert advance(call, CallEvent.TRANSFER) is CallState.WAITING
    assert advance(call, CallEvent.QUEUE) is CallState.WAITING
    assert advance(call, CallEvent.OFFER) is CallState.RINGING
    with pytest.raises(IllegalCallTransition):
        advance(call, CallEvent.TRANSFER)


def test_consultations_completed_and_conferences_left_count_as_transfers() -> None:
    from callcenter.core.calls.segments import is_transfer

    assert is_transfer("transfer-agent") and is_transfer("transfer-queue")
    assert is_transfer("consult-complete") and is_transfer("conference-left")
    assert not is_transfer("completed")
