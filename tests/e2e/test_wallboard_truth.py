"""The wallboard's figures equal what the test counted on the callers' and agents' side.

A scripted run of real calls (SIPp callers, baresip agents in manual answer
mode): two answered in "sales", one abandoned by the caller hanging up while
waiting, one moved on by the maximum wait to "backup" and answered there (backup
has a wrap-up time, so its handle time is talk + wrap-up).
The test keeps its own tally (which caller did what, waits and talk times
from the phones' own events) and compares every figure of the JSON the page
consumes (GET /api/wallboard and the last pushed "wallboard" event) and the
numbers the page shows. Counts must match exactly; times within tolerances.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from selenium import webdriver

from callcenter.simulate.softphone import Softphone
from tests.e2e.browser import log_in, screenshot
from tests.e2e.conftest import CALLER_PORT, CallCenter, PlacedCall
from tests.e2e.console import (
    PASSWORD,
    add_user,
    console,  # noqa: F401  (fixture)
    fetch_json,
    pause,
    poll,
    ready,
    record_figures,
    text,
    tile_field,
)
from tests.e2e.sites import agent, queue_node, quiet_queue, site

pytestmark = pytest.mark.e2e

TARGET = 20.0  # sales' service level target (s): every answer here is well inside it
MAX_WAIT = 9.0  # then sales callers move on to backup
WRAP_UP = 2.0  # backup's wrap-up time after each call (part of its handle time)
# A caller's 800 ms pause and key: they join the queue this long after the call starts,
# plus the IVR's own steps (measured here: up to about 0.8 s on a loaded machine).
KEYS = 1.2
TALK_MS = 2000
WAIT_TOLERANCE = 1.0  # s: one caller's joining time is known from its script, not observed
TALK_TOLERANCE = 1.0

SITE = site(
    agents=[agent("amy", 1001, sales=3), agent("ben", 1002, sales=3), agent("cid", 1003, backup=3)],
    queues=[
        quiet_queue(
            "sales",
            requirements={"sales": 1},
            service_level_target=TARGET,
            max_wait=MAX_WAIT,
            on_max_wait={"action": "queue", "target": "backup"},
        ),
        quiet_queue(
            "backup", requirements={"backup": 1}, service_level_target=TARGET, wrapup=WRAP_UP
        ),
    ],
    choices={"1": "sales"},
    nodes={"sales": queue_node("sales")},
)


@dataclass
class Tally:
    """One queue's figures as the test counted them."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    overflowed: int = 0
    waits: list[float] = field(default_factory=list)  # answered legs
    handles: list[float] = field(default_factory=list)  # handled legs: talk + wrap-up


def answer_and_talk(phone: Softphone, placed: PlacedCall, seen: int) -> tuple[float, float, float]:
    """The agent answers (its phone's events after ``seen``), talks TALK_MS, hangs up:
    (monotonic ring and answer times, talk seconds)."""
    rang = phone.wait_event("CALL_INCOMING", 20, after=seen)["_at"]
    phone.accept()
    answered = phone.wait_event("CALL_ESTABLISHED", 5, after=seen)["_at"]
    placed.wait_listening()
    time.sleep(max(0.0, answered + TALK_MS / 1000 - time.monotonic()))  # the conversation
    phone.hangup()
    closed = phone.wait_event("CALL_CLOSED", 10, after=seen)["_at"]
    result = placed.finish(15)
    assert (result.successful, result.failed) == (1, 0), result.log
    return rang, answered, closed - answered


def board_json(driver: webdriver.Chrome) -> dict[str, Any]:
    return fetch_json(driver, "/api/wallboard")


def listen_to_pushes(driver: webdriver.Chrome) -> None:
    """A second stream in the page, keeping the last 'wallboard' push as sent."""
    driver.execute_script(
        "window.lastPush = null;"
        "const s = new EventSource('/api/events?topics=wallboard');"
        "s.addEventListener('wallboard', (e) => { window.lastPush = JSON.parse(e.data); });"
    )


