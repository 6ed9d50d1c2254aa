"""What the engine asks the adapter to do (actions) and what it gets back (results).

The adapter executes one action at a time and feeds back one result. Final
actions (Enqueue, Voicemail, Hangup) end the session and get no answer.
ANSWERS is the whole protocol in one table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

SayKind = Literal["number", "digits"]


# -- actions ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Play:
    prompts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Collect:
    """Play the prompts (a key interrupts them), then read up to max_digits keys."""

    prompts: tuple[str, ...]
    max_digits: int
    timeout: float  # seconds to wait for the first key after the prompts
    terminator: str | None


@dataclass(frozen=True, slots=True)
class Say:
    """Play the prompts, then say the value.

    ``digits``: one or more of 0-9. ``number``: an optional '-', 1-15 digits
    and at most one '.' followed by 1-6 digits; Asterisk's SAY NUMBER takes
    integers only, so the adapter says the whole part, then "point" and the
    decimals as digits.
    """

    prompts: tuple[str, ...]
    kind: SayKind
    value: str


@dataclass(frozen=True, slots=True)
class Lookup:
    """Find the caller's record: ``source`` is "caller_number" or the data key
    the caller's entry was stored under (e.g. "account"); ``key`` is that value
    (1-32 of A-Z a-z 0-9 + _ -)."""

    source: str
    key: str


@dataclass(frozen=True, slots=True)
class Verify:
    """Collect ``digits`` keys and compare them with ``field`` of the record the
    latest Lookup found; answer VerifyResult. The secret never enters the core."""

    prompts: tuple[str, ...]
    digits: int
    field: str
    timeout: float


@dataclass(frozen=True, slots=True)
class Fetch:
    """GET the URL (already percent-encoded) and answer with its JSON object's fields."""

    url: str
    timeout: float


@dataclass(frozen=True, slots=True)
class Enqueue:
    queue: str
    priority: int
    skills: Mapping[str, int] = field(hash=False)  # skill -> minimum level


@dataclass(frozen=True, slots=True)
class BookCallback:
    """The caller wants a callback in ``after_minutes`` from the queue's agents."""

    queue: str
    after_minutes: int


@dataclass(frozen=True, slots=True)
class Voicemail:
    box: str


@dataclass(frozen=True, slots=True)
class Hangup:
    reason: str


Action = (
    Play | Collect | Say | Lookup | Verify | Fetch | Enqueue | BookCallback | Voicemail | Hangup
)
FINAL_ACTIONS = (Enqueue, BookCallback, Voicemail, Hangup)


# -- results ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Digits:
    value: str  # as typed; the engine vets it (an empty string counts as NoInput)


@dataclass(frozen=True, slots=True)
class NoInput:
    pass


@dataclass(frozen=True, slots=True)
class CallerHungUp:
    pass


@dataclass(frozen=True, slots=True)
class LookupResult:
    found: bool
    fields: Mapping[str, str] = field(default_factory=dict, hash=False)
    error: bool = False  # the lookup itself failed (database down): not "not found"


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool


@dataclass(frozen=True, slots=True)
class FetchResult:
    ok: bool
    fields: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class Done:
    pass


Result = Digits | NoInput | CallerHungUp | LookupResult | VerifyResult | FetchResult | Done

# Which results answer which pending action; CallerHungUp answers any of them.
ANSWERS: dict[type[Action], tuple[type[Result], ...]] = {
    Play: (Done,),
    Say: (Done,),
    Collect: (Digits, NoInput),
    Verify: (VerifyResult,),
    Lookup: (LookupResult,),
    Fetch: (FetchResult,),
}
