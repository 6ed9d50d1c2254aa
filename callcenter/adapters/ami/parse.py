"""AMI headers into the typed events of core/pbx_events.py (the adapter's half of the table)."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from typing import Any

from callcenter.core.pbx_events import EVENTS, AmiEvent, Headers, norm


def _converter(kind: Any) -> Callable[[str], Any]:
    if kind is int:

        def to_int(text: str) -> int:
            try:
                return int(text.strip(), 10) if text.strip().isascii() else 0
            except ValueError:
                return 0

        return to_int
    if kind is float:

        def to_float(text: str) -> float:
            try:
                return float(text)
            except ValueError:
                return 0.0

        return to_float
    return str


_Plan = tuple[tuple[str, str, Callable[[str], Any]], ...]
_PLANS: dict[str, _Plan] = {}


def _plan(cls: type[AmiEvent]) -> _Plan:
    """Which attribute reads which header, with what converter (computed once per class)."""
    plan = _PLANS.get(cls.event)
    if plan is None:
        plan = _PLANS[cls.event] = _make_plan(cls)
    return plan


def _make_plan(cls: type[AmiEvent]) -> _Plan:
    hints = typing.get_type_hints(cls)
    plan = []
    for item in dataclasses.fields(cls):
        if item.name in ("raw", "node"):
            continue
        key = norm(item.metadata.get("header", item.name))
        plan.append((item.name, key, _converter(hints[item.name])))
    return tuple(plan)


_NORMS: dict[str, str] = {}  # header name as received -> its normalised key
_NORMS_MOST = 4096  # distinct names kept (channel variables can bring many)


def normalise(headers: Headers) -> dict[str, str | list[str]]:
    # panoramisk's Message keeps (name, value) pairs in ``_store``: read there, the
    # case-insensitive mapping's items() lower-cases every name again.
    store = getattr(headers, "_store", None)
    pairs = store.values() if isinstance(store, dict) else headers.items()
    norms = _NORMS
    raw: dict[str, str | list[str]] = {}
    for key, value in pairs:
        normalised = norms.get(key)
        if normalised is None:
            normalised = norm(key)
            if len(norms) < _NORMS_MOST:
                norms[key] = normalised
        raw[normalised] = value
    return raw


def parse_event(headers: Headers, node: str = "") -> AmiEvent | None:
    """Turn one AMI event's headers into its typed event (tagged with the ``node`` it
    came from, several nodes); None if not in the table."""
    # The name first, before any other header is read: many events are not in the table.
    name = headers.get("Event")
    raw: dict[str, str | list[str]] | None = None
    if name is None:  # a mapping that is not case-insensitive, with another spelling
        raw = normalise(headers)
        name = raw.get("event")
    cls = EVENTS.get(name) if isinstance(name, str) else None
    if cls is None:
        return None
    raw = raw if raw is not None else normalise(headers)
    kwargs: dict[str, Any] = {"raw": raw}
    if node:
        kwargs["node"] = node
    for attr, key, convert in _plan(cls):
        value = raw.get(key)
        if value is None:
            continue
        kwargs[attr] = convert(value[-1] if isinstance(value, list) else value)
    return cls(**kwargs)
