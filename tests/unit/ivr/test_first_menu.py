"""A flow's first menu run by the dialplan (cc-first), and the engine resumed from its result.

The session fed the dialplan's result must end exactly where a session that ran the
menu itself ends: the same path, data and final action, for every kind of result.
"""

from __future__ import annotations

from typing import Any

import pytest

from callcenter.core.ivr import load_flow
from callcenter.core.ivr.engine import IvrSession
from callcenter.core.ivr.events import (
    CallerHungUp,
    Collect,
    Digits,
    Enqueue,
    Hangup,
    NoInput,
    Result,
)
from callcenter.core.ivr.first import Answer, FirstMenu, first_menu, parse, resume
from callcenter.core.ivr.flow import Flow
from callcenter.services.flows import FlowDirectory

QUEUES = {"sales", "support"}


def menu(**extra: Any) -> dict[str, Any]:
    return {
        "type": "menu",
        "prompts": ["welcome", "press-1"],
        "timeout": 4,
        "retries": 1,
        "noinput_prompt": "beep",
        "choices": {"1": "sales", "2": "support", "#": "support"},
        "on_fail": "bye",
        **extra,
    }


def flow_doc(start: dict[str, Any], name: str = "main", **top: Any) -> dict[str, Any]:
    return {
        "name": name,
        "start": "welcome",
        "nodes": {
            "welcome": start,
            "sales": {"type": "queue", "queue": "sales"},
            "support": {"type": "queue", "queue": "support"},
            "bye": {"type": "hangup", "reason": "goodbye"},
            "find": {
                "type": "lookup",
                "source": "caller_number",
                "next_found": "sales",
                "next_not_found": "support",
            },
        },
        **top,
    }


def load(document: dict[str, Any]) -> Flow:
    return load_flow(document, queues=QUEUES, schedules={"office"})


MAIN = load(flow_doc(menu()))


def dialplan_ran(flow: Flow, status: str, keys: str) -> Answer:
    """What cc-first reports for ``flow``: its token, Read's status, the keys."""
    found = first_menu(flow)
    assert found is not None
    answer = parse(f"{found.token}/{status}/{keys}")
    assert answer is not None
    return answer


def resumed(flow: Flow, answer: Answer | None) -> tuple[IvrSession, Result | None]:
    ivr = IvrSession(flow, caller="5551000", open_now=None)
    return ivr, resume(answer, ivr, ivr.start())


# -- which flows the dialplan may start -----------------------------------------------------
def test_a_menu_first_flow_has_the_engines_first_collect() -> None:
    found = first_menu(MAIN)
    assert found == FirstMenu("main", "welcome", Collect(("welcome", "press-1"), 1, 4.0, None))
    assert found.token.startswith("main/welcome/")


def test_an_entry_first_flow_keeps_its_keys_and_terminator() -> None:
    entry = {
        "type": "collect",
        "prompts": ["enter-account"],
        "max_digits": 6,
        "store": "account",
        "next": "sales",
    }
    found = first_menu(load(flow_doc(entry)))
    assert found is not None and found.collect == Collect(("enter-account",), 6, 6.0, "#")


@pytest.mark.parametrize(
    "document",
    [
        flow_doc({"type": "play", "prompts": ["welcome"], "next": "sales"}),
        flow_doc({"type": "lookup", "source": "caller_number", "next_found": "sales",
                  "next_not_found": "support"}),
        flow_doc({"type": "branch", "rules": [{"key": "dnis", "equals": "1", "next": "sales"}],
                  "default": "support"}, provided_keys=["dnis"]),
        # Business hours: the first node is the clock's (open or closed), not the dialplan's.
        flow_doc(menu(), hours="office", closed_node="bye"),
    ],
    ids=["play", "lookup", "branch", "hours"],
)  # fmt: skip
def test_other_flows_start_from_the_controller(document: dict[str, Any]) -> None:
    assert first_menu(load(document)) is None


def test_the_token_changes_with_anything_the_caller_hears_or_keys() -> None:
    tokens = {
        first_menu(load(flow_doc(menu(**change)))).token  # type: ignore[union-attr]
        for change in ({}, {"prompts": ["welcome"]}, {"timeout": 5}, {"retries": 2})
    }
    # Retries are the controller's (the second try runs there): same token.
    assert len(tokens) == 3


