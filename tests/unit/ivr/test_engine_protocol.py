"""The session protocol: start/feed order, wrong answers, hang-ups, hours, step limit."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from callcenter.core.ivr import (
    ANSWERS,
    MAX_STEPS,
    Action,
    CallerHungUp,
    Collect,
    Digits,
    Done,
    Enqueue,
    FetchResult,
    Hangup,
    IvrSession,
    LookupResult,
    NoInput,
    Play,
    ProtocolError,
    Result,
    VerifyResult,
    load_flow,
)
from callcenter.core.ivr.events import FINAL_ACTIONS
from tests.unit.ivr.flows import example, flow, full

MAIN = load_flow(example("main.toml"))
EVERY_RESULT: list[Result] = [
    Digits("1"),
    NoInput(),
    Done(),
    LookupResult(True, {}),
    VerifyResult(True),
    FetchResult(True, {}),
]


def test_every_action_is_either_answered_or_final() -> None:
    assert set(ANSWERS) | set(FINAL_ACTIONS) == set(get_args(Action))
    assert not set(ANSWERS) & set(FINAL_ACTIONS)


def test_feed_before_start() -> None:
    session = IvrSession(MAIN, caller="1", open_now=True)
    with pytest.raises(ProtocolError, match="adapter error: fed NoInput\\(\\) before start"):
        session.feed(NoInput())


def test_start_twice() -> None:
    session = IvrSession(MAIN, caller="1", open_now=True)
    session.start()
    with pytest.raises(ProtocolError, match="start\\(\\) called twice"):
        session.start()


def test_wrong_result_is_the_adapters_fault_and_changes_nothing() -> None:
    session = IvrSession(MAIN, caller="", open_now=True)
    action = session.start()
    assert isinstance(action, Collect)  # no caller number: straight to the menu
    before = (list(session.path), dict(session.data), session.steps)
    for wrong in (Done(), VerifyResult(True), LookupResult(True, {}), FetchResult(True, {})):
        with pytest.raises(ProtocolError) as caught:
            session.feed(wrong)
        assert str(caught.value).startswith("adapter error: fed ")
        assert "expected Digits or NoInput or CallerHungUp" in str(caught.value)
    with pytest.raises(ProtocolError):
        session.feed("1")  # type: ignore[arg-type]
    assert (session.path, session.data, session.steps) == before
    assert session.pending == action
    assert isinstance(session.feed(Digits("1")), Enqueue)


@pytest.mark.parametrize("result", [*EVERY_RESULT, CallerHungUp()])
def test_feed_after_the_end(result: Result) -> None:
    session = IvrSession(MAIN, caller="", open_now=True)
    session.start()
    session.feed(Digits("1"))
    assert session.outcome == "queued"
    with pytest.raises(ProtocolError, match="after the session finished \\(queued\\)"):
        session.feed(result)


# -- business hours -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("open_now", "first", "flag"),
    [(True, "welcome", "1"), (None, "welcome", "1"), (False, "closed", "0")],
)
def test_hours_decide_the_first_node(open_now: bool | None, first: str, flag: str) -> None:
    session = IvrSession(load_flow(full()), caller="", open_now=open_now)
    session.start()
    assert session.path == [first]
    assert session.data["hours.open"] == flag


def test_closed_message_then_goodbye() -> None:
    session = IvrSession(load_flow(full()), caller="", open_now=False)
    assert session.start() == Play(("custom/closed",))
    assert session.feed(Done()) == Hangup("ivr-hangup")


def test_a_flow_without_hours_ignores_open_now() -> None:
    doc = full()
    del doc["hours"], doc["closed_node"]
    session = IvrSession(load_flow(doc), caller="", open_now=False)
    session.start()
    assert session.path == ["welcome"]
    assert "hours.open" not in session.data


# -- the step limit -------------------------------------------------------------------

LOOP: dict[str, Any] = {
    "m": {"type": "menu", "prompts": ["m"], "retries": 1, "choices": {"1": "p"}, "on_fail": "p"},
    "p": {"type": "play", "prompts": ["info"], "next": "m"},
}


def test_default_step_limit() -> None:
    session = IvrSession(flow(LOOP), caller="", open_now=None)
    action = session.start()
    feeds = 0
    while not session.finished:
        action = session.feed(Digits("1") if isinstance(action, Collect) else Done())
        feeds += 1
    assert action == Hangup("ivr-step-limit")
    assert session.outcome == "hangup"
    assert session.steps == MAX_STEPS == len(session.path) == 200
    assert feeds == MAX_STEPS


def test_retries_count_as_steps() -> None:
    session = IvrSession(flow(LOOP), caller="", open_now=None, max_steps=4)
    session.start()  # m
    session.feed(NoInput())  # m#2
    session.feed(NoInput())  # p
    session.feed(Done())  # m
    assert session.feed(NoInput()) == Hangup("ivr-step-limit")
    assert session.path == ["m", "m#2", "p", "m"]


def test_step_limit_while_stepping_through_internal_nodes() -> None:
    nodes = {
        "m": {"type": "menu", "prompts": ["m"], "choices": {"1": "b"}},
        "b": {
            "type": "branch",
            "rules": [{"key": "menu.m", "equals": "1", "next": "m"}],
            "default": "m",
        },
    }
    session = IvrSession(flow(nodes), caller="", open_now=None, max_steps=3)
    session.start()
    session.feed(Digits("1"))  # b, m
    assert session.feed(Digits("1")) == Hangup("ivr-step-limit")
    assert session.steps == 3


# -- the caller hangs up at any step ----------------------------------------------------

# A full call through the example flow: identified, account, PIN, balance, agent.
SCRIPT: list[Result] = [
    LookupResult(True, {"tier": "silver"}),  # identify (by caller number) -> route_known
    Digits("7"),  # welcome: invalid
    NoInput(),  # welcome#2: no input
    Digits("3"),  # welcome#3: account
    Digits("12345678#"),  # account
    LookupResult(True, {"name": "Ann"}),  # verify (lookup by account)
    VerifyResult(False),  # pin
    VerifyResult(True),  # pin#2
    FetchResult(True, {"amount": "12.50"}),  # balance
    Done(),  # say_balance
    Digits("2"),  # after_balance -> account_agent
]


def test_the_script_reaches_an_agent() -> None:
    session = IvrSession(MAIN, caller="+15551234", open_now=True)
    session.start()
    for result in SCRIPT:
        action = session.feed(result)
    assert action == Enqueue("accounts", 5, {"billing": 2})
    assert session.outcome == "queued"
    assert session.data == {
        "hours.open": "1",
        "customer_found": "1",
        "customer_name": "Ann",
        "menu.welcome": "3",
        "account": "12345678",
        "verify.pin": "1",
        "balance_amount": "12.50",
        "menu.after_balance": "2",
    }


@pytest.mark.parametrize("answered", range(len(SCRIPT)))
def test_caller_hangs_up_at_every_step(answered: int) -> None:
    session = IvrSession(MAIN, caller="+15551234", open_now=True)
    session.start()
    for result in SCRIPT[:answered]:
        session.feed(result)
    assert session.pending is not None
    steps = session.steps
    assert session.feed(CallerHungUp()) == Hangup("caller-hangup")
    assert session.outcome == "caller-hangup"
    assert session.finished and session.pending is None
    assert session.steps == steps
    with pytest.raises(ProtocolError):
        session.feed(CallerHungUp())


def test_caller_hangs_up_during_the_closed_message() -> None:
    session = IvrSession(MAIN, caller="", open_now=False)
    assert session.start() == Play(("custom/closed", "custom/opening-hours"))
    assert session.feed(CallerHungUp()) == Hangup("caller-hangup")
    assert session.outcome == "caller-hangup"
