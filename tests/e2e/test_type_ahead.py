"""Type-ahead: a key pressed at any moment of a menu's prompts counts.

Real SIPp callers press RFC 2833 keys against the real Asterisk and the
controller's FastAGI IVR. Each menu here plays two prompts (about 2 s each)
and its prompts and key collection run as one command inside Asterisk
(adapters/agi/keys.py), so a key pressed 0.1 s after the answer (during the
greeting), in the middle of a submenu's first or second prompt, or after the
prompts (within the timeout) picks its queue; silence and wrong keys follow
the menu's rules (a retry, then goodbye) as before.

At the light load of a test the old separate STREAM FILE / WAIT FOR DIGIT
commands kept these keys too (the gaps between commands are short when the
controller keeps up); keys were lost once it lagged, which
bench/inbound_paths.py --press-ms 100 shows. These tests hold the behaviour
(every timing, the rules for silence and wrong keys, the records) in place.

Each timing runs twice: with the first menu run by the controller (the default) and
with it run by the dialplan before the controller is asked ([agi]
first_menu_in_dialplan, cc-first), where the answer and the greeting need no
FastAGI round trip and the route resumes the flow with the key.

The flow: welcome (vm-enter-num-to-call, queue-thereare; 1 sales, 2 the
support menu) -> support menu (queue-thereare, vm-enter-num-to-call; 3
support, 4 billing). Callers wait in their queue (the one agent is on a
break) and hang up; the call records say where each one went.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from callcenter.adapters.db.models import CallEventRow, CallRow
from callcenter.core.calls.state import CallState
from callcenter.simulate.procs import wait_for
from callcenter.simulate.sipp import caller_scenario
from tests.e2e.conftest import CALLER_PORT, CallCenter, Pbx, PlacedCall
from tests.e2e.outage_support import fallback_callers
from tests.e2e.sites import agent, queue_node, quiet_queue

pytestmark = pytest.mark.e2e

GREETING = ["vm-enter-num-to-call", "queue-thereare"]  # about 2.0 s + 2.3 s
SUBMENU = ["queue-thereare", "vm-enter-num-to-call"]
TIMEOUT = 2.0


def menu(prompts: list[str], choices: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "menu",
        "prompts": prompts,
        "timeout": TIMEOUT,
        "retries": 1,
        "invalid_prompt": "beep",
        "noinput_prompt": "beep",
        "choices": choices,
        "on_fail": "bye",
    }


def site() -> dict[str, Any]:
    nodes = {
        "welcome": menu(GREETING, {"1": "sales", "2": "support_menu"}),
        "support_menu": menu(SUBMENU, {"3": "support", "4": "billing"}),
        "sales": queue_node("sales"),
        "support": queue_node("support"),
        "billing": queue_node("billing"),
        "bye": {"type": "play", "prompts": ["vm-goodbye"], "next": "hang_up"},
        "hang_up": {"type": "hangup", "reason": "goodbye"},
    }
    return {
        "agents": [agent("paula", 1001, sales=3, support=3, billing=3)],
        "queues": [quiet_queue("sales"), quiet_queue("support"), quiet_queue("billing")],
        "flows": {
            "main": {
                "document": {
                    "name": "main",
                    "start": "welcome",
                    "provided_keys": ["dnis"],
                    "nodes": nodes,
                }
            }
        },
    }


def open_site(center: CallCenter, in_dialplan: bool = False) -> None:
    """Load the site; its one agent is logged in but on a break, so callers wait.
    ``in_dialplan``: the first menu runs in the dialplan ([agi] first_menu_in_dialplan)."""
    center.load_site(site())
    if in_dialplan:
        first_menus_in_dialplan(center)
    center.login("paula")
    center.thread.run(center.controller.agents.pause("paula", "lunch", time.time()))


# Every timing, with the first menu run by the controller (the default) and by the dialplan.
WHERE = pytest.mark.parametrize("in_dialplan", [False, True], ids=["controller", "dialplan"])


def waiting(center: CallCenter) -> int:
    return int(center.get(lambda c: len(c.calls.in_state(CallState.WAITING))))


def the_call(center: CallCenter, number: str) -> tuple[CallRow, list[CallEventRow]]:
    (row,) = center.rows(CallRow, CallRow.caller_number == number)
    return row, center.rows(CallEventRow, CallEventRow.call_id == row.id)


def finish_all(placed: list[PlacedCall], timeout: float = 40) -> None:
    """Every caller's script ran to its end, and SIPp saw no failure."""
    for call in placed:
        result = call.finish(timeout)
        assert (result.successful, result.failed) == (1, 0), result.log


