"""The supervisor page in a real headless Chromium: watch an agent's call, listen
in from the supervisor's own softphone (ChanSpy in the real Asterisk), force
another agent's state, and find the call in the agent's list of the day."""

from __future__ import annotations

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from callcenter.core.acd.model import AgentState
from tests.e2e.browser import log_in, screenshot
from tests.e2e.conftest import CallCenter, active_channels
from tests.e2e.console import (
    PASSWORD,
    add_user,
    console,  # noqa: F401  (fixture)
    poll,
    text,
)
from tests.e2e.sites import agent, queue_node, quiet_queue, site

pytestmark = pytest.mark.e2e

SITE = site(
    agents=[agent("amy", 1001, support=3), agent("ben", 1002, support=3), agent("sam", 1009)],
    queues=[quiet_queue("support", requirements={"support": 1})],
    choices={"1": "support"},
    nodes={"support": queue_node("support")},
)


def row_state(driver: webdriver.Chrome, name: str) -> str:
    return str(
        driver.execute_script(
            "const s = document.querySelector(`#agent-${arguments[0]} .sv-state`);"
            "return s ? s.dataset.state : '';",
            name,
        )
    )


def press(driver: webdriver.Chrome, label: str) -> bool:
    """Click the button with this accessible name (the table is re-rendered live)."""
    driver.find_element(By.CSS_SELECTOR, f'button[aria-label="{label}"]').click()
    return True


def test_supervisor_listens_in_forces_a_state_and_finds_the_call(
    console: CallCenter,  # noqa: F811
    browser: webdriver.Chrome,
) -> None:
    console.load_site(SITE)
    amy = console.softphone(console.account("amy"))
    console.softphone(console.account("ben"))
    sam = console.softphone(console.account("sam"), auto_answer=True)  # the supervisor's phone
    console.login("amy", "ben")
    console.wait_available("amy", "ben")
    add_user(console, "sue", "supervisor", agent="sam")
    log_in(browser, console.base_url, "sue", PASSWORD)
    browser.get(f"{console.base_url}/supervisor")
    poll(lambda: row_state(browser, "amy") == "ready", 10, "amy ready on the page")

    placed = console.place_call([800, "1"], "5550600", "Listened")
    amy.wait_event("CALL_INCOMING", 20)
    amy.accept()
    amy.wait_event("CALL_ESTABLISHED", 5)
    poll(lambda: row_state(browser, "amy") == "on_call", 5, "amy on a call on the page")
    assert "5550600" in text(browser, "#agent-amy .sv-call")

    channels = active_channels(console.pbx)
    poll(lambda: press(browser, "Listen on Amy's call"), 5, "the listen button")
    sam.wait_event("CALL_ESTABLISHED", 10)
    poll(lambda: text(browser, "#sv-spy-text") == "Listening to amy.", 10, "listening")
    poll(lambda: text(browser, "#sv-message") == "", 5, "the ringing prompt gone")
    assert active_channels(console.pbx) > channels  # the supervisor's leg, spying
    screenshot(browser, "supervisor-listening")
    browser.find_element(By.ID, "sv-spy-stop").click()
    sam.wait_event("CALL_CLOSED", 10)
    poll(lambda: not browser.find_element(By.ID, "sv-spy").is_displayed(), 10, "spy over")
    spied = [e for e in console.controller.users.audit_entries() if e.actor == "sue"]
    assert spied and "amy" in (spied[-1].target + str(spied[-1].detail)), spied

    # Ben is forced into a pause with a reason, from the page.
    poll(lambda: choose_reason(browser, "Ben", "lunch"), 5, "a pause reason")
    poll(lambda: press(browser, "Pause Ben"), 5, "the pause button")
    poll(lambda: row_state(browser, "ben") == "paused", 5, "ben paused on the page")
    status = console.get(lambda c: c.agents.status("ben"))
    assert (status.state, status.reason) == (AgentState.PAUSED, "lunch")

    placed.wait_listening()
    amy.hangup()
    assert placed.finish(15).successful == 1
    poll(lambda: press(browser, "Calls today for Amy"), 5, "amy's calls")
    calls = poll(lambda: text(browser, "#sv-calls tbody"), 10, "amy's calls listed")
    assert "5550600" in calls and "support" in calls, calls
    link = poll(
        lambda: browser.find_elements(By.CSS_SELECTOR, "#sv-calls a[href^='/recordings#rec-']"),
        5,
        "the recording link",
    )
    assert link[0].text == "Play"


def choose_reason(driver: webdriver.Chrome, name: str, reason: str) -> bool:
    select = driver.find_element(By.CSS_SELECTOR, f'select[aria-label="Pause reason for {name}"]')
    Select(select).select_by_value(reason)
    return True
