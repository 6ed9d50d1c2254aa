"""Data dips and routing: lookup, fetch, say, branch, queue, voicemail, hangup."""

from __future__ import annotations

from typing import Any

import pytest

from callcenter.core.ivr import (
    Digits,
    Done,
    Enqueue,
    Fetch,
    FetchResult,
    Hangup,
    IvrSession,
    Lookup,
    LookupResult,
    Say,
    Voicemail,
)
from tests.unit.ivr.flows import flow


def ends(*names: str) -> dict[str, Any]:
    return {name: {"type": "hangup", "reason": name.replace("_", "-")} for name in names}


# -- lookup ---------------------------------------------------------------------------


def lookup_flow(source: str = "caller_number", **extra: Any) -> dict[str, Any]:
    node = {
        "type": "lookup",
        "source": source,
        "next_found": "found",
        "next_not_found": "not_found",
        "next_error": "error",
        **extra,
    }
    return {"l": node, **ends("found", "not_found", "error")}


def test_lookup_by_caller_number() -> None:
    session = IvrSession(flow(lookup_flow()), caller="+33123456789", open_now=None)
    assert session.start() == Lookup("caller_number", "+33123456789")
    assert session.feed(LookupResult(True, {"tier": "gold", "name": "Ann Lee"})) == Hangup("found")
    assert session.data == {
        "customer_found": "1",
        "customer_tier": "gold",
        "customer_name": "Ann Lee",
    }


@pytest.mark.parametrize("caller", ["", "anonymous", "12 34", "+", "1" * 21, "12;34"])
def test_lookup_by_caller_number_without_a_number_is_not_found_at_once(caller: str) -> None:
    session = IvrSession(flow(lookup_flow()), caller=caller, open_now=None)
    assert session.start() == Hangup("not-found")
    assert session.data == {"customer_found": "0"}
    assert session.path == ["l", "not_found"]


def test_lookup_not_found() -> None:
    session = IvrSession(flow(lookup_flow()), caller="100", open_now=None)
    session.start()
    assert session.feed(LookupResult(False, {"ignored": "x"})) == Hangup("not-found")
    assert session.data == {"customer_found": "0"}


def test_lookup_error_goes_to_next_error() -> None:
    session = IvrSession(flow(lookup_flow()), caller="100", open_now=None)
    session.start()
    assert session.feed(LookupResult(True, {"a": "b"}, error=True)) == Hangup("error")
    assert session.data == {"customer_found": "0"}


def test_lookup_error_without_next_error_counts_as_not_found() -> None:
    nodes = lookup_flow()
    del nodes["l"]["next_error"], nodes["error"]
    session = IvrSession(flow(nodes), caller="100", open_now=None)
    session.start()
    assert session.feed(LookupResult(False, {}, error=True)) == Hangup("not-found")


def test_lookup_by_an_entered_value() -> None:
    nodes = {
        "acct": {
            "type": "collect",
            "prompts": ["enter"],
            "max_digits": 8,
            "store": "account",
            "next": "l",
        },
        **lookup_flow("account", store_prefix="acct_"),
    }
    session = IvrSession(flow(nodes), caller="", open_now=None)
    session.start()
    assert session.feed(Digits("1234")) == Lookup("account", "1234")
    session.feed(LookupResult(True, {"status": "open"}))
    assert session.data == {"account": "1234", "acct_found": "1", "acct_status": "open"}


def test_lookup_by_a_provided_key_that_is_missing_or_unfit() -> None:
    nodes = lookup_flow("ref")
    missing = IvrSession(flow(nodes, provided_keys=["ref"]), caller="1", open_now=None)
    assert missing.start() == Hangup("not-found")
    unfit = IvrSession(
        flow(nodes, provided_keys=["ref"]), caller="1", open_now=None, data={"ref": "a b"}
    )
    assert unfit.start() == Hangup("not-found")
    fit = IvrSession(
        flow(nodes, provided_keys=["ref"]), caller="1", open_now=None, data={"ref": "AB-12"}
    )
    assert fit.start() == Lookup("ref", "AB-12")


def test_lookup_fields_are_vetted() -> None:
    session = IvrSession(flow(lookup_flow()), caller="100", open_now=None)
    session.start()
    fields: dict[Any, Any] = {
        "ok": "fine",
        "Bad": "upper-case key",
        "a b": "space in key",
        "long": "x" * 65,
        "max": "y" * 64,
        "number": 42,
        "ctl": "line\nbreak",
        7: "not a str key",
        "found": "1",  # may not overwrite the engine's flag
    }
    session.feed(LookupResult(True, fields))
    assert session.data == {
        "customer_found": "1",
        "customer_ok": "fine",
        "customer_max": "y" * 64,
    }


