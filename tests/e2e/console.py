"""Helpers for the console's browser tests: a controller on a fixed console port
(so a restarted one is found again by an open page), users, and DOM polling."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from selenium import webdriver
from selenium.common.exceptions import JavascriptException, StaleElementReferenceException
from selenium.webdriver.common.by import By

from callcenter.simulate.loop_thread import ControllerThread
from tests.e2e.browser import ARTIFACTS
from tests.e2e.conftest import PORT_BASE, CallCenter, Pbx

T = TypeVar("T")
WEB_PORT = PORT_BASE + 81
PUSH_DEADLINE = 2.5  # s: a page shows a change this soon after the controller (or a phone) knows it
PASSWORD = "correct horse battery staple"


def restart(center: CallCenter) -> None:
    """Stop the controller (its console too) and start a new one on the same settings."""
    center.thread.stop()
    center.thread = ControllerThread(center.settings)
    center.start()


@pytest.fixture
def console(pbx: Pbx, e2e_database: str, tmp_path: Path) -> Iterator[CallCenter]:
    """A started controller whose console listens on WEB_PORT."""
    settings = pbx.settings.model_copy(
        update={
            "database": pbx.settings.database.model_copy(update={"url": e2e_database}),
            "web": pbx.settings.web.model_copy(update={"port": WEB_PORT}),
        }
    )
    center = CallCenter(pbx, tmp_path, ControllerThread(settings), e2e_database)
    center.start()
    try:
        yield center
    finally:
        center.stop()


def pause(center: CallCenter, name: str) -> None:
    center.thread.run(center.controller.agents.pause(name, "lunch", time.time()))


def ready(center: CallCenter, name: str) -> None:
    center.thread.run(center.controller.agents.ready(name, time.time()))


def record_figures(name: str, figures: dict[str, object]) -> None:
    """Keep what a test measured (lags, waits) beside the screenshots, one JSON file each."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.json").write_text(json.dumps(figures, indent=1) + "\n")


def add_user(center: CallCenter, username: str, role: str, agent: str = "") -> None:
    center.controller.users.add(username, PASSWORD, role, agent=agent)


def poll(what: Callable[[], T | None], timeout: float, message: str, step: float = 0.05) -> T:
    """``what()`` once it is truthy (the page may be re-rendering: stale nodes are retried)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            last = what()
        except (StaleElementReferenceException, JavascriptException) as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s: {message} (last: {last!r})")
        time.sleep(step)


def fetch_json(driver: webdriver.Chrome, path: str) -> dict[str, Any]:
    """GET a JSON document with the page's own session (what the page itself would see)."""
    return dict(
        driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0], {credentials: 'same-origin', cache: 'no-store'})"
            ".then(r => r.json()).then(done);",
            path,
        )
    )


def text(driver: webdriver.Chrome, css: str) -> str:
    found = driver.find_elements(By.CSS_SELECTOR, css)
    return found[0].text.strip() if found else ""


def tile_field(driver: webdriver.Chrome, queue: str, field: str) -> str:
    """A figure on a queue's wallboard tile, as the page shows it."""
    value = driver.execute_script(
        "const t = document.querySelector(`.wb-tile[data-queue='${arguments[0]}']`);"
        "if (!t) return null;"
        "const f = t.querySelector(`[data-field='${arguments[1]}']`);"
        "if (!f) return null;"
        "const v = f.querySelector('.wb-v');"
        "return (v || f).textContent;",
        queue,
        field,
    )
    return str(value).strip() if value is not None else ""


def agent_state(driver: webdriver.Chrome, agent: str) -> str:
    """An agent's state on the wallboard's table ('' when the row is absent)."""
    value = driver.execute_script(
        "const r = document.querySelector(`#wb-agents tr[data-agent='${arguments[0]}']`);"
        "return r ? r.cells[1].textContent : '';",
        agent,
    )
    return str(value).strip()
