"""Wait estimates on scripted queues (core/acd/waits.py): a cold start, several
agents, skills (relax steps), abandonment, the confidence, and the accuracy
figures the reports give."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from callcenter.core.acd.agent_state import AgentStatus
from callcenter.core.acd.model import AgentState
from callcenter.core.acd.waits import (
    DEFAULT_ANSWER_DELAY,
    AgentNow,
    Confidence,
    Doing,
    TalkFit,
    WaitHistory,
    Why,
    agents_now,
    estimate,
    quantile,
    relative_errors,
    summarize,
)
from callcenter.core.queues import FEW_MINUTES, Announce, spoken_wait

PRIOR = TalkFit.prior(180.0)


def talking(elapsed: float, fit: TalkFit = PRIOR, wrapup: float = 0.0) -> AgentNow:
    return AgentNow(Doing.TALKING, elapsed, fit, wrapup)


def learned(*talks: float, queue: str = "q") -> TalkFit:
    history = WaitHistory()
    for seconds in talks:
        history.talk(queue, "someone", seconds)
    return history.fit(queue, 180.0)


STEADY = learned(*([60.0] * 20))  # twenty calls of one minute


# -- a cold start -------------------------------------------------------------------------
def test_cold_start_an_agent_about_to_free_up_means_tens_of_seconds() -> None:
    """One agent 170 s into a call, nothing measured but the 180 s prior: the second
    caller is told nothing of minutes (the old estimate said 178 s, or 355 s)."""
    wait = estimate(0, [talking(170.0)])
    assert wait.seconds is not None and 10.0 <= wait.seconds < 60.0
    # Nothing measured yet: a figure the product does not stand by.
    assert not wait.reliable and wait.why_not is Why.FEW_CALLS


def test_cold_start_a_call_just_begun_waits_longer_than_one_about_to_end() -> None:
    fresh, ending = estimate(0, [talking(5.0)]), estimate(0, [talking(170.0)])
    assert fresh.seconds is not None and ending.seconds is not None
    assert fresh.seconds > 2 * ending.seconds


def test_a_free_agent_takes_the_caller_at_once() -> None:
    wait = estimate(0, [AgentNow(Doing.FREE, 30.0, PRIOR), talking(10.0)])
    assert wait == estimate(0, [AgentNow(Doing.FREE, 0.0, PRIOR)])
    assert wait.seconds == DEFAULT_ANSWER_DELAY and wait.reliable


def test_nobody_staffed_means_no_figure() -> None:
    wait = estimate(3, [])
    assert wait.seconds is None and wait.why_not is Why.NOBODY and not wait.reliable


# -- learned queues ----------------------------------------------------------------------------
def test_the_prior_yields_to_the_first_calls() -> None:
    assert learned(20.0).mean < 40.0  # one call of 20 s outweighs the 180 s prior
    assert learned(20.0, 21.0, 19.0).mean == pytest.approx(20.0, rel=0.2)
    assert learned(*([20.0] * 10)).mean == pytest.approx(20.0, rel=0.05)
    assert learned().mean == pytest.approx(180.0)


def test_an_agents_own_pace_counts_after_a_few_calls() -> None:
    history = WaitHistory()
    for _ in range(10):
        history.talk("q", "fast", 30.0)
        history.talk("q", "slow", 300.0)
    queue = history.fit("q", 180.0)
    assert history.fit("q", 180.0, "fast").mean < queue.mean < history.fit("q", 180.0, "slow").mean
    assert history.fit("q", 180.0, "new").mean == queue.mean


def test_steady_calls_a_queue_of_three_behind_one_agent() -> None:
    """One agent 10 s into a one-minute call, wrap-up 5 s, three callers ahead: this
    caller gets the agent after the current call and three more (with their rings)."""
    agent = AgentNow(Doing.TALKING, 10.0, STEADY, wrapup=5.0)
    cycle = DEFAULT_ANSWER_DELAY + 60.0 + 5.0
    expected = (60.0 - 10.0 + 5.0) + 3 * cycle + DEFAULT_ANSWER_DELAY
    wait = estimate(3, [agent])
    assert wait.seconds == pytest.approx(expected, rel=0.1)
    assert wait.reliable


def test_several_agents_share_the_line() -> None:
    one = estimate(4, [talking(20.0, STEADY)]).seconds
    two = estimate(4, [talking(20.0, STEADY), talking(40.0, STEADY)]).seconds
    four = estimate(4, [talking(e, STEADY) for e in (5.0, 20.0, 35.0, 50.0)]).seconds
    assert one is not None and two is not None and four is not None
    assert four < two < one
    # Four agents ending calls 10, 25, 40 and 55 s from now: the fifth caller gets the
    # first agent again, after that agent's next call.
    assert four == pytest.approx(
        10.0 + DEFAULT_ANSWER_DELAY + 60.0 + DEFAULT_ANSWER_DELAY, rel=0.15
    )


def test_wrap_up_and_ringing_agents() -> None:
    wrapping = estimate(0, [AgentNow(Doing.WRAP_UP, 10.0, STEADY, wrapup=30.0)])
    assert wrapping.seconds == pytest.approx(20.0 + DEFAULT_ANSWER_DELAY)
    ringing = estimate(0, [AgentNow(Doing.RINGING, 1.0, STEADY)])
    assert ringing.seconds == pytest.approx(2.0 + 60.0 + DEFAULT_ANSWER_DELAY, rel=0.1)


def test_skills_an_agent_a_relax_step_lets_in_later() -> None:
    """The only free agent may take the caller once the queue relaxes in 30 s."""
    later = AgentNow(Doing.FREE, 0.0, STEADY, eligible_in=30.0)
    wait = estimate(0, [later])
    assert wait.seconds == pytest.approx(30.0 + DEFAULT_ANSWER_DELAY)
    # An agent who may take the caller now and frees up sooner wins.
    soon = talking(50.0, STEADY)  # ends in about 10 s
    assert estimate(0, [later, soon]).seconds == pytest.approx(10.0 + DEFAULT_ANSWER_DELAY, rel=0.3)


def test_callers_ahead_who_give_up_shorten_the_wait() -> None:
    agents = [talking(30.0, STEADY)]
    stay, some_leave = estimate(6, agents), estimate(6, agents, abandon_share=0.5)
    assert some_leave.seconds is not None and stay.seconds is not None
    assert some_leave.seconds < 0.75 * stay.seconds


def test_a_fraction_of_a_call_ahead_lies_between() -> None:
    """Half a call ahead (the share of another queue's caller that may take this
    caller's agent) is one call ahead in half the draws: a figure from the draws
    of one or of two calls ahead, never beyond."""
    agents = [talking(30.0, STEADY)]
    low, mid, high = (estimate(ahead, agents).seconds for ahead in (1.0, 1.5, 2.0))
    assert low is not None and mid is not None and high is not None
    assert low * 0.95 <= mid <= high and low < high


def test_the_same_queue_gives_the_same_figure() -> None:
    agents = [talking(e, STEADY) for e in (3.0, 17.0, 44.0)]
    assert estimate(5, agents) == estimate(5, agents)


def test_many_agents_use_expected_values_instead_of_draws() -> None:
    agents = [talking(float(e % 60), STEADY) for e in range(300)]
    wait = estimate(150, agents)
    assert wait.seconds is not None and wait.expected_error is None
    # 300 agents, one call a minute (and a few seconds) each: 150 ahead is about half a minute.
    assert 15.0 < wait.seconds < 60.0


# -- the confidence -----------------------------------------------------------------------------
def test_widely_spread_talk_times_make_a_figure_unreliable() -> None:
    erratic = learned(*([5.0, 900.0] * 10))
    wait = estimate(0, [talking(20.0, erratic)])
    assert wait.why_not is Why.SPREAD and wait.expected_error is not None
    assert wait.expected_error > Confidence().max_expected_error


def test_a_queue_judges_with_its_own_thresholds() -> None:
    agents = [talking(10.0, learned(60.0, 61.0))]
    assert estimate(0, agents).why_not is Why.FEW_CALLS
    assert estimate(0, agents, confidence=Confidence(min_calls=2)).reliable


@pytest.mark.parametrize(
    "bad",
    [
        lambda: estimate(-1, [talking(1.0)]),
        lambda: estimate(math.inf, [talking(1.0)]),
        lambda: estimate(0, [talking(1.0)], answer_delay=-1),
        lambda: estimate(0, [talking(1.0)], abandon_share=1.0),
        lambda: AgentNow(Doing.TALKING, -1.0, PRIOR),
        lambda: AgentNow(Doing.TALKING, 1.0, PRIOR, eligible_in=math.nan),
        lambda: TalkFit.prior(0.0),
        lambda: WaitHistory().talk("q", "a", -3.0),
        lambda: WaitHistory().answered("q", math.inf),
    ],
)
def test_nonsense_is_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        bad()  # type: ignore[operator]


# -- the agents as the services see them --------------------------------------------------------
def test_agents_now_from_statuses() -> None:
    statuses = {
        "ready": AgentStatus(AgentState.READY, 50.0),
        "held": AgentStatus(AgentState.READY, 50.0),  # ready, but a call is about to ring
        "talk": AgentStatus(AgentState.ON_CALL, 40.0),
        "wrap": AgentStatus(AgentState.WRAP_UP, 95.0),
        "ring": AgentStatus(AgentState.RINGING, 98.0),
        "away": AgentStatus(AgentState.PAUSED, 0.0),
    }
    eligible = [(name, 0.0) for name in statuses] + [("unknown", 0.0), ("later", 30.0)]
    statuses["later"] = AgentStatus(AgentState.READY, 0.0)
    found = agents_now(
        eligible, statuses, lambda a: a in ("ready", "later"), lambda a: STEADY, 10.0, 100.0
    )
    assert [(a.doing, a.elapsed, a.eligible_in) for a in found] == [
        (Doing.FREE, 50.0, 0.0),
        (Doing.RINGING, 50.0, 0.0),
        (Doing.TALKING, 60.0, 0.0),
        (Doing.WRAP_UP, 5.0, 0.0),
        (Doing.RINGING, 2.0, 0.0),
        (Doing.FREE, 100.0, 30.0),
    ]
    assert all(a.wrapup == 10.0 and a.talk == STEADY for a in found)


# -- what the caller hears ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("announce", "seconds", "reliable", "heard"),
    [
        (Announce(), 150.0, True, 2),
        (Announce(), 61.0, True, 1),
        (Announce(), 45.0, True, None),  # under a minute: the position says enough
        (Announce(), 600.0, False, None),  # unreliable: nothing, by default
        (Announce(unreliable="few_minutes", few_minutes_prompt="custom/few"), 600.0, False,
         FEW_MINUTES),
        (Announce(unreliable="few_minutes", few_minutes_prompt="custom/few"), None, False,
         FEW_MINUTES),
        (Announce(estimate=False), 600.0, True, None),
    ],
)  # fmt: skip
def test_what_the_caller_hears(
    announce: Announce, seconds: float | None, reliable: bool, heard: object
) -> None:
    assert spoken_wait(announce, seconds, reliable) == heard


def test_few_minutes_needs_a_prompt_to_say_it() -> None:
    with pytest.raises(ValidationError, match="few_minutes_prompt"):
        Announce(unreliable="few_minutes")


# -- accuracy ----------------------------------------------------------------------------------
def test_relative_errors_count_short_waits_as_ten_seconds() -> None:
    pairs = [(30.0, 20.0), (60.0, 60.0), (5.0, 2.0), (0.0, 0.0), (100.0, 50.0)]
    assert relative_errors(pairs) == [0.0, 0.0, 0.3, 0.5, 1.0]
    with pytest.raises(ValueError):
        relative_errors([(1.0, -1.0)])


def test_median_and_90th_percentile() -> None:
    errors = [0.0, 0.3, 0.5, 1.0]
    assert quantile(errors, 0.5) == pytest.approx(0.4)
    assert quantile(errors, 0.9) == pytest.approx(0.85)
    assert quantile([], 0.5) is None
    summary = summarize([(30.0, 20.0), (60.0, 60.0), (100.0, 50.0)])
    assert (summary.count, summary.median, summary.p90) == (3, 0.5, pytest.approx(0.9))
    assert summarize([]).median is None


# -- pauses ---------------------------------------------------------------------------------------
def test_a_paused_agent_counts_once_pauses_of_that_reason_are_known() -> None:
    history = WaitHistory()
    statuses = {"away": AgentStatus(AgentState.PAUSED, 0.0, reason="break")}
    found = agents_now([("away", 0.0)], statuses, lambda a: False, lambda a: STEADY, 0.0, 250.0,
                       history.pause_fit)  # fmt: skip
    assert found == []  # nobody knows when they come back
    for _ in range(3):
        history.paused("break", 300.0)
    history.paused("lunch", 3600.0)
    assert history.pause_fit("lunch") is None  # one lunch measured: still unknown
    [away] = agents_now([("away", 0.0)], statuses, lambda a: False, lambda a: STEADY, 0.0,
                        250.0, history.pause_fit)  # fmt: skip
    assert away.doing is Doing.PAUSED and away.elapsed == 250.0
    # Five-minute breaks, this one 250 s old: back in about a minute.
    wait = estimate(0, [away])
    assert wait.seconds is not None and 40.0 < wait.seconds < 80.0
    with pytest.raises(ValueError, match="paused"):
        AgentNow(Doing.PAUSED, 1.0, STEADY)


def _reference_draws(
    ahead: float, agents: list[AgentNow], answer_delay: float, abandon: float, draws: int
) -> list[float]:
    """The draws as the model reads: TalkFit.draw_total per agent, per draw, per call."""
    import heapq
    import random

    from callcenter.core.acd.waits import SEED

    rng = random.Random(SEED)
    waits = []
    for _ in range(draws):
        free = []
        for index, a in enumerate(agents):
            fit = a.pause if a.doing is Doing.PAUSED and a.pause is not None else a.talk
            below = fit.survived(a.elapsed) if a.doing in (Doing.TALKING, Doing.PAUSED) else 0.0
            done = {
                Doing.FREE: lambda: 0.0,
                Doing.WRAP_UP: lambda: max(a.wrapup - a.elapsed, 0.0),  # noqa: B023
                Doing.RINGING: lambda: (
                    max(answer_delay - a.elapsed, 0.0) + fit.draw_total(rng) + a.wrapup  # noqa: B023
                ),
                Doing.TALKING: lambda: max(fit.draw_total(rng, below) - a.elapsed, 0.0) + a.wrapup,  # noqa: B023
                Doing.PAUSED: lambda: max(fit.draw_total(rng, below) - a.elapsed, 0.0),  # noqa: B023
            }[a.doing]()
            free.append((max(done, a.eligible_in), index))
        heapq.heapify(free)
        count = int(ahead) + (1 if rng.random() < ahead - int(ahead) else 0)
        for _ in range(count):
            if abandon and rng.random() < abandon:
                continue
            at, index = free[0]
            busy = answer_delay + agents[index].talk.draw_total(rng) + agents[index].wrapup
            heapq.heapreplace(free, (at + busy, index))
        waits.append(free[0][0] + answer_delay)
    return waits


@pytest.mark.parametrize("ahead,abandon", [(0, 0.0), (3.4, 0.0), (12, 0.3)])
def test_the_fast_draws_are_exactly_the_models_draws(ahead: float, abandon: float) -> None:
    from callcenter.core.acd.waits import _draw_waits

    pauses = learned(300, 200, 400)
    agents = [
        AgentNow(Doing.FREE, 5, PRIOR, 10, eligible_in=30),
        AgentNow(Doing.RINGING, 1, learned(100, 120), 10),
        talking(0, PRIOR, 5),
        talking(170, learned(150, 200, 250), 5),
        AgentNow(Doing.WRAP_UP, 3, PRIOR, 10, eligible_in=2),
        AgentNow(Doing.PAUSED, 60, PRIOR, 0, pause=pauses),
        AgentNow(Doing.PAUSED, 0, PRIOR, 0, pause=pauses),
    ]
    fast = _draw_waits(ahead, agents, 2.5, abandon, 48)
    assert fast == _reference_draws(ahead, agents, 2.5, abandon, 48)
