"""The router against the brute-force reference, over random small populations."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from callcenter.core.acd.model import QueueConfig
from callcenter.core.acd.router import Assignment, Router
from tests.unit.acd import reference as ref
from tests.unit.acd.reference import RefAgent, RefCall
from tests.unit.acd.strategies import (
    Population,
    extras,
    populations,
    queue_configs,
    queue_sets,
    skill_maps,
)


def build(p: Population) -> Router:
    router = Router(p.queues)
    for agent_id, agent in p.agents.items():
        router.upsert_agent(agent_id, agent.skills)
        router.set_logged_in(agent_id, agent.logged_in)
        if agent.available:
            router.set_available(agent_id, True, agent.since)
    for call in p.calls.values():
        router.enqueue(call.call_id, call.queue, call.priority, call.enqueued_at, call.extra)
    return router


def expected_assignment(call: RefCall, agent_id: str, now: float) -> Assignment:
    return Assignment(call.call_id, agent_id, call.queue, now - call.enqueued_at)


def check_offer_agent_for_everyone(p: Population) -> None:
    router = build(p)
    for agent_id, agent in p.agents.items():
        expected = (
            ref.best_call(p.queues, p.calls, agent.skills, p.now) if agent.available else None
        )
        got = router.offer_agent(agent_id, p.now)
        if expected is None:
            assert got is None
            continue
        assert got == expected_assignment(p.calls.pop(expected), agent_id, p.now)


@given(populations())
def test_offer_agent_always_returns_the_most_deserving_eligible_call(p: Population) -> None:
    check_offer_agent_for_everyone(p)


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 20)), min_size=2, max_size=12))
def test_equal_weighted_waits_go_to_the_earlier_call(arrivals: list[tuple[bool, int]]) -> None:
    """Weights 1 and 2 and waits on a 10 s grid: weighted waits tie all the time."""
    queues = {q.name: q for q in (QueueConfig("single", {}), QueueConfig("double", {}, weight=2))}
    calls = {
        f"c{i:02d}": RefCall(f"c{i:02d}", "double" if double else "single", 0, 10.0 * slot)
        for i, (double, slot) in enumerate(arrivals)
    }
    p = Population(
        queues, {f"a{i}": RefAgent({}, True, True) for i in range(len(calls))}, calls, 200.0
    )
    check_offer_agent_for_everyone(p)


@given(populations())
def test_offer_call_always_returns_the_best_available_agent(p: Population) -> None:
    router = build(p)
    for call_id in sorted(p.calls):
        call = p.calls[call_id]
        expected = ref.best_agent(p.queues, call, p.agents, p.now)
        got = router.offer_call(call_id, p.now)
        if expected is None:
            assert got is None
            continue
        assert got == expected_assignment(call, expected, p.now)
        p.agents[expected].available = False


@given(populations())
def test_wallboard_and_estimate_inputs_match_the_reference(p: Population) -> None:
    router = build(p)
    by_rank = sorted(p.calls.values(), key=lambda c: ref.rank(p.queues, c, p.now))
    assert router.waiting(now=p.now) == [c.call_id for c in by_rank]
    for call in p.calls.values():
        assert router.requirements(call.call_id, p.now) == ref.requirements(p.queues, call, p.now)
        assert router.eligible_staffed(call.call_id, p.now) == ref.eligible_staffed(
            p.queues, call, p.agents, p.now
        )
        assert router.calls_ahead(call.call_id, p.now) == ref.calls_ahead(
            p.queues, p.calls, p.agents, call, p.now
        )


class RouterMachine(RuleBasedStateMachine):
    """A service driving the router, checked against the reference after every step."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.serial = 0
        self.queues: dict[str, QueueConfig] = {}
        self.agents: dict[str, RefAgent] = {}
        self.calls: dict[str, RefCall] = {}  # waiting
        self.offered: dict[str, tuple[RefCall, str]] = {}  # ringing or talking: call, agent
        self.router = Router({})

    @initialize(queues=queue_sets(), skills=st.lists(skill_maps, min_size=1, max_size=6))
    def setup(self, queues: dict[str, QueueConfig], skills: list[dict[str, int]]) -> None:
        self.queues = queues
        self.router = Router(queues)
        for index, levels in enumerate(skills):
            self.agents[f"agent{index}"] = RefAgent(dict(levels))
            self.router.upsert_agent(f"agent{index}", levels)

    # --- helpers ----------------------------------------------------------------

    def agent(self, pick: int) -> str:
        return sorted(self.agents)[pick % len(self.agents)]

    def holding(self, agent_id: str) -> bool:
        return any(agent == agent_id for _, agent in self.offered.values())

    def apply(self, got: Assignment) -> None:
        """Check an assignment against the rules and record it."""
        call, agent = self.calls[got.call_id], self.agents[got.agent_id]
        assert agent.available and agent.logged_in and not self.holding(got.agent_id)
        assert ref.qualifies(agent.skills, ref.requirements(self.queues, call, self.now))
        assert got == expected_assignment(call, got.agent_id, self.now)
        del self.calls[got.call_id]
        agent.available = False
        self.offered[got.call_id] = (call, got.agent_id)

    def check_offer_call(self, call: RefCall) -> None:
        expected = ref.best_agent(self.queues, call, self.agents, self.now)
        got = self.router.offer_call(call.call_id, self.now)
        assert (got and got.agent_id) == expected
        if got is not None:
            self.apply(got)

    def check_offer_agent(self, agent_id: str) -> None:
        agent = self.agents[agent_id]
        expected = ref.best_call(self.queues, self.calls, agent.skills, self.now)
        got = self.router.offer_agent(agent_id, self.now)
        assert (got and got.call_id) == expected
        if got is not None:
            self.apply(got)

    # --- rules ------------------------------------------------------------------

    @rule(pick=st.integers(0, 9))
    def log_in(self, pick: int) -> None:
        agent_id = self.agent(pick)
        self.router.set_logged_in(agent_id, True)
        self.agents[agent_id].logged_in = True

    @rule(pick=st.integers(0, 9))
    def log_out(self, pick: int) -> None:
        agent_id = self.agent(pick)
        self.router.set_logged_in(agent_id, False)
        self.agents[agent_id].logged_in = self.agents[agent_id].available = False

    @rule(pick=st.integers(0, 9))
    def agent_becomes_ready(self, pick: int) -> None:
        agent_id = self.agent(pick)
        agent = self.agents[agent_id]
        if not agent.logged_in or agent.available or self.holding(agent_id):
            return
        self.router.set_available(agent_id, True, self.now)
        agent.available, agent.since = True, self.now
        self.check_offer_agent(agent_id)

    @rule(queue=st.integers(0, 2), priority=st.integers(0, 2), extra=extras)
    def call_arrives(self, queue: int, priority: int, extra: dict[str, int]) -> None:
        self.serial += 1
        name = sorted(self.queues)[queue % len(self.queues)]
        call = RefCall(f"call{self.serial:03d}", name, priority, self.now, extra)
        self.router.enqueue(call.call_id, name, priority, self.now, extra)
        self.calls[call.call_id] = call
        self.check_offer_call(call)

    @rule(pick=st.integers(0, 20))
    def ring_no_answer(self, pick: int) -> None:
        if not self.offered:
            return
        call, _ = self.offered.pop(sorted(self.offered)[pick % len(self.offered)])
        # The agent stays unavailable (paused); the call keeps its place in line.
        self.router.enqueue(call.call_id, call.queue, call.priority, call.enqueued_at, call.extra)
        self.calls[call.call_id] = call
        self.check_offer_call(call)

    @rule(pick=st.integers(0, 20))
    def call_ends(self, pick: int) -> None:
        if self.offered:
            del self.offered[sorted(self.offered)[pick % len(self.offered)]]

    @rule(pick=st.integers(0, 20))
    def caller_abandons(self, pick: int) -> None:
        if self.calls:
            call_id = sorted(self.calls)[pick % len(self.calls)]
            assert self.router.remove_call(call_id)
            del self.calls[call_id]

    def check_reoffers(self, calls: list[RefCall], got: list[Assignment]) -> None:
        """``calls`` re-offered most deserving first, each to its best available agent."""
        expected = []
        available = {a: agent for a, agent in self.agents.items() if agent.available}
        for call in sorted(calls, key=lambda c: ref.rank(self.queues, c, self.now)):
            agent_id = ref.best_agent(self.queues, call, available, self.now)
            if agent_id is not None:
                expected.append(expected_assignment(call, agent_id, self.now))
                del available[agent_id]
        assert got == expected
        for assignment in got:
            self.apply(assignment)

    @rule(seconds=st.integers(1, 45))
    def time_passes(self, seconds: int) -> None:
        before, self.now = self.now, self.now + seconds
        relaxed = [
            call
            for call in self.calls.values()
            if ref.requirements(self.queues, call, before)
            != ref.requirements(self.queues, call, self.now)
        ]
        self.check_reoffers(relaxed, self.router.relax_due(self.now))

    @rule(pick=st.integers(0, 9), skills=skill_maps)
    def skills_change(self, pick: int, skills: dict[str, int]) -> None:
        agent_id = self.agent(pick)
        self.router.upsert_agent(agent_id, skills)
        self.agents[agent_id].skills = dict(skills)
        if self.agents[agent_id].available:
            self.check_offer_agent(agent_id)

    @rule(data=st.data())
    def queues_change(self, data: st.DataObject) -> None:
        self.queues = {name: data.draw(queue_configs(name)) for name in self.queues}
        self.router.set_queues(self.queues)
        self.check_reoffers(list(self.calls.values()), self.router.relax_due(self.now))

    # --- invariants ---------------------------------------------------------------

    @invariant()
    def line_matches_the_reference(self) -> None:
        by_rank = sorted(self.calls.values(), key=lambda c: ref.rank(self.queues, c, self.now))
        assert self.router.waiting(now=self.now) == [c.call_id for c in by_rank]
        assert not set(self.offered) & set(self.calls)

    @invariant()
    def availability_matches_the_reference(self) -> None:
        for agent_id, agent in self.agents.items():
            assert self.router.is_available(agent_id) == agent.available

    @invariant()
    def no_available_agent_could_take_a_waiting_call(self) -> None:
        for agent in self.agents.values():
            if agent.available:
                assert ref.best_call(self.queues, self.calls, agent.skills, self.now) is None

    @invariant()
    def no_requirement_relaxes_before_the_timer(self) -> None:
        due = self.router.next_relax_at()
        assert due is None or due > self.now
        horizon = self.now + 10_000 if due is None else due - 0.5
        for call in self.calls.values():
            later = ref.requirements(self.queues, call, horizon)
            assert later == ref.requirements(self.queues, call, self.now)

    @invariant()
    def estimate_inputs_match_the_reference(self) -> None:
        for call in self.calls.values():
            assert self.router.calls_ahead(call.call_id, self.now) == ref.calls_ahead(
                self.queues, self.calls, self.agents, call, self.now
            )


RouterMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestRouterMachine = RouterMachine.TestCase
