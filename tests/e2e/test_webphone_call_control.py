"""Hold, resume and blind transfer of a browser-phone agent's call, from the desktop's
buttons, in a real headless Chromium with fake media (tests/e2e/test_webphone.py).

Wendy has only a browser. She answers a queued SIPp caller in it, holds: the caller
hears music (RTP to the caller goes on) and her WebRTC leg stays up in cc-hold-agent;
she resumes: audio flows both ways again (Asterisk's counters on her leg, and the
browser's getStats); then she transfers the caller to bob, a baresip agent, whose
phone rings; her browser's call ends cleanly and she goes to wrap-up. The record has
one segment per agent, with her hold time. A held browser call ends cleanly whoever
hangs up; a caller transferred to her by a baresip agent rings in her browser.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from callcenter.adapters.db.models import CallEventRow, CallRow
from callcenter.core.acd.model import AgentState
from callcenter.core.calls.state import CallState
from callcenter.simulate.capture import Capture
from callcenter.simulate.voices import greeting_pcap
from tests.e2e.browser import log_in, screenshot
from tests.e2e.conftest import CallCenter, PlacedCall
from tests.e2e.console import (
    PASSWORD,
    add_user,
    console,  # noqa: F401  (fixture)
    poll,
    record_figures,
    text,
)
from tests.e2e.sites import one_queue_site, quiet_queue
from tests.e2e.test_call_control import (
    CALLER_MEDIA_PORT,
    HELD,
    Api,
    _legs,
    _packets_to_caller,
    _state,
)
from tests.e2e.test_webphone import (
    AGENT,
    SPEECH,
    agent_channel,
    browser_counts,
    desk_state,
    media_browser,  # noqa: F401  (fixture)
    phone_state,
    pop_shows,
)

pytestmark = pytest.mark.e2e

NUMBER = "5550779"


def phone_ended(driver: webdriver.Chrome) -> str:
    """How the browser's last call ended (phone.js): originator and JsSIP's cause."""
    return str(driver.execute_script("return document.getElementById('phone-state').dataset.ended"))


def _bridged(center: CallCenter) -> bool:
    bridges = [bridge for _, bridge in _legs(center).values()]
    return len(bridges) == 2 and bridges[0] != "" and bridges[0] == bridges[1]


def _leg_counts(center: CallCenter, channel: str) -> tuple[int, int]:
    """Packets Asterisk received from, and sent to, the browser on its leg, in or out
    of a bridge (``pjsip show channelstats`` lists bridged channels only)."""
    pbx = center.controller.pbx
    got = [
        center.thread.run(pbx.get_var(channel, f"CHANNEL(rtcp,{what},audio)"))
        for what in ("rxcount", "txcount")
    ]
    return int(got[0] or 0), int(got[1] or 0)


def _fresh_browser_counts(driver: webdriver.Chrome) -> tuple[int, int]:
    """The browser's counters once its panel refreshed them (getStats every second)."""
    shown = browser_counts(driver)
    return poll(
        lambda: (lambda c: c if c != shown else None)(browser_counts(driver)),
        3,
        "the browser's counters refreshed",
        step=0.02,
    )


def _rising(center: CallCenter, driver: webdriver.Chrome, channel: str, seconds: float) -> dict:
    """RTP both ways on the browser's leg over about ``seconds``: Asterisk's counters
    (from, to the browser) and the browser's own (in, out)."""
    mine, first = _fresh_browser_counts(driver), _leg_counts(center, channel)
    time.sleep(seconds)
    mine_later, later = _fresh_browser_counts(driver), _leg_counts(center, channel)
    return {
        "asterisk_rx_tx": [later[0] - first[0], later[1] - first[1]],
        "browser_in_out": [mine_later[0] - mine[0], mine_later[1] - mine[1]],
    }