def queue_of(board: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [q for q in board["queues"] if q["queue"] == name]
    return dict(found)


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def check_figures(shown: dict[str, Any], tally: Tally, where: str) -> None:
    counts = {k: shown[k] for k in ("offered", "answered", "abandoned", "overflowed", "waiting")}
    expected = {
        "offered": tally.offered,
        "answered": tally.answered,
        "abandoned": tally.abandoned,
        "overflowed": tally.overflowed,
        "waiting": 0,
    }
    assert counts == expected, where
    assert shown["handled"] == len(tally.handles), where
    assert shown["answered_within_target"] == len([w for w in tally.waits if w <= TARGET]), where
    assert shown["service_level"] == pytest.approx(tally.answered / tally.offered), where
    assert shown["abandon_rate"] == pytest.approx(tally.abandoned / tally.offered), where
    assert shown["asa_seconds"] == pytest.approx(mean(tally.waits), abs=WAIT_TOLERANCE), where
    assert shown["aht_seconds"] == pytest.approx(mean(tally.handles), abs=TALK_TOLERANCE), where


def test_every_wallboard_figure_equals_what_the_callers_and_agents_saw(
    console: CallCenter,  # noqa: F811
    browser: webdriver.Chrome,
) -> None:
    console.load_site(SITE)
    phones = {name: console.softphone(console.account(name)) for name in ("amy", "ben", "cid")}
    console.login("amy", "ben", "cid")
    pause(console, "amy")
    pause(console, "ben")
    console.wait_available("cid")
    add_user(console, "sue", "supervisor")
    log_in(browser, console.base_url, "sue", PASSWORD)
    browser.get(f"{console.base_url}/wallboard")
    poll(lambda: text(browser, "#wb-status") == "Live", 10, "the wallboard live")
    listen_to_pushes(browser)
    sales, backup = Tally(), Tally()

    # Two callers wait (nobody ready); the first gives up after 4 s.
    quitter = console.place_call([800, "1", 4000], "5550501", "Quitter", end="bye")
    patient = console.place_call([800, "1"], "5550502", "Patient", port=CALLER_PORT + 10)
    patient_joined = patient.started + KEYS
    sales.offered += 2
    poll(lambda: queue_of(board_json(browser), "sales")["waiting"] == 2, 10, "two waiting")
    poll(lambda: tile_field(browser, "sales", "waiting") == "2", 5, "two waiting shown")
    # The longest wait is the quitter's, who joined KEYS after their call began.
    longest = queue_of(board_json(browser), "sales")["longest_wait_since"]
    joined = time.time() - (time.monotonic() - (quitter.started + KEYS))
    assert longest == pytest.approx(joined, abs=WAIT_TOLERANCE)
    result = quitter.finish(20)
    assert (result.successful, result.failed) == (1, 0), result.log
    sales.abandoned += 1
    poll(lambda: queue_of(board_json(browser), "sales")["waiting"] == 1, 5, "one waiting")

    # amy takes the patient caller.
    seen = len(phones["amy"].events)
    ready(console, "amy")
    _, answered, talk = answer_and_talk(phones["amy"], patient, seen)
    sales.answered += 1
    sales.waits.append(answered - patient_joined)
    sales.handles.append(talk)
    pause(console, "amy")

    # ben takes the next one.
    ready(console, "ben")
    third = console.place_call([800, "1"], "5550503", "Third")
    # ben is ready: he is rung the moment the caller joins, so the wait is the ring.
    rang, answered, talk = answer_and_talk(phones["ben"], third, len(phones["ben"].events))
    sales.offered += 1
    sales.answered += 1
    sales.waits.append(answered - rang)
    sales.handles.append(talk)
    pause(console, "ben")

    # Nobody in sales is ready: the fourth caller moves on to backup after MAX_WAIT.
    fourth = console.place_call([800, "1"], "5550504", "Overflowed")
    rang, answered, talk = answer_and_talk(phones["cid"], fourth, len(phones["cid"].events))
    assert rang - fourth.started >= KEYS + MAX_WAIT
    sales.offered += 1
    sales.overflowed += 1
    backup.offered += 1
    backup.answered += 1
    backup.waits.append(answered - rang)  # cid is ready: rung as the caller reaches backup
    backup.handles.append(talk + WRAP_UP)
    console.wait_no_calls()

    def settled() -> dict[str, Any] | None:
        board = board_json(browser)
        figures = [queue_of(board, q)["today"] for q in ("sales", "backup")]
        done = all(f["handled"] == f["answered"] and f["waiting"] == 0 for f in figures)
        done = done and all(a["state"] != "wrap_up" for a in board["agents"])
        return board if done else None

    board = poll(settled, 10, "every call decided and handled")

    def pushed_same() -> dict[str, Any] | None:
        push = browser.execute_script("return window.lastPush")
        same = push and all(
            queue_of(push, q)["today"] == queue_of(board, q)["today"] for q in ("sales", "backup")
        )
        return dict(push) if same else None

    pushed = poll(pushed_same, 5, "the last push carrying the same figures")
    record_figures(
        "wallboard-truth",
        {
            name: {"counted": dataclasses.asdict(tally), "shown": queue_of(board, name)["today"]}
            for name, tally in (("sales", sales), ("backup", backup))
        },
    )
    for name, tally in (("sales", sales), ("backup", backup)):
        got = queue_of(board, name)
        assert got["waiting"] == 0 and got["longest_wait_since"] is None
        check_figures(got["today"], tally, f"{name} today")
        check_figures(got["last_30_min"], tally, f"{name} last 30 min")
        check_figures(queue_of(pushed, name)["today"], tally, f"{name} pushed")
    assert queue_of(board, "sales")["agents"] == {
        "ready": 0, "ringing": 0, "on_call": 0, "wrap_up": 0, "paused": 2,
    }  # fmt: skip
    assert queue_of(board, "backup")["agents"] == {
        "ready": 1, "ringing": 0, "on_call": 0, "wrap_up": 0, "paused": 0,
    }  # fmt: skip
    states = {a["agent"]: (a["state"], a["reason"]) for a in board["agents"]}
    assert states == {"amy": ("paused", "lunch"), "ben": ("paused", "lunch"), "cid": ("ready", "")}

    # The page shows the same numbers as its JSON.
    today = queue_of(board, "sales")["today"]
    shown = {
        "offered": str(today["offered"]),
        "answered": str(today["answered"]),
        "abandoned": str(today["abandoned"]),
        "overflowed": str(today["overflowed"]),
        "within": str(today["answered_within_target"]),
        "sl_today": f"{round(today['service_level'] * 100)} %",
        "abandon_rate": f"{round(today['abandon_rate'] * 100)} %",
        "asa": f"{round(today['asa_seconds'])} s",
        "agents_paused": "2",
        "waiting": "0",
    }
    poll(
        lambda: {k: tile_field(browser, "sales", k) for k in shown} == shown,
        5,
        f"the sales tile showing {shown}",
    )
    assert tile_field(browser, "backup", "agents_ready") == "1"
    screenshot(browser, "wallboard-truth")