# (steps after the answer, the caller's number, path, menu keys kept, queue); every
# caller stays about 9 s, so all four are in their queues at once.
ROUTED: dict[str, tuple[list[str | int], str, list[str], dict[str, str], str]] = {
    # 0.1 s after the answer: the greeting's first prompt has barely begun.
    "during-greeting": (
        [100, "1", 1500],
        "5552001",
        ["welcome", "sales"],
        {"welcome": "1"},
        "sales",
    ),
    # The greeting interrupted at once, then the submenu's first prompt halfway through.
    "mid-submenu-first-prompt": (
        [100, "2", 1000, "4", 7000],
        "5552002",
        ["welcome", "support_menu", "billing"],
        {"welcome": "2", "support_menu": "4"},
        "billing",
    ),
    # The submenu's second prompt (after about 2.3 s of the first): between prompts
    # is no gap where a key is lost.
    "mid-submenu-second-prompt": (
        [100, "2", 3200, "3", 5000],
        "5552003",
        ["welcome", "support_menu", "support"],
        {"welcome": "2", "support_menu": "3"},
        "support",
    ),
    # After the greeting's two prompts (about 4.3 s), within the 2 s timeout.
    "after-the-prompts": (
        [5200, "1", 1500],
        "5552004",
        ["welcome", "sales"],
        {"welcome": "1"},
        "sales",
    ),
}


@WHERE
def test_keys_pressed_during_between_and_after_prompts_route_the_callers(
    callcenter: CallCenter, in_dialplan: bool
) -> None:
    open_site(callcenter, in_dialplan)
    placed = [
        callcenter.place_call(steps, number, end="bye", port=CALLER_PORT + 10 * i)
        for i, (steps, number, *_rest) in enumerate(ROUTED.values())
    ]
    finish_all(placed)
    callcenter.wait_no_calls()

    for case, (_steps, number, path, keys, queue) in ROUTED.items():
        row, events = the_call(callcenter, number)
        assert row.ivr_path == path, case
        assert {k: row.data.get(f"menu.{k}") for k in keys} == keys, case
        assert (row.queue, row.outcome) == (queue, "abandoned"), case
        assert [e.kind for e in events][:3] == ["entered", "ivr", "queued"], case


@WHERE
def test_silence_and_wrong_keys_follow_the_menu_rules(
    callcenter: CallCenter, in_dialplan: bool
) -> None:
    open_site(callcenter, in_dialplan)
    started = time.monotonic()
    silent = callcenter.place_call([], "5552011", end="await")
    # A wrong key during the greeting, then another wrong key during the retry.
    wrong = callcenter.place_call(
        [100, "9", 1500, "8"], "5552012", end="await", port=CALLER_PORT + 10
    )
    # A wrong key during the greeting, then a right one in the retry's prompt.
    fixed = callcenter.place_call(
        [100, "7", 600, "1", 1500], "5552013", end="bye", port=CALLER_PORT + 20
    )
    finish_all([silent, wrong, fixed])
    callcenter.wait_no_calls()

    row, events = the_call(callcenter, "5552011")
    assert row.ivr_path == ["welcome", "welcome#2", "bye", "hang_up"]
    assert row.outcome == "ivr-hangup"
    assert [e.kind for e in events] == ["entered", "ivr", "ended"]
    # Both tries played their prompts and waited out the timeout.
    assert row.ended_at is not None and row.ended_at - row.entered_at >= 2 * TIMEOUT
    assert time.monotonic() - started >= 2 * TIMEOUT

    row, _ = the_call(callcenter, "5552012")
    assert row.ivr_path == ["welcome", "welcome#2", "bye", "hang_up"]
    assert "menu.welcome" not in row.data and row.outcome == "ivr-hangup"

    row, _ = the_call(callcenter, "5552013")
    assert row.ivr_path == ["welcome", "welcome#2", "sales"]
    assert (row.data["menu.welcome"], row.queue) == ("1", "sales")


