"""Loading a flow document: structure first (pydantic), then the whole graph.

The adapter reads the TOML or JSON file and hands the parsed mapping here;
every problem found is reported at once, each naming the source, the node
and the field, so an administrator can fix a file in one pass.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pydantic import ValidationError

from callcenter.core.ivr.checks import check_flow
from callcenter.core.ivr.errors import FlowError, Problem
from callcenter.core.ivr.flow import Flow
from callcenter.core.ivr.nodes import NODE_TYPES
from callcenter.core.prompts import KnownPrompts

__all__ = ["Flow", "FlowError", "Problem", "load_flow"]


def load_flow(
    data: Mapping[str, Any],
    *,
    queues: Collection[str] | None = None,
    schedules: Collection[str] | None = None,
    prompts: KnownPrompts | None = None,
    source: str = "",
) -> Flow:
    """Validate a parsed flow document; FlowError lists everything wrong with it.

    ``queues``, ``schedules`` and ``prompts``, when given, are the names that
    exist; the flow may only refer to those.
    """
    label = source or _name_of(data)
    if not isinstance(data, Mapping):
        raise FlowError(label, [Problem(None, "(document)", "expected a table of fields")])
    try:
        flow = Flow.model_validate(dict(data))
    except ValidationError as exc:
        raise FlowError(label, [_problem(error) for error in exc.errors()]) from None
    problems, warnings = check_flow(flow, queues=queues, schedules=schedules, prompts=prompts)
    if problems:
        raise FlowError(label, problems)
    flow._warnings = tuple(warnings)
    flow._source = label
    return flow


def _name_of(data: object) -> str:
    name = data.get("name") if isinstance(data, Mapping) else None
    return f"flow {name!r}" if isinstance(name, str) else "flow"


def _problem(error: Mapping[str, Any]) -> Problem:
    loc = [str(part) for part in error["loc"]]
    node = None
    if len(loc) >= 2 and loc[0] == "nodes":
        node, loc = loc[1], loc[2:]
        if loc and loc[0] in NODE_TYPES:  # pydantic puts the union tag in the path
            loc = loc[1:]
    field = ".".join(loc).replace(".[key]", " (key)").replace("[key]", "(node name)")
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        field = "type"
    if not field:
        field = "(whole node)" if node else "(document)"
    return Problem(node, field, _message(error))


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    expected = ", ".join(NODE_TYPES)
    if kind == "union_tag_invalid":
        return f"unknown node type {error['ctx']['tag']!r} (one of: {expected})"
    if kind == "union_tag_not_found":
        return f"missing 'type' (one of: {expected})"
    if kind == "missing":
        return "required, but missing"
    if kind == "extra_forbidden":
        return "unknown field (a typo?)"
    cause = error.get("ctx", {}).get("error")
    return str(cause) if isinstance(cause, Exception) else str(error["msg"])
