"""Hold, resume and blind transfers from the API, with a real Asterisk, a SIPp caller
and baresip agents.

The caller talks with ann, who puts them on hold (the caller still receives audio:
music), resumes (audio again, from ann's phone), then transfers them to bob, whose
screen pop says who transferred and why; bob transfers them to the billing queue,
where ann takes them again. The records have one segment per agent with hold and
talk times, and the reasons.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask.testing import FlaskClient

from callcenter.adapters.db.models import CallEventRow, CallRow
from callcenter.core.acd.model import AgentState
from callcenter.simulate.capture import Capture
from callcenter.simulate.procs import wait_for
from tests.e2e.conftest import CALLER_PORT, CallCenter
from tests.e2e.console import pause, record_figures
from tests.e2e.outbound_support import Outbound
from tests.e2e.sites import one_queue_site, quiet_queue
from tests.e2e.test_api import _login as log_in

PASSWORD = "correct horse battery"

pytestmark = pytest.mark.e2e

CALLER_MEDIA_PORT = CALLER_PORT + 1000  # SIPp's media port (CallCenter.caller)


def _site() -> dict[str, Any]:
    site = one_queue_site("ann", "bob")
    site["queues"].append(quiet_queue("billing", requirements={"support": 1}))
    return site


class Api:
    """The console's API as a supervisor's token, or as an agent's logged-in session."""

    def __init__(self, center: CallCenter, agent: str = "") -> None:
        web = center.controller.web
        assert web is not None
        self.client: FlaskClient = web.app.test_client()  # type: ignore[attr-defined]
        if agent:
            center.controller.users.add(f"{agent}-user", PASSWORD, "agent", agent=agent)
            csrf = log_in(self.client, f"{agent}-user", PASSWORD)
            self.headers = {"X-CSRFToken": csrf}
        else:
            token = center.controller.users.create_token("desk", "supervisor")
            self.headers = {"Authorization": f"Bearer {token}"}

    def post(self, path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
        response = self.client.post(path, json=body, headers=self.headers)
        assert response.status_code == status, (path, response.get_json())
        found: dict[str, Any] = response.get_json()
        return found

    def get(self, path: str) -> dict[str, Any]:
        response = self.client.get(path, headers=self.headers)
        assert response.status_code == 200, (path, response.get_json())
        found: dict[str, Any] = response.get_json()
        return found


def _packets_to_caller(capture: Capture, start: float, end: float) -> int:
    return sum(
        1
        for d in capture.datagrams()
        if d.dport == CALLER_MEDIA_PORT and start <= d.at < end and len(d.payload) > 12
    )


def _legs(center: CallCenter) -> dict[str, tuple[str, str]]:
    """Each channel's dialplan context and bridge, as Asterisk lists them."""
    legs = {}
    for line in center.pbx.cli("core show channels concise").splitlines():
        fields = line.split("!")
        if len(fields) > 12:
            legs[fields[0]] = (fields[1], fields[12])
    return legs


HELD = ["cc-hold", "cc-hold-agent"]


def _state(center: CallCenter, agent: str) -> AgentState:
    return center.get(lambda c: c.agents.status(agent).state)  # type: ignore[no-any-return]


def test_hold_resume_and_blind_transfers_to_an_agent_and_a_queue(
    callcenter: CallCenter, tmp_path: Any
) -> None:
    center = callcenter
    center.load_site(_site())
    ann = center.softphone(center.account("ann"))
    bob = center.softphone(center.account("bob"))
    center.login("ann")
    center.wait_available("ann")
    api = Api(center)  # a supervisor: acts for bob
    ann_api = Api(center, "ann")  # ann herself

    capture = Capture(tmp_path / "caller.pcap", f"udp and dst port {CALLER_MEDIA_PORT}")
    capture.start()
    try:
        placed = center.place_call([1000, "1"], "+15550177", end="await")
        ann.wait_event("CALL_INCOMING", 15)
        ann.accept()
        ann.wait_event("CALL_ESTABLISHED", 5)
        wait_for(lambda: _state(center, "ann") is AgentState.ON_CALL, 5, "ann on the call")
        talk = (time.time(), time.time() + 1.5)
        time.sleep(1.6)

        held = ann_api.post("/api/desktop/hold", {})
        assert held["on_hold"] is True and held["holds"] == 1
        ann_api.post("/api/desktop/hold", {}, status=409)  # already on hold
        ann_api.post("/api/desktop/resume", {"agent": "bob"}, status=403)  # not hers
        time.sleep(0.5)
        on_hold = (time.time(), time.time() + 2.0)
        time.sleep(2.1)
        assert _state(center, "ann") is AgentState.ON_CALL  # hold is still her call
        # Out of their bridge: the caller in the music, ann's leg waiting in silence.
        legs = _legs(center)
        assert sorted(legs.values()) == [("cc-hold", ""), ("cc-hold-agent", "")], legs
        resumed = ann_api.post("/api/desktop/resume", {})
        assert resumed["on_hold"] is False and resumed["hold_seconds"] >= 2.0
        time.sleep(0.5)
        after = (time.time(), time.time() + 1.5)
        time.sleep(1.6)
        ann_held = resumed["hold_seconds"]

        # Blind transfer to bob, with a reason and a note for him.
        center.login("bob")
        center.wait_available("bob")
        seen_ann = len(ann.events)
        asked = time.monotonic()
        ann_api.post(
            "/api/desktop/transfer",
            {"to": "agent", "target": "bob", "reason": "billing", "note": "VIP"},
        )
        ann.wait_event("CALL_CLOSED", 5, after=seen_ann)
        to_bob = bob.wait_event("CALL_INCOMING", 15)["_at"] - asked
        pop = api.get("/api/desktop/current?agent=bob")["call"]
        assert pop["transferred_from"] == "ann", pop
        assert pop["transfer_reason"] == "billing" and pop["transfer_note"] == "VIP"
        assert pop["ivr_path"], pop  # the original IVR path follows the call
        # ann wraps up her part; bob's pop shows it.
        call_id = pop["call_id"]
        ann_api.post(
            f"/api/desktop/calls/{call_id}/wrapup", {"disposition": "resolved", "notes": "Paid"}
        )
        pop = api.get("/api/desktop/current?agent=bob")["call"]
        assert (pop["previous_disposition"], pop["previous_notes"]) == ("Resolved", "Paid"), pop
        bob.accept()
        bob.wait_event("CALL_ESTABLISHED", 5)
        wait_for(lambda: _state(center, "bob") is AgentState.ON_CALL, 5, "bob on the call")
        assert _state(center, "ann") is AgentState.READY  # her segment over (no wrap-up here)
        bob_talk = (time.time(), time.time() + 1.5)
        time.sleep(1.6)

        # Bob sends the caller to the billing queue, which he belongs to; ann is on a
        # break. Bob, free at once (no wrap-up) and the only one, is passed over
        # ([transfers] avoid_sender): the caller waits. Ann, ready again, takes them.
        center.wait_available("ann")
        pause(center, "ann")
        seen_ann, seen_bob = len(ann.events), len(bob.events)
        api.post(
            "/api/desktop/transfer",
            {"agent": "bob", "to": "queue", "target": "billing", "reason": "wrong queue"},
        )
        bob.wait_event("CALL_CLOSED", 5, after=seen_bob)
        center.wait_available("bob")
        time.sleep(3.0)
        assert not [e for e in bob.events[seen_bob:] if e["type"] == "CALL_INCOMING"]
        waiting = center.get(lambda c: [(x.state.value, x.queue) for x in c.calls.all()])
        assert waiting == [("waiting", "billing")], waiting
        asked = time.monotonic()
        center.thread.run(center.controller.agents.ready("ann", time.time()))
        to_ann = ann.wait_event("CALL_INCOMING", 15, after=seen_ann)["_at"] - asked
        ann.accept()
        ann.wait_event("CALL_ESTABLISHED", 5, after=seen_ann)
        time.sleep(1.0)
        seen_ann = len(ann.events)
        ann.hangup()
        ann.wait_event("CALL_CLOSED", 5, after=seen_ann)
        assert placed.finish().successful == 1
        center.wait_no_calls(15)
    finally:
        capture.stop()

    counts = {
        name: _packets_to_caller(capture, *window)
        for name, window in (
            ("talk", talk),
            ("hold", on_hold),
            ("resumed", after),
            ("bob", bob_talk),
        )
    }
    record_figures(
        "call-control",
        {
            "rtp_packets_to_caller": counts,
            "transfer_request_to_agent_phone_ringing_seconds": round(to_bob, 3),
            "transfer_to_queue_request_to_free_agent_ringing_seconds": round(to_ann, 3),
        },
    )
    # 50 packets a second of audio; the caller hears something in every phase.
    for name, seconds in (("talk", 1.5), ("hold", 2.0), ("resumed", 1.5), ("bob", 1.5)):
        assert counts[name] >= 0.8 * 50 * seconds, counts

    (call,) = center.rows(CallRow, CallRow.caller_number == "+15550177")
    assert call.outcome == "completed" and call.agent == "ann"
    events = center.rows(CallEventRow, CallEventRow.call_id == call.id)
    segments = [{**e.detail, "agent": e.agent} for e in events if e.kind == "segment"]
    assert [(s["agent"], s["reason"], s["target"]) for s in segments] == [
        ("ann", "transfer-agent", "bob"),
        ("bob", "transfer-queue", "billing"),
        ("ann", "completed", ""),
    ], segments
    assert segments[0]["holds"] == 1 and abs(segments[0]["hold"] - ann_held) < 0.5
    assert segments[0]["talk"] >= 3.0
    assert [e.detail["to"] for e in events if e.kind == "transferred"] == ["agent", "queue"]
    assert [e.kind for e in events].count("held") == 1

    # The interval reports count what happened (today, in the site's zone).
    today = time.strftime("%Y-%m-%d")
    queues = api.get(f"/api/reports/queues?from={today}&to={today}&interval=60")
    by_queue = {series["queue"]: series["totals"] for series in queues["queues"]}
    support, billing = by_queue["support"], by_queue["billing"]
    assert (support["transfers"], support["holds"], support["handled"]) == (2, 1, 1), support
    assert abs(support["hold_seconds"] - ann_held) < 0.5
    assert (billing["offered"], billing["answered"], billing["transfers"]) == (1, 1, 0), billing
    agents = api.get(f"/api/reports/agents?from={today}&to={today}&interval=60")
    by_agent = {series["agent"]: series["totals"] for series in agents["agents"]}
    assert (by_agent["ann"]["transfers"], by_agent["ann"]["holds"], by_agent["ann"]["handled"]) == (
        1, 1, 2,
    ), by_agent["ann"]  # fmt: skip
    assert (by_agent["bob"]["transfers"], by_agent["bob"]["handled"]) == (1, 1), by_agent["bob"]


def _on_call_with_ann(
    center: CallCenter, steps: list[str | int], number: str, end: str = "await"
) -> Any:
    center.load_site(_site())
    ann = center.softphone(center.account("ann"))
    center.login("ann")
    center.wait_available("ann")
    placed = center.place_call(steps, number, end=end)
    ann.wait_event("CALL_INCOMING", 15)
    ann.accept()
    ann.wait_event("CALL_ESTABLISHED", 5)
    wait_for(lambda: _state(center, "ann") is AgentState.ON_CALL, 5, "ann on the call")
    return ann, placed


def _completed(center: CallCenter, number: str) -> tuple[str, dict[str, Any]]:
    (call,) = center.rows(CallRow, CallRow.caller_number == number)
    events = center.rows(CallEventRow, CallEventRow.call_id == call.id)
    (completed,) = [e for e in events if e.kind == "completed"]
    (segment,) = [e for e in events if e.kind == "segment"]
    assert call.outcome == "completed"
    return str(completed.detail["ended_by"]), segment.detail


def test_the_agent_hanging_up_during_hold_ends_the_call_for_the_caller(
    callcenter: CallCenter,
) -> None:
    center = callcenter
    ann, placed = _on_call_with_ann(center, [1000, "1"], "+15550178")
    control = center.controller.call_control
    # A first hold and resume (the caller is then in Bridge(), not Dial()), a second hold.
    center.thread.run(control.hold("ann"))
    wait_for(lambda: sorted(c for c, _ in _legs(center).values()) == HELD, 5, "held")
    center.thread.run(control.resume("ann"))
    wait_for(lambda: sorted(c for c, _ in _legs(center).values()) != HELD, 5, "resumed")
    time.sleep(0.5)
    center.thread.run(control.hold("ann"))
    wait_for(lambda: sorted(c for c, _ in _legs(center).values()) == HELD, 5, "held again")
    time.sleep(1.5)
    seen = len(ann.events)
    ann.hangup()
    ann.wait_event("CALL_CLOSED", 5, after=seen)
    assert placed.finish(15).successful == 1  # the caller got Asterisk's BYE
    center.wait_no_calls(10)
    ended_by, segment = _completed(center, "+15550178")
    assert ended_by == "agent" and segment["holds"] == 2 and segment["hold"] >= 1.5, segment
    wait_for(lambda: _state(center, "ann") is AgentState.READY, 5, "ann free again")


def test_the_caller_hanging_up_during_hold_frees_the_agents_phone(
    callcenter: CallCenter,
) -> None:
    center = callcenter
    # The caller's script: the menu key, then 4 s on the line, then BYE.
    ann, placed = _on_call_with_ann(center, [1000, "1", 4000], "+15550179", end="bye")
    center.thread.run(center.controller.call_control.hold("ann"))
    seen = len(ann.events)
    ann.wait_event("CALL_CLOSED", 15, after=seen)  # cc-hold-agent saw the caller gone
    assert placed.finish(15).successful == 1
    center.wait_no_calls(10)
    ended_by, segment = _completed(center, "+15550179")
    assert ended_by == "caller" and segment["holds"] == 1, segment
    wait_for(lambda: _state(center, "ann") is AgentState.READY, 5, "ann free again")


def test_a_transfer_to_an_outside_number_goes_through_the_dial_policy_and_the_trunk(
    callcenter: CallCenter, outbound: Outbound
) -> None:
    center = callcenter
    ann, placed = _on_call_with_ann(center, [1000, "1", 9000], "+15550180", end="bye")
    api = Api(center)
    refused = api.post(
        "/api/desktop/transfer",
        {"agent": "ann", "to": "number", "target": "+1 900 555 0123"},
        status=422,
    )
    assert refused["code"] == "refused", refused
    assert _state(center, "ann") is AgentState.ON_CALL  # still hers
    seen = len(ann.events)
    api.post(
        "/api/desktop/transfer",
        {"agent": "ann", "to": "number", "target": "+44 20 7946 0101", "reason": "UK office"},
    )
    ann.wait_event("CALL_CLOSED", 5, after=seen)
    assert outbound.customer_calls(1) == 1  # the "customer" behind the trunk was rung
    assert placed.finish(20).successful == 1  # the caller talked on, then hung up
    center.wait_no_calls(10)
    ended_by, segment = _completed(center, "+15550180")
    assert ended_by == "transfer"
    assert (segment["reason"], segment["target"]) == ("transfer-number", "+442079460101")
    refusals = api.get("/api/dial-refusals")
    assert any(r["where"] == "transfer" for r in refusals["refusals"]), refusals
