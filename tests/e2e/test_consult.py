"""Consultation transfer from the API, with a real Asterisk, a SIPp caller and
baresip agents.

The caller talks with ann; ann consults bob (the caller hears music while ann and
bob talk), cancels (the caller is back with ann), consults bob again and completes
(the caller goes on with bob, ann leaves). The caller receives audio in every phase
(counted in RTP packets as in test_call_control.py); the records have ann's segment
ending ``consult-complete`` to bob and bob's segment ``completed``.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from callcenter.adapters.db.models import CallEventRow, CallRow
from callcenter.core.acd.model import AgentState
from callcenter.simulate.capture import Capture
from callcenter.simulate.procs import wait_for
from tests.e2e.conftest import CallCenter
from tests.e2e.console import record_figures
from tests.e2e.test_call_control import (
    CALLER_MEDIA_PORT,
    Api,
    _legs,
    _packets_to_caller,
    _site,
    _state,
)

pytestmark = pytest.mark.e2e


def _window(seconds: float) -> tuple[float, float]:
    start = time.time()
    time.sleep(seconds + 0.1)
    return start, start + seconds


def test_consult_then_cancel_then_consult_then_complete(
    callcenter: CallCenter, tmp_path: Any
) -> None:
    center = callcenter
    center.load_site(_site())
    ann = center.softphone(center.account("ann"))
    bob = center.softphone(center.account("bob"))
    center.login("ann")
    center.wait_available("ann")
    ann_api = Api(center, "ann")
    api = Api(center)  # a supervisor's token

    capture = Capture(tmp_path / "caller.pcap", f"udp and dst port {CALLER_MEDIA_PORT}")
    capture.start()
    try:
        placed = center.place_call([1000, "1"], "+15550190", end="await")
        ann.wait_event("CALL_INCOMING", 15)
        ann.accept()
        ann.wait_event("CALL_ESTABLISHED", 5)
        wait_for(lambda: _state(center, "ann") is AgentState.ON_CALL, 5, "ann on the call")
        windows = {"ann": _window(1.5)}

        # Bob is not logged in: no consultation with him.
        ann_api.post("/api/desktop/consult", {"target": "bob"}, status=409)
        center.login("bob")
        center.wait_available("bob")
        ann_api.post("/api/desktop/consult/cancel", {}, status=409)  # none yet

        # First consultation: bob answers, ann and bob talk, the caller hears music.
        asked = time.monotonic()
        started = ann_api.post("/api/desktop/consult", {"target": "bob"})
        assert started["on_hold"] is True and started["target"] == "bob"
        ring = bob.wait_event("CALL_INCOMING", 15)["_at"] - asked
        assert center.get(lambda c: not c.agents.available("bob"))  # his phone is busy
        ann_api.post("/api/desktop/consult/complete", {}, status=409)  # not answered yet
        bob.accept()
        bob.wait_event("CALL_ESTABLISHED", 5)
        wait_for(
            lambda: any(ctx == "cc-consult" and bridge for ctx, bridge in _legs(center).values()),
            5,
            "ann and bob bridged",
        )
        windows["consult"] = _window(1.5)
        assert _state(center, "ann") is AgentState.ON_CALL

        # Cancel: bob's leg is hung up, the caller is back with ann.
        seen_bob = len(bob.events)
        cancelled = ann_api.post("/api/desktop/consult/cancel", {})
        assert cancelled["on_hold"] is False and cancelled["agent"] == "ann"
        bob.wait_event("CALL_CLOSED", 5, after=seen_bob)
        time.sleep(0.5)
        windows["cancelled"] = _window(1.5)
        assert "cc-hold" not in {ctx for ctx, _ in _legs(center).values()}
        wait_for(lambda: _state(center, "bob") is AgentState.READY, 5, "bob ready")
        wait_for(lambda: center.get(lambda c: c.agents.available("bob")), 5, "bob free")

        # Second consultation, completed: the caller goes on with bob.
        seen_bob, seen_ann = len(bob.events), len(ann.events)
        ann_api.post("/api/desktop/consult", {"target": "bob"})
        bob.wait_event("CALL_INCOMING", 15, after=seen_bob)
        bob.accept()
        bob.wait_event("CALL_ESTABLISHED", 5, after=seen_bob)
        wait_for(
            lambda: any(ctx == "cc-consult" and bridge for ctx, bridge in _legs(center).values()),
            5,
            "ann and bob bridged again",
        )
        time.sleep(1.0)
        asked = time.monotonic()
        done = ann_api.post("/api/desktop/consult/complete", {"reason": "billing"})
        completed_in = time.monotonic() - asked
        assert done["agent"] == "bob" and done["on_hold"] is False and done["transfers"] == 1
        ann.wait_event("CALL_CLOSED", 5, after=seen_ann)
        wait_for(lambda: _state(center, "bob") is AgentState.ON_CALL, 5, "bob has the call")
        assert _state(center, "ann") is not AgentState.ON_CALL
        pop = api.get("/api/desktop/current?agent=bob")["call"]
        assert pop["transferred_from"] == "ann" and pop["transfer_reason"] == "billing", pop
        time.sleep(0.5)
        windows["bob"] = _window(1.5)
        # The caller and bob, bridged: no leg left in the hold or consultation places.
        contexts = {ctx for ctx, _ in _legs(center).values()}
        assert not contexts & {"cc-hold", "cc-hold-agent"}, contexts

        seen_bob = len(bob.events)
        bob.hangup()
        bob.wait_event("CALL_CLOSED", 5, after=seen_bob)
        assert placed.finish(15).successful == 1
        center.wait_no_calls(15)
        wait_for(lambda: _state(center, "bob") is not AgentState.ON_CALL, 5, "bob done")
    finally:
        capture.stop()

    counts = {name: _packets_to_caller(capture, *w) for name, w in windows.items()}
    record_figures(
        "consult",
        {
            "rtp_packets_to_caller": counts,
            "consult_request_to_target_ringing_seconds": round(ring, 3),
            "complete_request_seconds": round(completed_in, 3),
        },
    )
    for name in windows:  # 50 packets a second; the caller hears something in each phase
        assert counts[name] >= 0.8 * 50 * 1.5, counts

    (call,) = center.rows(CallRow, CallRow.caller_number == "+15550190")
    assert call.outcome == "completed", call.outcome
    events = center.rows(CallEventRow, CallEventRow.call_id == call.id)
    segments = [{**e.detail, "agent": e.agent} for e in events if e.kind == "segment"]
    assert [(s["agent"], s["reason"], s["target"]) for s in segments] == [
        ("ann", "consult-complete", "bob"),
        ("bob", "completed", ""),
    ], segments
    # ann's segment: two holds (one per consultation), the caller on hold ~1.5 s + ~1 s at least.
    assert segments[0]["holds"] == 2 and segments[0]["hold"] >= 2.5, segments[0]
    assert segments[1]["talk"] >= 1.5 and segments[1]["holds"] == 0, segments[1]
    assert [e.detail["to"] for e in events if e.kind == "transferred"] == ["agent"]

    # The interval reports count the consultation's transfer and its two holds.
    today = time.strftime("%Y-%m-%d")
    queues = api.get(f"/api/reports/queues?from={today}&to={today}&interval=60")
    (support,) = [q["totals"] for q in queues["queues"] if q["queue"] == "support"]
    assert (support["transfers"], support["holds"]) == (1, 2), support
    agents = api.get(f"/api/reports/agents?from={today}&to={today}&interval=60")
    by_agent = {series["agent"]: series["totals"] for series in agents["agents"]}
    assert (by_agent["ann"]["transfers"], by_agent["ann"]["holds"]) == (1, 2), by_agent["ann"]
    assert by_agent["bob"]["transfers"] == 0, by_agent["bob"]


def test_three_way_conference_then_the_first_agent_leaves(
    callcenter: CallCenter, tmp_path: Any
) -> None:
    center = callcenter
    center.load_site(_site())
    ann = center.softphone(center.account("ann"))
    bob = center.softphone(center.account("bob"))
    center.login("ann")
    center.wait_available("ann")
    center.login("bob")
    center.wait_available("bob")
    ann_api = Api(center, "ann")

    capture = Capture(tmp_path / "caller.pcap", f"udp and dst port {CALLER_MEDIA_PORT}")
    capture.start()
    try:
        placed = center.place_call([1000, "1"], "+15550191", end="await")
        seen_bob = len(bob.events)
        ann.wait_event("CALL_INCOMING", 15)
        ann.accept()
        ann.wait_event("CALL_ESTABLISHED", 5)
        wait_for(lambda: _state(center, "ann") is AgentState.ON_CALL, 5, "ann on the call")
        windows = {"ann": _window(1.5)}

        ann_api.post("/api/desktop/consult/conference", {}, status=409)  # no consultation
        ann_api.post("/api/desktop/consult", {"target": "bob"})
        bob.wait_event("CALL_INCOMING", 15, after=seen_bob)
        bob.accept()
        bob.wait_event("CALL_ESTABLISHED", 5, after=seen_bob)
        wait_for(
            lambda: any(ctx == "cc-consult" and bridge for ctx, bridge in _legs(center).values()),
            5,
            "ann and bob bridged",
        )
        windows["consult"] = _window(1.0)
        joined = ann_api.post("/api/desktop/consult/conference", {})
        assert joined["on_hold"] is False and joined["agent"] == "ann"
        # The three legs in one ConfBridge.
        _conference_or_fail(center)
        assert len({b for _, b in _phone_legs(center).values()}) == 1, _legs(center)
        ann_api.post("/api/desktop/consult/cancel", {}, status=409)  # leave it instead
        time.sleep(0.3)
        windows["conference"] = _window(1.5)

        # ann leaves: the caller and bob go on.
        seen_ann = len(ann.events)
        left = ann_api.post("/api/desktop/conference/leave", {})
        assert left["agent"] == "bob" and left["transfers"] == 1
        ann.wait_event("CALL_CLOSED", 5, after=seen_ann)
        wait_for(lambda: _state(center, "bob") is AgentState.ON_CALL, 5, "bob has the call")
        time.sleep(0.5)
        windows["bob"] = _window(1.5)
        contexts = {ctx for ctx, _ in _phone_legs(center).values()}
        assert not contexts & {"cc-conference", "cc-conference-member"}, contexts

        seen_bob = len(bob.events)
        bob.hangup()
        bob.wait_event("CALL_CLOSED", 5, after=seen_bob)
        assert placed.finish(15).successful == 1
        center.wait_no_calls(15)
    finally:
        capture.stop()

    counts = {name: _packets_to_caller(capture, *w) for name, w in windows.items()}
    record_figures("conference", {"rtp_packets_to_caller": counts})
    for name, (start, end) in windows.items():
        assert counts[name] >= 0.8 * 50 * (end - start), counts

    (call,) = center.rows(CallRow, CallRow.caller_number == "+15550191")
    assert call.outcome == "completed", call.outcome
    events = center.rows(CallEventRow, CallEventRow.call_id == call.id)
    segments = [{**e.detail, "agent": e.agent} for e in events if e.kind == "segment"]
    assert [(s["agent"], s["reason"], s["target"]) for s in segments] == [
        ("ann", "conference-left", "bob"),
        ("bob", "completed", ""),
    ], segments
    assert segments[0]["holds"] == 1, segments[0]


def _conference_or_fail(center: CallCenter) -> None:
    want = ["cc-conference", "cc-conference-member", "cc-conference-member"]
    deadline = time.monotonic() + 5
    while (seen := sorted(c for c, _ in _phone_legs(center).values())) != want:
        if time.monotonic() > deadline:
            raise AssertionError(seen)
        time.sleep(0.05)


def _phone_legs(center: CallCenter) -> dict[str, tuple[str, str]]:
    """The SIP legs only (ConfBridge adds its own announcer channels)."""
    return {name: leg for name, leg in _legs(center).items() if name.startswith("PJSIP/")}


def test_the_caller_hanging_up_during_a_consultation_frees_both_agents(
    callcenter: CallCenter,
) -> None:
    center = callcenter
    center.load_site(_site())
    ann = center.softphone(center.account("ann"))
    bob = center.softphone(center.account("bob"))
    center.login("ann")
    center.wait_available("ann")
    center.login("bob")
    center.wait_available("bob")
    ann_api = Api(center, "ann")
    # The caller's script: the menu key, then 6 s on the line, then BYE.
    placed = center.place_call([1000, "1", 6000], "+15550193", end="bye")
    ann.wait_event("CALL_INCOMING", 15)
    ann.accept()
    ann.wait_event("CALL_ESTABLISHED", 5)
    wait_for(lambda: _state(center, "ann") is AgentState.ON_CALL, 5, "ann on the call")
    seen_bob = len(bob.events)
    ann_api.post("/api/desktop/consult", {"target": "bob"})
    bob.wait_event("CALL_INCOMING", 15, after=seen_bob)
    bob.accept()
    bob.wait_event("CALL_ESTABLISHED", 5, after=seen_bob)
    assert placed.finish(15).successful == 1  # the caller left while ann and bob talked
    center.wait_no_calls(10)
    ann_api.post("/api/desktop/consult/complete", {}, status=409)  # no call any more
    # Bob hangs up: ann's leg goes back to wait, sees the caller gone and is hung up.
    seen_ann, seen_bob = len(ann.events), len(bob.events)
    bob.hangup()
    bob.wait_event("CALL_CLOSED", 5, after=seen_bob)
    ann.wait_event("CALL_CLOSED", 10, after=seen_ann)
    wait_for(lambda: _state(center, "ann") is AgentState.READY, 5, "ann free again")
    assert _state(center, "bob") is AgentState.READY
    wait_for(lambda: center.get(lambda c: c.agents.available("bob")), 5, "bob's phone free")
    (call,) = center.rows(CallRow, CallRow.caller_number == "+15550193")
    events = center.rows(CallEventRow, CallEventRow.call_id == call.id)
    (completed,) = [e for e in events if e.kind == "completed"]
    (segment,) = [e for e in events if e.kind == "segment"]
    assert completed.detail["ended_by"] == "caller"
    assert (segment.agent, segment.detail["reason"], segment.detail["holds"]) == (
        "ann", "completed", 1,
    )  # fmt: skip
