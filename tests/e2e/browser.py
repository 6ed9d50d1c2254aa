"""A real headless Chromium (Debian's chromium + chromium-driver) for console tests.

The console is HTTPS: every e2e console serves one test certificate, made once per
test run by the product's own code, and the browser trusts that key and no other
(--ignore-certificate-errors-spki-list); Python clients trust it as their only CA.

Screenshots go to tests/artifacts/ (or $CALLCENTER_TEST_ARTIFACTS; CI keeps them).
"""

from __future__ import annotations

import functools
import os
import shutil
import ssl
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from callcenter.adapters.web.certificate import TlsFiles, ensure_certificate, spki_sha256

ARTIFACTS = Path(
    os.environ.get("CALLCENTER_TEST_ARTIFACTS") or Path(__file__).resolve().parents[1] / "artifacts"
)
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-quic", "--disable-dev-shm-usage", "--window-size=1600,1000",
)  # fmt: skip


@functools.cache
def e2e_certificate() -> TlsFiles:
    """The console certificate of this test run (a fresh folder: runs never share it)."""
    return ensure_certificate(Path(tempfile.mkdtemp(prefix="cc-test-tls-")))


@functools.cache
def trusting_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(e2e_certificate().cert))


def trust_test_certificate() -> None:
    """urllib in this process trusts the test certificate (and only it, for HTTPS)."""
    handler = urllib.request.HTTPSHandler(context=trusting_context())
    urllib.request.install_opener(urllib.request.build_opener(handler))


# A browser phone's media: Chromium's fake microphone (a beep) instead of a device,
# no permission prompt, and the far end's audio plays without a user gesture.
MEDIA_FLAGS = (
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
)  # fmt: skip


def new_browser(
    profile: Path, trust: Path | None = None, extra: tuple[str, ...] = ()
) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in (*FLAGS, *extra):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # CSP reports, errors
    spki = spki_sha256(trust or e2e_certificate().cert)
    options.add_argument(f"--ignore-certificate-errors-spki-list={spki}")
    options.add_argument(f"--user-data-dir={profile}")
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(options=options, service=service)


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    profile = Path(tempfile.mkdtemp(prefix="cc-chromium-"))
    driver = new_browser(profile)
    try:
        yield driver
    finally:
        driver.quit()  # stops chromedriver and the browser it started
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(driver: webdriver.Chrome, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def log_in(driver: webdriver.Chrome, base_url: str, username: str, password: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{base_url}/login")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
    WebDriverWait(driver, 10).until(ec.presence_of_element_located((By.CSS_SELECTOR, "nav.top")))