@WHERE
def test_a_burst_of_callers_pressing_during_the_greeting_all_count(
    callcenter: CallCenter, in_dialplan: bool
) -> None:
    """Twenty callers at once, each pressing 0.1 s after the answer: none is lost."""
    open_site(callcenter, in_dialplan)
    count = 20
    sipp = callcenter.caller(port=CALLER_PORT + 50)
    callers = [("Caller", f"55530{i:02d}") for i in range(count)]
    process = sipp.start(
        caller_scenario([100, "1", 3000], end="bye"), callers, calls=count, rate=20.0, name="burst"
    )
    wait_for(lambda: waiting(callcenter) == count, 40, "every caller waiting in sales")
    result = sipp.finish(process, 60, name="burst")
    assert (result.successful, result.failed) == (count, 0), result.log
    callcenter.wait_no_calls(timeout=20)

    rows = callcenter.rows(CallRow, CallRow.caller_number.like("55530%"))
    assert len(rows) == count
    assert {tuple(r.ivr_path) for r in rows} == {("welcome", "sales")}
    assert {r.queue for r in rows} == {"sales"}


def first_menus_in_dialplan(center: CallCenter) -> None:
    """[agi] first_menu_in_dialplan on for this controller (off by default), then the site
    loaded again so cc-first is rendered and the dialplan reloaded."""
    publisher = center.controller.pbx_config
    agi = publisher.settings.agi.model_copy(update={"first_menu_in_dialplan": True})
    publisher.settings = publisher.settings.model_copy(update={"agi": agi})
    center.thread.run(center.controller.reload())


def agi_commands(center: CallCenter) -> int:
    return int(center.get(lambda c: c.agi.commands))


def test_the_first_menu_is_the_dialplans_and_its_keys_reach_their_branch(
    callcenter: CallCenter,
) -> None:
    """cc-first (rendered from the flow) answers, plays the greeting and takes the key;
    the controller is asked once, with the key, and sends no command for that menu."""
    open_site(callcenter, in_dialplan=True)
    rendered = callcenter.settings.state_dir / "pbx/etc/generated/first_menus.conf"
    assert "Read(CC_KEYS,vm-enter-num-to-call&queue-thereare,1,t(),1,2)" in rendered.read_text()
    before = agi_commands(callcenter)
    placed = callcenter.place_call([100, "1", 1500], "5552021", end="bye")
    finish_all([placed])
    callcenter.wait_no_calls()
    row, events = the_call(callcenter, "5552021")
    assert row.ivr_path == ["welcome", "sales"] and row.data["menu.welcome"] == "1"
    assert [e.kind for e in events][:3] == ["entered", "ivr", "queued"]
    # No Read and no read-back: the call id with the queue's variables, and the status.
    assert agi_commands(callcenter) - before <= 2
    # The record starts when the caller arrived, not after the greeting.
    assert row.ended_at is not None and row.ended_at - row.entered_at >= 1.5


def test_a_caller_whose_controller_is_gone_after_the_first_menu_reaches_the_fallback_queue(
    callcenter: CallCenter, pbx: Pbx
) -> None:
    """The controller's FastAGI stops (its heartbeat still fresh, so the dialplan plays the
    first menu): the caller keys, the route cannot be reached, the fallback queue takes them."""
    open_site(callcenter, in_dialplan=True)
    callcenter.thread.run(callcenter.controller.agi.stop())
    placed = callcenter.place_call([100, "1", 4000], "5552022", end="bye")
    wait_for(lambda: fallback_callers(pbx) == 1, 20, "the caller in the fallback queue")
    finish_all([placed])
