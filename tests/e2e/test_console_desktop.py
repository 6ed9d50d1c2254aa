"""The agent desktop in a real headless Chromium, with real calls behind it.

An agent logs in, goes ready; a SIPp caller goes through the IVR (menu,
account entry, customer lookup) into the queue; the agent's baresip
softphone rings and the screen pop shows who is calling and why; the agent
answers, hangs up, wraps up with a disposition and a note, and finds the note
in the customer's history on the next call. A CRM gets the screen-pop link
and signed webhooks. The desktop also survives a controller restart.
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
from callcenter.adapters.http.webhooks import SIGNATURE_HEADER, sign
from callcenter.services.console.desktop_settings import CrmSettings, DesktopSettings, Webhook
from callcenter.simulate.softphone import Softphone
from tests.e2e.browser import log_in, screenshot
from tests.e2e.conftest import CallCenter
from tests.e2e.console import (
    PASSWORD,
    PUSH_DEADLINE,
    add_user,
    console,  # noqa: F401  (fixture)
    poll,
    record_figures,
    restart,
    text,
)
from tests.e2e.sites import agent, menu_flow, queue_node, quiet_queue

pytestmark = pytest.mark.e2e


# -- the screen pop and wrap-up -----------------------------------------------------

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
