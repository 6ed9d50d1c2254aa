"""Call control from the agent desktop in a real headless Chromium: amy holds and
resumes her caller with the buttons, then transfers them to bob, whose desktop shows
who transferred the call and why."""

from __future__ import annotations

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from callcenter.core.calls.state import CallState
from tests.e2e.browser import screenshot
from tests.e2e.conftest import CallCenter
from tests.e2e.console import console, poll, text  # noqa: F401  (fixture)
from tests.e2e.sites import agent, menu_flow, queue_node, quiet_queue
from tests.e2e.test_console_desktop import open_desktop, pop_shows
from tests.e2e.test_who_hung_up import completed_by

pytestmark = pytest.mark.e2e

SITE = {
    "agents": [agent("amy", 1001, support=3), agent("bob", 1002, support=3)],
    "queues": [
        quiet_queue("support", requirements={"support": 1}),
        quiet_queue("billing", requirements={"support": 1}),
    ],
    "flows": {
        "main": {"document": menu_flow({"1": "support"}, {"support": queue_node("support")})}
    },
}


def _legs_held(center: CallCenter) -> bool:
    contexts = [
        line.split("!")[1]
        for line in center.pbx.cli("core show channels concise").splitlines()
        if line.count("!") > 10
    ]
    return sorted(contexts) == ["cc-hold", "cc-hold-agent"]


def test_hold_resume_and_transfer_from_the_desktop_buttons(
    console: CallCenter,  # noqa: F811
    browser: webdriver.Chrome,
) -> None:
    console.load_site(SITE)
    amy = open_desktop(browser, console)
    console.wait_available("amy")
    placed = console.place_call([1000, "1"], "+15550190", "Dave")
    amy.wait_event("CALL_INCOMING", 20)
    amy.accept()
    amy.wait_event("CALL_ESTABLISHED", 5)
    poll(lambda: pop_shows(browser, "On call with"), 5, "the pop while talking")

    browser.find_element(By.ID, "btn-hold").click()
    poll(lambda: "On hold" in text(browser, "#hold-status"), 5, "the page says on hold")
    poll(lambda: _legs_held(console), 5, "both legs out of their bridge")
    screenshot(browser, "desktop-on-hold")
    browser.find_element(By.ID, "btn-resume").click()
    poll(
        lambda: not browser.find_element(By.ID, "btn-hold").get_attribute("disabled"), 5, "resumed"
    )
    poll(lambda: not _legs_held(console), 5, "bridged again")

    bob = console.softphone(console.account("bob"))
    console.login("bob")
    console.wait_available("bob")
    Select(browser.find_element(By.ID, "xfer-to")).select_by_value("agent")
    browser.find_element(By.ID, "xfer-agent").send_keys("bob")
    browser.find_element(By.ID, "xfer-reason").send_keys("billing question")
    browser.find_element(By.ID, "xfer-note").send_keys("Asked for the March invoice")
    browser.find_element(By.ID, "btn-transfer").click()
    poll(lambda: "Transferred to agent bob" in text(browser, "#desk-status"), 5, "transferred")
    bob.wait_event("CALL_INCOMING", 15)
    bob.accept()
    bob.wait_event("CALL_ESTABLISHED", 5)
    call = poll(
        lambda: next(iter(console.get(lambda c: c.calls.in_state(CallState.TALKING))), None),
        5,
        "bob talking with the caller",
    )
    assert (call.agent, call.transferred_from) == ("bob", "amy")
    pop = console.thread.run(console.controller.desktop.desk("bob")).call
    assert pop is not None and pop.transfer_note == "Asked for the March invoice"
    placed.wait_listening()
    seen = len(bob.events)
    bob.hangup()
    bob.wait_event("CALL_CLOSED", 5, after=seen)
    assert placed.finish(15).successful == 1


def test_end_call_from_the_desktop_hangs_the_caller_up_and_says_the_agent_ended_it(
    console: CallCenter,  # noqa: F811
    browser: webdriver.Chrome,
) -> None:
    console.load_site(SITE)
    amy = open_desktop(browser, console)
    console.wait_available("amy")
    placed = console.place_call([1000, "1"], "+15550191", "Erin")
    amy.wait_event("CALL_INCOMING", 20)
    amy.accept()
    amy.wait_event("CALL_ESTABLISHED", 5)
    poll(lambda: pop_shows(browser, "On call with"), 5, "the pop while talking")
    seen = len(amy.events)
    browser.find_element(By.ID, "btn-end").click()
    poll(lambda: "Call ended" in text(browser, "#hold-status"), 5, "the page says ended")
    amy.wait_event("CALL_CLOSED", 5, after=seen)
    assert placed.finish(15).successful == 1  # the caller got Asterisk's BYE
    console.wait_no_calls()
    assert completed_by(console, "+15550191", "amy") == "agent"