# -- parsing what the dialplan sends ----------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "",
        "main/welcome/0123456789/OK",  # no keys field
        "main/welcome/0123456789/OK/1;x",  # not a key
        "main/welcome/012345678/OK/1",  # short digest
        "ma in/welcome/0123456789/OK/1",
        "main/welcome/0123456789/OK/1\nHANGUP",
    ],
)
def test_malformed_answers_are_none(text: str) -> None:
    assert parse(text) is None


def test_a_well_formed_answer() -> None:
    assert parse("main/welcome/0123456789/OK/1#") == Answer("main/welcome/0123456789", "OK", "1#")


# -- the engine resumed ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "keys", "result"),
    [
        ("OK", "1", Digits("1")),
        ("OK", "#", Digits("#")),  # '#' is a menu key here (no terminator)
        ("TIMEOUT", "", NoInput()),
        ("OK", "", NoInput()),
        ("ERROR", "", NoInput()),
        ("HANGUP", "", CallerHungUp()),
    ],
)
def test_the_dialplans_result_is_the_first_collects(status: str, keys: str, result: Result) -> None:
    _, got = resumed(MAIN, dialplan_ran(MAIN, status, keys))
    assert got == result


def test_an_entrys_terminator_is_dropped_as_the_runner_does() -> None:
    entry = {
        "type": "collect",
        "prompts": ["enter-account"],
        "max_digits": 6,
        "store": "account",
        "next": "sales",
    }
    flow = load(flow_doc(entry))
    _, got = resumed(flow, dialplan_ran(flow, "OK", "1234#"))
    assert got == Digits("1234")


@pytest.mark.parametrize(
    ("keys", "path", "data", "final"),
    [
        ("1", ["welcome", "sales"], {"menu.welcome": "1"}, Enqueue),
        # A wrong key: the retry (no invalid_prompt), from the controller.
        ("9", ["welcome", "welcome#2"], {}, ("welcome", "press-1")),
        ("", ["welcome", "welcome#2"], {}, ("beep", "welcome", "press-1")),  # silence
    ],
)
def test_a_resumed_session_goes_on_as_if_it_ran_the_menu(
    keys: str, path: list[str], data: dict[str, str], final: type | tuple[str, ...]
) -> None:
    ivr, got = resumed(MAIN, dialplan_ran(MAIN, "OK" if keys else "TIMEOUT", keys))
    assert got is not None
    action = ivr.feed(got)
    twin = IvrSession(MAIN, caller="5551000", open_now=None)
    twin.start()
    assert action == twin.feed(got)
    assert ivr.path == path == twin.path and ivr.data == data == twin.data
    if isinstance(final, tuple):
        assert action == Collect(final, 1, 4.0, None)
    else:
        assert isinstance(action, final)


def test_a_caller_who_hung_up_in_the_first_menu_ends_the_session_there() -> None:
    ivr, got = resumed(MAIN, dialplan_ran(MAIN, "HANGUP", ""))
    assert got is not None and ivr.feed(got) == Hangup("caller-hangup")
    assert (ivr.path, ivr.outcome) == (["welcome"], "caller-hangup")


def test_another_menus_keys_are_not_used() -> None:
    """The flow was edited after cc-first was rendered: the keys were for another menu."""
    old = load(flow_doc(menu(prompts=["old-greeting"])))
    assert resumed(MAIN, dialplan_ran(old, "OK", "1"))[1] is None
    other = load(flow_doc(menu(), name="other"))
    assert resumed(MAIN, dialplan_ran(other, "OK", "1"))[1] is None
    assert resumed(MAIN, None)[1] is None


# -- the flows a dialled number starts -----------------------------------------------------------
def test_flow_directory_gives_each_number_its_flows_first_menu() -> None:
    flows = FlowDirectory()
    lookup_first = flow_doc(menu(), name="lookups")
    lookup_first["start"] = "find"
    broken = {"name": "broken", "start": "nowhere", "nodes": {}}
    flows.load(
        {
            "main": (flow_doc(menu()), []),
            "lookups": (lookup_first, ["5552000"]),
            "broken": (broken, ["5553000"]),
        },
        queues=QUEUES,
        schedules=set(),
    )
    default, by_number = flows.first_menus()
    assert default == first_menu(MAIN)
    # A refused flow's number is nobody's: the default flow (cc-first's s), as for_number.
    assert by_number == {"5552000": None}
    assert flows.for_number("5553000") is flows.flows["main"]
