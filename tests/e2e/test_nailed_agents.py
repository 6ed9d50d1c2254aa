"""Always-connected agents with a real Asterisk, SIPp callers and a baresip agent
that answers by itself.

Ann works always-connected ([sip.agents.ann] nailed): her phone is called once when
she logs in; two callers then reach her one after the other with no new INVITE to
her phone (counted on the wire), with audio both ways; when her phone hangs up the
line, she is paused ("line-dropped") and the next caller waits instead of being
sent into a dead bridge.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from callcenter.core.acd.model import AgentState
from callcenter.core.calls.state import CallState
from callcenter.services.inbound.nailed import LINE_DROPPED
from callcenter.simulate.capture import Capture, Datagram
from callcenter.simulate.procs import wait_for
from callcenter.simulate.voices import greeting_pcap
from tests.e2e.conftest import CALLER_PORT, PHONE_PORT, CallCenter
from tests.e2e.outbound_support import (
    Outbound,
    outbound_fixture,
    window_around,
    zone_in_hours,
)
from tests.e2e.sites import one_queue_site
from tests.e2e.test_webphone import rtp_counts

pytestmark = pytest.mark.e2e

CALLER_MEDIA_PORT = CALLER_PORT + 1000  # SIPp's media port (CallCenter.caller)
TALK_MS = 4000
SPEECH = "Hello, I am calling about my last invoice, and I would like to pay it by card."


def _state(center: CallCenter, agent: str) -> tuple[AgentState, str]:
    return center.get(lambda c: (c.agents.status(agent).state, c.agents.status(agent).reason))  # type: ignore[no-any-return]


def _channels_of(center: CallCenter, agent: str) -> list[str]:
    names = [
        line.split("!")[0] for line in center.pbx.cli("core show channels concise").splitlines()
    ]
    return [n for n in names if n.startswith(f"PJSIP/{agent}-")]


def _all_channels(center: CallCenter) -> list[str]:
    lines = center.pbx.cli("core show channels concise").splitlines()
    return [line.split("!")[0] for line in lines if "!" in line]


def _calls_to(capture: Capture, address: str) -> list[bytes]:
    """The Call-IDs of new calls (initial INVITEs: no To tag) sent to the phone;
    re-INVITEs inside the line's dialog (connected line, media updates) are not calls."""
    found = []
    for d in capture.datagrams():
        if d.dst != address or d.dport != PHONE_PORT or not d.payload.startswith(b"INVITE "):
            continue
        headers = {}
        for raw in d.payload.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
            name, _, value = raw.partition(b":")
            headers[name.strip().lower()] = value.strip()
        to = headers.get(b"to") or headers.get(b"t", b"")
        if b";tag=" not in to:
            found.append(headers.get(b"call-id") or headers.get(b"i", b""))
    return found


def _rtp(datagrams: list[Datagram], start: float, end: float) -> int:
    """RTP packets to the caller in a window."""
    return sum(
        1
        for d in datagrams
        if start <= d.at < end and len(d.payload) > 12 and d.dport == CALLER_MEDIA_PORT
    )