def test_lookup_fields_are_capped() -> None:
    session = IvrSession(flow(lookup_flow()), caller="100", open_now=None)
    session.start()
    session.feed(LookupResult(True, {f"f{i}": "v" for i in range(100)}))
    assert len(session.data) == 1 + 32


def test_verified_secret_fields_never_reach_the_data() -> None:
    nodes = {
        **lookup_flow(),
        "found": {
            "type": "verify",
            "prompts": ["pin"],
            "digits": 4,
            "field": "pin",
            "next_ok": "not_found",
            "next_fail": "not_found",
        },
    }
    session = IvrSession(flow(nodes), caller="100", open_now=None, data={"pin": "0000"})
    assert "pin" not in session.data
    session.start()
    session.feed(LookupResult(True, {"pin": "1234", "name": "Ann"}))
    assert session.data == {"customer_found": "1", "customer_name": "Ann"}


def test_a_new_lookup_forgets_the_previous_record() -> None:
    nodes = {
        "l": {
            "type": "lookup",
            "source": "caller_number",
            "next_found": "m",
            "next_not_found": "m",
        },
        "m": {"type": "menu", "prompts": ["again"], "choices": {"1": "l", "2": "end"}},
        **ends("end"),
    }
    session = IvrSession(flow(nodes), caller="100", open_now=None)
    session.start()
    session.feed(LookupResult(True, {"name": "Ann", "tier": "gold"}))
    session.feed(Digits("1"))
    session.feed(LookupResult(True, {"name": "Bob"}))
    assert session.data == {"customer_found": "1", "customer_name": "Bob", "menu.m": "1"}
    session.feed(Digits("1"))
    session.feed(LookupResult(False, {}))
    assert session.data == {"customer_found": "0", "menu.m": "1"}


# -- fetch ----------------------------------------------------------------------------


def fetch_flow(url: str) -> dict[str, Any]:
    node = {
        "type": "fetch",
        "url": url,
        "timeout": 1.5,
        "store_prefix": "bal_",
        "next_ok": "ok",
        "next_error": "error",
    }
    return {"f": node, **ends("ok", "error")}


def test_fetch_substitutes_and_encodes_values() -> None:
    nodes = fetch_flow("https://crm.local/b/{ref}?c={caller}&d={dnis}")
    session = IvrSession(
        flow(nodes, provided_keys=["ref", "dnis"]),
        caller="+331",
        open_now=None,
        data={"ref": "a/../b?x=1&y", "dnis": "100"},
    )
    assert session.start() == Fetch(
        "https://crm.local/b/a%2F..%2Fb%3Fx%3D1%26y?c=%2B331&d=100", 1.5
    )


def test_fetch_stores_prefixed_fields() -> None:
    session = IvrSession(flow(fetch_flow("http://crm/{caller}")), caller="555", open_now=None)
    assert session.start() == Fetch("http://crm/555", 1.5)
    assert session.feed(FetchResult(True, {"amount": "12.50", "Bad": "x"})) == Hangup("ok")
    assert session.data == {"bal_amount": "12.50"}


def test_fetch_error() -> None:
    session = IvrSession(flow(fetch_flow("http://crm/x")), caller="", open_now=None)
    assert session.start() == Fetch("http://crm/x", 1.5)
    assert session.feed(FetchResult(False, {"amount": "1"})) == Hangup("error")
    assert session.data == {}


@pytest.mark.parametrize("url", ["http://crm/{caller}", "http://crm/{ref}"])
def test_fetch_with_a_missing_value_is_an_error_without_a_request(url: str) -> None:
    session = IvrSession(flow(fetch_flow(url), provided_keys=["ref"]), caller="", open_now=None)
    assert session.start() == Hangup("error")
    assert session.path == ["f", "error"]


# -- say ------------------------------------------------------------------------------


def say_session(kind: str, value: str | None, on_invalid: bool = True) -> IvrSession:
    node: dict[str, Any] = {
        "type": "say",
        "prompts": ["your-balance"],
        "say": kind,
        "value": "v",
        "next": "next",
    }
    if on_invalid:
        node["on_invalid"] = "invalid"
    nodes = {"s": node, **ends("next", "invalid")}
    data = {} if value is None else {"v": value}
    return IvrSession(flow(nodes, provided_keys=["v"]), caller="", open_now=None, data=data)


@pytest.mark.parametrize("value", ["0", "42", "-3", "12.50", "-0.5", "123456789012345"])
def test_say_number(value: str) -> None:
    session = say_session("number", value)
    assert session.start() == Say(("your-balance",), "number", value)
    assert session.feed(Done()) == Hangup("next")


