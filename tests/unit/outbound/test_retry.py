"""Lead states, retry rules, and what an attempt's outcome is."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.core.outbound.compliance import LeadFacts, check_dial
from callcenter.core.outbound.dispositions import (
    OUTCOMES,
    Attempt,
    Outcome,
    is_abandoned,
    outcome_of,
    unanswered_outcome,
)
from callcenter.core.outbound.retry import (
    FINAL,
    TABLE,
    IllegalTransition,
    LeadState,
    LeadStatus,
    dial,
    finish,
    refuse,
    reopen,
    retry_delay,
)
from callcenter.core.outbound.settings import RetryRules, load_settings

RULES = RetryRules(max_attempts=3)
T0 = 1_800_000_000.0
STATUSES: tuple[LeadStatus, ...] = (
    "new",
    "scheduled",
    "dialing",
    "done",
    "dnc",
    "invalid",
    "exhausted",
)


def dialled(attempts: int = 0) -> LeadState:
    return dial(LeadState(attempts=attempts), T0)


# -- outcomes ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("attempt", "outcome"),
    [
        (Attempt(cause=17), "busy"),
        (Attempt(cause=19), "no-answer"),
        (Attempt(cause=1), "invalid-number"),
        (Attempt(cause=34), "failed"),
        (Attempt(originate_reason=5), "busy"),
        (Attempt(originate_reason=3), "no-answer"),
        (Attempt(), "failed"),
        (Attempt(answered_at=T0, agent_connected_at=T0 + 1.9, amd="HUMAN"), "connected"),
        (Attempt(answered_at=T0, agent_connected_at=T0 + 2.1, amd="HUMAN"), "abandoned"),
        (Attempt(answered_at=T0, amd="HUMAN"), "abandoned"),
        (Attempt(answered_at=T0, amd="NOTSURE"), "abandoned"),
        (Attempt(answered_at=T0), "abandoned"),  # no AMD: every answer is a person
        (Attempt(answered_at=T0, amd="MACHINE"), "machine"),
        (Attempt(answered_at=T0, agent_connected_at=T0 + 5, amd="MACHINE"), "connected"),
        (Attempt(answered_at=T0, amd="HANGUP"), "no-answer"),
    ],
)
def test_outcome_of_an_attempt(attempt: Attempt, outcome: Outcome) -> None:
    assert outcome_of(attempt) == outcome


def test_abandon_is_after_the_grace_time_only() -> None:
    assert not is_abandoned(T0, T0 + 2.0, "HUMAN")
    assert is_abandoned(T0, T0 + 2.0, "HUMAN", grace_seconds=1.5)
    assert not is_abandoned(None, None, "HUMAN")
    assert not is_abandoned(T0, None, "MACHINE")


def test_normal_clearing_before_answer_is_no_answer() -> None:
    assert unanswered_outcome(16) == "no-answer"


# -- the state table ---------------------------------------------------------------------------
@pytest.mark.parametrize(("status", "event"), list(itertools.product(STATUSES, TABLE)))
def test_every_illegal_pair_is_refused(status: LeadStatus, event: str) -> None:
    state = LeadState(status=status)
    check = check_dial(
        LeadFacts("+12125550100"), load_settings({}), campaign="c", listed_in=(), now=T0
    )
    actions = {
        "dial": lambda: dial(state, T0),
        "finish": lambda: finish(state, "busy", RULES, T0),
        "refuse": lambda: refuse(state, check, T0),
        "reopen": lambda: reopen(state, T0),
    }
    if status in TABLE[event]:  # type: ignore[index]
        actions[event]()
    else:
        with pytest.raises(IllegalTransition):
            actions[event]()


def test_dial_counts_an_attempt() -> None:
    state = dialled()
    assert state.status == "dialing" and state.attempts == 1 and state.last_attempt_at == T0


@pytest.mark.parametrize(
    ("outcome", "delay"),
    [("busy", 600), ("no-answer", 3600), ("machine", 4 * 3600), ("failed", 1800)],
)
def test_retry_times_per_outcome(outcome: Outcome, delay: float) -> None:
    state = finish(dialled(), outcome, RULES, T0 + 30)
    assert state.status == "scheduled" and state.next_attempt_at == T0 + 30 + delay
    assert state.last_outcome == outcome


def test_abandoned_lead_waits_the_quiet_period_and_remembers_it() -> None:
    state = finish(dialled(), "abandoned", RULES, T0 + 5)
    assert state.last_abandoned_at == T0 + 5
    assert state.next_attempt_at == T0 + 5 + 72 * 3600


def test_attempts_run_out() -> None:
    state = finish(dialled(attempts=2), "busy", RULES, T0)
    assert state.status == "exhausted"
    assert reopen(state, T0).status == "scheduled"


def test_invalid_number_is_final() -> None:
    assert finish(dialled(), "invalid-number", RULES, T0).status == "invalid"


@pytest.mark.parametrize(
    ("disposition", "status"),
    [("completed", "done"), ("do-not-call", "dnc"), ("wrong-number", "invalid")],
)
def test_agent_dispositions(disposition: str, status: str) -> None:
    state = finish(dialled(), "connected", RULES, T0, disposition=disposition)  # type: ignore[arg-type]
    assert state.status == status


def test_callback_requested_is_kept_even_past_max_attempts() -> None:
    state = finish(dialled(attempts=5), "connected", RULES, T0, "callback", callback_at=T0 + 900)
    assert state.status == "scheduled" and state.next_attempt_at == T0 + 900
    with pytest.raises(ValueError, match="future"):
        finish(dialled(), "connected", RULES, T0, "callback", callback_at=T0 - 1)


def test_agent_retry_disposition_follows_the_no_answer_rule() -> None:
    state = finish(dialled(), "connected", RULES, T0, "retry")
    assert state.status == "scheduled" and state.next_attempt_at == T0 + 3600


def test_refusals_move_the_lead_without_counting_an_attempt() -> None:
    rules = load_settings({})
    facts = LeadFacts("+12125550100")
    sunday = 1_795_971_600.0  # 2026-11-29 12:00 New York
    later = check_dial(facts, rules, campaign="c", listed_in=(), now=sunday)
    state = refuse(LeadState(), later, sunday)
    assert state.status == "scheduled" and state.attempts == 0
    assert state.next_attempt_at == later.next_allowed_at
    listed = check_dial(facts, rules, campaign="c", listed_in=("site",), now=sunday)
    assert refuse(LeadState(), listed, sunday).status == "dnc"
    bad = check_dial(LeadFacts("nope"), rules, campaign="c", listed_in=(), now=sunday)
    assert refuse(LeadState(), bad, sunday).status == "invalid"
    never = check_dial(
        facts, load_settings({"windows": {}}), campaign="c", listed_in=(), now=sunday
    )
    assert refuse(LeadState(), never, sunday).next_attempt_at == sunday + 86400


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(OUTCOMES), min_size=1, max_size=30))
def test_any_run_of_outcomes_ends_within_max_attempts(outcomes: list[Outcome]) -> None:
    state = LeadState()
    now = T0
    for outcome in outcomes:
        if state.status in FINAL:
            break
        state = finish(dial(state, now), outcome, RULES, now + 10)
        assert state.attempts <= RULES.max_attempts
        assert state.status in FINAL or state.next_attempt_at >= now + 10
        now = max(now + 10, state.next_attempt_at)
    if len(outcomes) >= RULES.max_attempts:
        assert state.status in FINAL


def test_retry_delay_covers_every_outcome() -> None:
    for outcome in OUTCOMES:
        assert retry_delay(outcome, RULES) >= 0
