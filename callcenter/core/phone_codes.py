"""Call control by feature codes from the agent's own phone, during a call.

Choices:

* The codes are Asterisk dynamic features (features.conf ``[applicationmap]``), set
  on the agent's leg only (``DYNAMIC_FEATURES``, by Dial's pre-dial handler on the
  callee): the caller's keys never reach them. Each feature runs one Gosub that asks
  the controller over FastAGI (route ``phone-code``); the controller then acts through
  the same CallControl / Consultations methods as the desktop's buttons, so segments,
  the screen pop's context, the records and the dial policy all apply.
* Asterisk's own ``blindxfer`` / ``atxfer`` stay off: they move the call inside
  Asterisk, behind the controller's back (no segment, no dial policy).
* A transfer or a consultation asks for the target with ``Read`` (ended by ``#`` or
  a pause): ``*N`` is the N-th queue (by name, as listed on the desktop), 2 to 8
  digits an agent's extension, anything longer an outside number (the dial policy
  decides). Only digits, ``*`` and ``#`` can be keyed, and the dialplan filters the
  keys again before they go anywhere.

This module is pure: the codes, their checks, the applicationmap lines, the reading of
keyed targets.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class PhoneAction(StrEnum):
    HOLD = "hold"  # hold, or resume when on hold
    TRANSFER = "transfer"  # blind transfer; asks for the target
    CONSULT = "consult"  # consultation; asks for the target
    COMPLETE = "complete"  # the consultation's caller goes to the target
    CANCEL = "cancel"  # the consultation ends, the caller is back
    CONFERENCE = "conference"  # the consultation becomes a three-way conference


# Actions that ask for a target once the code is pressed.
NEEDS_TARGET = frozenset({PhoneAction.TRANSFER, PhoneAction.CONSULT})

DEFAULT_CODES: dict[str, str] = {
    PhoneAction.HOLD: "*1",
    PhoneAction.TRANSFER: "*2",
    PhoneAction.CONSULT: "*3",
    PhoneAction.COMPLETE: "*4",
    PhoneAction.CANCEL: "*5",
    PhoneAction.CONFERENCE: "*6",
}

CODE_PATTERN = r"^[*#][0-9*#]{1,3}$"
_CODE = re.compile(CODE_PATTERN)
# Keys a Read may bring back (the dialplan filters them to these first).
_KEYS = re.compile(r"^[0-9*]{1,20}$")
_QUEUE_KEYS = re.compile(r"^\*([1-9][0-9]?)$")
_EXTENSION = re.compile(r"^[0-9]{2,8}$")
_NUMBER = re.compile(r"^[0-9]{3,20}$")


def feature_name(action: PhoneAction) -> str:
    """The applicationmap entry's name (and the word DYNAMIC_FEATURES lists)."""
    return f"cc_{action.value}"


def check_codes(codes: Mapping[str, str]) -> dict[PhoneAction, str]:
    """The codes by action; raise ValueError for an unknown action, a malformed code,
    a code used twice or one that begins another (Asterisk would take the shorter)."""
    checked: dict[PhoneAction, str] = {}
    for name, code in codes.items():
        try:
            action = PhoneAction(name)
        except ValueError:
            raise ValueError(f"phone codes: no action {name!r}") from None
        if not _CODE.fullmatch(code):
            raise ValueError(f"phone codes: {name} = {code!r} is not * or # and 1-3 keys")
        checked[action] = code
    ordered = sorted(checked.items(), key=lambda item: item[1])
    for (first, a), (second, b) in itertools.pairwise(ordered):
        if b.startswith(a):
            raise ValueError(f"phone codes: {first} ({a}) and {second} ({b}) overlap")
    return checked


def applicationmap(codes: Mapping[PhoneAction, str], context: str) -> str:
    """The ``[applicationmap]`` lines: each code runs ``Gosub(context,action,1)`` on
    the leg that pressed it (``self``)."""
    return "".join(
        f"{feature_name(action)} => {code},self,Gosub({context},{action.value},1)\n"
        for action, code in sorted(codes.items())
    )


# In a conference ConfBridge reads the keys itself (dynamic features do not apply):
# the codes that act there are a ConfBridge menu on the members' legs (cc-conference-
# member), each escaping to the dialplan (dialplan_exec) to ask the controller.
CONFERENCE_ACTIONS = (PhoneAction.COMPLETE,)  # the agent leaves the conference
CONFERENCE_MENU = "cc_agent_menu"


def conference_menu(codes: Mapping[PhoneAction, str], context: str) -> str:
    """confbridge.conf's menu of the codes that act in a conference."""
    lines = [f"[{CONFERENCE_MENU}]", "type = menu"]
    lines += [
        f"{codes[action]} = dialplan_exec({context},{action.value},1)"
        for action in CONFERENCE_ACTIONS
        if action in codes
    ]
    return "\n".join(lines) + "\n"


def dynamic_features(codes: Mapping[PhoneAction, str]) -> str:
    """The DYNAMIC_FEATURES value that enables every code on a leg."""
    return "#".join(feature_name(action) for action in sorted(codes))


def action_for_keys(keys: str, codes: Mapping[PhoneAction, str]) -> PhoneAction | None:
    """The action whose code was keyed (on hold, the agent's leg reads keys itself)."""
    return next((action for action, code in codes.items() if code == keys), None)


@dataclass(frozen=True, slots=True)
class KeyedTarget:
    kind: str  # "queue", "extension" or "number"
    value: str  # the queue's name, the extension's digits or the number's digits


def keyed_target(keys: str, queues: Sequence[str]) -> KeyedTarget | None:
    """What the agent keyed for a transfer or consultation, or None if it reads as
    nothing: ``*N`` the N-th of ``queues`` (in the given order), 2-8 digits an
    extension, longer an outside number. Whether an extension belongs to an agent
    (else it is dialled as a number) is for the caller to decide."""
    keys = keys.rstrip("#")
    if not _KEYS.fullmatch(keys):
        return None
    if match := _QUEUE_KEYS.fullmatch(keys):
        place = int(match.group(1))
        return KeyedTarget("queue", queues[place - 1]) if place <= len(queues) else None
    if _EXTENSION.fullmatch(keys):
        return KeyedTarget("extension", keys)
    if _NUMBER.fullmatch(keys):
        return KeyedTarget("number", keys)
    return None
