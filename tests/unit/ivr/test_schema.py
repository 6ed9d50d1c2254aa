"""Loading flow documents: good ones load, bad ones say where and what."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from callcenter.core.ivr import FlowError, load_flow
from callcenter.core.ivr.nodes import CollectNode, MenuNode
from tests.unit.ivr.flows import QUEUES, full

Doc = dict[str, Any]


def test_full_document_loads_with_every_node_type() -> None:
    loaded = load_flow(full(), queues=QUEUES, schedules=["office"], source="full.toml")
    kinds = {node.type for node in loaded.nodes.values()}
    assert kinds == {
        "menu",
        "branch",
        "collect",
        "lookup",
        "verify",
        "fetch",
        "say",
        "queue",
        "play",
        "hangup",
        "voicemail",
    }
    assert loaded.warnings == ()
    assert loaded.source == "full.toml"
    assert loaded.secret_fields() == {"pin"}


def test_json_document_loads_the_same() -> None:
    assert load_flow(json.loads(json.dumps(full()))) == load_flow(full())


def test_defaults_are_filled_in() -> None:
    loaded = load_flow(full())
    menu = loaded.nodes["welcome"]
    collect = loaded.nodes["account"]
    assert isinstance(menu, MenuNode) and isinstance(collect, CollectNode)
    assert collect.min_digits == 6 and collect.terminator == "#"
    assert loaded.nodes["goodbye"].model_dump()["reason"] == "ivr-hangup"
    assert loaded.nodes["lookup"].model_dump()["store_prefix"] == "customer_"


def test_unreachable_nodes_are_warnings_not_errors() -> None:
    doc = full()
    doc["nodes"]["orphan"] = {"type": "hangup"}
    loaded = load_flow(doc)
    assert loaded.warnings == ("node 'orphan' cannot be reached from the start",)


def test_closed_node_counts_as_reachable() -> None:
    assert load_flow(full()).warnings == ()  # 'closed' and 'goodbye' only via hours


def test_flow_models_are_immutable() -> None:
    menu = load_flow(full()).nodes["welcome"]
    assert isinstance(menu, MenuNode)
    with pytest.raises(ValidationError):
        menu.timeout = 1.0  # type: ignore[misc]


# -- bad documents ------------------------------------------------------------------


def _set(path: str, value: Any) -> Callable[[Doc], None]:
    *parents, last = path.split("/")

    def mutate(doc: Doc) -> None:
        target: Any = doc
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if value is _DELETE:
            del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


_DELETE = object()

BAD: list[tuple[str, Callable[[Doc], None], str | None, str, str]] = [
    # (case id, change, node, field, words the message must contain)
    ("unknown type", _set("nodes/vm/type", "voicemial"), "vm", "type", "unknown node type"),
    ("missing type", _set("nodes/vm/type", _DELETE), "vm", "type", "missing 'type'"),
    ("node not a table", _set("nodes/vm", "hello"), "vm", "(whole node)", "dictionary"),
    ("missing next", _set("nodes/closed/next", _DELETE), "closed", "next", "required"),
    ("dangling next", _set("nodes/closed/next", "goodby"), "closed", "next", "'goodbye'?"),
    (
        "dangling choice",
        _set("nodes/welcome/choices/1", "sale"),
        "welcome",
        "choices.1",
        "no node named 'sale'",
    ),
    (
        "dangling branch rule",
        _set("nodes/route/rules/0/next", "nowhere"),
        "route",
        "rules.0.next",
        "no node named 'nowhere'",
    ),
    (
        "dangling on_fail",
        _set("nodes/account/on_fail", "x"),
        "account",
        "on_fail",
        "no node named 'x'",
    ),
    ("missing start", _set("start", "welcom"), None, "start", "did you mean 'welcome'"),
    ("no start", _set("start", _DELETE), None, "start", "required"),
    ("no name", _set("name", _DELETE), None, "name", "required"),
    ("no nodes", _set("nodes", {}), None, "nodes", "at least 1"),
    (
        "path traversal",
        _set("nodes/welcome/prompts/0", "../../etc/passwd"),
        "welcome",
        "prompts.0",
        "bad prompt name",
    ),
    (
        "absolute prompt",
        _set("nodes/welcome/prompts/0", "/var/x"),
        "welcome",
        "prompts.0",
        "bad prompt name",
    ),
    (
        "space in prompt",
        _set("nodes/welcome/prompts/1", "a b"),
        "welcome",
        "prompts.1",
        "bad prompt name",
    ),
    (
        "semicolon prompt",
        _set("nodes/welcome/prompts/0", "a;b"),
        "welcome",
        "prompts.0",
        "bad prompt name",
    ),
    (
        "prompt extension",
        _set("nodes/welcome/prompts/0", "a.wav"),
        "welcome",
        "prompts.0",
        "bad prompt name",
    ),
    (
        "ampersand prompt",
        _set("nodes/closed/prompts/0", "a&b"),
        "closed",
        "prompts.0",
        "bad prompt name",
    ),
    ("empty prompt", _set("nodes/closed/prompts/0", ""), "closed", "prompts.0", "bad prompt name"),
    ("no prompts", _set("nodes/closed/prompts", []), "closed", "prompts", "at least 1"),
    (
        "bad invalid prompt",
        _set("nodes/welcome/invalid_prompt", "x|y"),
        "welcome",
        "invalid_prompt",
        "bad prompt name",
    ),
    (
        "two-key choice",
        _set("nodes/welcome/choices/12", "sales"),
        "welcome",
        "choices.12 (key)",
        "one keypad key",
    ),
    (
        "letter choice",
        _set("nodes/welcome/choices/a", "sales"),
        "welcome",
        "choices.a (key)",
        "one keypad key",
    ),
    ("no choices", _set("nodes/welcome/choices", {}), "welcome", "choices", "at least 1"),
    (
        "min above max",
        _set("nodes/account/min_digits", 11),
        "account",
        "max_digits",
        "less than min_digits (11)",
    ),
    (
        "zero digits",
        _set("nodes/account/max_digits", 0),
        "account",
        "max_digits",
        "greater than or equal to 1",
    ),
    (
        "bad terminator",
        _set("nodes/account/terminator", "x"),
        "account",
        "terminator",
        "bad terminator",
    ),
    (
        "bad store key",
        _set("nodes/account/store", "Account No"),
        "account",
        "store",
        "bad data key",
    ),
    ("negative timeout", _set("nodes/welcome/timeout", -1), "welcome", "timeout", "greater than 0"),
    (
        "huge timeout",
        _set("nodes/welcome/timeout", 600),
        "welcome",
        "timeout",
        "less than or equal to 60",
    ),
    (
        "too many retries",
        _set("nodes/welcome/retries", 10),
        "welcome",
        "retries",
        "less than or equal to 9",
    ),
    ("typo field", _set("nodes/welcome/retires", 3), "welcome", "retires", "unknown field"),
    ("typo top field", _set("closednode", "closed"), None, "closednode", "unknown field"),
    (
        "skill level",
        _set("nodes/sales/skills/spanish", 6),
        "sales",
        "skills.spanish",
        "less than or equal to 5",
    ),
    ("bad skill name", _set("nodes/sales/skills/a b", 2), "sales", "skills.a b (key)", "bad name"),
    (
        "say kind",
        _set("nodes/say_balance/say", "money"),
        "say_balance",
        "say",
        "'number' or 'digits'",
    ),
    ("bad mailbox", _set("nodes/vm/box", "sales;x"), "vm", "box", "bad mailbox"),
    ("bad reason", _set("nodes/goodbye/reason", "Bye Now"), "goodbye", "reason", "bad reason"),
    (
        "ftp url",
        _set("nodes/balance/url", "ftp://h/{account}"),
        "balance",
        "url",
        "http:// or https://",
    ),
    (
        "host placeholder",
        _set("nodes/balance/url", "http://{account}.crm/x"),
        "balance",
        "url",
        "after the host",
    ),
    (
        "port placeholder",
        _set("nodes/balance/url", "http://crm:{account}/x"),
        "balance",
        "url",
        "after the host",
    ),
    (
        "open brace",
        _set("nodes/balance/url", "http://crm/{account"),
        "balance",
        "url",
        "unbalanced",
    ),
    (
        "unknown placeholder",
        _set("nodes/balance/url", "http://crm/{acount}"),
        "balance",
        "url",
        "unknown data key 'acount' (did you mean 'account'?)",
    ),
    (
        "unknown branch key",
        _set("nodes/route/rules/1/key", "dnis2"),
        "route",
        "rules.1.key",
        "unknown data key 'dnis2'",
    ),
    (
        "unknown priority key",
        _set("nodes/sales/priority_if/0/key", "vip"),
        "sales",
        "priority_if.0.key",
        "unknown data key 'vip'",
    ),
    (
        "unknown say value",
        _set("nodes/say_balance/value", "amount"),
        "say_balance",
        "value",
        "unknown data key",
    ),
    (
        "unknown lookup source",
        _set("nodes/lookup/source", "acct"),
        "lookup",
        "source",
        "unknown data key 'acct'",
    ),
    (
        "priority range",
        _set("nodes/sales/priority", 101),
        "sales",
        "priority",
        "less than or equal to 100",
    ),
    (
        "hours without closed",
        _set("closed_node", _DELETE),
        None,
        "closed_node",
        "required when 'hours'",
    ),
    ("closed without hours", _set("hours", _DELETE), None, "closed_node", "no 'hours'"),
    (
        "dangling closed node",
        _set("closed_node", "shut"),
        None,
        "closed_node",
        "no node named 'shut'",
    ),
    ("bad node name", _set("nodes/a b", {"type": "hangup"}), "a b", "(node name)", "bad node name"),
]


@pytest.mark.parametrize(
    ("change", "node", "field", "words"), [c[1:] for c in BAD], ids=[c[0] for c in BAD]
)
def test_bad_document_names_source_node_and_field(
    change: Callable[[Doc], None], node: str | None, field: str, words: str
) -> None:
    doc = full()
    change(doc)
    with pytest.raises(FlowError) as caught:
        load_flow(doc, source="flows/full.toml")
    message = str(caught.value)
    where = f"node {node!r}, field {field!r}" if node else f"field {field!r}"
    line = next((line for line in message.splitlines() if where in line), None)
    assert line is not None, message
    assert line.startswith("flows/full.toml: ")
    assert words in line, message


def test_every_problem_is_listed_at_once() -> None:
    doc = full()
    doc["nodes"]["welcome"]["timeout"] = -1
    doc["nodes"]["account"]["store"] = "X"
    doc["nodes"]["vm"]["type"] = "nope"
    with pytest.raises(FlowError) as caught:
        load_flow(doc)
    assert {(p.node, p.field) for p in caught.value.problems} == {
        ("welcome", "timeout"),
        ("account", "store"),
        ("vm", "type"),
    }
    assert caught.value.source == "flow 'full'"  # no source given: the flow's name


def test_unknown_queue_and_schedule_when_known_names_are_given() -> None:
    with pytest.raises(FlowError) as caught:
        load_flow(full(), queues=["sale", "operator"], schedules=["ofice"], source="f")
    message = str(caught.value)
    assert (
        "f: node 'sales', field 'queue': no queue named 'sales' (did you mean 'sale'?)" in message
    )
    assert "f: field 'hours': no schedule named 'office' (did you mean 'ofice'?)" in message
    load_flow(full())  # without the collections, any names pass


def test_not_a_table() -> None:
    with pytest.raises(FlowError, match="expected a table"):
        load_flow(["not", "a", "table"], source="x.json")  # type: ignore[arg-type]


# -- loops that never wait for the caller -------------------------------------------


def test_branch_to_itself_is_refused() -> None:
    doc = full()
    doc["nodes"]["route"]["default"] = "route"
    with pytest.raises(FlowError, match="loop with no keypad input: 'route' -> 'route'"):
        load_flow(doc)


def test_longer_loop_without_input_is_refused_and_shown() -> None:
    doc = full()
    nodes = doc["nodes"]
    nodes["route"]["default"] = "b2"
    nodes["b2"] = {
        "type": "branch",
        "rules": [{"key": "dnis", "equals": "1", "next": "p"}],
        "default": "sales",
    }
    nodes["p"] = {"type": "play", "prompts": ["x"], "next": "route"}
    with pytest.raises(FlowError) as caught:
        load_flow(doc)
    (problem,) = caught.value.problems
    assert problem.message.startswith(
        "loop with no keypad input: 'route' -> 'b2' -> 'p' -> 'route'"
    )


def test_fetch_retry_loop_is_refused() -> None:
    doc = full()
    doc["nodes"]["balance"]["next_error"] = "balance"
    with pytest.raises(FlowError, match="'balance' -> 'balance'"):
        load_flow(doc)


def test_loops_through_input_nodes_are_fine() -> None:
    doc = full()
    doc["nodes"]["lookup"]["next_not_found"] = "account"  # lookup -> collect -> lookup
    doc["nodes"]["say_balance"]["next"] = "welcome"  # say -> menu -> ...
    load_flow(doc)


def test_verify_is_an_input_node_in_loops() -> None:
    doc = full()
    doc["nodes"]["pin"]["next_fail"] = "lookup"  # lookup -> verify -> lookup
    load_flow(doc)


@pytest.mark.parametrize(
    ("path", "value", "node", "field"),
    [
        ("nodes/welcome/prompts/0", "custom/welcome\n", "welcome", "prompts.0"),
        ("nodes/welcome/invalid_prompt", "x\nEXEC Dial", "welcome", "invalid_prompt"),
        ("nodes/sales/queue", "sales\n", "sales", "queue"),
        ("nodes/vm/box", "sales\n", "vm", "box"),
        ("nodes/goodbye/reason", "bye\n", "goodbye", "reason"),
        ("nodes/account/store", "account\n", "account", "store"),
    ],
)
def test_a_trailing_newline_never_passes(path: str, value: str, node: str, field: str) -> None:
    # A newline ends an AGI command: "$"-anchored patterns would let one through.
    doc = full()
    _set(path, value)(doc)
    with pytest.raises(FlowError) as caught:
        load_flow(doc)
    assert (node, field) in {(p.node, p.field) for p in caught.value.problems}