def test_an_always_connected_agent_takes_two_callers_without_a_ring_and_a_dropped_line_pauses(
    nailed_center: CallCenter, tmp_path: Path
) -> None:
    center = nailed_center
    center.load_site(one_queue_site("ann"))
    ann = center.softphone(center.account("ann"), auto_answer=True)
    capture = Capture(
        tmp_path / "wire.pcap",
        f"udp and (dst port {CALLER_MEDIA_PORT} or dst host {ann.address})",
    )
    capture.start()
    # dumpcap reports "Capturing on" a moment before it sees every packet: the line's
    # INVITE, sent right after the login, was missed once without this pause.
    time.sleep(1.0)
    try:
        center.login("ann")
        # The line: one call to her phone, answered by itself, waiting in cc-nailed.
        ann.wait_event("CALL_ESTABLISHED", 15)
        center.wait_available("ann")
        (line,) = _channels_of(center, "ann")

        # The callers speak (RTP to the agent), ann's phone sends its tone back.
        speech = greeting_pcap(SPEECH, tmp_path / "voices" / "speech.pcap", trailing_silence=4.0)
        talks = []
        for n in range(2):
            placed = center.place_call([1000, "1", speech, TALK_MS], f"+1555017{n}", end="bye")
            wait_for(lambda: _state(center, "ann")[0] is AgentState.ON_CALL, 15, "ann talks")
            start, counts = time.time(), rtp_counts(center, line)
            assert _channels_of(center, "ann") == [line]  # the same leg, no new one
            time.sleep(2.0)
            later = rtp_counts(center, line)
            talks.append((start, time.time(), later[0] - counts[0], later[1] - counts[1]))
            assert placed.finish().successful == 1
            center.wait_no_calls(15)
            center.wait_available("ann")  # the line is back, waiting
            assert _channels_of(center, "ann") == [line]

        # Her phone hangs the line up: paused with the reason, nothing bridged to it.
        seen = len(ann.events)
        ann.hangup()
        ann.wait_event("CALL_CLOSED", 5, after=seen)
        wait_for(lambda: _state(center, "ann")[0] is AgentState.PAUSED, 5, "ann paused")
        assert _state(center, "ann") == (AgentState.PAUSED, LINE_DROPPED)
        placed = center.place_call([1000, "1", 4000], "+15550179", end="bye")

        def waiting() -> bool:
            states = center.get(lambda c: [call.state for call in c.calls.all()])
            return states == [CallState.WAITING]  # type: ignore[no-any-return]

        wait_for(waiting, 10, "the caller in line")
        time.sleep(1.0)
        assert waiting()  # still in line: not sent to ann's dead line
        assert _channels_of(center, "ann") == []
        assert placed.finish().successful == 1
        center.wait_no_calls(15)
    finally:
        capture.stop()

    datagrams = list(capture.datagrams())
    calls = _calls_to(capture, ann.address)
    assert len(calls) == 1, calls  # the line's only; none for the two callers
    for start, end, from_phone, to_phone in talks:
        to_caller = _rtp(datagrams, start, end)
        # 50 packets a second each way while they talk: to the caller (on the wire), and
        # on ann's line (Asterisk's counters: received from, sent to her phone).
        figures = (to_caller, from_phone, to_phone)
        assert to_caller >= 0.8 * 50 * (end - start), figures
        assert min(from_phone, to_phone) >= 0.8 * 50 * (end - start), figures


@pytest.fixture
def nailed_outbound(nailed_center: CallCenter, tmp_path: Path) -> Iterator[Outbound]:
    yield from outbound_fixture(nailed_center, tmp_path)


def test_a_progressive_campaign_reaches_an_always_connected_agent_without_a_ring(
    nailed_outbound: Outbound, tmp_path: Path
) -> None:
    """ann (always-connected) takes the campaign's customers on her one line."""
    outbound, center = nailed_outbound, nailed_outbound.center
    outbound.site("ann")
    ann = outbound.phones["ann"]
    (line,) = _channels_of(center, "ann")
    seen = len(ann.events)
    zone = zone_in_hours()
    leads = [("+12125550160", zone), ("+12125550161", zone)]
    campaign = outbound.campaign("steady", leads, mode="progressive", windows=window_around(zone))
    # ann ends each call from the desktop (hanging up her phone would drop the line).
    deadline, ended = time.monotonic() + 90, set()
    while not all(lead.status == "done" for lead in outbound.leads(campaign).values()):
        assert time.monotonic() < deadline, "outbound calls did not finish in time"
        status = center.get(lambda c: c.agents.status("ann"))
        talked = time.time() - status.since > 1.5
        if status.state is AgentState.ON_CALL and talked and status.call_id not in ended:
            ended.add(status.call_id)
            assert _channels_of(center, "ann") == [line]
            center.thread.run(center.controller.call_control.end("ann"))
        time.sleep(0.2)

    def settled() -> bool:  # outbound.settle's, but ann's line stays up
        attempts = center.get(lambda c: [a for a in c.dialer_calls.attempts.values()])
        return not attempts and _all_channels(center) == [line]

    wait_for(settled, 30, "every attempt finished, only ann's line left")
    center.wait_available("ann")
    attempts = outbound.attempts(campaign)
    assert [(row.outcome, row.agent) for row in attempts] == [("connected", "ann")] * 2
    assert all(row.answer_to_agent_seconds is not None for row in attempts)
    assert outbound.customer_calls(2) == 2
    # No new call to her phone: the line is the same, and her phone saw no new call.
    assert _channels_of(center, "ann") == [line]
    assert "CALL_INCOMING" not in ann.event_types()[seen:]
    assert ann.event_types()[seen:].count("CALL_ESTABLISHED") == 0
