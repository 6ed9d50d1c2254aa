"""When a callback is offered, what an attempt's outcome means, what comes next (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from callcenter.core.dial_policy import Country, DialRules
from callcenter.core.hours import DAY_MINUTES, WEEKDAYS, Window
from callcenter.core.ivr.fields import Prompt
from callcenter.core.outbound.compliance import DialCheck, LeadFacts, check_dial
from callcenter.core.outbound.settings import CampaignSettings


class CallbackSettings(BaseModel):
    """A queue's callback rules, as administrators write them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    # Offer "press KEY to be called back" when the estimated wait is at least this long.
    offer_after_estimate: float = Field(120.0, ge=0)
    key: str = Field("5", pattern=r"^[0-9]$")
    # customer: reserve the agent, ring the customer (AMD), then the agent.
    # agent: ring the reserved agent first, who then hears the customer's phone ring.
    dial_first: Literal["customer", "agent"] = "customer"
    max_attempts: int = Field(3, ge=1, le=10)
    retry_delay: float = Field(300.0, ge=5, le=86400)
    ring_seconds: int = Field(30, ge=15, le=120)  # TCPA: ring at least 15 s
    # ISO country whose national numbers callers key in.
    region: str = Field("US", pattern=r"^[A-Z]{2}$")
    # Countries a callback may be booked to; empty: the site's ([dial_policy]).
    allowed_countries: tuple[Country, ...] = ()
    # What the waiting caller hears (sound names; the site may record its own, e.g.
    # "to be called back and keep your place, press"), then the key is said.
    offer_prompts: tuple[Prompt, ...] = Field(("vm-tocallback", "vm-press"), min_length=1)
    thanks_prompts: tuple[Prompt, ...] = ("auth-thankyou", "goodbye")
    # What a caller hears when the dial policy refuses the number they gave.
    refused_prompts: tuple[Prompt, ...] = Field(
        ("im-sorry", "cannot-complete-as-dialed"), min_length=1
    )

    def sounds(self) -> list[tuple[str, str]]:
        """(field, prompt) pairs of every prompt the offer and the thanks play."""
        return (
            [(f"offer_prompts.{i}", p) for i, p in enumerate(self.offer_prompts)]
            + [(f"thanks_prompts.{i}", p) for i, p in enumerate(self.thanks_prompts)]
            + [(f"refused_prompts.{i}", p) for i, p in enumerate(self.refused_prompts)]
        )


def offer_callback(settings: CallbackSettings, estimate: float | None) -> bool:
    """Offer keep-my-place only when the queue allows it and the wait is long (and known)."""
    return settings.enabled and estimate is not None and estimate >= settings.offer_after_estimate


def dial_check(
    number: str, region: str, listed_in: list[str], now: float, rules: DialRules
) -> DialCheck:
    """The outbound compliance check for a callback: the dial policy, do-not-call and
    the law's calling hours in the callee's zone; no campaign windows, and no quiet
    period (the customer asked for the call and an agent is waiting for them)."""
    all_day = (Window(0, DAY_MINUTES),)
    settings = CampaignSettings(default_region=region, windows={day: all_day for day in WEEKDAYS})
    return check_dial(
        LeadFacts(number),
        settings,
        campaign="",
        listed_in=listed_in,
        now=now,
        agent_reserved=True,
        rules=rules,
    )


class Outcome(StrEnum):
    REACHED = "reached"  # a person answered (AMD human or not sure)
    MACHINE = "machine"  # a voicemail greeting: not reached
    NO_ANSWER = "no-answer"
    BUSY = "busy"
    FAILED = "failed"  # congestion, unreachable, the trunk refused
    DNC = "dnc"  # on a do-not-call list: never dialled
    OUT_OF_HOURS = "out-of-hours"  # outside the callee's calling hours: not dialled now
    INVALID = "invalid"  # not a dialable number: never dialled
    AGENT_MISSED = (
        "agent-missed"  # agent first: the agent did not answer; the customer was not rung
    )


# OriginateResponse "Reason" codes (Asterisk's AST_CONTROL_* of the failed leg).
_ORIGINATE_REASONS = {
    0: Outcome.FAILED,
    1: Outcome.NO_ANSWER,
    3: Outcome.NO_ANSWER,
    5: Outcome.BUSY,
}


def outcome_of_originate(reason: int) -> Outcome:
    return _ORIGINATE_REASONS.get(reason, Outcome.FAILED)


# Q.850 causes in the Hangup of a customer's leg that never answered.
_CAUSES = {17: Outcome.BUSY, 18: Outcome.NO_ANSWER, 19: Outcome.NO_ANSWER, 16: Outcome.NO_ANSWER}


def outcome_of_cause(cause: int) -> Outcome:
    """Asterisk's OriginateResponse often says only "failed" (reason 0); the hangup
    cause of the channel tells busy from no answer."""
    return _CAUSES.get(cause, Outcome.FAILED)


def outcome_of_amd(status: str) -> Outcome:
    """AMDSTATUS: HUMAN and NOTSURE go to the agent (a person must not be dropped);
    MACHINE is not a reached customer; HANGUP means they hung up while it listened."""
    return {
        "HUMAN": Outcome.REACHED,
        "NOTSURE": Outcome.REACHED,
        "MACHINE": Outcome.MACHINE,
    }.get(status.strip().upper(), Outcome.NO_ANSWER)


@dataclass(frozen=True, slots=True)
class Next:
    """What becomes of the callback after an attempt."""

    status: Literal["done", "pending", "failed", "dnc"]
    retry_at: float | None = None


def after_attempt(
    outcome: Outcome, attempts: int, settings: CallbackSettings, now: float, reopens_at: float
) -> Next:
    """``attempts`` counts dialled attempts so far; ``reopens_at`` is when calling
    hours open again (used for OUT_OF_HOURS, which is not counted as an attempt)."""
    if outcome is Outcome.REACHED:
        return Next("done")
    if outcome is Outcome.DNC:
        return Next("dnc")
    if outcome is Outcome.INVALID:
        return Next("failed")
    if outcome is Outcome.AGENT_MISSED:
        return Next("pending", now)  # not the customer's attempt: back in line at once
    if outcome is Outcome.OUT_OF_HOURS:
        return Next("pending", max(reopens_at, now))
    if attempts >= settings.max_attempts:
        return Next("failed")
    return Next("pending", now + settings.retry_delay)


class StartAction(StrEnum):
    REQUEUE = "requeue"  # keep-place: back in line with its original time
    SCHEDULE = "schedule"  # scheduled: a job at its time
    FIRE = "fire"  # scheduled, missed while the controller was down: now
    EXPIRE = "expire"  # missed by more than the grace period


def on_start(kind: str, due_at: float, now: float, grace: float) -> StartAction:
    """What a pending callback found in the database becomes when the controller starts."""
    if due_at > now:
        return StartAction.SCHEDULE
    if now - due_at > grace:
        return StartAction.EXPIRE
    return StartAction.REQUEUE if kind == "keep-place" else StartAction.FIRE