def test_a_browser_agent_holds_resumes_and_transfers_her_caller(
    console: CallCenter,  # noqa: F811
    media_browser: webdriver.Chrome,  # noqa: F811
    tmp_path: Path,
) -> None:
    center, driver = console, media_browser
    center.load_site(
        one_queue_site(
            AGENT, "bob", queue=quiet_queue("support", requirements={"support": 1}, wrapup=60)
        )
    )
    add_user(center, "wanda", "agent", agent=AGENT)
    log_in(driver, center.base_url, "wanda", PASSWORD)
    poll(lambda: phone_state(driver) == "registered", 20, "the browser phone registered")
    driver.find_element(By.ID, "btn-ready").click()
    center.wait_available(AGENT, timeout=10)

    capture = Capture(tmp_path / "caller.pcap", f"udp and dst port {CALLER_MEDIA_PORT}")
    capture.start()
    try:
        # The caller speaks, then stays on the line sending silence (RTP all along).
        voice = greeting_pcap(SPEECH, tmp_path / "voices" / "parcel.pcap", trailing_silence=40)
        placed = center.place_call([800, "1", voice], NUMBER, "Parcel", end="await")
        poll(lambda: phone_state(driver) == "ringing", 20, "the call ringing in the browser")
        driver.find_element(By.ID, "phone-answer").click()
        poll(lambda: phone_state(driver) == "talking", 10, "the call answered in the browser")
        poll(lambda: pop_shows(driver, "On call with"), 5, "the pop while talking")
        channel = poll(lambda: agent_channel(center), 5, "the browser's channel in Asterisk")
        poll(lambda: min(_leg_counts(center, channel)) > 0, 10, "RTP both ways")
        time.sleep(0.5)
        talk_window = (time.time(), time.time() + 1.5)
        talk = _rising(center, driver, channel, 1.6)

        driver.find_element(By.ID, "btn-hold").click()
        poll(lambda: "On hold" in text(driver, "#hold-status"), 5, "the page says on hold")
        poll(
            lambda: sorted(c for c, _ in _legs(center).values()) == HELD,
            5,
            "both legs out of their bridge",
        )
        held_at = time.monotonic()
        time.sleep(0.5)
        hold_window = (time.time(), time.time() + 2.0)
        held = _rising(center, driver, channel, 2.1)
        screenshot(driver, "webphone-on-hold")
        # The browser's leg is still up, the same channel, waiting in cc-hold-agent; its
        # media too: the browser's audio arrives, and Asterisk sends it silence
        # (asterisk.conf transmit_silence), which keeps its side of the path alive.
        assert phone_state(driver) == "talking"
        assert _legs(center)[channel][0] == "cc-hold-agent", _legs(center)
        assert min(held["asterisk_rx_tx"]) > 50 and min(held["browser_in_out"]) > 50, held

        driver.find_element(By.ID, "btn-resume").click()
        poll(
            lambda: not driver.find_element(By.ID, "btn-hold").get_attribute("disabled"),
            5,
            "resumed",
        )
        held_for = time.monotonic() - held_at
        poll(lambda: _bridged(center), 5, "both legs in one bridge again")
        time.sleep(0.5)
        resumed_window = (time.time(), time.time() + 1.5)
        resumed = _rising(center, driver, channel, 1.6)
        # Audio both ways again, as before the hold (20 ms packets: 50 a second).
        assert min(resumed["asterisk_rx_tx"]) > 50, resumed
        assert min(resumed["browser_in_out"]) > 50, resumed

        bob = center.softphone(center.account("bob"))
        center.login("bob")
        center.wait_available("bob")
        Select(driver.find_element(By.ID, "xfer-to")).select_by_value("agent")
        driver.find_element(By.ID, "xfer-agent").send_keys("bob")
        driver.find_element(By.ID, "xfer-reason").send_keys("billing question")
        asked = time.monotonic()
        driver.find_element(By.ID, "btn-transfer").click()
        poll(lambda: "Transferred to agent bob" in text(driver, "#desk-status"), 5, "transferred")
        bob.wait_event("CALL_INCOMING", 15)
        to_bob = time.monotonic() - asked
        poll(lambda: phone_state(driver) == "registered", 10, "the browser's call ended")
        browser_idle = time.monotonic() - asked
        assert phone_ended(driver) == "remote:Terminated"  # Asterisk's BYE, not a failure
        poll(lambda: pop_shows(driver, "Wrap-up:"), 5, "wendy's wrap-up form")
        bob.accept()
        bob.wait_event("CALL_ESTABLISHED", 5)
        call = poll(
            lambda: next(iter(center.get(lambda c: c.calls.in_state(CallState.TALKING))), None),
            5,
            "bob talking with the caller",
        )
        assert (call.agent, call.transferred_from) == ("bob", AGENT)
        bob_window = (time.time(), time.time() + 1.5)
        time.sleep(1.6)
        assert pop_shows(driver, "Wrap-up:")  # still hers to finish
        Select(driver.find_element(By.ID, "disposition")).select_by_index(1)
        driver.find_element(By.ID, "btn-save").click()
        poll(lambda: desk_state(driver) == "ready", 5, "ready again after the wrap-up")

        placed.wait_listening()
        seen = len(bob.events)
        bob.hangup()
        bob.wait_event("CALL_CLOSED", 5, after=seen)
        assert placed.finish(15).successful == 1
        center.wait_no_calls(15)
    finally:
        capture.stop()

    counts = {
        name: _packets_to_caller(capture, *window)
        for name, window in (
            ("talk", talk_window),
            ("hold", hold_window),
            ("resumed", resumed_window),
            ("bob", bob_window),
        )
    }
    record_figures(
        "webphone-call-control",
        {
            "rtp_packets_to_caller": counts,
            "browser_leg_talk": talk,
            "browser_leg_on_hold": held,
            "browser_leg_resumed": resumed,
            "transfer_click_to_bob_ringing_s": round(to_bob, 3),
            "transfer_click_to_browser_idle_s": round(browser_idle, 3),
        },
    )
    # The caller hears something in every phase: wendy, the music, wendy, bob (at least
    # 60 % of the 50 packets a second: a loaded machine's capture thread gets its
    # windows late; a dead path gives none).
    for name, seconds in (("talk", 1.5), ("hold", 2.0), ("resumed", 1.5), ("bob", 1.5)):
        assert counts[name] >= 0.6 * 50 * seconds, counts

    (row,) = center.rows(CallRow, CallRow.caller_number == NUMBER)
    assert row.outcome == "completed" and row.agent == "bob", (row.outcome, row.agent)  # the last
    events = center.rows(CallEventRow, CallEventRow.call_id == row.id)
    segments = [{**e.detail, "agent": e.agent} for e in events if e.kind == "segment"]
    assert [(s["agent"], s["reason"], s["target"]) for s in segments] == [
        (AGENT, "transfer-agent", "bob"),
        ("bob", "completed", ""),
    ], segments
    assert segments[0]["holds"] == 1 and abs(segments[0]["hold"] - held_for) < 1.0, segments
    assert [e.kind for e in events].count("held") == 1