@pytest.mark.parametrize("value", ["007", "1234567890"])
def test_say_digits(value: str) -> None:
    assert say_session("digits", value).start() == Say(("your-balance",), "digits", value)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("number", None),
        ("number", ""),
        ("number", "1.2.3"),
        ("number", "12,5"),
        ("number", "--1"),
        ("number", "1e5"),
        ("number", "1" * 16),
        ("number", "+1"),
        ("number", ".5"),
        ("digits", "-1"),
        ("digits", "12.5"),
        ("digits", "12#"),
        ("digits", "1" * 33),
    ],
)
def test_say_skips_unsayable_values(kind: str, value: str | None) -> None:
    assert say_session(kind, value).start() == Hangup("invalid")
    assert say_session(kind, value, on_invalid=False).start() == Hangup("next")


# -- branch, queue, voicemail, hangup -------------------------------------------------


def branch_session(data: dict[str, str]) -> IvrSession:
    nodes = {
        "b": {
            "type": "branch",
            "rules": [
                {"key": "tier", "equals": "gold", "next": "gold"},
                {"key": "found", "equals": "1", "next": "known"},
                {"key": "tier", "equals": "silver", "next": "silver"},
            ],
            "default": "other",
        },
        **ends("gold", "known", "silver", "other"),
    }
    return IvrSession(
        flow(nodes, provided_keys=["tier", "found"]), caller="", open_now=None, data=data
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"tier": "gold", "found": "1"}, "gold"),
        ({"tier": "silver", "found": "1"}, "known"),  # first matching rule wins
        ({"tier": "silver"}, "silver"),
        ({"tier": "Gold"}, "other"),  # exact match only
        ({}, "other"),
    ],
)
def test_branch_first_matching_rule_wins(data: dict[str, str], reason: str) -> None:
    assert branch_session(data).start() == Hangup(reason)


def queue_session(data: dict[str, str]) -> IvrSession:
    nodes = {
        "q": {
            "type": "queue",
            "queue": "sales",
            "priority": 5,
            "skills": {"spanish": 3, "sales": 1},
            "priority_if": [
                {"key": "vip", "equals": "1", "priority": 9},
                {"key": "tier", "equals": "gold", "priority": 7},
                {"key": "tier", "equals": "spam", "priority": 0},
            ],
        }
    }
    return IvrSession(
        flow(nodes, provided_keys=["vip", "tier"]), caller="", open_now=None, data=data
    )


@pytest.mark.parametrize(
    ("data", "priority"),
    [
        ({}, 5),
        ({"vip": "1"}, 9),
        ({"vip": "1", "tier": "gold"}, 9),
        ({"vip": "0", "tier": "gold"}, 7),
        ({"tier": "spam"}, 0),
    ],
)
def test_enqueue_carries_priority_rules_and_skills(data: dict[str, str], priority: int) -> None:
    session = queue_session(data)
    action = session.start()
    assert action == Enqueue("sales", priority, {"spanish": 3, "sales": 1})
    assert isinstance(action, Enqueue)
    with pytest.raises(TypeError):
        action.skills["spanish"] = 1  # type: ignore[index]
    assert session.outcome == "queued"
    assert session.finished and session.pending is None


def test_queue_defaults() -> None:
    session = IvrSession(flow({"q": {"type": "queue", "queue": "x"}}), caller="", open_now=None)
    assert session.start() == Enqueue("x", 0, {})


def test_voicemail_and_hangup_outcomes() -> None:
    vm = IvrSession(
        flow({"v": {"type": "voicemail", "box": "100@sales"}}), caller="", open_now=None
    )
    assert vm.start() == Voicemail("100@sales")
    assert vm.outcome == "voicemail"
    bye = IvrSession(flow({"h": {"type": "hangup"}}), caller="", open_now=None)
    assert bye.start() == Hangup("ivr-hangup")
    assert bye.outcome == "hangup"


def test_initial_data_is_vetted() -> None:
    session = IvrSession(
        flow({"h": {"type": "hangup"}}),
        caller="",
        open_now=None,
        data={"dnis": "100", "menu.main": "1", "Bad": "x", "long": "z" * 65, "ctl": "a\tb"},
    )
    assert session.data == {"dnis": "100", "menu.main": "1"}


def test_a_trailing_newline_never_passes_the_vetting() -> None:
    newline = IvrSession(flow(lookup_flow()), caller="+1555\n", open_now=None)
    assert newline.start() == Hangup("not-found")
    assert say_session("number", "12\n").start() == Hangup("invalid")
    assert say_session("digits", "12\n").start() == Hangup("invalid")
    session = IvrSession(
        flow(lookup_flow("ref"), provided_keys=["ref"]),
        caller="",
        open_now=None,
        data={"ref": "A\n"},
    )
    assert session.start() == Hangup("not-found")
