"""Keypad input: menus, digit collection and PIN verification, with retries."""

from __future__ import annotations

from typing import Any

import pytest

from callcenter.core.ivr import (
    Collect,
    Digits,
    Done,
    Hangup,
    IvrSession,
    NoInput,
    Play,
    Verify,
    VerifyResult,
)
from tests.unit.ivr.flows import flow

END: dict[str, Any] = {"type": "hangup", "reason": "end"}


def menu(**extra: Any) -> dict[str, Any]:
    node = {
        "type": "menu",
        "prompts": ["m1", "m2"],
        "timeout": 4.0,
        "retries": 2,
        "invalid_prompt": "bad",
        "noinput_prompt": "silence",
        "choices": {"1": "one", "*": "star", "#": "hash"},
        "on_fail": "failed",
    }
    return {**node, **extra}


def menu_session(**extra: Any) -> IvrSession:
    nodes = {
        "m": menu(**extra),
        "one": {"type": "hangup", "reason": "one"},
        "star": {"type": "hangup", "reason": "star"},
        "hash": {"type": "hangup", "reason": "hash"},
        "failed": {"type": "hangup", "reason": "failed"},
    }
    return IvrSession(flow(nodes), caller="", open_now=None)


# -- menus ----------------------------------------------------------------------------


def test_menu_asks_for_one_key_after_its_prompts() -> None:
    assert menu_session().start() == Collect(("m1", "m2"), 1, 4.0, None)


@pytest.mark.parametrize(("key", "reason"), [("1", "one"), ("*", "star"), ("#", "hash")])
def test_menu_choice_goes_to_its_node_and_is_recorded(key: str, reason: str) -> None:
    session = menu_session()
    session.start()
    assert session.feed(Digits(key)) == Hangup(reason)
    assert session.data == {"menu.m": key}
    assert session.path == ["m", reason]
    assert session.outcome == "hangup"


def test_invalid_key_plays_the_invalid_prompt_then_the_menu_again() -> None:
    session = menu_session()
    session.start()
    assert session.feed(Digits("7")) == Collect(("bad", "m1", "m2"), 1, 4.0, None)
    assert session.feed(Digits("1")) == Hangup("one")
    assert session.path == ["m", "m#2", "one"]


def test_no_input_plays_the_noinput_prompt_then_the_menu_again() -> None:
    session = menu_session()
    session.start()
    assert session.feed(NoInput()) == Collect(("silence", "m1", "m2"), 1, 4.0, None)


def test_empty_digits_count_as_no_input() -> None:
    session = menu_session()
    session.start()
    assert session.feed(Digits("")) == Collect(("silence", "m1", "m2"), 1, 4.0, None)


@pytest.mark.parametrize("typed", ["12", "1#", "a", "1a", "\u0661", " 1", "\x00", "9"])
def test_anything_but_one_offered_keypad_key_is_invalid(typed: str) -> None:
    session = menu_session()
    session.start()
    assert session.feed(Digits(typed)).prompts[0] == "bad"  # type: ignore[union-attr]
    assert "menu.m" not in session.data


def test_retries_used_up_goes_to_on_fail() -> None:
    session = menu_session()
    session.start()
    session.feed(NoInput())
    session.feed(Digits("5"))
    assert session.feed(NoInput()) == Hangup("failed")
    assert session.path == ["m", "m#2", "m#3", "failed"]


def test_zero_retries_fails_at_once() -> None:
    session = menu_session(retries=0)
    session.start()
    assert session.feed(Digits("5")) == Hangup("failed")


@pytest.mark.parametrize(
    ("last", "reason"), [(NoInput(), "ivr-no-input"), (Digits("5"), "ivr-invalid-input")]
)
def test_without_on_fail_the_call_is_hung_up(last: Digits | NoInput, reason: str) -> None:
    nodes = {"m": {"type": "menu", "prompts": ["m"], "retries": 0, "choices": {"1": "e"}}, "e": END}
    session = IvrSession(flow(nodes), caller="", open_now=None)
    session.start()
    assert session.feed(last) == Hangup(reason)
    assert session.outcome == "hangup"


def test_without_notice_prompts_the_menu_is_simply_repeated() -> None:
    nodes = {"m": {"type": "menu", "prompts": ["m"], "choices": {"1": "e"}}, "e": END}
    session = IvrSession(flow(nodes), caller="", open_now=None)
    first = session.start()
    assert session.feed(NoInput()) == first
    assert session.feed(Digits("x")) == first


def test_choosing_again_overwrites_the_recorded_choice() -> None:
    nodes = {
        "m": {"type": "menu", "prompts": ["m"], "choices": {"1": "p", "2": "e"}},
        "p": {"type": "play", "prompts": ["info"], "next": "m"},
        "e": END,
    }
    session = IvrSession(flow(nodes), caller="", open_now=None)
    session.start()
    assert session.feed(Digits("1")) == Play(("info",))
    session.feed(Done())
    session.feed(Digits("2"))
    assert session.data["menu.m"] == "2"
    assert session.path == ["m", "p", "m", "e"]