def test_a_held_browser_call_ends_cleanly_whoever_hangs_up(
    console: CallCenter,  # noqa: F811
    media_browser: webdriver.Chrome,  # noqa: F811
) -> None:
    """Wendy hangs up in the browser while her caller is on hold: the caller gets
    Asterisk's BYE. A second caller hangs up while on hold: her browser's call ends."""
    center, driver = console, media_browser
    center.load_site(one_queue_site(AGENT))
    add_user(center, "wanda", "agent", agent=AGENT)
    log_in(driver, center.base_url, "wanda", PASSWORD)
    poll(lambda: phone_state(driver) == "registered", 20, "the browser phone registered")
    driver.find_element(By.ID, "phone-auto").click()  # answers by itself
    driver.find_element(By.ID, "btn-ready").click()

    def held_call(steps: list[str | int], number: str, end: str) -> PlacedCall:
        center.wait_available(AGENT, timeout=10)
        placed = center.place_call(steps, number, "Held", end=end)
        poll(lambda: phone_state(driver) == "talking", 25, "the call answered by itself")
        poll(lambda: pop_shows(driver, "On call with"), 5, "the pop while talking")
        driver.find_element(By.ID, "btn-hold").click()
        poll(
            lambda: sorted(c for c, _ in _legs(center).values()) == HELD,
            5,
            "both legs out of their bridge",
        )
        return placed

    placed = held_call([800, "1"], "5550781", "await")
    time.sleep(1.5)
    driver.find_element(By.ID, "phone-hangup").click()
    poll(lambda: phone_state(driver) == "registered", 10, "the phone idle after hanging up")
    assert phone_ended(driver) == "local:Terminated"
    assert placed.finish(15).successful == 1  # the caller got Asterisk's BYE
    center.wait_no_calls(10)
    poll(lambda: desk_state(driver) == "ready", 10, "ready again (no wrap-up in this queue)")

    # The caller's script: the menu key, then 5 s on the line (held meanwhile), then BYE.
    placed = held_call([800, "1", 5000], "5550782", "bye")
    poll(lambda: phone_state(driver) == "registered", 15, "the phone idle once the caller left")
    assert phone_ended(driver) == "remote:Terminated"
    assert placed.finish(15).successful == 1
    center.wait_no_calls(10)

    rows = {
        r.caller_number: r
        for r in center.rows(CallRow, CallRow.caller_number.in_(["5550781", "5550782"]))
    }
    for number, ended_by in (("5550781", "agent"), ("5550782", "caller")):
        events = center.rows(CallEventRow, CallEventRow.call_id == rows[number].id)
        (completed,) = [e for e in events if e.kind == "completed"]
        (segment,) = [e.detail for e in events if e.kind == "segment"]
        assert completed.detail["ended_by"] == ended_by, (number, completed.detail)
        assert segment["holds"] == 1 and segment["hold"] > 1.0, (number, segment)


