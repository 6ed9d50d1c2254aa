"""Wait estimates drawn caller by caller (core/acd/waits.py: line_for, estimate(line=...)):
callers ahead from other queues who share some of this caller's agents (skills),
relax steps, callers ahead who give up at the queue's rate (the patience curve),
agents who asked to pause after their call, and a cold start through the router."""

from __future__ import annotations

import math

import pytest

from callcenter.core.acd.agent_state import AgentStatus
from callcenter.core.acd.model import AgentState, QueueConfig, RelaxStep
from callcenter.core.acd.router import Router
from callcenter.core.acd.waits import (
    DEFAULT_ANSWER_DELAY,
    AgentNow,
    Confidence,
    Doing,
    Line,
    TalkFit,
    WaitHistory,
    Why,
    agents_now,
    estimate,
    line_for,
)

PRIOR = TalkFit.prior(180.0)


def learned(*talks: float) -> TalkFit:
    history = WaitHistory()
    for seconds in talks:
        history.talk("q", "someone", seconds)
    return history.fit("q", 180.0)


MINUTE = learned(*([60.0] * 20))  # twenty calls of one minute
NOW = 1000.0


class Floor:
    """A router, the agents' states and the talk times, as the queueing service has them."""

    def __init__(self, queues: dict[str, QueueConfig], talk: TalkFit = MINUTE) -> None:
        self.router = Router(queues)
        self.statuses: dict[str, AgentStatus] = {}
        self.talk = talk

    def agent(self, name: str, skills: dict[str, int], status: AgentStatus) -> None:
        self.router.upsert_agent(name, skills)
        self.router.set_logged_in(name, True)
        self.router.set_available(name, status.state is AgentState.READY, status.since)
        self.statuses[name] = status

    def call(self, call_id: str, queue: str, at: float, priority: int = 0) -> None:
        self.router.enqueue(call_id, queue, priority, at)

    def line(self, call_id: str, pauses: dict[str, TalkFit] | None = None) -> Line | None:
        return line_for(
            self.router,
            call_id,
            self.statuses,
            self.router.is_available,
            lambda agent: (self.talk, 0.0),
            lambda queue: self.talk,
            lambda queue: 0.0,
            NOW,
            lambda reason: (pauses or {}).get(reason),
        )

    def estimate(self, call_id: str, **kwargs: object) -> float:
        agents = agents_now(
            self.router.eligible_over_time(call_id, NOW),
            self.statuses,
            self.router.is_available,
            lambda agent: self.talk,
            0.0,
            NOW,
        )
        wait = estimate(
            self.router.expected_ahead(call_id, NOW), agents, line=self.line(call_id), **kwargs
        )  # type: ignore[arg-type]
        assert wait.seconds is not None
        return wait.seconds


def talking(since: float) -> AgentStatus:
    return AgentStatus(AgentState.ON_CALL, NOW - since)


QUEUES = {
    "sales": QueueConfig("sales", {"sales": 1}),
    "billing": QueueConfig("billing", {"billing": 1}),
}


def test_rivals_are_the_calls_ahead_in_service_order() -> None:
    floor = Floor(QUEUES)
    floor.call("b1", "billing", 10.0)
    floor.call("s1", "sales", 5.0)
    floor.call("s2", "sales", 20.0)
    assert floor.router.rivals("s2", NOW) == [("s1", "sales"), ("b1", "billing")]
    assert floor.router.rivals("s1", NOW) == []


def test_a_caller_ahead_who_cannot_take_my_agents_does_not_delay_me() -> None:
    floor = Floor(QUEUES)
    floor.agent("seller", {"sales": 1}, talking(30.0))
    floor.agent("biller", {"billing": 1}, talking(30.0))
    floor.call("s1", "sales", 5.0)
    floor.call("b1", "billing", 10.0)
    line = floor.line("b1")
    assert line is not None and line.rivals == () and len(line.agents) == 1
    # One agent half way through a one-minute call: about half a minute.
    assert floor.estimate("b1") == pytest.approx(30.0 + DEFAULT_ANSWER_DELAY, rel=0.25)


def test_a_caller_ahead_of_another_queue_who_shares_my_only_agent_goes_first() -> None:
    floor = Floor(QUEUES)
    floor.agent("both", {"sales": 1, "billing": 1}, talking(30.0))
    floor.call("s1", "sales", 5.0)
    floor.call("b1", "billing", 10.0)
    line = floor.line("b1")
    assert line is not None and len(line.rivals) == 1
    # The sales caller takes the agent in about 30 s, for a minute more.
    assert floor.estimate("b1") == pytest.approx(30.0 + 60.0 + 2 * DEFAULT_ANSWER_DELAY, rel=0.2)


def test_a_caller_ahead_with_an_agent_of_their_own_mostly_takes_that_one() -> None:
    """The sales caller ahead may take a sales agent who ends sooner: the billing
    caller usually keeps the shared agent (the old estimate counted half a call)."""
    floor = Floor(QUEUES)
    floor.agent("both", {"sales": 1, "billing": 1}, talking(30.0))
    floor.agent("seller", {"sales": 1}, talking(55.0))  # ends in a few seconds
    floor.call("s1", "sales", 5.0)
    floor.call("b1", "billing", 10.0)
    assert floor.estimate("b1") < 50.0


