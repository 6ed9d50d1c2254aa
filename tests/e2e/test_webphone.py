"""The desktop's browser phone, in a real headless Chromium with fake media.

Agent "wendy" has only a browser ([sip.agents.wendy] webrtc, tests/e2e/conftest.py):
her user logs in to the desktop, whose phone panel (JsSIP, served by the console)
registers over Asterisk's secure WebSocket with the stored digest; she goes ready, a
SIPp caller queued for her rings in the browser, she answers there, audio flows both
ways over DTLS-SRTP (Asterisk's own RTP counters), she hangs up in the browser, and
the call's record says she answered it.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from callcenter.adapters.db.models import CallRow
from callcenter.simulate.voices import greeting_pcap
from tests.e2e.browser import MEDIA_FLAGS, log_in, new_browser, screenshot
from tests.e2e.conftest import CallCenter
from tests.e2e.console import (
    PASSWORD,
    add_user,
    console,  # noqa: F401  (fixture)
    poll,
    record_figures,
    text,
)
from tests.e2e.sites import one_queue_site, quiet_queue

pytestmark = pytest.mark.e2e

AGENT, NUMBER, SECOND = "wendy", "5550777", "5550778"
SPEECH = "Hello, I am calling about the parcel that never arrived at my door."


@pytest.fixture
def media_browser() -> Iterator[webdriver.Chrome]:
    """A Chromium with a fake microphone and no permission prompt."""
    profile = Path(tempfile.mkdtemp(prefix="cc-chromium-"))
    driver = new_browser(profile, extra=MEDIA_FLAGS)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def phone_state(driver: webdriver.Chrome) -> str:
    return str(driver.execute_script("return document.getElementById('phone-state').dataset.state"))


def agent_channel(center: CallCenter) -> str:
    channels = center.pbx.cli("core show channels concise")
    found = [line.split("!")[0] for line in channels.splitlines() if f"PJSIP/{AGENT}-" in line]
    return found[0] if found else ""


def rtp_counts(center: CallCenter, channel: str) -> tuple[int, int]:
    """Packets Asterisk received from, and sent to, the browser on this leg
    (``pjsip show channelstats``: bridge, channel, up time, codec, then the receive
    count, lost, %, jitter and the transmit count...)."""
    name = channel.removeprefix("PJSIP/")
    for line in center.pbx.cli("pjsip show channelstats").splitlines():
        fields = line.split()
        if len(fields) >= 9 and fields[1] == name:
            return int(fields[4]), int(fields[8])
    return 0, 0


def desk_state(driver: webdriver.Chrome) -> str:
    return str(driver.execute_script("return document.getElementById('state').dataset.state"))


def pop_shows(driver: webdriver.Chrome, phase: str) -> bool:
    return bool(
        driver.execute_script("return !document.getElementById('pop').hidden")
        and text(driver, "#pop-phase") == phase
    )


def browser_counts(driver: webdriver.Chrome) -> tuple[int, int]:
    """Packets the browser received and sent, as its panel shows them (getStats)."""
    data = driver.execute_script("return {...document.getElementById('phone-media').dataset}")
    return int(data["in"]), int(data["out"])


def test_an_agent_with_only_a_browser_takes_a_queued_call(
    console: CallCenter,  # noqa: F811
    media_browser: webdriver.Chrome,
    tmp_path: Path,
) -> None:
    center, driver = console, media_browser
    queue = quiet_queue("support", requirements={"support": 1}, wrapup=60)
    center.load_site(one_queue_site(AGENT, queue=queue))
    add_user(center, "wanda", "agent", agent=AGENT)

    started = time.monotonic()
    log_in(driver, center.base_url, "wanda", PASSWORD)
    poll(lambda: phone_state(driver) == "registered", 20, "the browser phone registered")
    registered_after = time.monotonic() - started
    contacts = center.pbx.cli(f"pjsip show aor {AGENT}")
    assert "transport=ws" in contacts.lower(), contacts  # the browser's WebSocket contact
    assert driver.find_element(By.ID, "phone-answer").get_attribute("disabled")

    driver.find_element(By.ID, "btn-ready").click()
    center.wait_available(AGENT, timeout=10)

    speech = greeting_pcap(SPEECH, tmp_path / "voices" / "parcel.pcap")
    placed = center.place_call([800, "1", speech], NUMBER, "Parcel", end="await")
    poll(lambda: phone_state(driver) == "ringing", 20, "the call ringing in the browser")
    rang = time.monotonic()
    peer = text(driver, "#phone-peer")
    poll(lambda: pop_shows(driver, "Ringing:"), 5, "the screen pop beside the ringing phone")
    assert NUMBER in text(driver, "#pop-caller")
    driver.find_element(By.ID, "phone-answer").click()
    poll(lambda: phone_state(driver) == "talking", 10, "the call answered in the browser")
    answer_seconds = time.monotonic() - rang
    screenshot(driver, "webphone-talking")

    channel = poll(lambda: agent_channel(center), 5, "the browser's channel in Asterisk")
    pbx = center.controller.pbx
    assert center.thread.run(pbx.get_var(channel, "CHANNEL(rtp,secure,audio)")) == "1"
    first = poll(
        lambda: (lambda c: c if min(c) > 0 else None)(rtp_counts(center, channel)),
        10,
        "RTP both ways between Asterisk and the browser",
    )
    in_browser = browser_counts(driver)
    time.sleep(2)
    later = rtp_counts(center, channel)
    # Both directions keep flowing (20 ms packets: about 50 a second each way).
    assert later[0] - first[0] > 40 and later[1] - first[1] > 40, (first, later)
    # The browser's own counters agree: the caller's audio arrives, the agent's leaves.
    in_browser_later = poll(
        lambda: (lambda c: c if min(c) > max(in_browser) + 40 else None)(browser_counts(driver)),
        5,
        "the browser's RTP counters rising",
    )

    placed.wait_listening()
    driver.find_element(By.ID, "phone-hangup").click()
    poll(lambda: phone_state(driver) == "registered", 10, "the phone idle after hanging up")
    result = placed.finish(30)
    assert (result.successful, result.failed) == (1, 0), result.log

    # The desktop's own controls go on as with any phone: wrap-up, then ready again.
    poll(lambda: pop_shows(driver, "Wrap-up:"), 5, "the wrap-up form")
    Select(driver.find_element(By.ID, "disposition")).select_by_index(1)
    driver.find_element(By.ID, "btn-save").click()
    poll(lambda: desk_state(driver) == "ready", 5, "ready again after the wrap-up")

    # Answering automatically, once ticked; this caller hangs up first.
    driver.find_element(By.ID, "phone-auto").click()
    again = center.place_call([800, "2", 3000], SECOND, "Second", end="bye")
    poll(lambda: phone_state(driver) == "talking", 25, "the second call answered by itself")
    poll(lambda: phone_state(driver) == "registered", 15, "the phone idle once the caller left")
    assert again.finish(15).successful == 1

    rows = {
        r.caller_number: r
        for r in center.rows(CallRow, CallRow.caller_number.in_([NUMBER, SECOND]))
    }
    row = rows[NUMBER]
    assert row.agent == AGENT and row.answered_at is not None, (row.agent, row.outcome)
    assert row.talk_seconds is not None and row.talk_seconds > 2 and row.disposition
    assert rows[SECOND].agent == AGENT and rows[SECOND].answered_at is not None
    record_figures(
        "webphone",
        {
            "registered_after_login_s": round(registered_after, 2),
            "answer_click_to_talking_s": round(answer_seconds, 2),
            "asterisk_rtp_rx_tx_2s": [later[0] - first[0], later[1] - first[1]],
            "browser_rtp_in_out": [in_browser, in_browser_later],
            "outcomes": {number: r.outcome for number, r in rows.items()},
            "peer_shown": peer,
        },
    )


def test_leaving_the_desktop_takes_the_browser_phone_out_of_routing_at_once(
    console: CallCenter,  # noqa: F811
    media_browser: webdriver.Chrome,
) -> None:
    center, driver = console, media_browser
    center.load_site(one_queue_site(AGENT))
    add_user(center, "wanda", "agent", agent=AGENT)
    log_in(driver, center.base_url, "wanda", PASSWORD)
    figures: dict[str, object] = {}

    def ready_then_leave(leave: Callable[[], None], how: str) -> None:
        poll(lambda: phone_state(driver) == "registered", 20, "the browser phone registered")
        driver.find_element(By.ID, "btn-ready").click()
        center.wait_available(AGENT, timeout=10)
        left = time.monotonic()
        leave()
        poll(
            lambda: not center.get(lambda c: c.agents.available(AGENT)),
            3,  # not the qualify timeout (15 s + 3 s): the contact goes with its socket
            f"the agent out of routing once her desktop is {how}",
        )
        figures[f"unavailable_after_{how}_s"] = round(time.monotonic() - left, 2)
        assert "transport=ws" not in center.pbx.cli(f"pjsip show aor {AGENT}").lower()

    # Another page in the same tab (the browser may keep the desktop in its cache).
    ready_then_leave(lambda: driver.get("about:blank"), "left")
    driver.get(f"{center.base_url}/desktop")  # back: the phone registers again

    def close_tab() -> None:
        desk = driver.current_window_handle
        driver.switch_to.new_window("tab")
        other = driver.current_window_handle
        driver.switch_to.window(desk)
        driver.close()
        driver.switch_to.window(other)

    ready_then_leave(close_tab, "closed")
    record_figures("webphone-leaving", figures)