def test_a_caller_transferred_to_a_browser_agent_talks_with_her(
    console: CallCenter,  # noqa: F811
    media_browser: webdriver.Chrome,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Bob (baresip) transfers his caller to wendy: her browser rings, she answers,
    audio flows both ways, and the record has both segments."""
    center, driver = console, media_browser
    center.load_site(one_queue_site(AGENT, "bob"))
    bob = center.softphone(center.account("bob"))
    center.login("bob")
    center.wait_available("bob")
    voice = greeting_pcap(SPEECH, tmp_path / "voices" / "parcel.pcap", trailing_silence=40)
    placed = center.place_call([800, "1", voice], "5550783", "Parcel", end="await")
    bob.wait_event("CALL_INCOMING", 15)
    bob.accept()
    bob.wait_event("CALL_ESTABLISHED", 5)
    poll(lambda: _state(center, "bob") is AgentState.ON_CALL, 5, "bob on the call")

    add_user(center, "wanda", "agent", agent=AGENT)
    log_in(driver, center.base_url, "wanda", PASSWORD)
    poll(lambda: phone_state(driver) == "registered", 20, "the browser phone registered")
    driver.find_element(By.ID, "btn-ready").click()
    center.wait_available(AGENT, timeout=10)
    seen = len(bob.events)
    Api(center).post("/api/desktop/transfer", {"agent": "bob", "to": "agent", "target": AGENT})
    bob.wait_event("CALL_CLOSED", 5, after=seen)
    poll(lambda: phone_state(driver) == "ringing", 15, "the transferred call in the browser")
    poll(lambda: "bob" in text(driver, "#pop"), 5, "her pop says who transferred it")
    driver.find_element(By.ID, "phone-answer").click()
    poll(lambda: phone_state(driver) == "talking", 10, "answered in the browser")
    channel = poll(lambda: agent_channel(center), 5, "the browser's channel in Asterisk")
    poll(lambda: min(_leg_counts(center, channel)) > 0, 10, "RTP both ways")
    talk = _rising(center, driver, channel, 1.6)
    assert min(talk["asterisk_rx_tx"]) > 50 and min(talk["browser_in_out"]) > 50, talk

    placed.wait_listening()
    driver.find_element(By.ID, "phone-hangup").click()
    poll(lambda: phone_state(driver) == "registered", 10, "the phone idle after hanging up")
    assert placed.finish(15).successful == 1
    center.wait_no_calls(10)
    (row,) = center.rows(CallRow, CallRow.caller_number == "5550783")
    events = center.rows(CallEventRow, CallEventRow.call_id == row.id)
    segments = [{**e.detail, "agent": e.agent} for e in events if e.kind == "segment"]
    assert [(s["agent"], s["reason"], s["target"]) for s in segments] == [
        ("bob", "transfer-agent", AGENT),
        (AGENT, "completed", ""),
    ], segments
    record_figures("webphone-transferred-to", {"browser_leg_talk": talk})
