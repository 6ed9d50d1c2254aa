"""Consultation from the agent desktop in a real headless Chromium: amy consults bob
with the buttons (the caller on hold), cancels, consults again and completes; bob then
has the caller."""

from __future__ import annotations

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from callcenter.core.calls.state import CallState
from tests.e2e.browser import screenshot
from tests.e2e.conftest import CallCenter
from tests.e2e.console import console, poll, text  # noqa: F401  (fixture)
from tests.e2e.test_call_control_browser import SITE
from tests.e2e.test_console_desktop import open_desktop, pop_shows

pytestmark = pytest.mark.e2e


def _enabled(browser: webdriver.Chrome, button: str) -> bool:
    return not browser.find_element(By.ID, button).get_attribute("disabled")


def test_consult_cancel_and_complete_from_the_desktop_buttons(
    console: CallCenter,  # noqa: F811
    browser: webdriver.Chrome,
) -> None:
    console.load_site(SITE)
    amy = open_desktop(browser, console)
    console.wait_available("amy")
    bob = console.softphone(console.account("bob"))
    console.login("bob")
    console.wait_available("bob")
    placed = console.place_call([1000, "1"], "+15550192", "Erin")
    amy.wait_event("CALL_INCOMING", 20)
    amy.accept()
    amy.wait_event("CALL_ESTABLISHED", 5)
    poll(lambda: pop_shows(browser, "On call with"), 5, "the pop while talking")

    Select(browser.find_element(By.ID, "xfer-to")).select_by_value("agent")
    browser.find_element(By.ID, "xfer-agent").send_keys("bob")
    browser.find_element(By.ID, "btn-consult").click()
    poll(lambda: "Calling bob" in text(browser, "#consult-status"), 5, "consulting")
    bob.wait_event("CALL_INCOMING", 15)
    bob.accept()
    bob.wait_event("CALL_ESTABLISHED", 5)
    screenshot(browser, "desktop-consulting")
    seen = len(bob.events)
    browser.find_element(By.ID, "btn-consult-cancel").click()
    poll(lambda: "Cancelled" in text(browser, "#consult-status"), 5, "cancelled")
    bob.wait_event("CALL_CLOSED", 5, after=seen)
    assert _enabled(browser, "btn-consult") and _enabled(browser, "btn-hold")

    poll(lambda: console.get(lambda c: c.agents.available("bob")), 5, "bob free again")
    seen = len(bob.events)
    browser.find_element(By.ID, "btn-consult").click()
    bob.wait_event("CALL_INCOMING", 15, after=seen)
    bob.accept()
    bob.wait_event("CALL_ESTABLISHED", 5, after=seen)
    browser.find_element(By.ID, "xfer-reason").send_keys("billing question")

    # Complete as soon as Asterisk has bob's leg bridged with amy's (409 before).
    def completed() -> bool:
        browser.find_element(By.ID, "btn-consult-complete").click()
        return poll(
            lambda: text(browser, "#consult-status").strip() or None, 5, "an answer"
        ).startswith("Transferred")

    poll(completed, 10, "completed")
    call = poll(
        lambda: next(iter(console.get(lambda c: c.calls.in_state(CallState.TALKING))), None),
        5,
        "bob talking with the caller",
    )
    assert (call.agent, call.transferred_from) == ("bob", "amy")
    assert call.data["transfer_reason"] == "billing question"
    placed.wait_listening()
    seen = len(bob.events)
    bob.hangup()
    bob.wait_event("CALL_CLOSED", 5, after=seen)
    assert placed.finish(15).successful == 1
