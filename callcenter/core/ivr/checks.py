"""Checks that need the whole flow: names that must exist, loops, reachability.

Names that must exist: nodes, queues, schedules and (when the known ones are
given) prompts, core/prompts.py.

Field-level rules (types, ranges, prompt names, keypad keys) are in the
models; these run after them, on a structurally valid Flow.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from difflib import get_close_matches

from callcenter.core.ivr.errors import Problem
from callcenter.core.ivr.flow import Flow
from callcenter.core.ivr.nodes import HOURS_OPEN, INPUT_NODES, CallbackNode, QueueNode
from callcenter.core.prompts import KnownPrompts, missing_prompts


def check_flow(
    flow: Flow,
    *,
    queues: Collection[str] | None,
    schedules: Collection[str] | None,
    prompts: KnownPrompts | None = None,
) -> tuple[list[Problem], list[str]]:
    """(problems that refuse the flow, warnings that do not)."""
    problems = [
        *_hours(flow, schedules),
        *_targets(flow),
        *_queues(flow, queues),
        *_reads(flow),
        *_prompts(flow, prompts),
    ]
    if not problems:  # loops and reachability only make sense on a complete graph
        problems += _loops_without_input(flow)
    warnings = [f"node {name!r} cannot be reached from the start" for name in _unreachable(flow)]
    return problems, warnings


def _hint(name: str, known: Collection[str]) -> str:
    close = get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _missing(name: str, known: Collection[str], what: str) -> str:
    return f"no {what} named {name!r}{_hint(name, known)}"


def _hours(flow: Flow, schedules: Collection[str] | None) -> Iterator[Problem]:
    if flow.start not in flow.nodes:
        yield Problem(None, "start", _missing(flow.start, flow.nodes, "node"))
    if flow.hours is None:
        if flow.closed_node is not None:
            yield Problem(None, "closed_node", "set, but the flow has no 'hours'")
        return
    if flow.closed_node is None:
        yield Problem(None, "closed_node", "required when 'hours' is set")
    elif flow.closed_node not in flow.nodes:
        yield Problem(None, "closed_node", _missing(flow.closed_node, flow.nodes, "node"))
    if schedules is not None and flow.hours not in schedules:
        yield Problem(None, "hours", _missing(flow.hours, schedules, "schedule"))


def _targets(flow: Flow) -> Iterator[Problem]:
    for name, node in flow.nodes.items():
        for field, target in node.targets():
            if target not in flow.nodes:
                yield Problem(name, field, _missing(target, flow.nodes, "node"))


def _queues(flow: Flow, queues: Collection[str] | None) -> Iterator[Problem]:
    if queues is None:
        return
    for name, node in flow.nodes.items():
        if isinstance(node, QueueNode | CallbackNode) and node.queue not in queues:
            yield Problem(name, "queue", _missing(node.queue, queues, "queue"))


def _prompts(flow: Flow, known: KnownPrompts | None) -> Iterator[Problem]:
    if known is None:
        return
    for name, node in flow.nodes.items():
        for field, why in missing_prompts(node.sounds(), known):
            yield Problem(name, field, why)


def _reads(flow: Flow) -> Iterator[Problem]:
    """Every data key a node reads must be one something in the flow can write."""
    exact = {*flow.provided_keys, *([HOURS_OPEN] if flow.hours else [])}
    prefixes: set[str] = set()
    for name, node in flow.nodes.items():
        for key in node.writes(name):
            if key.endswith("*"):
                prefixes.add(key[:-1])
            else:
                exact.add(key)

    def known(key: str) -> bool:
        return key in exact or any(key.startswith(p) and key != p for p in prefixes)

    for name, node in flow.nodes.items():
        for field, key in node.reads():
            if not known(key):
                hint = _hint(key, exact)
                message = (
                    f"unknown data key {key!r}{hint}: no node stores it and it is not "
                    "in provided_keys"
                )
                yield Problem(name, field, message)


def _loops_without_input(flow: Flow) -> Iterator[Problem]:
    """A loop through nodes that never wait for a key would spin forever."""
    graph = {
        name: [t for _, t in node.targets()]
        for name, node in flow.nodes.items()
        if not isinstance(node, INPUT_NODES)
    }
    while True:
        _prune_acyclic(graph)
        if not graph:
            return
        cycle = _some_cycle(graph)
        shown = " -> ".join(repr(n) for n in [*cycle, cycle[0]])
        yield Problem(
            cycle[0],
            "next",
            f"loop with no keypad input: {shown} (add a menu, collect or verify node)",
        )
        for name in cycle:
            del graph[name]


def _prune_acyclic(graph: dict[str, list[str]]) -> None:
    """Drop nodes that cannot be on a loop (no way onward inside the graph)."""
    changed = True
    while changed:
        changed = False
        for name in list(graph):
            graph[name] = [t for t in graph[name] if t in graph]
            if not graph[name]:
                del graph[name]
                changed = True


def _some_cycle(graph: dict[str, list[str]]) -> list[str]:
    # Every remaining node has a way onward, so walking must revisit a node.
    walk: list[str] = []
    seen: dict[str, int] = {}
    name = next(iter(graph))
    while name not in seen:
        seen[name] = len(walk)
        walk.append(name)
        name = next(t for t in graph[name] if t in graph)
    return walk[seen[name] :]


def _unreachable(flow: Flow) -> list[str]:
    roots = [n for n in (flow.start, flow.closed_node) if n is not None and n in flow.nodes]
    seen = set(roots)
    todo = list(roots)
    while todo:
        for _, target in flow.nodes[todo.pop()].targets():
            if target in flow.nodes and target not in seen:
                seen.add(target)
                todo.append(target)
    return [name for name in flow.nodes if name not in seen]
