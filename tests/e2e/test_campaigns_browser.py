"""The campaigns pages in a real headless Chromium: create a campaign, import a long
CSV with its progress bar, see bad rows by line, a refused file named by its columns,
DNC numbers, settings. The console runs on a real controller and database; no
call is placed, so no Asterisk is needed (callcenter.simulate.console)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from callcenter.simulate.console import Console
from tests.e2e.browser import (  # noqa: F401  (fixture)
    browser,
    e2e_certificate,
    log_in,
    screenshot,
)
from tests.e2e.console import poll, text

pytestmark = pytest.mark.e2e

PASSWORD = "a long supervisor password"
ROWS = 40_000


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[Console, str]]:
    with Console(tmp_path / "lab") as console:
        console.controller.users.add("sue", PASSWORD, "supervisor")
        yield console, console.serve(tls=e2e_certificate())


def leads_file(folder: Path) -> Path:
    rows = "".join(f"+1212{2_000_000 + i:07d},Lead {i}\n" for i in range(ROWS))
    path = folder / "long leads.csv"
    path.write_text("phone,name\n" + rows + "not a number,Bad\n+12122000000,Again\n")
    return path


def bad_rows(driver: webdriver.Chrome) -> list[list[str]]:
    table = driver.find_element(By.ID, "cp-bad-rows")
    return [
        [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]


def test_campaign_import_with_progress_bar(
    lab: tuple[Console, str],
    browser: webdriver.Chrome,  # noqa: F811
    tmp_path: Path,
) -> None:
    console, base = lab
    log_in(browser, base, "sue", PASSWORD)
    browser.get(f"{base}/campaigns")
    browser.find_element(By.NAME, "name").send_keys("spring")
    browser.find_element(By.CSS_SELECTOR, "#cp-create button[type=submit]").click()
    poll(lambda: "/campaigns/" in browser.current_url, 10, "the new campaign's page")
    poll(lambda: "Leads" in text(browser, "#cp-figures"), 10, "the figures")

    # A long file: the bar moves, then every row is either imported or reported by line.
    browser.find_element(By.NAME, "file").send_keys(str(leads_file(tmp_path)))
    browser.find_element(By.CSS_SELECTOR, "#cp-upload button[type=submit]").click()
    seen: set[float] = set()

    def done() -> bool:
        value = browser.find_element(By.ID, "cp-progress").get_attribute("value")
        seen.add(float(value or 0))
        return "done" in text(browser, "#cp-import-message")

    poll(done, 120, "the import to finish")
    message = text(browser, "#cp-import-message")
    assert f"{ROWS + 2} rows read, {ROWS} imported, 2 not imported (100 %)" in message
    assert float(browser.find_element(By.ID, "cp-progress").get_attribute("value") or 0) == 100
    rows = bad_rows(browser)
    assert [r[0] for r in rows] == [str(ROWS + 2), str(ROWS + 3)]
    assert rows[0][1].startswith("bad number") and "line 2" in rows[1][1]
    poll(lambda: f"new {ROWS}" in text(browser, "#cp-figures"), 10, "the lead count")
    screenshot(browser, "campaign-import")
    print(f"progress values seen while importing: {sorted(seen)}")

    # A file with the wrong columns is refused, and the message names them.
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("telephone_nr,email\n2125550100,a@example.org\n")
    browser.find_element(By.NAME, "file").send_keys(str(wrong))
    browser.find_element(By.CSS_SELECTOR, "#cp-upload button[type=submit]").click()
    poll(lambda: "refused" in text(browser, "#cp-import-message"), 30, "the refusal")
    refusal = bad_rows(browser)[0]
    assert refusal[0] == "1" and "'telephone_nr'" in refusal[1] and "'email'" in refusal[1]

    # DNC: one good number added; a bad one refuses the lot with the reason.
    browser.find_element(By.NAME, "numbers").send_keys("(212) 555-0100")
    browser.find_element(By.CSS_SELECTOR, "#cp-dnc button[type=submit]").click()
    poll(lambda: text(browser, "#cp-dnc-message") == "1 numbers added", 10, "the DNC add")
    browser.find_element(By.NAME, "numbers").send_keys("call me maybe")
    browser.find_element(By.CSS_SELECTOR, "#cp-dnc button[type=submit]").click()
    poll(lambda: "nothing added" in text(browser, "#cp-dnc-message"), 10, "the DNC refusal")

    # Settings: a bad field is named; nothing changes.
    area = browser.find_element(By.NAME, "settings")
    area.clear()
    area.send_keys('{"mode": "predictive", "ring_seconds": 5}')
    browser.find_element(By.CSS_SELECTOR, "#cp-settings button[type=submit]").click()
    poll(lambda: "ring_seconds" in text(browser, "#cp-settings-message"), 10, "the refusal")
    campaign = console.controller.campaigns.all()[0]
    assert campaign.settings["mode"] == "progressive"
