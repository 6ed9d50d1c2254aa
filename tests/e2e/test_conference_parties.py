"""A conference of four: the caller, ann, bob and cat, from the API, with a real
Asterisk, a SIPp caller and baresip agents.

ann consults bob and makes it a conference, then adds cat (her phone rings into the
same ConfBridge): four parties talk; the caller receives audio (RTP on the wire) and
cat's leg carries it both ways (Asterisk's counters).
ann removes cat (her phone hangs up); added again, cat hangs up herself; then ann
leaves: the caller goes on with bob. The record has one segment per agent's part:
cat's two ``conference-party``, ann's ``conference-left`` to bob, bob's ``completed``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from callcenter.adapters.db.models import CallEventRow, CallRow
from callcenter.core.acd.model import AgentState
from callcenter.simulate.capture import Capture
from callcenter.simulate.procs import wait_for
from tests.e2e.conftest import CallCenter
from tests.e2e.console import record_figures
from tests.e2e.sites import one_queue_site
from tests.e2e.test_call_control import CALLER_MEDIA_PORT, Api, _legs, _packets_to_caller
from tests.e2e.test_call_control import _state as state
from tests.e2e.test_consult import _phone_legs, _window
from tests.e2e.test_nailed_agents import _channels_of
from tests.e2e.test_webphone import rtp_counts

pytestmark = pytest.mark.e2e


def _in_conference(center: CallCenter) -> list[str]:
    return sorted(
        c for c, _ in _phone_legs(center).values() if c in ("cc-conference", "cc-conference-member")
    )


def test_four_parties_talk_then_one_is_removed_and_the_agent_leaves(
    callcenter: CallCenter, tmp_path: Path
) -> None:
    center = callcenter
    center.load_site(one_queue_site("ann", "bob", "cat"))
    ann = center.softphone(center.account("ann"))
    bob = center.softphone(center.account("bob"))
    cat = center.softphone(center.account("cat"))
    center.login("ann")
    center.wait_available("ann")
    ann_api = Api(center, "ann")

    capture = Capture(tmp_path / "caller.pcap", f"udp and dst port {CALLER_MEDIA_PORT}")
    capture.start()
    try:
        placed = center.place_call([1000, "1"], "+15550197", end="await")
        ann.wait_event("CALL_INCOMING", 15)
        ann.accept()
        ann.wait_event("CALL_ESTABLISHED", 5)
        wait_for(lambda: state(center, "ann") is AgentState.ON_CALL, 5, "ann on the call")
        center.login("bob", "cat")
        center.wait_available("bob", "cat")

        ann_api.post("/api/desktop/conference/add", {"to": "agent", "target": "cat"}, 409)
        ann_api.post("/api/desktop/consult", {"target": "bob"})
        bob.wait_event("CALL_INCOMING", 15)
        bob.accept()
        bob.wait_event("CALL_ESTABLISHED", 5)
        wait_for(
            lambda: any(ctx == "cc-consult" and bridge for ctx, bridge in _legs(center).values()),
            5,
            "ann and bob bridged",
        )
        ann_api.post("/api/desktop/consult/conference", {})
        wait_for(lambda: len(_in_conference(center)) == 3, 5, "a conference of three")

        added = ann_api.post("/api/desktop/conference/add", {"to": "agent", "target": "cat"})
        assert (added["parties"], added["maximum"], added["target"]) == (["cat"], 5, "bob")
        cat.wait_event("CALL_INCOMING", 15)
        cat.accept()
        cat.wait_event("CALL_ESTABLISHED", 5)
        want = ["cc-conference"] + ["cc-conference-member"] * 3
        wait_for(lambda: _in_conference(center) == want, 5, "a conference of four")
        assert len({b for _, b in _phone_legs(center).values()}) == 1, _legs(center)
        # ann may not leave while cat, whom she added, is there.
        ann_api.post("/api/desktop/conference/leave", {}, status=409)
        (cat_leg,) = _channels_of(center, "cat")
        before = rtp_counts(center, cat_leg)  # Asterisk's: received from, sent to cat
        four = _window(2.0)
        after = rtp_counts(center, cat_leg)
        from_cat, to_cat = after[0] - before[0], after[1] - before[1]

        seen_cat = len(cat.events)
        removed = ann_api.post("/api/desktop/conference/remove", {"party": "cat"})
        assert removed["parties"] == []
        cat.wait_event("CALL_CLOSED", 5, after=seen_cat)
        wait_for(lambda: len(_in_conference(center)) == 3, 5, "three again")
        # Added again, cat hangs up her phone herself: she leaves the list then.
        seen_cat = len(cat.events)
        ann_api.post("/api/desktop/conference/add", {"to": "agent", "target": "cat"})
        cat.wait_event("CALL_INCOMING", 15, after=seen_cat)
        cat.accept()
        cat.wait_event("CALL_ESTABLISHED", 5, after=seen_cat)
        wait_for(lambda: _in_conference(center) == want, 5, "four again")
        time.sleep(1.0)
        cat.hangup()
        wait_for(lambda: center.get(lambda c: c.conference.of("ann")) == [], 5, "cat gone")
        wait_for(lambda: len(_in_conference(center)) == 3, 5, "three again")

        seen_ann = len(ann.events)
        ann_api.post("/api/desktop/conference/leave", {})
        ann.wait_event("CALL_CLOSED", 5, after=seen_ann)
        wait_for(lambda: state(center, "bob") is AgentState.ON_CALL, 5, "bob has the call")
        seen_bob = len(bob.events)
        bob.hangup()
        bob.wait_event("CALL_CLOSED", 5, after=seen_bob)
        assert placed.finish(15).successful == 1
        center.wait_no_calls(15)
    finally:
        capture.stop()

    start, end = four
    to_caller = _packets_to_caller(capture, start, end)
    figures = {"to_caller": to_caller, "from_cat": from_cat, "to_cat": to_cat}
    record_figures("conference-four", {"rtp_packets": figures})
    nominal = 50 * (end - start)
    assert min(figures.values()) >= 0.6 * nominal, figures

    (call,) = center.rows(CallRow, CallRow.caller_number == "+15550197")
    assert (call.outcome, call.agent) == ("completed", "bob"), (call.outcome, call.agent)
    events = center.rows(CallEventRow, CallEventRow.call_id == call.id)
    segments = [{**e.detail, "agent": e.agent} for e in events if e.kind == "segment"]
    assert [(s["agent"], s["reason"], s["target"]) for s in segments] == [
        ("cat", "conference-party", ""),
        ("cat", "conference-party", ""),
        ("ann", "conference-left", "bob"),
        ("bob", "completed", ""),
    ], segments
    assert segments[0]["talk"] >= 2.0 and 0.5 < segments[1]["talk"] < 5.0, segments
