"""The wallboard page says which Asterisk node is down, in a real headless Chromium.

A single box shows no node at all. Then the board is given two node links (what
bootstrap gives it with [[pbx.nodes]]: NodeLinks.connected_nodes) and told as they
change, as the links tell it: the page shows both up, then beta down (red, "DOWN",
counting), then back up, from the pushes alone. Real nodes and a real kill are
tests/e2e/test_pbx_nodes.py's (it reads the same push); this one is the page.
"""

from __future__ import annotations

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.e2e.browser import log_in, screenshot
from tests.e2e.conftest import CallCenter
from tests.e2e.console import (
    PASSWORD,
    add_user,
    console,  # noqa: F401  (fixture)
    poll,
    text,
)

pytestmark = pytest.mark.e2e


def chips(driver: webdriver.Chrome) -> dict[str, tuple[str, str]]:
    """Each node chip shown: name -> (data-up, its text)."""
    found = driver.find_elements(By.CSS_SELECTOR, "#wb-nodes li")
    return {
        li.get_attribute("data-node") or "": (li.get_attribute("data-up") or "", li.text)
        for li in found
    }


def test_the_wallboard_shows_each_node_and_which_is_down(
    console: CallCenter,  # noqa: F811
    browser: webdriver.Chrome,
) -> None:
    add_user(console, "sue", "supervisor")
    log_in(browser, console.base_url, "sue", PASSWORD)
    browser.get(f"{console.base_url}/wallboard")
    poll(lambda: text(browser, "#wb-status") == "Live", 10, "the wallboard live")
    # One box: no node list at all.
    assert not browser.find_element(By.ID, "wb-nodes").is_displayed()
    assert chips(browser) == {}

    links = {"alpha": True, "beta": True}

    def tell() -> None:  # what NodeLinks.on_link_change does on the controller's loop
        console.get(lambda c: c.wallboard.changed())

    console.get(lambda c: setattr(c.wallboard, "nodes", lambda: dict(links)))
    tell()
    poll(lambda: chips(browser).get("beta", ("", ""))[0] == "yes", 5, "both nodes shown up")
    assert browser.find_element(By.ID, "wb-nodes").is_displayed()
    assert chips(browser)["alpha"][1].startswith("Node alpha up")

    links["beta"] = False
    tell()
    poll(lambda: chips(browser)["beta"][0] == "no", 5, "beta shown down")
    shown = chips(browser)["beta"][1]
    assert shown.startswith("Node beta DOWN for 0:0"), shown
    assert chips(browser)["alpha"][0] == "yes"
    screenshot(browser, "wallboard-node-down")

    links["beta"] = True
    tell()
    poll(lambda: chips(browser)["beta"][0] == "yes", 5, "beta shown up again")
