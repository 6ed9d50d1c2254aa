"""Field types of a flow document: each one says what an administrator may write.

Messages are written for the person editing the flow file, and every string
that reaches Asterisk (prompts, queue and mailbox names) is held to a narrow
alphabet here so nothing typed in a flow can inject dialplan or AGI syntax.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, Field

KEYPAD = frozenset("0123456789*#")

# Always used with fullmatch: "$" would let a trailing newline through, and a
# newline ends an AGI command.

_PROMPT = re.compile(r"[A-Za-z0-9_/-]{1,128}")
_NODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MAILBOX = re.compile(r"[A-Za-z0-9_-]{1,64}(@[A-Za-z0-9_-]{1,64})?")
# Keys the flow writes: plain lower-case words. Keys it reads may also be the
# engine's own dotted keys ("menu.welcome", "verify.pin", "hours.open").
_STORE_KEY = re.compile(r"[a-z][a-z0-9_]{0,31}")
_PREFIX = re.compile(r"[a-z][a-z0-9_]{0,23}")
_DATA_KEY = re.compile(r"[a-z][a-z0-9_]{0,31}(\.[A-Za-z0-9_-]{1,64})?")
_REASON = re.compile(r"[a-z0-9-]{1,32}")


def _prompt(value: str) -> str:
    # The alphabet has no '.', so neither '..' nor an extension can get in.
    if not _PROMPT.fullmatch(value) or value.startswith("/") or "//" in value:
        raise ValueError(
            f"bad prompt name {value!r}: a sound name without extension, made of letters, "
            "digits, '_', '-' and '/' (not starting with '/'), e.g. 'custom/welcome'"
        )
    return value


def _matching(pattern: re.Pattern[str], what: str, example: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"bad {what} {value!r}: expected something like {example!r}")
        return value

    return check


def _keypad_key(value: str) -> str:
    if len(value) != 1 or value not in KEYPAD:
        raise ValueError(f"bad key {value!r}: a choice is one keypad key, 0-9, * or #")
    return value


Prompt = Annotated[str, AfterValidator(_prompt)]
Prompts = Annotated[list[Prompt], Field(max_length=20)]
NodeName = Annotated[str, AfterValidator(_matching(_NODE, "node name", "main_menu"))]
Name = Annotated[str, AfterValidator(_matching(_NAME, "name", "sales"))]
Mailbox = Annotated[str, AfterValidator(_matching(_MAILBOX, "mailbox", "sales@default"))]
StoreKey = Annotated[str, AfterValidator(_matching(_STORE_KEY, "data key", "account"))]
Prefix = Annotated[str, AfterValidator(_matching(_PREFIX, "prefix", "balance_"))]
DataKey = Annotated[str, AfterValidator(_matching(_DATA_KEY, "data key", "menu.welcome"))]
Reason = Annotated[str, AfterValidator(_matching(_REASON, "reason", "ivr-closed"))]
KeypadKey = Annotated[str, AfterValidator(_keypad_key)]
Terminator = Annotated[str, AfterValidator(_matching(re.compile(r"[#*]"), "terminator", "#"))]
Seconds = Annotated[float, Field(gt=0, le=60)]
Retries = Annotated[int, Field(ge=0, le=9)]
Skill = Annotated[int, Field(ge=1, le=5)]
Priority = Annotated[int, Field(ge=0, le=100)]


def is_data_key(value: str) -> bool:
    return bool(_DATA_KEY.fullmatch(value))
