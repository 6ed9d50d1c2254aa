"""Callback rules (pure): when to offer, what an attempt's outcome means, what a restart does."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from callcenter.core.callbacks.policy import (
    CallbackSettings,
    Next,
    Outcome,
    StartAction,
    after_attempt,
    dial_check,
    offer_callback,
    on_start,
    outcome_of_amd,
    outcome_of_cause,
    outcome_of_originate,
)
from callcenter.core.dial_policy import DialPolicy
from callcenter.core.queues import QueueSettings

RULES = CallbackSettings(enabled=True, offer_after_estimate=120, max_attempts=3, retry_delay=300)
NY = ZoneInfo("America/New_York")


def at(zone: ZoneInfo, hour: int, minute: int = 0) -> float:
    return datetime(2026, 11, 24, hour, minute, tzinfo=zone).timestamp()


@pytest.mark.parametrize(
    ("rules", "estimate", "offered"),
    [
        (RULES, 119.0, False),
        (RULES, 120.0, True),
        (RULES, None, False),  # no estimate: no promise to keep a place
        (CallbackSettings(enabled=False, offer_after_estimate=0), 600.0, False),
    ],
)
def test_the_offer_needs_a_long_known_wait(
    rules: CallbackSettings, estimate: float | None, offered: bool
) -> None:
    assert offer_callback(rules, estimate) is offered


def test_queue_settings_carry_callback_rules_and_refuse_bad_ones() -> None:
    queue = QueueSettings(name="support", callback={"enabled": True, "key": "7"})
    assert queue.callback.enabled and queue.callback.key == "7"
    assert QueueSettings(name="sales").callback.enabled is False
    with pytest.raises(ValidationError):
        QueueSettings(name="support", callback={"key": "#"})  # said with SAY DIGITS: digits only
    with pytest.raises(ValidationError):
        QueueSettings(name="support", callback={"ring_seconds": 10})  # under the 15 s floor
    own = QueueSettings(name="support", callback={"offer_prompts": ["custom/keep-your-place"]})
    assert own.callback.offer_prompts == ("custom/keep-your-place",)
    with pytest.raises(ValidationError):
        QueueSettings(name="support", callback={"offer_prompts": ["../../etc/passwd"]})


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("HUMAN", Outcome.REACHED),
        ("NOTSURE", Outcome.REACHED),  # a person must never be dropped on a doubt
        ("MACHINE", Outcome.MACHINE),
        ("HANGUP", Outcome.NO_ANSWER),
        ("", Outcome.NO_ANSWER),
    ],
)
def test_amd_verdicts(status: str, outcome: Outcome) -> None:
    assert outcome_of_amd(status) is outcome


def test_originate_failure_reasons() -> None:
    assert outcome_of_originate(3) is Outcome.NO_ANSWER
    assert outcome_of_originate(5) is Outcome.BUSY
    assert outcome_of_originate(8) is Outcome.FAILED


def test_hangup_causes_tell_busy_from_no_answer() -> None:
    # Asterisk 22 answered a 486 with OriginateResponse reason 0 and Hangup cause 17.
    assert outcome_of_cause(17) is Outcome.BUSY
    assert outcome_of_cause(19) is Outcome.NO_ANSWER
    assert outcome_of_cause(34) is Outcome.FAILED  # no circuit


def test_retries_are_limited_and_a_machine_is_not_reached() -> None:
    now = 1000.0
    assert after_attempt(Outcome.REACHED, 1, RULES, now, now) == Next("done")
    assert after_attempt(Outcome.MACHINE, 1, RULES, now, now) == Next("pending", 1300.0)
    assert after_attempt(Outcome.NO_ANSWER, 2, RULES, now, now) == Next("pending", 1300.0)
    assert after_attempt(Outcome.BUSY, 3, RULES, now, now) == Next("failed")
    assert after_attempt(Outcome.DNC, 0, RULES, now, now) == Next("dnc")
    assert after_attempt(Outcome.INVALID, 0, RULES, now, now) == Next("failed")


def test_out_of_hours_waits_for_the_window_and_costs_no_attempt() -> None:
    assert after_attempt(Outcome.OUT_OF_HOURS, 3, RULES, 1000.0, 5000.0) == Next("pending", 5000.0)


US = DialPolicy(country="US").rules()


def test_dial_check_uses_the_callees_own_clock_and_the_dnc_list() -> None:
    ok = dial_check("+12125550101", "US", [], at(NY, 10), US)
    assert ok.ok and ok.dnc_check == "clear" and ok.hours_check == "inside"
    late = dial_check("+12125550101", "US", [], at(NY, 21, 30), US)
    assert not late.ok and late.reason == "outside-calling-hours"
    assert late.next_allowed_at == at(NY, 8) + 86400  # tomorrow 08:00 New York time
    sunday = datetime(2026, 11, 29, 11, tzinfo=NY).timestamp()
    assert dial_check("+12125550101", "US", [], sunday, US).ok  # no campaign windows for callbacks
    listed = dial_check("+12125550101", "US", ["site"], at(NY, 10), US)
    assert not listed.ok and listed.reason == "dnc-site" and listed.next_allowed_at is None


def test_dial_check_applies_the_dial_policy_first() -> None:
    premium = dial_check("+19005551234", "US", ["site"], at(NY, 10), US)
    assert not premium.ok and premium.reason == "dial-policy" and premium.policy == "number-type"
    assert premium.next_allowed_at is None  # never: not a matter of hours
    abroad = dial_check("+442079460000", "US", [], at(NY, 10), US)
    assert abroad.reason == "dial-policy" and abroad.policy == "country"


@pytest.mark.parametrize(
    ("kind", "due", "action"),
    [
        ("scheduled", 2000.0, StartAction.SCHEDULE),
        ("scheduled", 900.0, StartAction.FIRE),  # missed while down: at once
        ("keep-place", 900.0, StartAction.REQUEUE),
        ("keep-place", 2000.0, StartAction.SCHEDULE),  # a retry later on
        ("scheduled", 1000.0 - 7 * 3600, StartAction.EXPIRE),
    ],
)
def test_what_a_restart_does(kind: str, due: float, action: StartAction) -> None:
    assert on_start(kind, due, 1000.0, 6 * 3600) is action