# -- collecting digits --------------------------------------------------------------


def collect_session(**extra: Any) -> IvrSession:
    node = {
        "type": "collect",
        "prompts": ["enter"],
        "min_digits": 3,
        "max_digits": 5,
        "timeout": 6.0,
        "retries": 1,
        "invalid_prompt": "bad",
        "noinput_prompt": "silence",
        "store": "acct",
        "next": "ok",
        "on_fail": "failed",
        **extra,
    }
    nodes = {"c": node, "ok": END, "failed": {"type": "hangup", "reason": "failed"}}
    return IvrSession(flow(nodes), caller="", open_now=None)


def test_collect_asks_for_up_to_max_digits() -> None:
    assert collect_session().start() == Collect(("enter",), 5, 6.0, "#")


@pytest.mark.parametrize(
    ("typed", "stored"), [("123", "123"), ("12345", "12345"), ("1234#", "1234")]
)
def test_collect_stores_the_digits_without_terminator(typed: str, stored: str) -> None:
    session = collect_session()
    session.start()
    assert session.feed(Digits(typed)) == END_ACTION
    assert session.data == {"acct": stored}


END_ACTION = Hangup("end")


@pytest.mark.parametrize(
    "typed", ["12", "123456", "12*4", "#", "12a4", "\u0661\u0662\u0663", "123##"]
)
def test_collect_refuses_short_long_or_non_digit_entries(typed: str) -> None:
    session = collect_session()
    session.start()
    assert session.feed(Digits(typed)) == Collect(("bad", "enter"), 5, 6.0, "#")
    assert session.data == {}


def test_collect_without_terminator_keeps_hash_invalid() -> None:
    session = collect_session(terminator=None)
    assert session.start() == Collect(("enter",), 5, 6.0, None)
    assert session.feed(Digits("123#")).prompts[0] == "bad"  # type: ignore[union-attr]


def test_collect_star_terminator() -> None:
    session = collect_session(terminator="*")
    session.start()
    assert session.feed(Digits("1234*")) == END_ACTION
    assert session.data["acct"] == "1234"


def test_collect_no_input_then_failure() -> None:
    session = collect_session()
    session.start()
    assert session.feed(NoInput()) == Collect(("silence", "enter"), 5, 6.0, "#")
    assert session.feed(Digits("1")) == Hangup("failed")
    assert session.path == ["c", "c#2", "failed"]


# -- verification -------------------------------------------------------------------


def verify_session(retries: int = 1, invalid_prompt: str | None = "wrong") -> IvrSession:
    node: dict[str, Any] = {
        "type": "verify",
        "prompts": ["pin"],
        "digits": 4,
        "field": "pin",
        "timeout": 5.0,
        "retries": retries,
        "next_ok": "ok",
        "next_fail": "fail",
    }
    if invalid_prompt:
        node["invalid_prompt"] = invalid_prompt
    nodes = {"v": node, "ok": END, "fail": {"type": "hangup", "reason": "fail"}}
    return IvrSession(flow(nodes), caller="", open_now=None)


def test_verify_asks_the_adapter_to_compare() -> None:
    assert verify_session().start() == Verify(("pin",), 4, "pin", 5.0)


def test_verify_ok() -> None:
    session = verify_session()
    session.start()
    assert session.feed(VerifyResult(True)) == END_ACTION
    assert session.data == {"verify.v": "1"}


def test_verify_retries_with_the_invalid_prompt_then_fails() -> None:
    session = verify_session()
    session.start()
    assert session.feed(VerifyResult(False)) == Verify(("wrong", "pin"), 4, "pin", 5.0)
    assert session.feed(VerifyResult(False)) == Hangup("fail")
    assert session.data == {"verify.v": "0"}
    assert session.path == ["v", "v#2", "fail"]


def test_verify_second_try_ok() -> None:
    session = verify_session(invalid_prompt=None)
    session.start()
    assert session.feed(VerifyResult(False)) == Verify(("pin",), 4, "pin", 5.0)
    assert session.feed(VerifyResult(True)) == END_ACTION
    assert session.data == {"verify.v": "1"}


def test_verify_without_retries() -> None:
    session = verify_session(retries=0)
    session.start()
    assert session.feed(VerifyResult(False)) == Hangup("fail")


def test_a_trailing_newline_is_invalid_input() -> None:
    session = menu_session()
    session.start()
    assert session.feed(Digits("1\n")).prompts[0] == "bad"  # type: ignore[union-attr]
    entry = collect_session()
    entry.start()
    assert entry.feed(Digits("1234\n")).prompts[0] == "bad"  # type: ignore[union-attr]
