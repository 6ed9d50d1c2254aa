"""What became of a dial attempt: its outcome, from what Asterisk and the agent said.

An attempt answered by a person (or by something AMD could not tell from a
person) that is not connected to an agent within the campaign's grace time
(2 s) is *abandoned*: it counts against the campaign's abandon cap, gets the
identification message, and the lead is left alone for the quiet period.

``answered_at`` is when the callee's greeting is complete, as TCPA counts the
2 s: the moment AMD gives its verdict, or the answer itself when AMD is off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Outcome = Literal[
    "connected",  # a person talked to an agent (the agent's disposition says the rest)
    "busy",
    "no-answer",
    "machine",  # an answering machine (hung up on, or a message left)
    "abandoned",
    "failed",  # network trouble: congestion, no route, Asterisk refused
    "invalid-number",  # the network says the number does not exist
]
AmdResult = Literal["HUMAN", "MACHINE", "NOTSURE", "HANGUP", ""]  # "": AMD not used
AgentDisposition = Literal["completed", "callback", "do-not-call", "wrong-number", "retry"]
OUTCOMES: tuple[Outcome, ...] = (
    "connected",
    "busy",
    "no-answer",
    "machine",
    "abandoned",
    "failed",
    "invalid-number",
)

# Q.850 cause codes of a call that was never answered.
_CAUSES: dict[int, Outcome] = {
    1: "invalid-number",  # unallocated number
    17: "busy",
    18: "no-answer",  # no user responding
    19: "no-answer",  # no answer from user
    20: "no-answer",  # subscriber absent
    21: "no-answer",  # call rejected
    22: "invalid-number",  # number changed
    27: "failed",  # destination out of order
    28: "invalid-number",  # invalid number format
    34: "failed",  # no circuit available
    38: "failed",  # network out of order
    41: "failed",  # temporary failure
    42: "failed",  # switching equipment congestion
}
# AMI OriginateResponse "Reason" codes (Asterisk's AST_CONTROL values).
_ORIGINATE_REASONS: dict[int, Outcome] = {0: "failed", 1: "no-answer", 3: "no-answer", 5: "busy"}


def unanswered_outcome(cause: int | None = None, originate_reason: int | None = None) -> Outcome:
    """Outcome of a call that was never answered, from its hangup cause or Originate reason."""
    if cause is not None and cause in _CAUSES:
        return _CAUSES[cause]
    if originate_reason is not None:
        return _ORIGINATE_REASONS.get(originate_reason, "failed")
    return "no-answer" if cause == 16 else "failed"


def is_live(amd: AmdResult) -> bool:
    """Counts as a person: AMD said so, could not tell, or was not used."""
    return amd in ("HUMAN", "NOTSURE", "")


def is_abandoned(
    answered_at: float | None,
    agent_connected_at: float | None,
    amd: AmdResult,
    grace_seconds: float = 2.0,
) -> bool:
    """Answered by a person and no agent on the line within the grace time."""
    if answered_at is None or not is_live(amd):
        return False
    return agent_connected_at is None or agent_connected_at - answered_at > grace_seconds


@dataclass(frozen=True, slots=True)
class Attempt:
    """What the dialer saw of one call."""

    answered_at: float | None = None
    agent_connected_at: float | None = None
    amd: AmdResult = ""
    cause: int | None = None  # Q.850 hangup cause when not answered
    originate_reason: int | None = None


def outcome_of(attempt: Attempt, grace_seconds: float = 2.0) -> Outcome:
    if attempt.answered_at is None:
        return unanswered_outcome(attempt.cause, attempt.originate_reason)
    if attempt.amd == "HANGUP":  # the callee hung up while AMD listened
        return "no-answer"
    if is_abandoned(attempt.answered_at, attempt.agent_connected_at, attempt.amd, grace_seconds):
        return "abandoned"
    if attempt.agent_connected_at is not None:
        return "connected"  # a person, or a machine passed to an agent
    return "machine"
