"""The console in a real headless Chromium, with real calls behind it.

SIPp callers reach the IVR and queue; agents are baresip softphones in
manual answer mode; a supervisor and an agent use the console pages the way
people do (log in, look, click). The tests poll the DOM against deadlines,
never sleep and hope. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from callcenter.adapters.db.models import CallRow
from callcenter.services.desktop_settings import CrmSettings, DesktopSettings, Webhook
from callcenter.services.live import CallState
from callcenter.services.webhooks import SIGNATURE_HEADER, sign
from callcenter.simulate.softphone import Softphone
from tests.e2e.browser import log_in, screenshot
from tests.e2e.conftest import CALLER_PORT, CallCenter, PlacedCall
from tests.e2e.console import (
    PASSWORD,
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
from tests.e2e.sites import agent, menu_flow, queue_node, quiet_queue, site

pytestmark = pytest.mark.e2e

PUSH_DEADLINE = 2.5  # the page shows a change this soon after the controller knows it
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


# -- 2. the agent's screen pop and wrap-up -----------------------------------------------------

ACCOUNT, NUMBER = "123456", "5550300"
NOTE = "Wants the refund form by email"
DESK_SITE = {
    "agents": [agent("amy", 1001, support=3)],
    "queues": [quiet_queue("support", requirements={"support": 1}, wrapup=120)],
    "customers": [
        {
            "name": "Carol Customer",
            "account": ACCOUNT,
            "tier": "gold",
            "numbers": [NUMBER],
            "notes": "Prefers email",
        }
    ],
    "flows": {
        "main": {
            "document": menu_flow(
                {"1": "account"},
                {
                    "account": {
                        "type": "collect",
                        "prompts": ["beep"],
                        "min_digits": 4,
                        "max_digits": 8,
                        "terminator": "#",
                        "timeout": 4,
                        "store": "account",
                        "next": "find",
                        "on_fail": "bye",
                    },
                    "find": {
                        "type": "lookup",
                        "source": "account",
                        "store_prefix": "customer_",
                        **dict.fromkeys(("next_found", "next_not_found", "next_error"), "support"),
                    },
                    "support": queue_node("support"),
                },
            )
        }
    },
}
CALLER_KEYS: list[str | int] = [800, "1", 2000, f"{ACCOUNT}#"]


CRM_TEMPLATE = "http://crm.test/contacts?phone={caller}&account={customer_account}"
HOOK_SECRET = "a-webhook-secret-long-enough"


class CrmHook:
    """A CRM's webhook endpoint on loopback: keeps every JSON body it is POSTed."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.bad_signatures = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get(SIGNATURE_HEADER) != sign(HOOK_SECRET, body):
                    hook.bad_signatures += 1
                hook.bodies.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, call_id: str) -> list[dict[str, Any]]:
        return [b for b in list(self.bodies) if b.get("call_id") == call_id]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def crm_hook() -> Iterator[CrmHook]:
    hook = CrmHook()
    try:
        yield hook
    finally:
        hook.close()


def desk_state(driver: webdriver.Chrome) -> str:
    return str(driver.execute_script("return document.getElementById('state').dataset.state"))


def open_desktop(driver: webdriver.Chrome, center: CallCenter) -> Softphone:
    """amy's softphone; her user (alice) logs in to the desktop and clicks Ready."""
    phone = center.softphone(center.account("amy"))
    add_user(center, "alice", "agent", agent="amy")
    log_in(driver, center.base_url, "alice", PASSWORD)
    poll(lambda: desk_state(driver) == "logged_out", 10, "the desktop loaded")
    driver.find_element(By.ID, "btn-ready").click()
    poll(lambda: desk_state(driver) == "ready", 5, "ready on the desktop")
    return phone


def pop_shows(driver: webdriver.Chrome, phase: str) -> bool:
    return (
        driver.execute_script("return !document.getElementById('pop').hidden")
        and text(driver, "#pop-phase") == phase
    )


