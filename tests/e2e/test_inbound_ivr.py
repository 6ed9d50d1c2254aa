"""The IVR under bad input, silence, hang-ups and a broken data source.

Every test drives the same flow with a SIPp caller pressing real RFC 2833
keys, then reads the call records (calls and call_events) the controller
wrote. The self-service data source is a tiny HTTP server on loopback that
answers, fails (500) or stalls, as each test needs.

The flow: welcome menu (3 account, 5 support) -> account entry (4-8 digits
and '#') -> lookup of that account -> PIN check -> balance from the data
source -> the balance said -> the support queue. A wrong PIN or a failing
data source goes to the support queue; no choice, a bad entry or an unknown
account ends in goodbye.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from callcenter.adapters.db.models import CallEventRow, CallRow
from callcenter.core.calls.state import CallState
from callcenter.simulate.procs import wait_for
from tests.e2e.conftest import CallCenter, PlacedCall
from tests.e2e.sites import agent, queue_node, quiet_queue

pytestmark = pytest.mark.e2e

ACCOUNT, PIN, WRONG_PINS = "123456", "4321", ("5678", "6785")
MENU_TIMEOUT, ENTRY_TIMEOUT, FETCH_TIMEOUT = 2.0, 2.5, 1.0
STALL_SECONDS = 6.0  # the stalling data source answers long after the fetch deadline


# -- the self-service data source ----------------------------------------------------------


@dataclass
class DataSource:
    """GET /<mode>/<account>: ok -> {"amount": "42"}, fail -> 500, slow -> stalls first."""

    port: int = 0
    requests: list[tuple[str, float]] = field(default_factory=list)


def _handler(source: DataSource) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            source.requests.append((self.path, time.monotonic()))
            mode = self.path.strip("/").split("/")[0]
            if mode == "slow":
                time.sleep(STALL_SECONDS)
            if mode == "fail":
                self.send_error(500, "data source broken")
                return
            body = json.dumps({"amount": "42", "currency": "EUR"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def data_source() -> Iterator[DataSource]:
    source = DataSource()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(source))
    server.daemon_threads = True
    source.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="data-source", daemon=True)
    thread.start()
    try:
        yield source
    finally:
        server.shutdown()
        server.server_close()


# -- the site --------------------------------------------------------------------------------


def ivr_site(port: int, mode: str = "ok") -> dict[str, Any]:
    retry = {"retries": 1, "invalid_prompt": "beep"}
    nodes = {
        "welcome": {
            "type": "menu",
            "prompts": ["beep"],
            "timeout": MENU_TIMEOUT,
            "noinput_prompt": "beep",
            "choices": {"3": "account", "5": "support"},
            "on_fail": "bye",
            **retry,
        },
        "account": {
            "type": "collect",
            "prompts": ["beep"],
            "min_digits": 4,
            "max_digits": 8,
            "terminator": "#",
            "timeout": ENTRY_TIMEOUT,
            "noinput_prompt": "beep",
            "store": "account",
            "next": "find",
            "on_fail": "bye",
            **retry,
        },
        "find": {
            "type": "lookup",
            "source": "account",
            "store_prefix": "customer_",
            "next_found": "pin",
            "next_not_found": "bye",
            "next_error": "support",
        },
        "pin": {
            "type": "verify",
            "prompts": ["beep"],
            "digits": 4,
            "field": "pin",
            "timeout": ENTRY_TIMEOUT,
            "next_ok": "balance",
            "next_fail": "support",
            **retry,
        },
        "balance": {
            "type": "fetch",
            "url": f"http://127.0.0.1:{port}/{mode}/{{account}}",
            "timeout": FETCH_TIMEOUT,
            "store_prefix": "balance_",
            "next_ok": "say_balance",
            "next_error": "support",
        },
        "say_balance": {
            "type": "say",
            "say": "number",
            "value": "balance_amount",
            "next": "support",
        },
        "support": queue_node("support"),
        # A goodbye prompt first: SIPp aborts a call whose BYE comes in while it
        # still plays its last key, and a real caller hears something too.
        "bye": {"type": "play", "prompts": ["vm-goodbye"], "next": "hang_up"},
        "hang_up": {"type": "hangup", "reason": "goodbye"},
    }
    return {
        "agents": [agent("paula", 1001, support=3)],
        "queues": [quiet_queue("support")],
        "customers": [{"name": "Carol Customer", "account": ACCOUNT, "pin": PIN, "tier": "gold"}],
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


def open_site(center: CallCenter, port: int, mode: str = "ok") -> None:
    """Load the site; its one agent is logged in but on a break, so callers wait."""
    center.load_site(ivr_site(port, mode))
    center.login("paula")
    center.thread.run(center.controller.agents.pause("paula", "lunch", time.time()))


# -- reading the records ---------------------------------------------------------------------


def the_call(center: CallCenter, number: str) -> tuple[CallRow, list[CallEventRow]]:
    (row,) = center.rows(CallRow, CallRow.caller_number == number)
    return row, center.rows(CallEventRow, CallEventRow.call_id == row.id)


def kinds(events: list[CallEventRow]) -> list[str]:
    return [e.kind for e in events]


def ivr_event(events: list[CallEventRow]) -> CallEventRow:
    (event,) = [e for e in events if e.kind == "ivr"]
    return event


def finish_ok(placed: PlacedCall, timeout: float = 30) -> None:
    result = placed.finish(timeout)
    assert (result.successful, result.failed) == (1, 0), result.log


def waiting(center: CallCenter) -> int:
    return int(center.get(lambda c: len(c.calls.in_state(CallState.WAITING))))


def hang_up_waiting(center: CallCenter, placed: PlacedCall) -> None:
    """The caller reached the queue; it hangs up by its script (end="bye")."""
    wait_for(placed.ended, 30, "the caller hanging up")
    finish_ok(placed)
    center.wait_no_calls()


# -- invalid digits and no digits --------------------------------------------------------------


def test_invalid_keys_twice_at_the_menu_end_in_goodbye(callcenter: CallCenter) -> None:
    open_site(callcenter, 1)
    placed = callcenter.place_call([800, "7", 1200, "8"], "5551001", end="await")
    finish_ok(placed)  # the IVR hung up on the caller (SIPp got its BYE)
    callcenter.wait_no_calls()

    row, events = the_call(callcenter, "5551001")
    assert row.ivr_path == ["welcome", "welcome#2", "bye", "hang_up"]
    assert "menu.welcome" not in row.data
    assert row.outcome == "ivr-hangup"
    assert not row.queue and row.enqueued_at is None and row.ended_at is not None
    assert kinds(events) == ["entered", "ivr", "ended"]
    assert ivr_event(events).detail == {"path": row.ivr_path, "outcome": "hangup"}


def test_no_keys_at_the_menu_retries_once_after_each_timeout_then_goodbye(
    callcenter: CallCenter,
) -> None:
    open_site(callcenter, 1)
    started = time.monotonic()
    placed = callcenter.place_call([], "5551002", end="await")
    finish_ok(placed)
    took = time.monotonic() - started
    callcenter.wait_no_calls()

    row, events = the_call(callcenter, "5551002")
    assert row.ivr_path == ["welcome", "welcome#2", "bye", "hang_up"]
    assert row.outcome == "ivr-hangup"
    assert kinds(events) == ["entered", "ivr", "ended"]
    # Two full waits for a key (plus the prompts), not a hang-up at the first silence.
    assert took >= 2 * MENU_TIMEOUT, took
    assert row.ended_at is not None and row.ended_at - row.entered_at >= 2 * MENU_TIMEOUT


def test_invalid_then_valid_key_and_a_short_entry_then_silence(callcenter: CallCenter) -> None:
    open_site(callcenter, 1)
    # "9" is no choice, "3" is; then "12#" is too short, then nothing at all.
    placed = callcenter.place_call([800, "9", 1200, "3", 1000, "12#"], "5551003", end="await")
    finish_ok(placed)
    callcenter.wait_no_calls()

    row, events = the_call(callcenter, "5551003")
    assert row.ivr_path == ["welcome", "welcome#2", "account", "account#2", "bye", "hang_up"]
    assert row.data["menu.welcome"] == "3"
    assert "account" not in row.data  # a rejected entry is not kept
    assert row.outcome == "ivr-hangup"
    assert kinds(events) == ["entered", "ivr", "ended"]


def test_unknown_account_ends_in_goodbye(callcenter: CallCenter) -> None:
    open_site(callcenter, 1)
    placed = callcenter.place_call([800, "3", 1000, "98765#"], "5551004", end="await")
    finish_ok(placed)
    callcenter.wait_no_calls()

    row, _ = the_call(callcenter, "5551004")
    assert row.ivr_path == ["welcome", "account", "find", "bye", "hang_up"]
    assert (row.data["account"], row.data["customer_found"]) == ("98765", "0")
    assert row.customer_id is None
    assert row.outcome == "ivr-hangup"


def test_wrong_pin_twice_goes_to_an_agent_with_the_failed_check_attached(
    callcenter: CallCenter,
) -> None:
    open_site(callcenter, 1)
    steps: list[str | int] = [800, "3", 1000, f"{ACCOUNT}#", 1000, WRONG_PINS[0], 1000]
    placed = callcenter.place_call([*steps, WRONG_PINS[1], 2500], "5551005", end="bye")
    wait_for(lambda: waiting(callcenter) == 1, 30, "the caller waiting in the queue")
    hang_up_waiting(callcenter, placed)

    row, events = the_call(callcenter, "5551005")
    assert row.ivr_path == ["welcome", "account", "find", "pin", "pin#2", "support"]
    assert row.data["account"] == ACCOUNT
    assert row.data["verify.pin"] == "0"
    assert row.data["customer_name"] == "Carol Customer"
    assert PIN not in row.data.values() and "pin" not in row.data
    assert row.customer_id is not None
    assert (row.queue, row.outcome) == ("support", "abandoned")
    assert kinds(events)[:3] == ["entered", "ivr", "queued"]
    assert kinds(events)[-2:] == ["abandoned", "ended"]


# -- the self-service data source ----------------------------------------------------------------

SELF_SERVICE: list[str | int] = [800, "3", 1000, f"{ACCOUNT}#", 1000, PIN]
SELF_SERVICE_PATH = ["welcome", "account", "find", "pin"]


def test_good_data_source_answer_is_said_and_attached(
    callcenter: CallCenter, data_source: DataSource
) -> None:
    open_site(callcenter, data_source.port, "ok")
    placed = callcenter.place_call([*SELF_SERVICE, 5000], "5551006", end="bye")
    wait_for(lambda: waiting(callcenter) == 1, 30, "the caller waiting in the queue")
    hang_up_waiting(callcenter, placed)

    row, _ = the_call(callcenter, "5551006")
    assert [path for path, _ in data_source.requests] == [f"/ok/{ACCOUNT}"]
    assert row.ivr_path == [*SELF_SERVICE_PATH, "balance", "say_balance", "support"]
    assert row.data["verify.pin"] == "1"
    assert (row.data["balance_amount"], row.data["balance_currency"]) == ("42", "EUR")


@pytest.mark.parametrize("mode", ["fail", "slow"])
def test_failing_or_slow_data_source_does_not_strand_the_caller(
    callcenter: CallCenter, data_source: DataSource, mode: str
) -> None:
    open_site(callcenter, data_source.port, mode)
    placed = callcenter.place_call([*SELF_SERVICE, 6000], "5551007", end="bye")
    wait_for(lambda: waiting(callcenter) == 1, 30, "the caller waiting in the queue")
    hang_up_waiting(callcenter, placed)

    row, events = the_call(callcenter, "5551007")
    ((path, _),) = data_source.requests
    assert path == f"/{mode}/{ACCOUNT}"
    assert row.ivr_path == ["welcome", "account", "find", "pin", "balance", "support"]
    assert row.data["verify.pin"] == "1"
    assert not [key for key in row.data if key.startswith("balance_")]
    # Queued at once after the IVR; the IVR itself gave up at the fetch deadline
    # (see the stall in the path below), not when the source finally answered.
    assert row.enqueued_at is not None
    assert row.enqueued_at - ivr_event(events).at < 2.0
    assert (row.queue, row.outcome) == ("support", "abandoned")


# -- a hang-up in every step ----------------------------------------------------------------------

# (steps before the caller hangs up, the node it hangs up in, the data it leaves behind)
HANGUPS: dict[str, tuple[list[str | int], list[str], dict[str, str]]] = {
    "menu": ([600], ["welcome"], {}),
    "menu-retry": ([800, "7", 600], ["welcome", "welcome#2"], {}),
    "account-entry": ([800, "3", 900, "12"], ["welcome", "account"], {"menu.welcome": "3"}),
    # The lookup itself takes milliseconds: the hang-up comes as soon as the
    # entry is complete, so the IVR learns of it at the lookup's next step.
    "lookup": (
        [800, "3", 1000, f"{ACCOUNT}#"],
        ["welcome", "account", "find"],
        {"account": ACCOUNT, "customer_found": "1"},
    ),
    "verify": (
        [800, "3", 1000, f"{ACCOUNT}#", 900, "43"],
        ["welcome", "account", "find", "pin"],
        {"account": ACCOUNT},
    ),
    "fetch": (
        [*SELF_SERVICE, 300],
        ["welcome", "account", "find", "pin", "balance"],
        {"verify.pin": "1"},
    ),
}


@pytest.mark.parametrize("step", list(HANGUPS))
def test_caller_hanging_up_in_an_ivr_step_is_recorded_there(
    callcenter: CallCenter, data_source: DataSource, step: str
) -> None:
    steps, path, data = HANGUPS[step]
    open_site(callcenter, data_source.port, "slow")  # a fetch outlasts the caller
    placed = callcenter.place_call(steps, "5551010", end="bye")
    finish_ok(placed)
    # The route lets go of the dead channel: nothing left behind in the controller.
    callcenter.wait_no_calls(timeout=FETCH_TIMEOUT + 5)

    row, events = the_call(callcenter, "5551010")
    assert row.ivr_path[: len(path)] == path
    if step != "lookup":
        assert row.ivr_path == path
    else:  # the lookup succeeded; the IVR met the hang-up at the PIN prompt at the latest
        assert row.ivr_path in (path, [*path, "pin"])
    assert data.items() <= row.data.items()
    assert row.outcome == "ivr-caller-hangup"
    assert not row.queue and row.ended_at is not None
    assert kinds(events) == ["entered", "ivr", "ended"]
    assert ivr_event(events).detail["outcome"] == "caller-hangup"
    assert row.ended_at >= ivr_event(events).at - 0.5


def test_caller_hanging_up_while_waiting_after_the_ivr(callcenter: CallCenter) -> None:
    open_site(callcenter, 1)
    placed = callcenter.place_call([800, "5", 2000], "5551011", end="bye")
    wait_for(lambda: waiting(callcenter) == 1, 30, "the caller waiting in the queue")
    hang_up_waiting(callcenter, placed)

    row, events = the_call(callcenter, "5551011")
    assert row.ivr_path == ["welcome", "support"]
    assert row.data["menu.welcome"] == "5"
    assert (row.queue, row.outcome) == ("support", "abandoned")
    assert row.wait_seconds is not None and 1.0 <= row.wait_seconds <= 4.0
    assert kinds(events) == ["entered", "ivr", "queued", "abandoned", "ended"]
