"""A flow's first menu, run by Asterisk before the controller is asked.

The caller is answered by the first menu's ``Read()`` inside the dialplan
(``cc-first``, rendered from the flows by adapters/pbx/first_menus.py), so the
answer, the greeting and the key collection start with no FastAGI round trip
and a key pressed at any moment after the answer counts. The dialplan then
hands the controller what it ran and what came of it, in one route argument
(``Answer``): the menu's token, Read's status and the keys. The IVR session
is fed that result as if it had run the Collect itself (``resume``).

Only a flow whose very first step is a prompt-and-keys node (menu, entry,
callback) and that has no business hours (whose first node depends on the
clock) gets one; any other flow runs from the controller as before. The token
names the flow, the node and a digest of the Collect (prompts, keys, timeout,
terminator): if the dialplan ran a menu the controller no longer has (a flow
edited while its dialplan was not reloaded yet), the keys are not used and the
flow runs from its start, so a key is never applied to a menu the caller
did not hear.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from callcenter.core.ivr.engine import IvrSession
from callcenter.core.ivr.events import Action, CallerHungUp, Collect, Digits, NoInput, Result
from callcenter.core.ivr.flow import Flow
from callcenter.core.ivr.nodes import CallbackNode, CollectNode, MenuNode

# flow/node/digest/READSTATUS/keys: names are [A-Za-z0-9_-] (core/ivr/fields.py), keys
# were FILTERed to 0-9*# by the dialplan; anything else is not an answer.
_ANSWER = re.compile(
    r"(?P<flow>[A-Za-z0-9_-]{1,64})/(?P<node>[A-Za-z0-9_-]{1,64})/(?P<digest>[0-9a-f]{10})"
    r"/(?P<status>[A-Z]{0,16})/(?P<keys>[0-9*#]{0,64})"
)
HANGUP = "HANGUP"  # Read's READSTATUS when the caller hung up (the dialplan's h)


@dataclass(frozen=True, slots=True)
class FirstMenu:
    """What the dialplan runs for a flow: the engine's first Collect, from its start node."""

    flow: str
    node: str
    collect: Collect

    @property
    def token(self) -> str:
        return f"{self.flow}/{self.node}/{digest(self.collect)}"


@dataclass(frozen=True, slots=True)
class Answer:
    """What the dialplan reports: the menu it ran, Read's status, the keys."""

    token: str
    status: str
    keys: str


def digest(collect: Collect) -> str:
    text = repr((collect.prompts, collect.max_digits, collect.timeout, collect.terminator))
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def first_menu(flow: Flow) -> FirstMenu | None:
    """The Collect the flow starts with, when the dialplan may run it; else None."""
    if flow.hours is not None:  # open or closed: the first node is the clock's
        return None
    if not isinstance(flow.nodes[flow.start], MenuNode | CollectNode | CallbackNode):
        return None
    action = IvrSession(flow, caller="", open_now=None).start()
    if not isinstance(action, Collect):  # pragma: no cover - the node types above collect
        return None
    return FirstMenu(flow.name, flow.start, action)


def parse(text: str) -> Answer | None:
    """The route argument the dialplan sent; None when absent or not well formed."""
    found = _ANSWER.fullmatch(text)
    if found is None:
        return None
    token = f"{found['flow']}/{found['node']}/{found['digest']}"
    return Answer(token, found["status"], found["keys"])


def resume(answer: Answer | None, ivr: IvrSession, action: Action) -> Result | None:
    """The result of the session's first action when the dialplan ran exactly it.

    ``action`` is what ``ivr.start()`` returned. None: run it as usual (no answer,
    or the dialplan ran another menu than this flow starts with now)."""
    if answer is None or not isinstance(action, Collect) or ivr.path != [ivr.flow.start]:
        return None
    if answer.token != FirstMenu(ivr.flow.name, ivr.flow.start, action).token:
        return None
    if answer.status == HANGUP:
        return CallerHungUp()
    keys = answer.keys
    if action.terminator and keys.endswith(action.terminator):
        keys = keys[: -len(action.terminator)]
    return Digits(keys) if keys else NoInput()
