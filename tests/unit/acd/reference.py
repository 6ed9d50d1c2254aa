"""A brute-force router to check the real one against: every decision scans everything.

Deliberately naive and written straight from the rules (router.py's module
docstring and model.py's), sharing no code with the router except
QueueConfig.requirements_at, the rule under test elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from callcenter.core.acd.model import QueueConfig, Strategy


@dataclass
class RefCall:
    call_id: str
    queue: str
    priority: int
    enqueued_at: float
    extra: dict[str, int] = field(default_factory=dict)


@dataclass
class RefAgent:
    skills: dict[str, int]
    logged_in: bool = False
    available: bool = False
    since: float = 0.0


def requirements(queues: Mapping[str, QueueConfig], call: RefCall, now: float) -> dict[str, int]:
    return queues[call.queue].requirements_at(now - call.enqueued_at, call.extra)


def qualifies(skills: Mapping[str, int], needs: Mapping[str, int]) -> bool:
    return all(skills.get(skill, 0) >= level for skill, level in needs.items())


def rank(
    queues: Mapping[str, QueueConfig], call: RefCall, now: float
) -> tuple[int, float, float, str]:
    weighted = (now - call.enqueued_at) * queues[call.queue].weight
    return (-call.priority, -weighted, call.enqueued_at, call.call_id)


def best_call(
    queues: Mapping[str, QueueConfig],
    calls: Mapping[str, RefCall],
    skills: Mapping[str, int],
    now: float,
) -> str | None:
    eligible = [c for c in calls.values() if qualifies(skills, requirements(queues, c, now))]
    if not eligible:
        return None
    return min(eligible, key=lambda c: rank(queues, c, now)).call_id


def best_agent(
    queues: Mapping[str, QueueConfig],
    call: RefCall,
    agents: Mapping[str, RefAgent],
    now: float,
) -> str | None:
    needs = requirements(queues, call, now)
    proficient = queues[call.queue].strategy is Strategy.MOST_PROFICIENT
    best: tuple[int, float, str] | None = None
    for agent_id, agent in agents.items():
        if not (agent.available and qualifies(agent.skills, needs)):
            continue
        score = -sum(agent.skills[skill] for skill in needs) if proficient else 0
        key = (score, agent.since, agent_id)
        if best is None or key < best:
            best = key
    return None if best is None else best[2]


def eligible_staffed(
    queues: Mapping[str, QueueConfig],
    call: RefCall,
    agents: Mapping[str, RefAgent],
    now: float,
) -> list[str]:
    needs = requirements(queues, call, now)
    return sorted(
        a for a, agent in agents.items() if agent.logged_in and qualifies(agent.skills, needs)
    )


def calls_ahead(
    queues: Mapping[str, QueueConfig],
    calls: Mapping[str, RefCall],
    agents: Mapping[str, RefAgent],
    call: RefCall,
    now: float,
) -> int:
    mine = set(eligible_staffed(queues, call, agents, now))
    mine_rank = rank(queues, call, now)
    return sum(
        1
        for other in calls.values()
        if rank(queues, other, now) < mine_rank
        and mine & set(eligible_staffed(queues, other, agents, now))
    )
