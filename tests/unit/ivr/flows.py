"""Flow documents shared by the IVR tests (plain dicts, as parsed from TOML)."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from callcenter.core.ivr import Flow, load_flow

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "ivr"
QUEUES = ("sales", "support", "operator", "accounts")

# Every node type once, all reachable, valid.
FULL: dict[str, Any] = {
    "name": "full",
    "start": "welcome",
    "hours": "office",
    "closed_node": "closed",
    "provided_keys": ["dnis"],
    "nodes": {
        "welcome": {
            "type": "menu",
            "prompts": ["custom/welcome", "custom/main-menu"],
            "timeout": 5.0,
            "retries": 2,
            "invalid_prompt": "pbx-invalid",
            "noinput_prompt": "vm-sorry",
            "choices": {"1": "sales", "2": "route", "3": "account", "0": "operator", "*": "vm"},
            "on_fail": "operator",
        },
        "route": {
            "type": "branch",
            "rules": [
                {"key": "customer_tier", "equals": "gold", "next": "sales"},
                {"key": "dnis", "equals": "100", "next": "operator"},
            ],
            "default": "welcome",
        },
        "account": {
            "type": "collect",
            "prompts": ["custom/enter-account"],
            "min_digits": 6,
            "max_digits": 10,
            "terminator": "#",
            "timeout": 6.0,
            "retries": 3,
            "store": "account",
            "next": "lookup",
            "on_fail": "operator",
        },
        "lookup": {
            "type": "lookup",
            "source": "account",
            "next_found": "pin",
            "next_not_found": "account",
            "next_error": "operator",
        },
        "pin": {
            "type": "verify",
            "prompts": ["custom/enter-pin"],
            "digits": 4,
            "field": "pin",
            "retries": 2,
            "next_ok": "balance",
            "next_fail": "operator",
        },
        "balance": {
            "type": "fetch",
            "url": "http://127.0.0.1:8099/balance/{account}?from={caller}",
            "timeout": 2.0,
            "store_prefix": "balance_",
            "next_ok": "say_balance",
            "next_error": "operator",
        },
        "say_balance": {
            "type": "say",
            "prompts": ["custom/your-balance-is"],
            "say": "number",
            "value": "balance_amount",
            "next": "operator",
        },
        "sales": {
            "type": "queue",
            "queue": "sales",
            "priority": 5,
            "skills": {"spanish": 3},
            "priority_if": [{"key": "customer_tier", "equals": "gold", "priority": 9}],
        },
        "operator": {"type": "queue", "queue": "operator"},
        "closed": {"type": "play", "prompts": ["custom/closed"], "next": "goodbye"},
        "goodbye": {"type": "hangup"},
        "vm": {"type": "voicemail", "box": "sales"},
    },
}


def full() -> dict[str, Any]:
    return copy.deepcopy(FULL)


def flow(nodes: Mapping[str, Any], start: str | None = None, **top: Any) -> Flow:
    """A flow from just its nodes; starts at the first node unless told."""
    return load_flow({"name": "t", "start": start or next(iter(nodes)), "nodes": nodes, **top})


def example(name: str) -> dict[str, Any]:
    with (EXAMPLES / name).open("rb") as file:
        return tomllib.load(file)
