"""The node types of a flow: one model per ``type = "..."``.

Each node lists the nodes it can lead to (``targets``) and the data keys it
reads and writes, so the load-time checks need no per-type knowledge.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from callcenter.core.ivr import template
from callcenter.core.ivr.fields import (
    DataKey,
    KeypadKey,
    Mailbox,
    Name,
    NodeName,
    Prefix,
    Priority,
    Prompt,
    Prompts,
    Reason,
    Retries,
    Seconds,
    Skill,
    StoreKey,
    Terminator,
)

CALLER_NUMBER = "caller_number"  # Lookup source meaning "by the caller's number"
HOURS_OPEN = "hours.open"  # "1"/"0", set by the engine when the flow has hours
NonEmptyPrompts = Annotated[Prompts, Field(min_length=1)]
Value = Annotated[str, Field(max_length=64)]
Edge = tuple[str, str]  # (field, target node)
# Every field a node plays sounds from (a test checks no other field names a prompt).
PROMPT_FIELDS = ("prompts", "invalid_prompt", "noinput_prompt")


class _Model(BaseModel):
    # Unknown fields are refused: a typo like "retires" must not pass silently.
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Node(_Model):
    def targets(self) -> list[Edge]:
        return []

    def reads(self) -> list[tuple[str, str]]:
        """(field, data key) pairs this node reads."""
        return []

    def writes(self, name: str) -> list[str]:
        """Data keys this node stores; a trailing '*' means "any key with this prefix"."""
        return []

    def sounds(self) -> list[tuple[str, str]]:
        """(field, prompt) pairs of every prompt this node may play."""
        found: list[tuple[str, str]] = []
        for field in PROMPT_FIELDS:
            value = getattr(self, field, None)
            if isinstance(value, list):
                found += [(f"{field}.{i}", prompt) for i, prompt in enumerate(value)]
            elif isinstance(value, str):
                found.append((field, value))
        return found


def _edges(**fields: str | None) -> list[Edge]:
    return [(field, target) for field, target in fields.items() if target is not None]


class MenuNode(_Node):
    type: Literal["menu"]
    prompts: NonEmptyPrompts
    timeout: Seconds = 5.0
    retries: Retries = 2
    invalid_prompt: Prompt | None = None
    noinput_prompt: Prompt | None = None
    choices: Annotated[dict[KeypadKey, NodeName], Field(min_length=1)]
    on_fail: NodeName | None = None

    def targets(self) -> list[Edge]:
        return [(f"choices.{key}", target) for key, target in self.choices.items()] + _edges(
            on_fail=self.on_fail
        )

    def writes(self, name: str) -> list[str]:
        return [f"menu.{name}"]


class CollectNode(_Node):
    type: Literal["collect"]
    prompts: NonEmptyPrompts
    min_digits: Annotated[int, Field(ge=1, le=32)] = 1
    max_digits: Annotated[int, Field(ge=1, le=32)]
    terminator: Terminator | None = "#"
    timeout: Seconds = 6.0
    retries: Retries = 2
    invalid_prompt: Prompt | None = None
    noinput_prompt: Prompt | None = None
    store: StoreKey
    next: NodeName
    on_fail: NodeName | None = None

    @field_validator("max_digits")
    @classmethod
    def _not_below_min(cls, value: int, info: ValidationInfo) -> int:
        # Fields are validated in order, so min_digits is known here when valid.
        least = info.data.get("min_digits")
        if least is not None and value < least:
            raise ValueError(f"max_digits ({value}) is less than min_digits ({least})")
        return value

    def targets(self) -> list[Edge]:
        return _edges(next=self.next, on_fail=self.on_fail)

    def writes(self, name: str) -> list[str]:
        return [self.store]


class LookupNode(_Node):
    type: Literal["lookup"]
    source: DataKey  # "caller_number" or the data key holding what the caller entered
    store_prefix: Prefix = "customer_"
    next_found: NodeName
    next_not_found: NodeName
    next_error: NodeName | None = None  # defaults to next_not_found

    def targets(self) -> list[Edge]:
        return _edges(
            next_found=self.next_found,
            next_not_found=self.next_not_found,
            next_error=self.next_error,
        )

    def reads(self) -> list[tuple[str, str]]:
        return [] if self.source == CALLER_NUMBER else [("source", self.source)]

    def writes(self, name: str) -> list[str]:
        return [f"{self.store_prefix}*"]


class VerifyNode(_Node):
    type: Literal["verify"]
    prompts: NonEmptyPrompts
    digits: Annotated[int, Field(ge=1, le=16)]
    field: StoreKey  # the looked-up record's field the adapter compares with
    timeout: Seconds = 6.0
    retries: Retries = 2
    invalid_prompt: Prompt | None = None
    next_ok: NodeName
    next_fail: NodeName

    def targets(self) -> list[Edge]:
        return _edges(next_ok=self.next_ok, next_fail=self.next_fail)

    def writes(self, name: str) -> list[str]:
        return [f"verify.{name}"]


class FetchNode(_Node):
    type: Literal["fetch"]
    url: Annotated[str, AfterValidator(template.check_url)]
    timeout: Annotated[float, Field(gt=0, le=10)] = 2.0
    store_prefix: Prefix
    next_ok: NodeName
    next_error: NodeName

    def targets(self) -> list[Edge]:
        return _edges(next_ok=self.next_ok, next_error=self.next_error)

    def reads(self) -> list[tuple[str, str]]:
        names = template.placeholders(self.url)
        return [("url", name) for name in names if name != template.CALLER]

    def writes(self, name: str) -> list[str]:
        return [f"{self.store_prefix}*"]


class SayNode(_Node):
    type: Literal["say"]
    prompts: Prompts = []
    say: Literal["number", "digits"]
    value: DataKey
    next: NodeName
    on_invalid: NodeName | None = None  # when the value is missing or unsayable; else next

    def targets(self) -> list[Edge]:
        return _edges(next=self.next, on_invalid=self.on_invalid)

    def reads(self) -> list[tuple[str, str]]:
        return [("value", self.value)]


class PlayNode(_Node):
    type: Literal["play"]
    prompts: NonEmptyPrompts
    next: NodeName

    def targets(self) -> list[Edge]:
        return _edges(next=self.next)


class PriorityRule(_Model):
    key: DataKey
    equals: Value
    priority: Priority


class QueueNode(_Node):
    type: Literal["queue"]
    queue: Name
    priority: Priority = 0
    skills: dict[Name, Skill] = {}  # skill -> minimum level (1-5)
    priority_if: list[PriorityRule] = []  # first matching rule wins

    def reads(self) -> list[tuple[str, str]]:
        return [(f"priority_if.{i}.key", rule.key) for i, rule in enumerate(self.priority_if)]


Minutes = Annotated[int, Field(ge=0, le=10080)]


class CallbackNode(_Node):
    """Book a callback: a key per delay (minutes from now); the call center calls back."""

    type: Literal["callback"]
    queue: Name
    prompts: NonEmptyPrompts
    choices: Annotated[dict[KeypadKey, Minutes], Field(min_length=1)]
    timeout: Seconds = 5.0
    retries: Retries = 2
    invalid_prompt: Prompt | None = None
    noinput_prompt: Prompt | None = None
    on_fail: NodeName | None = None

    def targets(self) -> list[Edge]:
        return _edges(on_fail=self.on_fail)

    def writes(self, name: str) -> list[str]:
        return ["callback.after_minutes"]


class VoicemailNode(_Node):
    type: Literal["voicemail"]
    box: Mailbox


class HangupNode(_Node):
    type: Literal["hangup"]
    reason: Reason = "ivr-hangup"


class BranchRule(_Model):
    key: DataKey
    equals: Value
    next: NodeName


class BranchNode(_Node):
    type: Literal["branch"]
    rules: Annotated[list[BranchRule], Field(min_length=1)]  # first matching rule wins
    default: NodeName

    def targets(self) -> list[Edge]:
        edges = [(f"rules.{i}.next", rule.next) for i, rule in enumerate(self.rules)]
        return [*edges, ("default", self.default)]

    def reads(self) -> list[tuple[str, str]]:
        return [(f"rules.{i}.key", rule.key) for i, rule in enumerate(self.rules)]


Node = Annotated[
    MenuNode
    | CollectNode
    | LookupNode
    | VerifyNode
    | FetchNode
    | SayNode
    | PlayNode
    | QueueNode
    | CallbackNode
    | VoicemailNode
    | HangupNode
    | BranchNode,
    Field(discriminator="type"),
]
NODE_TYPES = (
    "menu",
    "collect",
    "lookup",
    "verify",
    "fetch",
    "say",
    "play",
    "queue",
    "callback",
    "voicemail",
    "hangup",
    "branch",
)
# Nodes that wait for the caller's keys: a loop must pass through one of them.
INPUT_NODES = (MenuNode, CollectNode, VerifyNode, CallbackNode)
