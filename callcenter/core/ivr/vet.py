"""Vetting of everything the engine did not write itself.

Caller keypresses, the caller's number and fields returned by lookups and
data dips end up in the dialplan, in URLs and on an agent's screen; only
values of a known, narrow shape get through. Bad input is dropped, never
repaired, so nothing partial is presented as true.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping

from callcenter.core.ivr.events import SayKind
from callcenter.core.ivr.fields import KEYPAD

MAX_VALUE = 64
MAX_FIELDS = 32

# fullmatch only: "$" accepts a trailing newline, which ends an AGI command.

_DIGITS = re.compile(r"[0-9]{1,32}")
_NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,6})?")
_CALLER = re.compile(r"\+?[0-9]{1,20}")
_LOOKUP_KEY = re.compile(r"[A-Za-z0-9+_-]{1,32}")
_FIELD = re.compile(r"[a-z0-9_]{1,32}")


def keypad(value: str) -> bool:
    return bool(value) and all(ch in KEYPAD for ch in value)


def digits(value: str) -> bool:
    return bool(_DIGITS.fullmatch(value))


def caller_number(raw: object) -> str:
    """The caller's number, or "" when withheld or not a number."""
    return raw if isinstance(raw, str) and _CALLER.fullmatch(raw) else ""


def lookup_key(raw: str | None) -> str | None:
    return raw if raw is not None and _LOOKUP_KEY.fullmatch(raw) else None


def say_value(kind: SayKind, raw: str | None) -> str | None:
    pattern = _NUMBER if kind == "number" else _DIGITS
    return raw if raw is not None and pattern.fullmatch(raw) else None


def value(raw: object) -> bool:
    return isinstance(raw, str) and len(raw) <= MAX_VALUE and raw.isprintable()


def fields(
    raw: object,
    *,
    prefix: str = "",
    key_ok: Callable[[str], bool] = lambda key: bool(_FIELD.fullmatch(key)),
    drop: Collection[str] = (),
) -> dict[str, str]:
    """The acceptable (key, value) pairs of ``raw``, keys prefixed, at most MAX_FIELDS."""
    kept: dict[str, str] = {}
    if not isinstance(raw, Mapping):
        return kept
    for key, text in raw.items():
        if len(kept) >= MAX_FIELDS:
            break
        if isinstance(key, str) and key_ok(key) and key not in drop and value(text):
            kept[prefix + key] = text
    return kept
