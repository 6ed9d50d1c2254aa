"""The console over real HTTPS (the product's server and certificate code) in a real
headless Chromium: plain HTTP only redirects, the session cookie is Secure, HttpOnly
and SameSite=Strict, every page carries its Content-Security-Policy and HSTS, and
the pages' scripts run under that policy with no violation reported."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from callcenter.simulate.console import Console, free_port
from tests.e2e.browser import browser, e2e_certificate, log_in  # noqa: F401  (fixture)
from tests.e2e.console import poll

pytestmark = pytest.mark.e2e

PASSWORD = "a long supervisor password"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[Console, str, int]]:
    with Console(tmp_path / "lab") as console:
        console.controller.users.add("sue", PASSWORD, "admin")
        plain = free_port()
        base = console.serve(tls=e2e_certificate(), http_port=plain)
        yield console, base, plain


def test_https_console_in_chromium(
    lab: tuple[Console, str, int],
    browser: webdriver.Chrome,  # noqa: F811
) -> None:
    _, base, plain = lab
    assert base.startswith("https://")

    # Plain HTTP: a redirect to the same path over HTTPS, nothing else.
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as moved:
        opener.open(f"http://127.0.0.1:{plain}/wallboard?x=1", timeout=5)
    assert moved.value.code == 301
    assert moved.value.headers["Location"] == f"{base}/wallboard?x=1"

    # Headers of a page, over HTTPS.
    with urllib.request.urlopen(f"{base}/login", timeout=5) as page:
        policy = page.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")

    # The browser follows the redirect, logs in, and gets a strict cookie.
    browser.get(f"http://127.0.0.1:{plain}/login")
    poll(lambda: browser.current_url.startswith(f"{base}/login"), 10, "redirected to HTTPS")
    log_in(browser, base, "sue", PASSWORD)
    [session] = [c for c in browser.get_cookies() if c["name"] == "session"]
    assert session["secure"] and session["httpOnly"] and session["sameSite"] == "Strict"

    # The wallboard's script runs under the policy: its live stream opens, no violation.
    browser.get(f"{base}/wallboard")
    status = browser.find_element(By.ID, "wb-status")
    poll(lambda: status.get_attribute("data-state") == "live", 15, "wallboard live")
    logs = browser.get_log("browser")
    assert not [e for e in logs if "Content Security Policy" in e["message"]], logs

    # Every other page's scripts run under the policy too.
    for page in ("/supervisor", "/recordings", "/reports", "/admin", "/campaigns"):
        browser.get(f"{base}{page}")
        poll(lambda: browser.execute_script("return document.readyState") == "complete", 10, page)
        browser.execute_script("return 1")
        logs = browser.get_log("browser")
        assert not [e for e in logs if "Content Security Policy" in e["message"]], (page, logs)

    # The API docs page loads its own assets (no network but this console).
    browser.get(f"{base}/api/docs")
    poll(lambda: browser.find_elements(By.CSS_SELECTOR, ".swagger-ui .info"), 20, "docs shown")
    logs = browser.get_log("browser")
    assert not [e for e in logs if "Content Security Policy" in e["message"]], logs
