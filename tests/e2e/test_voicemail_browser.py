"""Voicemail in the agent desktop, in a real headless Chromium: a SIPp caller overflows to
the queue's box and speaks; the message shows in the desktop's Voicemail section within
seconds; the agent plays it (the browser fetches the audio), takes it and calls back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from callcenter.adapters.db.models import AuditRow, CallbackRow
from tests.e2e.browser import log_in, screenshot
from tests.e2e.conftest import CallCenter
from tests.e2e.console import PASSWORD, add_user, pause, poll, record_figures, text
from tests.e2e.console import console as console
from tests.e2e.voicemail_support import leave_message, load_overflow_site

pytestmark = pytest.mark.e2e

ROW = "#vm-list tbody tr[data-id]"
PLAYER_READY = "const p = document.getElementById('vm-player'); return p.readyState >= 1;"


def _button(browser: webdriver.Chrome, label: str) -> webdriver.remote.webelement.WebElement:
    row = browser.find_element(By.CSS_SELECTOR, ROW)
    return next(b for b in row.find_elements(By.TAG_NAME, "button") if b.text == label)


def test_an_agent_plays_takes_and_calls_back_a_message_from_the_desktop(
    console: CallCenter, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    center = console
    load_overflow_site(center)
    center.softphone(center.account("pat"))
    center.login("pat")
    pause(center, "pat")
    add_user(center, "ann", "agent", agent="pat")
    log_in(browser, center.base_url, "ann", PASSWORD)
    browser.get(f"{center.base_url}/desktop")
    poll(lambda: "No messages." in text(browser, "#vm-list"), 10, "the empty inbox")

    hung_up = leave_message(center, tmp_path)

    poll(lambda: browser.find_elements(By.CSS_SELECTOR, ROW), 15, "the message in the desktop")
    shown_after = time.monotonic() - hung_up
    row = text(browser, ROW)
    assert "+12125550600" in row and "support" in row and "new" in row, row

    _button(browser, "Play").click()
    poll(
        lambda: browser.execute_script(
            "const p = document.getElementById('vm-player');"
            " return p.readyState >= 1 && p.duration;"
        ),
        10,
        "the player reading the message",
    )
    _button(browser, "Take").click()
    poll(lambda: "taken (pat)" in text(browser, ROW), 10, "the message taken")
    _button(browser, "Call back").click()
    poll(lambda: "Callback booked" in text(browser, "#vm-message"), 10, "the callback booked")
    screenshot(browser, "voicemail-desktop")

    (callback,) = center.rows(CallbackRow, CallbackRow.number == "+12125550600")
    assert callback.queue == "support"
    played = center.rows(AuditRow, AuditRow.action == "voicemail.played")
    assert [a.actor for a in played] == ["ann"]
    record_figures("voicemail-desktop", {"shown_after_hangup_seconds": round(shown_after, 2)})
    assert shown_after < 10, shown_after
