"""The router's agents: skills, who is staffed, who is available (pure).

Agents are indexed per skill twice, once for the staffed and once for the
available set, so finding candidates for a call starts from the rarest required
skill instead of every agent. Available agents are usually few, but the
estimates ask about staffed agents, which are many.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from callcenter.core.acd.model import Strategy, checked_levels

Items = tuple[tuple[str, int], ...]  # requirements as (skill, min level) pairs


def meets_items(skills: Mapping[str, int], items: Items) -> bool:
    # A plain loop: this runs once per group head per decision, and all() over
    # a generator costs about twice as much.
    for skill, level in items:  # noqa: SIM110
        if skills.get(skill, 0) < level:
            return False
    return True


@dataclass(slots=True)
class _Agent:
    skills: Mapping[str, int]
    held: frozenset[str]  # the skill names, for quick subset tests
    logged_in: bool = False
    available: bool = False
    since: float = 0.0


@dataclass(slots=True)
class _Index:
    everyone: set[str] = field(default_factory=set)
    by_skill: dict[str, set[str]] = field(default_factory=dict)

    def add(self, agent_id: str, skills: Iterable[str]) -> None:
        self.everyone.add(agent_id)
        for skill in skills:
            self.by_skill.setdefault(skill, set()).add(agent_id)

    def discard(self, agent_id: str, skills: Iterable[str]) -> None:
        self.everyone.discard(agent_id)
        for skill in skills:
            holders = self.by_skill.get(skill)
            if holders is not None:
                holders.discard(agent_id)
                if not holders:
                    del self.by_skill[skill]

    def candidates(self, items: Items) -> Collection[str]:
        """A superset of the agents meeting ``items``: holders of the rarest skill."""
        if not items:
            return self.everyone
        empty: set[str] = set()
        return min((self.by_skill.get(skill, empty) for skill, _ in items), key=len)


class AgentPool:
    def __init__(self) -> None:
        self._agents: dict[str, _Agent] = {}
        self._staffed = _Index()
        self._available = _Index()

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._agents

    def upsert(self, agent_id: str, skills: Mapping[str, int]) -> None:
        levels = checked_levels(f"agent {agent_id!r}", skills)
        agent = self._agents.get(agent_id)
        if agent is None:
            self._agents[agent_id] = _Agent(levels, frozenset(levels))
            return
        self._unindex(agent_id, agent)
        agent.skills, agent.held = levels, frozenset(levels)
        self._index(agent_id, agent)

    def remove(self, agent_id: str) -> bool:
        agent = self._agents.pop(agent_id, None)
        if agent is None:
            return False
        self._unindex(agent_id, agent)
        return True

    def set_logged_in(self, agent_id: str, logged_in: bool) -> None:
        agent = self._get(agent_id)
        self._unindex(agent_id, agent)
        agent.logged_in = logged_in
        if not logged_in:
            agent.available = False
        self._index(agent_id, agent)

    def set_available(self, agent_id: str, available: bool, since: float) -> None:
        agent = self._get(agent_id)
        if available and not agent.logged_in:
            raise ValueError(f"agent {agent_id!r} must be logged in to be available")
        self._unindex(agent_id, agent)
        agent.available = available
        agent.since = since
        self._index(agent_id, agent)

    def skills(self, agent_id: str) -> Mapping[str, int]:
        return self._get(agent_id).skills

    def held(self, agent_id: str) -> frozenset[str]:
        return self._get(agent_id).held

    def is_available(self, agent_id: str) -> bool:
        return self._get(agent_id).available

    def any_available(self) -> bool:
        return bool(self._available.everyone)

    def staffed_meeting(self, items: Items) -> list[str]:
        agents = self._agents
        found = (a for a in self._staffed.candidates(items) if meets_items(agents[a].skills, items))
        return sorted(found)

    def best_available(
        self, items: Items, strategy: Strategy, passed_over: str | None = None
    ) -> str | None:
        """The available agent ``strategy`` prefers for a call needing ``items``, other
        than ``passed_over``."""
        best: tuple[float, float, str] | None = None
        for agent_id in self._available.candidates(items):
            if agent_id == passed_over:
                continue
            agent = self._agents[agent_id]
            if not meets_items(agent.skills, items):
                continue
            score = 0.0
            if strategy is Strategy.MOST_PROFICIENT:
                score = -float(sum(agent.skills[skill] for skill, _ in items))
            key = (score, agent.since, agent_id)
            if best is None or key < best:
                best = key
        return None if best is None else best[2]

    def _get(self, agent_id: str) -> _Agent:
        agent = self._agents.get(agent_id)
        if agent is None:
            raise KeyError(f"unknown agent {agent_id!r}")
        return agent

    def _index(self, agent_id: str, agent: _Agent) -> None:
        if agent.logged_in:
            self._staffed.add(agent_id, agent.skills)
        if agent.available:
            self._available.add(agent_id, agent.skills)

    def _unindex(self, agent_id: str, agent: _Agent) -> None:
        self._staffed.discard(agent_id, agent.skills)
        self._available.discard(agent_id, agent.skills)
