"""The console in a real headless Chromium, with real calls behind it.

SIPp callers reach the IVR and queue; agents are baresip softphones in
manual answer mode; a supervisor and an agent use the console pages the way
people do (log in, look, click). The tests poll the DOM against deadlines,
never sleep and hope. Screenshots go to tests/artifacts/. The agent desktop's
tests are in test_console_desktop.py, the supervisor page's in
test_console_supervisor.py, the wallboard's figures in test_wallboard_truth.py.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from callcenter.core.calls.state import CallState
from tests.e2e.browser import log_in, screenshot
from tests.e2e.conftest import CALLER_PORT, CallCenter, PlacedCall
from tests.e2e.console import (
    PASSWORD,
    PUSH_DEADLINE,
    add_user,
    agent_state,
    console,  # noqa: F401  (fixture)
    fetch_json,
    pause,
    poll,
    ready,
    record_figures,
    restart,
    text,
    tile_field,
)
from tests.e2e.sites import agent, queue_node, quiet_queue, site

pytestmark = pytest.mark.e2e

TALK_SECONDS = 3.0
NONE = "\u2013"  # what a tile shows for a figure with no value yet

TWO_AGENTS = site(
    agents=[agent("amy", 1001, support=3), agent("ben", 1002, support=3)],
    queues=[quiet_queue("support", requirements={"support": 1}, service_level_target=30)],
    choices={"1": "support"},
    nodes={"support": queue_node("support")},
)


def waiting(center: CallCenter) -> int:
    return int(center.get(lambda c: len(c.calls.in_state(CallState.WAITING, CallState.RINGING))))


def follows(
    driver: webdriver.Chrome, center: CallCenter, truth: int, shown: str, what: str
) -> float:
    """Wait for the controller to reach ``truth`` waiting callers, then for the
    page to show ``shown``; returns how long the page lagged."""
    poll(lambda: waiting(center) == truth, 15, f"controller: {truth} waiting ({what})")
    known = time.monotonic()
    poll(lambda: tile_field(driver, "support", "waiting") == shown, 5, f"page: {what}")
    return time.monotonic() - known


def open_wallboard(driver: webdriver.Chrome, center: CallCenter) -> None:
    add_user(center, "sue", "supervisor")
    log_in(driver, center.base_url, "sue", PASSWORD)
    driver.get(f"{center.base_url}/wallboard")
    poll(lambda: text(driver, "#wb-status") == "Live", 10, "the wallboard live")
    poll(lambda: tile_field(driver, "support", "waiting") == "0", 5, "the support tile")


# -- 1. the wallboard follows the calls -----------------------------------------------------


def test_supervisor_watches_the_wallboard_follow_calls_and_agents(
    console: CallCenter,  # noqa: F811
    browser: webdriver.Chrome,
) -> None:
    console.load_site(TWO_AGENTS)
    amy = console.softphone(console.account("amy"))
    ben = console.softphone(console.account("ben"))
    console.login("amy", "ben")
    pause(console, "amy")
    pause(console, "ben")
    open_wallboard(browser, console)
    poll(lambda: agent_state(browser, "amy") == "Paused", 5, "amy paused on the board")

    lags = []
    first = console.place_call([800, "1"], "5550101", "First")
    lags.append(follows(browser, console, 1, "1", "one caller waiting"))
    second = console.place_call([800, "1"], "5550102", "Second", port=CALLER_PORT + 10)
    lags.append(follows(browser, console, 2, "2", "two callers waiting"))
    assert tile_field(browser, "support", "agents_paused") == "2"

    ready(console, "amy")
    poll(lambda: agent_state(browser, "amy") == "Ringing", 10, "amy ringing on the board")
    amy.wait_event("CALL_INCOMING", 10)
    amy.accept()
    answered = amy.wait_event("CALL_ESTABLISHED", 5)["_at"]
    poll(lambda: agent_state(browser, "amy") == "On call", 5, "amy on call on the board")
    phone_to_page = time.monotonic() - answered  # from the softphone's own event
    lags.append(follows(browser, console, 1, "1", "amy answered"))
    assert tile_field(browser, "support", "answered") == "1"

    ready(console, "ben")
    ben.wait_event("CALL_INCOMING", 10)
    ben.accept()
    ben.wait_event("CALL_ESTABLISHED", 5)
    lags.append(follows(browser, console, 0, "0", "ben answered"))
    poll(lambda: tile_field(browser, "support", "agents_on_call") == "2", 5, "two on call")
    assert agent_state(browser, "ben") == "On call"
    assert tile_field(browser, "support", "answered") == "2"
    shot = screenshot(browser, "wallboard")
    assert shot.stat().st_size > 10_000

    hang_up(first, amy)
    hang_up(second, ben)
    poll(lambda: tile_field(browser, "support", "agents_on_call") == "0", 10, "calls over")
    poll(lambda: tile_field(browser, "support", "aht") != NONE, 5, "AHT shown")
    record_figures(
        "wallboard-lags",
        {"page_behind_controller_seconds": lags, "answer_on_phone_to_page_seconds": phone_to_page},
    )
    assert max(lags) < PUSH_DEADLINE, lags
    assert phone_to_page < PUSH_DEADLINE, phone_to_page


def hang_up(placed: PlacedCall, phone: object) -> None:
    placed.wait_listening()
    phone.hangup()  # type: ignore[attr-defined]
    result = placed.finish(15)
    assert (result.successful, result.failed) == (1, 0), result.log


# -- the page recovers from a controller restart ---------------------------------------------


def offline(driver: webdriver.Chrome, cut: bool) -> None:
    """Take this browser off the network (or back on), as a pulled cable would."""
    driver.execute_cdp_cmd("Network.enable", {})
    conditions = {"offline": cut, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", conditions)


def statuses(driver: webdriver.Chrome) -> list[str]:
    return list(driver.execute_script("return window.statuses.splice(0)"))


def test_wallboard_recovers_by_itself_after_a_network_drop_and_a_controller_restart(
    console: CallCenter,  # noqa: F811
    browser: webdriver.Chrome,
) -> None:
    console.load_site(TWO_AGENTS)
    console.login("amy")
    pause(console, "amy")
    open_wallboard(browser, console)
    # Every status the page goes through, and a mark that a reload would wipe.
    browser.execute_script(
        "window.sameDocument = 'yes'; window.statuses = [];"
        "const node = document.getElementById('wb-status');"
        "new MutationObserver(() => window.statuses.push(node.dataset.state))"
        ".observe(node, {attributes: true});"
    )

    # The network drops (the stream is cut too); a caller joins meanwhile.
    offline(browser, True)
    console.controller.hub.close_all()
    poll(lambda: text(browser, "#wb-status") == "Reconnecting…", 10, "the page noticed")
    first = console.place_call([800, "1", 5000], "5550201", "Unseen", end="bye")
    poll(lambda: waiting(console) == 1, 15, "the caller waiting")
    assert tile_field(browser, "support", "waiting") == "0"  # nothing reaches the page
    offline(browser, False)
    poll(lambda: tile_field(browser, "support", "waiting") == "1", 10, "caught up")
    assert text(browser, "#wb-status") == "Live"
    assert (result := first.finish(20)).successful == 1, result.log
    poll(lambda: tile_field(browser, "support", "abandoned") == "1", 5, "the abandon shown")

    # The controller restarts: the page finds the new one and its rebuilt figures.
    statuses(browser)
    restart(console)
    poll(lambda: text(browser, "#wb-status") == "Live", 20, "the page live again")
    assert "reconnecting" in statuses(browser)
    assert tile_field(browser, "support", "abandoned") == "1"  # today's, from the database
    second = console.place_call([800, "1", 4000], "5550202", "After restart", end="bye")
    follows(browser, console, 1, "1", "a caller after the restart")
    assert (result := second.finish(20)).successful == 1, result.log
    poll(lambda: tile_field(browser, "support", "abandoned") == "2", 5, "both abandons shown")
    assert browser.execute_script("return window.sameDocument") == "yes"  # never reloaded


# -- 3. recordings: search, play, audit; agents kept out ---------------------------------------


def audio_state(driver: webdriver.Chrome) -> dict[str, Any]:
    return dict(
        driver.execute_script(
            "const a = document.getElementById('rc-audio');"
            "return {ready: a.readyState, duration: a.duration, error: a.error && a.error.code,"
            " src: a.currentSrc};"
        )
    )


def click(driver: webdriver.Chrome, css: str) -> bool:
    driver.find_element(By.CSS_SELECTOR, css).click()
    return True


def fetch_status(driver: webdriver.Chrome, path: str) -> int:
    return int(
        driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0], {credentials: 'same-origin'}).then(r => done(r.status));",
            path,
        )
    )


def test_supervisor_finds_and_plays_a_recording_and_agents_cannot_reach_it(
    console: CallCenter,  # noqa: F811
    browser: webdriver.Chrome,
) -> None:
    console.load_site(TWO_AGENTS)
    amy = console.softphone(console.account("amy"))
    console.login("amy")
    console.wait_available("amy")
    # The caller's script ends with the key; then they listen until the agent hangs up.
    placed = console.place_call([800, "1"], "5550400", "Recorded", end="await")
    amy.wait_event("CALL_INCOMING", 20)
    amy.accept()
    amy.wait_event("CALL_ESTABLISHED", 5)
    placed.wait_listening()
    time.sleep(TALK_SECONDS)  # the conversation being recorded
    amy.hangup()
    assert placed.finish(15).successful == 1
    console.wait_no_calls()
    recording = poll(
        lambda: (found := console.controller.recording_archive.get(1)) and found.ended_at and found,
        10,
        "the recording closed",
    )
    assert console.controller.recordings.host_path(recording.path).stat().st_size > 1000

    add_user(console, "sue", "supervisor")
    log_in(browser, console.base_url, "sue", PASSWORD)
    browser.get(f"{console.base_url}/recordings")
    poll(lambda: text(browser, "#rc-range") == "1\u20131 of 1", 10, "the last seven days")
    Select(browser.find_element(By.NAME, "agent")).select_by_value("amy")
    caller = browser.find_element(By.NAME, "caller")
    caller.send_keys("99999")
    submit = "#rc-search button[type=submit]"
    poll(lambda: click(browser, submit), 5, "search")
    poll(lambda: text(browser, "#rc-range") == "0\u20130 of 0", 10, "nothing for 99999")
    caller.clear()
    caller.send_keys("55504")
    poll(lambda: click(browser, submit), 5, "search")
    row = f"#rec-{recording.id}"
    poll(lambda: text(browser, "#rc-range") == "1\u20131 of 1", 10, "one recording found")
    found = text(browser, row)
    assert "5550400" in found and "amy" in found and "support" in found, found
    poll(lambda: click(browser, f"{row} button.rc-play"), 5, "the play button")
    loaded = poll(
        lambda: (s := audio_state(browser))["ready"] >= 1 and s["duration"] > 0 and s,
        10,
        "the player loaded the recording",
    )
    assert TALK_SECONDS - 0.5 <= loaded["duration"] <= TALK_SECONDS + 5, loaded
    assert loaded["error"] is None
    screenshot(browser, "recordings")
    # The audit log, as an administrator reads it (GET /api/audit), has the playback.
    browser.delete_all_cookies()
    add_user(console, "ada", "admin")
    log_in(browser, console.base_url, "ada", PASSWORD)
    entries = fetch_json(browser, "/api/audit")["entries"]
    played = [e for e in entries if e["action"] == "recording.played"]
    assert [(e["actor"], e["target"]) for e in played] == [("sue", f"recording:{recording.id}")]
    assert played[0]["detail"]["call_id"] == recording.call_id

    # An agent (here ben's user) reaches neither the page nor the audio nor the list.
    browser.delete_all_cookies()
    add_user(console, "bob", "agent", agent="ben")
    log_in(browser, console.base_url, "bob", PASSWORD)
    audio = f"/api/recordings/{recording.id}/audio"
    assert fetch_status(browser, audio) == 403
    assert fetch_status(browser, f"/api/recordings/{recording.id}/download") == 403
    assert fetch_status(browser, "/api/recordings?caller=5550400") == 403
    browser.get(f"{console.base_url}/recordings")
    assert "5550400" not in browser.page_source
    audited = [e.actor for e in console.controller.users.audit_entries()]
    assert "bob" not in audited


# -- logging in and out ----------------------------------------------------------------------


def test_login_refuses_a_wrong_password_follows_next_and_logs_out(
    console: CallCenter,  # noqa: F811
    browser: webdriver.Chrome,
) -> None:
    add_user(console, "sue", "supervisor")
    browser.get(f"{console.base_url}/recordings")  # not logged in: sent to the login page
    poll(lambda: "/login?next=" in browser.current_url, 5, "the login page")
    browser.find_element(By.NAME, "username").send_keys("sue")
    browser.find_element(By.NAME, "password").send_keys("not the password")
    browser.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
    poll(lambda: text(browser, "form.login .error") == "Unknown user or wrong password.", 5, "")
    assert not browser.find_elements(By.CSS_SELECTOR, "nav.top")

    browser.find_element(By.NAME, "username").clear()
    browser.find_element(By.NAME, "username").send_keys("sue")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
    poll(lambda: browser.current_url.endswith("/recordings"), 5, "back where sue was going")
    # The address changes when the navigation commits, before the new page is drawn.
    poll(lambda: "sue (supervisor)" in text(browser, "nav.top .who"), 5, "sue named in the bar")

    browser.find_element(By.CSS_SELECTOR, "nav.top .logout button").click()
    poll(lambda: "/login" in browser.current_url, 5, "logged out")
    browser.get(f"{console.base_url}/wallboard")
    poll(lambda: "/login?next=" in browser.current_url, 5, "the wallboard needs a login again")
