"""Hypothesis strategies for small random call-center populations.

Small on purpose: four skills, a handful of agents and calls, integer times and
weights that collide, so ties and shared agents happen often.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from callcenter.core.acd.model import QueueConfig, RelaxStep, Strategy
from tests.unit.acd.reference import RefAgent, RefCall

SKILLS = ("a", "b", "c", "d")
levels = st.integers(1, 5)
skill_maps = st.dictionaries(st.sampled_from(SKILLS), levels, max_size=4)
needs = st.dictionaries(st.sampled_from(SKILLS), levels, max_size=3)
extras: st.SearchStrategy[dict[str, int]] = st.one_of(
    st.just({}), st.dictionaries(st.sampled_from(SKILLS), levels, max_size=1)
)
times = st.integers(0, 40).map(lambda t: 5.0 * t)  # coarse, so weighted waits tie often


@st.composite
def queue_configs(draw: st.DrawFn, name: str) -> QueueConfig:
    """A queue whose relax steps only loosen (any subset, any lower level)."""
    base = draw(needs)
    previous, after, steps = base, draw(st.integers(0, 30)), []
    for _ in range(draw(st.integers(0, 3))):
        kept = {s: draw(st.integers(1, lvl)) for s, lvl in previous.items() if draw(st.booleans())}
        steps.append(RelaxStep(float(after), kept))
        previous, after = kept, after + draw(st.integers(1, 60))
    return QueueConfig(
        name,
        base,
        strategy=draw(st.sampled_from(Strategy)),
        weight=draw(st.sampled_from([0.5, 1.0, 2.0, 3.0])),
        relax=tuple(steps),
    )


@st.composite
def queue_sets(draw: st.DrawFn) -> dict[str, QueueConfig]:
    count = draw(st.integers(1, 3))
    return {f"q{i}": draw(queue_configs(f"q{i}")) for i in range(count)}


@dataclass
class Population:
    queues: dict[str, QueueConfig]
    agents: dict[str, RefAgent]
    calls: dict[str, RefCall]
    now: float


@st.composite
def populations(draw: st.DrawFn) -> Population:
    queues = draw(queue_sets())
    agents = {}
    for i in range(draw(st.integers(0, 8))):
        logged_in = draw(st.booleans())
        agents[f"agent{i}"] = RefAgent(
            skills=draw(skill_maps),
            logged_in=logged_in,
            available=logged_in and draw(st.booleans()),
            since=draw(times),
        )
    calls = {}
    for i in range(draw(st.integers(0, 12))):
        calls[f"call{i:02d}"] = RefCall(
            call_id=f"call{i:02d}",
            queue=draw(st.sampled_from(sorted(queues))),
            priority=draw(st.integers(0, 2)),
            enqueued_at=draw(times),
            extra=draw(extras),
        )
    return Population(queues, agents, calls, now=200.0 + 5 * draw(st.integers(0, 60)))
