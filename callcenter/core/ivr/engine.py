"""The IVR stepper: results in, actions out; no I/O, no clock, no asyncio.

One IvrSession per call. The adapter calls ``start()``, executes the action
it gets, feeds the outcome back with ``feed()`` and repeats until a final
action (Enqueue, Voicemail, Hangup). Nodes that need nothing from the outside
(branch, a lookup with no key, ...) are stepped through inside one call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import assert_never

from callcenter.core.ivr import template, vet
from callcenter.core.ivr.errors import ProtocolError
from callcenter.core.ivr.events import (
    ANSWERS,
    Action,
    BookCallback,
    CallerHungUp,
    Collect,
    Digits,
    Done,
    Enqueue,
    Fetch,
    FetchResult,
    Hangup,
    Lookup,
    LookupResult,
    NoInput,
    Play,
    Result,
    Say,
    Verify,
    VerifyResult,
    Voicemail,
)
from callcenter.core.ivr.fields import is_data_key
from callcenter.core.ivr.flow import Flow
from callcenter.core.ivr.nodes import (
    CALLER_NUMBER,
    HOURS_OPEN,
    BranchNode,
    CallbackNode,
    CollectNode,
    FetchNode,
    HangupNode,
    LookupNode,
    MenuNode,
    Node,
    PlayNode,
    QueueNode,
    SayNode,
    VerifyNode,
    VoicemailNode,
)

MAX_STEPS = 200  # node visits and re-prompts per call; far above any sane flow

OUTCOMES: Mapping[type[Action], str] = {
    Enqueue: "queued",
    BookCallback: "callback",
    Voicemail: "voicemail",
    Hangup: "hangup",
}


@dataclass(frozen=True, slots=True)
class _Goto:
    node: str


_Step = Action | _Goto


class IvrSession:
    """One call's way through a flow.

    ``path``: node names visited in order, re-prompts as "welcome#2".
    ``data``: what travels with the call to the agent: choices ("menu.<node>"),
    entries (collect ``store`` keys), "verify.<node>" ("1"/"0"), lookup and
    fetch fields under their prefixes ("customer_found" = "1"/"0"), "hours.open".
    ``outcome``: None until a final action, then "queued", "voicemail",
    "hangup" or "caller-hangup".
    ``steps``: node visits and re-prompts so far, never above ``max_steps``.
    """

    def __init__(
        self,
        flow: Flow,
        *,
        caller: str,
        open_now: bool | None,
        data: Mapping[str, str] | None = None,
        max_steps: int = MAX_STEPS,
    ) -> None:
        self.flow = flow
        self.caller = vet.caller_number(caller)
        self.open_now = open_now  # None: unknown, the call is let in (fail open)
        self.max_steps = max_steps
        self.path: list[str] = []
        self.data: dict[str, str] = vet.fields(
            data or {}, key_ok=is_data_key, drop=flow.secret_fields()
        )
        self.outcome: str | None = None
        self.steps = 0
        self._node = ""
        self._attempt = 1
        self._pending: Action | None = None
        self._started = False

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    @property
    def pending(self) -> Action | None:
        """The action whose result the session waits for."""
        return self._pending

    # -- the protocol -------------------------------------------------------------

    def start(self) -> Action:
        if self._started:
            raise ProtocolError("start() called twice")
        self._started = True
        first = self.flow.start
        if self.flow.hours is not None:
            is_open = self.open_now is not False
            self.data[HOURS_OPEN] = "1" if is_open else "0"
            if not is_open and self.flow.closed_node is not None:
                first = self.flow.closed_node
        return self._run(_Goto(first))

    def feed(self, result: Result) -> Action:
        pending = self._expecting(result)
        if isinstance(result, CallerHungUp):
            # Nothing left to do on a channel that is gone; the Hangup only
            # closes the session's books.
            self._pending = None
            self.outcome = "caller-hangup"
            return Hangup("caller-hangup")
        return self._run(self._answer(self.flow.nodes[self._node], pending, result))

    def _expecting(self, result: object) -> Action:
        if not self._started:
            raise ProtocolError(f"fed {result!r} before start()")
        if self._pending is None:
            raise ProtocolError(f"fed {result!r} after the session finished ({self.outcome})")
        allowed = (*ANSWERS[type(self._pending)], CallerHungUp)
        if not isinstance(result, allowed):
            names = " or ".join(kind.__name__ for kind in allowed)
            raise ProtocolError(f"fed {result!r} to answer {self._pending!r}; expected {names}")
        return self._pending

    def _run(self, step: _Step) -> Action:
        while isinstance(step, _Goto):
            step = self._enter(step.node)
        outcome = OUTCOMES.get(type(step))
        if outcome is None:
            self._pending = step
        else:
            self._pending = None
            self.outcome = outcome
        return step

    def _count(self, label: str) -> bool:
        """Account for one more step; False when the step limit is reached."""
        if self.steps >= self.max_steps:
            return False
        self.steps += 1
        self.path.append(label)
        return True

    # -- entering a node ------------------------------------------------------------

    def _enter(self, name: str) -> _Step:
        if not self._count(name):
            return Hangup("ivr-step-limit")
        self._node, self._attempt = name, 1
        node = self.flow.nodes[name]
        match node:
            case MenuNode() | CallbackNode():
                return Collect(tuple(node.prompts), 1, node.timeout, None)
            case CollectNode():
                return Collect(tuple(node.prompts), node.max_digits, node.timeout, node.terminator)
            case VerifyNode():
                return Verify(tuple(node.prompts), node.digits, node.field, node.timeout)
            case LookupNode():
                return self._lookup(node)
            case FetchNode():
                return self._fetch(node)
            case SayNode():
                value = vet.say_value(node.say, self.data.get(node.value))
                if value is None:
                    return _Goto(node.on_invalid or node.next)
                return Say(tuple(node.prompts), node.say, value)
            case PlayNode():
                return Play(tuple(node.prompts))
            case BranchNode():
                rule = next((r for r in node.rules if self.data.get(r.key) == r.equals), None)
                return _Goto(rule.next if rule else node.default)
            case QueueNode():
                return self._enqueue(node)
            case VoicemailNode():
                return Voicemail(node.box)
            case HangupNode():
                return Hangup(node.reason)
            case _:
                assert_never(node)

    def _lookup(self, node: LookupNode) -> _Step:
        raw = self.caller if node.source == CALLER_NUMBER else self.data.get(node.source)
        key = vet.lookup_key(raw or None)
        if key is None:  # nothing to look up by: not found, without asking anyone
            self._clear(node.store_prefix)
            self.data[f"{node.store_prefix}found"] = "0"
            return _Goto(node.next_not_found)
        return Lookup(node.source, key)

    def _fetch(self, node: FetchNode) -> _Step:
        def value_of(name: str) -> str | None:
            if name == template.CALLER:
                return self.caller or None
            return self.data.get(name)

        url = template.render(node.url, value_of)
        if url is None:  # a placeholder has no value on this caller's path
            self._clear(node.store_prefix)
            return _Goto(node.next_error)
        return Fetch(url, node.timeout)

    def _enqueue(self, node: QueueNode) -> Enqueue:
        rule = next((r for r in node.priority_if if self.data.get(r.key) == r.equals), None)
        priority = rule.priority if rule else node.priority
        return Enqueue(node.queue, priority, MappingProxyType(dict(node.skills)))

    # -- answers --------------------------------------------------------------------

    def _answer(self, node: Node, pending: Action, result: Result) -> _Step:
        match node, result:
            case MenuNode(), Digits(value=value) if value:
                return self._menu_choice(node, value)
            case CollectNode(), Digits(value=value) if value:
                return self._collected(node, value)
            case CallbackNode(), Digits(value=value) if value:
                return self._callback_choice(node, value)
            case MenuNode() | CollectNode() | CallbackNode(), Digits() | NoInput():
                return self._retry(node, node.noinput_prompt, "ivr-no-input")
            case VerifyNode(), VerifyResult(ok=ok):
                return self._verified(node, ok)
            case LookupNode(), LookupResult():
                return self._looked_up(node, result)
            case FetchNode(), FetchResult():
                return self._fetched(node, result)
            case PlayNode() | SayNode(), Done():
                return _Goto(node.next)
        raise AssertionError(f"engine bug: {result!r} for {pending!r} at node {self._node!r}")

    def _menu_choice(self, node: MenuNode, value: str) -> _Step:
        if len(value) == 1 and vet.keypad(value) and value in node.choices:
            self.data[f"menu.{self._node}"] = value
            return _Goto(node.choices[value])
        return self._retry(node, node.invalid_prompt, "ivr-invalid-input")

    def _callback_choice(self, node: CallbackNode, value: str) -> _Step:
        if len(value) == 1 and vet.keypad(value) and value in node.choices:
            minutes = node.choices[value]
            self.data["callback.after_minutes"] = str(minutes)
            return BookCallback(node.queue, minutes)
        return self._retry(node, node.invalid_prompt, "ivr-invalid-input")

    def _collected(self, node: CollectNode, value: str) -> _Step:
        if node.terminator and value.endswith(node.terminator):
            value = value[: -len(node.terminator)]
        if vet.digits(value) and node.min_digits <= len(value) <= node.max_digits:
            self.data[node.store] = value
            return _Goto(node.next)
        return self._retry(node, node.invalid_prompt, "ivr-invalid-input")

    def _retry(
        self, node: MenuNode | CollectNode | CallbackNode, notice: str | None, reason: str
    ) -> _Step:
        if self._attempt > node.retries:
            return _Goto(node.on_fail) if node.on_fail else Hangup(reason)
        if not self._again():
            return Hangup("ivr-step-limit")
        prompts = (*([notice] if notice else []), *node.prompts)
        if isinstance(node, MenuNode | CallbackNode):
            return Collect(prompts, 1, node.timeout, None)
        return Collect(prompts, node.max_digits, node.timeout, node.terminator)

    def _again(self) -> bool:
        self._attempt += 1
        return self._count(f"{self._node}#{self._attempt}")

    def _verified(self, node: VerifyNode, ok: bool) -> _Step:
        if not ok and self._attempt <= node.retries:
            if not self._again():
                return Hangup("ivr-step-limit")
            notice = [node.invalid_prompt] if node.invalid_prompt else []
            return Verify((*notice, *node.prompts), node.digits, node.field, node.timeout)
        self.data[f"verify.{self._node}"] = "1" if ok else "0"
        return _Goto(node.next_ok if ok else node.next_fail)

    def _looked_up(self, node: LookupNode, result: LookupResult) -> _Step:
        prefix = node.store_prefix
        self._clear(prefix)
        found = result.found and not result.error
        self.data[f"{prefix}found"] = "1" if found else "0"
        if result.error:
            return _Goto(node.next_error or node.next_not_found)
        if not found:
            return _Goto(node.next_not_found)
        self._store(result.fields, prefix)
        return _Goto(node.next_found)

    def _fetched(self, node: FetchNode, result: FetchResult) -> _Step:
        self._clear(node.store_prefix)
        if not result.ok:
            return _Goto(node.next_error)
        self._store(result.fields, node.store_prefix)
        return _Goto(node.next_ok)

    # -- data -----------------------------------------------------------------------

    def _clear(self, prefix: str) -> None:
        """Forget an earlier lookup's fields so a new record never mixes with it."""
        for key in [k for k in self.data if k.startswith(prefix)]:
            del self.data[key]

    def _store(self, fields: object, prefix: str) -> None:
        # Fields some verify node compares (a PIN) never reach the call's data.
        kept = vet.fields(fields, prefix=prefix, drop=self.flow.secret_fields())
        kept.pop(f"{prefix}found", None)  # the engine's own flag wins
        self.data.update(kept)