def test_a_relax_step_lets_a_caller_ahead_in_later() -> None:
    queues = {
        "expert": QueueConfig("expert", {"x": 3}, relax=(RelaxStep(120.0, {"x": 1}),)),
        "basic": QueueConfig("basic", {"x": 1}),
    }
    floor = Floor(queues)
    floor.agent("junior", {"x": 1}, talking(50.0))  # ends in about 10 s
    floor.agent("senior", {"x": 3}, talking(0.0))  # a minute to go
    floor.call("e1", "expert", NOW - 10.0)  # may take the junior in 110 s only
    floor.call("b1", "basic", NOW - 5.0)
    line = floor.line("b1")
    assert line is not None and len(line.rivals) == 1
    # The junior frees up before the expert caller may have them: the basic caller's.
    assert floor.estimate("b1") < 25.0


def test_callers_ahead_who_give_up_at_the_queues_rate_shorten_the_wait() -> None:
    floor = Floor(QUEUES)
    floor.agent("biller", {"billing": 1}, talking(30.0))
    for n in range(6):
        floor.call(f"b{n}", "billing", float(n))
    stay = floor.estimate("b5")
    leave = floor.estimate("b5", abandon_rate=1 / 120)
    assert leave < 0.75 * stay


def test_the_patience_curve_is_callers_who_gave_up_per_second_waited() -> None:
    history = WaitHistory()
    assert history.abandon_rate("q") == 0.0
    for _ in range(9):
        history.answered("q", 3.0, waited=100.0)
    history.abandoned("q", waited=100.0)
    history.answered("q", 3.0)  # no wait known: the patience curve skips it
    assert history.abandon_rate("q") == pytest.approx(1 / 1000)
    assert history.abandon_share("q") == pytest.approx(1 / 11, abs=0.01)


def test_an_agent_who_asked_to_pause_after_this_call_is_back_after_the_pause() -> None:
    floor = Floor(QUEUES)
    floor.agent(
        "biller",
        {"billing": 1},
        AgentStatus(AgentState.ON_CALL, NOW - 50.0, pending_pause="lunch"),
    )
    floor.call("b1", "billing", 10.0)
    # How long lunches last is not known yet: nobody can say when they take a call.
    assert floor.line("b1") == Line((), {}, ())
    lunch = learned(600.0, 620.0, 580.0)
    line = floor.line("b1", {"lunch": lunch})
    assert line is not None and line.agents[0].pause_after == lunch
    agents = list(line.agents)
    wait = estimate(0, agents, line=line)
    assert wait.seconds is not None and 550.0 < wait.seconds < 700.0
    # Without the pause asked for, the same agent is free in about ten seconds.
    plain = AgentNow(Doing.TALKING, 50.0, MINUTE)
    quick = estimate(0, [plain]).seconds
    assert quick is not None and quick < 30.0


def test_cold_start_through_the_router_an_agent_about_to_free_up() -> None:
    """Nothing measured, the 180 s prior: an agent 170 s into a call is about to be
    free; the caller behind is not told minutes."""
    floor = Floor({"q": QueueConfig("q", {"q": 1})}, talk=PRIOR)
    floor.agent("only", {"q": 1}, talking(170.0))
    floor.call("c1", "q", NOW - 1.0)
    floor.call("c2", "q", NOW)
    agents = agents_now(
        floor.router.eligible_over_time("c1", NOW),
        floor.statuses,
        floor.router.is_available,
        lambda a: PRIOR,
        0.0,
        NOW,
    )
    first = estimate(0, agents, line=floor.line("c1"))
    assert first.seconds is not None and 10.0 <= first.seconds < 60.0
    assert first.why_not is Why.FEW_CALLS
    # The second caller: after the first one's whole call, about the prior's 180 s.
    second = estimate(1, agents, line=floor.line("c2"))
    assert second.seconds is not None and 120.0 < second.seconds < 330.0


def test_the_draws_say_how_far_off_one_caller_in_ten_may_find_the_figure() -> None:
    wait = estimate(0, [AgentNow(Doing.TALKING, 20.0, learned(30, 60, 90, 120, 300))])
    assert wait.expected_p90 is not None and wait.expected_error is not None
    assert wait.expected_p90 >= wait.expected_error
    strict = Confidence(min_calls=1, max_p90_error=wait.expected_p90 / 2)
    refused = estimate(
        0, [AgentNow(Doing.TALKING, 20.0, learned(30, 60, 90, 120, 300))], confidence=strict
    )
    assert refused.why_not is Why.SPREAD and refused.seconds == wait.seconds


def test_the_same_line_gives_the_same_figure() -> None:
    floor = Floor(QUEUES)
    floor.agent("both", {"sales": 1, "billing": 1}, talking(30.0))
    floor.agent("seller", {"sales": 1}, talking(12.0))
    for n in range(4):
        floor.call(f"s{n}", "sales", float(n))
    floor.call("b1", "billing", 10.0)
    assert floor.estimate("b1") == floor.estimate("b1")
    assert math.isfinite(floor.estimate("b1"))


def test_the_line_is_built_only_when_a_draw_needs_it() -> None:
    def never() -> Line | None:
        raise AssertionError("a free agent takes the caller: no line needed")

    wait = estimate(0, [AgentNow(Doing.FREE, 3.0, MINUTE)], line=never)
    assert wait.seconds == DEFAULT_ANSWER_DELAY


def test_a_line_too_long_to_draw_is_not_built() -> None:
    floor = Floor({"q": QueueConfig("q", {"q": 1})})
    floor.agent("only", {"q": 1}, talking(30.0))
    for n in range(200):
        floor.call(f"c{n}", "q", float(n))
    assert floor.line("c199") is None
    assert floor.line("c10") is not None
