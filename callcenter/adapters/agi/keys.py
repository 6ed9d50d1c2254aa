"""How a prompt and its keys become ONE AGI command, so no key is lost.

A key the caller presses while no AGI command runs (between a STREAM FILE
and the WAIT FOR DIGIT after it, or while the controller is busy) is read by
Asterisk and thrown away. So a menu's prompts and its key collection run as
one command inside Asterisk, and a key pressed at any moment of the prompts,
or after them within the timeout, counts (type-ahead):

* ``GET DATA prompt timeout max``: one prompt on an answered channel, when
  '#' is the terminator or cannot be one (a single key with no terminator).
  Asterisk's reply tells the three endings apart: keys ("200 result=5"), no
  key ("200 result= (timeout)") and '#' as the very first key ("200
  result=" with no "(timeout)"), which is the menu key '#' when the read
  takes one key and no terminator.
* ``EXEC Read(CC_KEYS,p1&p2,max,t(term),1,timeout)`` otherwise: any number
  of prompts (GET DATA cannot play a list: "a&b" is one missing file to it,
  checked on Asterisk 22), any terminator or none (``t()``: '#' is a key
  like the others), and it answers a ringing channel itself, so the first
  menu needs no ANSWER before it. The keys are read back with
  ``GET FULL VARIABLE ${READSTATUS},${CC_KEYS}`` (one more round trip, but
  the keys are already in).

Timeouts are Asterisk's: after the last prompt ends, ``timeout`` for the
first key and between keys; while a prompt plays, a key interrupts it and is
kept. Nothing here does I/O: the runner sends what ``plan`` returns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from callcenter.core.dialplan import Var

_PROMPT = re.compile(r"[A-Za-z0-9_/-]{1,128}")
_READ_REPLY = re.compile(r"(?P<status>[A-Z]*),(?P<keys>[0-9*#]*)")
# The expression GET FULL VARIABLE evaluates after Read: its status, then the keys.
READ_BACK = f"${{READSTATUS}},${{{Var.KEYS.value}}}"


@dataclass(frozen=True, slots=True)
class GetData:
    prompt: str
    timeout_ms: int
    max_digits: int
    hash_is_key: bool  # '#' first (an empty reply without "(timeout)") means the key '#'


@dataclass(frozen=True, slots=True)
class ReadApp:
    args: str  # Read()'s arguments; the keys land in CC_KEYS


KeyCommand = GetData | ReadApp


def plan(
    prompts: tuple[str, ...],
    max_digits: int,
    timeout: float,
    terminator: str | None,
    *,
    answered: bool,
) -> KeyCommand:
    """The one command that plays ``prompts`` and reads up to ``max_digits`` keys."""
    for prompt in prompts:
        if not _PROMPT.fullmatch(prompt):
            raise ValueError(f"not a sound name: {prompt!r}")
    if not 1 <= max_digits <= 255:
        raise ValueError(f"max_digits out of range: {max_digits}")
    if terminator not in (None, "#", "*"):
        raise ValueError(f"not a terminator: {terminator!r}")
    single_key = max_digits == 1 and terminator is None
    if answered and len(prompts) == 1 and (terminator == "#" or single_key):
        return GetData(prompts[0], int(timeout * 1000), max_digits, hash_is_key=single_key)
    seconds = f"{timeout:.3f}".rstrip("0").rstrip(".")
    files = "&".join(prompts)
    return ReadApp(f"{Var.KEYS.value},{files},{max_digits},t({terminator or ''}),1,{seconds}")


def get_data_keys(result: str, timed_out: bool, command: GetData) -> str:
    """The keys a GET DATA reply carries ("" for none)."""
    if result == "-1":
        return ""
    if result == "" and not timed_out and command.hash_is_key:
        return "#"
    return result


def read_back(value: str) -> tuple[str, str]:
    """(READSTATUS, keys) from the GET FULL VARIABLE reply; keys "" when garbled."""
    found = _READ_REPLY.fullmatch(value)
    if found is None:
        return ("ERROR", "")
    return (found["status"], found["keys"])
