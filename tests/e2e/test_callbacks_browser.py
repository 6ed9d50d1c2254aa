"""A callback booked from the agent desktop in a real headless Chromium.

An agent on a live call books a callback to the caller from the screen pop;
once the agent is free the call center calls the customer (SIPp customers),
connects them, and the desktop's screen pop says it is a callback and why.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from callcenter.adapters.db.models import CallbackRow
from tests.e2e.browser import log_in, screenshot
from tests.e2e.conftest import CallCenter
from tests.e2e.console import PASSWORD, add_user, poll, text
from tests.e2e.console import console as console
from tests.e2e.outbound_support import Outbound, outbound_fixture
from tests.e2e.test_callbacks import alice_call, callback_site, person_number, wait_talking_to

pytestmark = pytest.mark.e2e

# The browser's own local minute, as a datetime-local input wants it.
NOW_MINUTE = """
const d = new Date(), pad = (n) => String(n).padStart(2, '0');
const el = document.getElementById('cb-at');
const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
el.value = `${day}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
"""


@pytest.fixture
def customers(console: CallCenter, tmp_path: Path) -> Iterator[Outbound]:
    yield from outbound_fixture(console, tmp_path)


def test_an_agent_books_a_callback_from_the_screen_pop(
    console: CallCenter,
    browser: webdriver.Chrome,
    customers: Outbound,
) -> None:
    center = console
    center.load_site(callback_site())
    phone = center.softphone(center.account("alice"), auto_answer=True)
    add_user(center, "ann", "agent", agent="alice")
    log_in(browser, center.base_url, "ann", PASSWORD)
    poll(lambda: browser.find_element(By.ID, "btn-ready").is_displayed(), 10, "the desktop")
    browser.find_element(By.ID, "btn-ready").click()
    center.wait_available("alice")

    number = person_number("2")
    placed = center.place_call(["1", 120_000], number, "Carol", end="await")
    live_id = wait_talking_to(center, number)
    poll(lambda: number in text(browser, "#pop-caller"), 10, "the screen pop of the live call")
    assert browser.find_element(By.ID, "cb-number").get_attribute("value") == number
    browser.execute_script(NOW_MINUTE)
    browser.find_element(By.ID, "btn-callback").click()
    poll(lambda: "Booked" in text(browser, "#callback-status"), 10, "the booking confirmed")
    (row,) = center.rows(CallbackRow)
    assert (row.kind, row.number, row.booked_by) == ("scheduled", number, "alice")
    assert row.origin_call_id == live_id

    phone.hangup()  # the live call ends; the booked callback is next in line
    placed.finish(30)
    callback_id = wait_talking_to(center, number, timeout=60)
    assert callback_id != live_id
    poll(lambda: "booked for" in text(browser, "#why"), 10, "the pop says it is a callback")
    screenshot(browser, "desktop-callback-pop")
    phone.hangup()
    center.wait_no_calls(20)
    assert alice_call(center) == ("", "")
    assert center.rows(CallbackRow)[0].status == "done"