def test_agent_sees_the_screen_pop_wraps_up_and_finds_the_note_on_the_next_call(
    console: CallCenter,  # noqa: F811
    browser: webdriver.Chrome,
    crm_hook: CrmHook,
) -> None:
    console.load_site(DESK_SITE)
    console.controller.desktop_settings.save(
        DesktopSettings(
            crm=CrmSettings(
                screen_pop_url=CRM_TEMPLATE,
                webhooks=[Webhook(url=crm_hook.url, secret=HOOK_SECRET)],
            )
        )
    )
    amy = open_desktop(browser, console)
    console.wait_available("amy")

    placed = console.place_call(CALLER_KEYS, NUMBER, "Carol", end="await")
    rang = amy.wait_event("CALL_INCOMING", 20)["_at"]
    poll(lambda: pop_shows(browser, "Ringing:"), 5, "the screen pop while ringing")
    pop_lag = time.monotonic() - rang
    assert NUMBER in text(browser, "#pop-caller")
    assert text(browser, "#customer-name") == "Carol Customer"
    who = text(browser, "#who")
    assert ACCOUNT in who and "gold" in who and "identified in the IVR" in who, who
    why = text(browser, "#why")
    assert "support" in why and "Waiting" in why, why
    assert re.search(r"Waiting\s+0:\d\d", why), why
    ivr = text(browser, "#ivr")
    assert "account" in ivr and ACCOUNT in ivr, ivr
    assert "Carol Customer" in ivr  # what the lookup found, as the IVR stored it
    assert browser.execute_script("return document.getElementById('history-none').hidden") is False
    link = browser.find_element(By.ID, "crm-link")
    assert link.is_displayed()
    assert (
        link.get_attribute("href") == f"http://crm.test/contacts?phone={NUMBER}&account={ACCOUNT}"
    )
    screenshot(browser, "desktop-screen-pop")

    amy.accept()
    amy.wait_event("CALL_ESTABLISHED", 5)
    poll(lambda: pop_shows(browser, "On call with"), 5, "the pop while talking")
    assert "Waited" in text(browser, "#why")
    placed.wait_listening()
    amy.hangup()
    result = placed.finish(15)
    assert (result.successful, result.failed) == (1, 0), result.log

    poll(lambda: pop_shows(browser, "Wrap-up:"), 5, "the wrap-up form")
    poll(lambda: desk_state(browser) == "wrap_up", 5, "in wrap-up")
    Select(browser.find_element(By.ID, "disposition")).select_by_value("follow-up")
    browser.find_element(By.ID, "notes").send_keys(NOTE)
    screenshot(browser, "desktop-wrap-up")
    browser.find_element(By.ID, "btn-save").click()
    poll(lambda: "Saved: Follow-up needed" in text(browser, "#wrapup-status"), 5, "saved")
    poll(lambda: desk_state(browser) == "ready", 5, "ready again after the wrap-up")

    again = console.place_call(CALLER_KEYS, NUMBER, "Carol")
    amy.wait_event("CALL_INCOMING", 20, after=len(amy.events))
    poll(lambda: pop_shows(browser, "Ringing:"), 5, "the second call's pop")
    history = poll(lambda: text(browser, "#history"), 5, "the customer's earlier call")
    assert NOTE in history and "Follow-up needed" in history, history
    screenshot(browser, "desktop-history")
    amy.accept()
    amy.wait_event("CALL_ESTABLISHED", 5)
    again.wait_listening()
    amy.hangup()
    assert again.finish(15).successful == 1
    record_figures("desktop-lags", {"screen_pop_after_phone_rang_seconds": pop_lag})
    assert pop_lag < PUSH_DEADLINE, pop_lag

    # The CRM's webhook got the first call's life, signed.
    (first,) = console.rows(CallRow, CallRow.disposition == "follow-up")
    assert (first.caller_number, first.notes) == (NUMBER, NOTE)
    call_id = first.id

    def kinds() -> set[str]:
        return {str(e["type"]) for e in crm_hook.events(call_id)}

    wanted = {"CallQueued", "CallOffered", "CallAnswered", "CallCompleted"}
    poll(lambda: wanted <= kinds(), 10, "the first call's webhooks")
    assert crm_hook.bad_signatures == 0


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
    placed = console.place_call([800, "1", 3000], "5550400", "Recorded", end="await")
    amy.wait_event("CALL_INCOMING", 20)
    amy.accept()
    amy.wait_event("CALL_ESTABLISHED", 5)
    placed.wait_listening()
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
    assert 2.5 <= loaded["duration"] <= 30, loaded
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


def test_desktop_keeps_working_after_the_controller_restarts(
    console: CallCenter,  # noqa: F811
    browser: webdriver.Chrome,
) -> None:
    console.load_site(DESK_SITE)
    amy = open_desktop(browser, console)
    browser.execute_script("window.sameDocument = 'yes';")

    restart(console)
    console.wait_available("amy")  # the new controller knows amy was ready
    Select(browser.find_element(By.ID, "pause-reason")).select_by_value("training")
    browser.find_element(By.ID, "btn-pause").click()  # a change made from the page...
    poll(lambda: desk_state(browser) == "paused", 5, "paused on the desktop")
    assert text(browser, "#state-reason") == "(training)"
    status = console.get(lambda c: c.agents.status("amy"))  # ...reaches the new controller
    assert (status.state.value, status.reason) == ("paused", "training")
    console.thread.run(console.controller.agents.ready("amy", time.time()))
    poll(lambda: desk_state(browser) == "ready", 5, "a change pushed by the new controller")

    placed = console.place_call(CALLER_KEYS, NUMBER, "Carol")
    amy.wait_event("CALL_INCOMING", 20)
    poll(lambda: pop_shows(browser, "Ringing:"), 5, "the screen pop after the restart")
    assert text(browser, "#customer-name") == "Carol Customer"
    assert browser.execute_script("return window.sameDocument") == "yes"  # never reloaded
    amy.accept()
    amy.wait_event("CALL_ESTABLISHED", 5)
    placed.wait_listening()
    amy.hangup()
    assert placed.finish(15).successful == 1


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
    assert "sue (supervisor)" in text(browser, "nav.top .who")

    browser.find_element(By.CSS_SELECTOR, "nav.top .logout button").click()
    poll(lambda: "/login" in browser.current_url, 5, "logged out")
    browser.get(f"{console.base_url}/wallboard")
    poll(lambda: "/login?next=" in browser.current_url, 5, "the wallboard needs a login again")
