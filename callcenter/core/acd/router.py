"""The skills-based routing decisions (pure: no I/O, no clock; ``now`` is passed in).

The router only decides. The service executes a decision (ring the agent) and
reports back: ring-no-answer means ``enqueue`` the call again with its
original ``enqueued_at`` and make the agent unavailable; an answer means
nothing more to the router.

Who deserves an agent first (``offer_agent``): the highest priority, then the
largest weighted wait ``(now - enqueued_at) * queue.weight``, then the earliest
``enqueued_at``, then the smallest call id. Which agent a call gets
(``offer_call``): per the queue's strategy, then longest idle, then agent id;
"most proficient" sums the agent's levels over the call's current
requirements (a call relaxed to "anyone" thus goes to the longest idle).

A call may pass over one agent for a while (``avoid``: the agent who just
transferred it to this queue): neither decision gives it to them before
``until``; then the call is offered again like a relaxed one, and they may get it
if nobody else took it meanwhile.

Cost: ``offer_agent`` looks at the head of each group (groups.py) whose floor
skills the agent holds; ``offer_call`` at the available agents holding the
call's rarest required skill. Neither ever scans the waiting calls.
"""

from __future__ import annotations

import heapq
import itertools
import math
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from callcenter.core.acd.groups import Group, GroupKey, group_key
from callcenter.core.acd.model import QueueConfig, checked_levels
from callcenter.core.acd.pool import AgentPool, meets_items

_NO_EXTRA: Mapping[str, int] = MappingProxyType({})

# Sort key of a call, smallest first: -priority, -weighted wait, enqueued_at, call id.
_Rank = tuple[int, float, float, str]

# (agent id, until): the agent a call passes over until that time.
Avoid = tuple[str, float]


@dataclass(frozen=True, slots=True)
class Assignment:
    call_id: str
    agent_id: str
    queue: str
    wait: float  # seconds the call waited until this decision


@dataclass(frozen=True, slots=True)
class _Call:
    call_id: str
    enqueued_at: float
    group: Group
    token: int  # tells this stay in line from an earlier one of the same call id
    avoid: Avoid | None = None

    def avoids(self, agent_id: str, now: float) -> bool:
        avoid = self.avoid
        return avoid is not None and avoid[0] == agent_id and now < avoid[1]


class Router:
    def __init__(self, queues: Mapping[str, QueueConfig]) -> None:
        self._queues: dict[str, QueueConfig] = {}
        self._agents = AgentPool()
        self._calls: dict[str, _Call] = {}
        self._groups: dict[GroupKey, Group] = {}
        # priority -> group floor (groups.py) -> groups: decisions skip whole buckets.
        self._by_priority: dict[int, dict[frozenset[str], list[Group]]] = {}
        self._priorities: list[int] = []  # descending
        self._relax: list[tuple[float, str, int]] = []  # heap of (time, call id, token)
        # Calls in line passing over an agent (``avoid``), and when each stops: a heap
        # like ``_relax`` (an offer is due then).
        self._avoiding: dict[str, _Call] = {}
        self._avoid_ends: list[tuple[float, str, int]] = []
        self._tokens = itertools.count()
        self._clock = -math.inf  # the latest ``now`` seen, to schedule relaxations
        self.set_queues(queues)

    # --- configuration -------------------------------------------------------

    def set_queues(self, queues: Mapping[str, QueueConfig]) -> None:
        """Replace the queue configs; waiting calls keep their place in line."""
        for name, config in queues.items():
            if name != config.name:
                raise ValueError(f"queue {config.name!r} is registered under the name {name!r}")
        orphaned = sorted({g.queue for g in self._groups.values()} - set(queues))
        if orphaned:
            raise ValueError(f"calls are still waiting in removed queue(s) {orphaned}")
        self._queues = dict(queues)
        for group in self._groups.values():
            self._unfile(group)
            group.configure(self._queues[group.queue])
            self._file(group)
        # Every waiting call's requirements may have changed, either way: make
        # them all due now, so the service's timer re-offers them at once.
        self._relax = [
            (max(self._clock, c.enqueued_at), c.call_id, c.token) for c in self._calls.values()
        ]
        heapq.heapify(self._relax)

    # --- agents --------------------------------------------------------------

    def upsert_agent(self, agent_id: str, skills: Mapping[str, int]) -> None:
        """Add an agent (logged out) or change an agent's skills (state kept)."""
        self._agents.upsert(agent_id, skills)

    def remove_agent(self, agent_id: str) -> bool:
        return self._agents.remove(agent_id)

    def set_logged_in(self, agent_id: str, logged_in: bool) -> None:
        """Staffed agents count for estimates in any state; logging out ends availability."""
        self._agents.set_logged_in(agent_id, logged_in)

    def set_available(self, agent_id: str, available: bool, since: float) -> None:
        """READY and idle since ``since`` (the longest-idle clock)."""
        self._agents.set_available(agent_id, available, since)

    def is_available(self, agent_id: str) -> bool:
        return self._agents.is_available(agent_id)

    # --- calls ---------------------------------------------------------------

    def enqueue(
        self,
        call_id: str,
        queue: str,
        priority: int,
        enqueued_at: float,
        extra: Mapping[str, int] = _NO_EXTRA,
        avoid: Avoid | None = None,
    ) -> None:
        """Put a call in line. Higher ``priority`` is served first.

        A call coming back after ring-no-answer passes its original
        ``enqueued_at`` and so goes back to the head of its line. ``avoid``: the
        call is not given to that agent before that time.
        """
        if call_id in self._calls:
            raise ValueError(f"call {call_id!r} is already waiting")
        if queue not in self._queues:
            raise KeyError(f"unknown queue {queue!r}")
        extra = checked_levels(f"call {call_id!r} extra requirements", extra)
        key = group_key(queue, priority, extra)
        group = self._groups.get(key)
        if group is None:
            group = self._new_group(key)
        group.add(enqueued_at, call_id)
        if avoid is not None and avoid[1] <= self._clock:
            avoid = None
        call = _Call(call_id, enqueued_at, group, next(self._tokens), avoid)
        self._calls[call_id] = call
        self._schedule_relax(call, max(self._clock, enqueued_at))
        if avoid is not None:
            self._avoiding[call_id] = call
            heapq.heappush(self._avoid_ends, (avoid[1], call_id, call.token))

    def remove_call(self, call_id: str) -> bool:
        """Take a call out of line (abandoned, overflowed...); False if it was not waiting."""
        call = self._calls.pop(call_id, None)
        if call is None:
            return False
        self._avoiding.pop(call_id, None)
        group = call.group
        group.remove(call.enqueued_at, call_id)
        if not group.calls:
            self._drop_group(group)
        return True

    def waiting(self, queue: str | None = None, now: float | None = None) -> list[str]:
        """Waiting call ids in service order.

        Within one queue the order does not depend on the clock. Across queues
        with different weights it does: pass ``now`` for the exact order
        (without it, calls are ordered as if all weights were equal).
        """
        calls = [c for c in self._calls.values() if queue is None or c.group.queue == queue]
        if now is None:
            calls.sort(key=lambda c: (-c.group.priority, c.enqueued_at, c.call_id))
        else:
            calls.sort(key=lambda c: _rank(c, now))
        return [c.call_id for c in calls]

    # --- decisions -----------------------------------------------------------

    def offer_agent(self, agent_id: str, now: float) -> Assignment | None:
        """The agent just became available: the most deserving call it may take.

        None if there is none, or if the agent is not available (a stale event).
        """
        self._tick(now)
        if not self._agents.is_available(agent_id):
            return None
        skills, held = self._agents.skills(agent_id), self._agents.held(agent_id)
        avoiding = self._avoiding
        for priority in self._priorities:
            best: tuple[float, float, str] | None = None
            for floor, groups in self._by_priority[priority].items():
                if not floor <= held:
                    continue
                for group in groups:
                    head: tuple[float, str] | None = group.calls[0]
                    if avoiding and group.calls[0][1] in avoiding:
                        head = self._head_for(group, agent_id, now)
                    if head is None:
                        continue
                    enqueued_at, call_id = head
                    wait = now - enqueued_at
                    rank = (-wait * group.weight, enqueued_at, call_id)
                    # The router's hot loop: rank first (heads that lose on rank
                    # need no skill test), and the stage lookup inlined.
                    if best is not None and rank >= best:
                        continue
                    if meets_items(skills, group.stages[bisect_right(group.afters, wait) - 1]):
                        best = rank
            if best is not None:
                return self._assign(self._calls[best[2]], agent_id, now)
        return None

    def offer_call(self, call_id: str, now: float) -> Assignment | None:
        """The call just arrived or relaxed: the best available agent per its queue."""
        self._tick(now)
        call = self._waiting(call_id)
        if not self._agents.any_available():
            return None
        group = call.group
        items = group.requirements(now - call.enqueued_at)
        strategy = self._queues[group.queue].strategy
        avoid = call.avoid
        passed_over = avoid[0] if avoid is not None and now < avoid[1] else None
        agent_id = self._agents.best_available(items, strategy, passed_over)
        return None if agent_id is None else self._assign(call, agent_id, now)

    def next_relax_at(self) -> float | None:
        """The earliest time some waiting call's requirements relax (for a timer)."""
        times = []
        for heap in (self._relax, self._avoid_ends):
            while heap and not self._live(heap[0]):
                heapq.heappop(heap)
            if heap:
                times.append(heap[0][0])
        return min(times, default=None)

    def relax_due(self, now: float) -> list[Assignment]:
        """Offer again every call whose requirements relaxed at or before ``now``."""
        self._tick(now)
        due: list[_Call] = []
        while self._relax and self._relax[0][0] <= now:
            entry = heapq.heappop(self._relax)
            if self._live(entry):
                call = self._calls[entry[1]]
                due.append(call)
                self._schedule_relax(call, now)
        while self._avoid_ends and self._avoid_ends[0][0] <= now:
            entry = heapq.heappop(self._avoid_ends)
            if self._live(entry):
                # The agent it passed over may have it now (nobody else took it).
                call = self._avoiding.pop(entry[1])
                if all(c is not call for c in due):
                    due.append(call)
        # Most deserving first, so two relaxed calls wanting one agent are fair.
        due.sort(key=lambda c: _rank(c, now))
        assignments = []
        for call in due:
            assignment = self.offer_call(call.call_id, now)
            if assignment is not None:
                assignments.append(assignment)
        return assignments

    # --- for estimates and the wallboard -----------------------------------

    def rivals(self, call_id: str, now: float) -> list[tuple[str, str]]:
        """(call id, queue) of the waiting calls more deserving than this one, in
        service order (most deserving first): the calls that go first when an agent
        both may take frees up (wait estimates)."""
        me = self._waiting(call_id)
        my_rank = _rank(me, now)
        ahead = [c for c in self._calls.values() if _rank(c, now) < my_rank]
        ahead.sort(key=lambda c: _rank(c, now))
        return [(c.call_id, c.group.queue) for c in ahead]

    def requirements(self, call_id: str, now: float) -> dict[str, int]:
        call = self._waiting(call_id)
        return dict(call.group.requirements(now - call.enqueued_at))

    def eligible_staffed(self, call_id: str, now: float) -> list[str]:
        """Logged-in agents, in any state, whose skills meet the call's requirements now."""
        call = self._waiting(call_id)
        return self._agents.staffed_meeting(call.group.requirements(now - call.enqueued_at))

    def eligible_over_time(self, call_id: str, now: float) -> list[tuple[str, float]]:
        """Staffed agents who may take the call, each with the seconds from ``now``
        until they may (0.0: now; later: at a relax step of the call's queue)."""
        call = self._waiting(call_id)
        wait = now - call.enqueued_at
        group = call.group
        found: dict[str, float] = {}
        for stage in range(group.stage(wait), len(group.stages)):
            start = max(group.afters[stage] - wait, 0.0)
            for agent in self._agents.staffed_meeting(group.stages[stage]):
                found.setdefault(agent, start)
        return list(found.items())

    def calls_ahead(self, call_id: str, now: float) -> int:
        """Waiting calls more deserving than this one that compete for its agents.

        A call competes if at least one staffed agent may take both. Counted per
        group: the more deserving calls are a prefix (oldest first), and so are
        the calls loose enough to share an agent (groups.py).
        """
        me = self._waiting(call_id)
        mine = self.eligible_staffed(call_id, now)
        if not mine:
            return 0
        my_rank = _rank(me, now)
        return sum(
            self._competing(group, my_rank, mine, now)
            for group in self._groups.values()
            if group.priority >= me.group.priority
        )

    def expected_ahead(self, call_id: str, now: float) -> float:
        """Calls ahead (as ``calls_ahead``) that are expected to take one of this
        call's agents: a call of another group counts for the share of its own
        agents that this call may have too (a sales call ahead that a dozen sales
        agents may take, two of whom may also take billing, counts 2/12 for a
        billing caller). For wait estimates; the position told is ``calls_ahead``.
        """
        me = self._waiting(call_id)
        mine = self.eligible_staffed(call_id, now)
        if not mine:
            return 0.0
        my_rank, shared_with_me = _rank(me, now), set(mine)
        total = 0.0
        for group in self._groups.values():
            if group.priority < me.group.priority:
                continue
            count = self._competing(group, my_rank, mine, now)
            if not count:
                continue
            if group is me.group:
                total += count
                continue
            head_wait = now - group.calls[0][0]
            theirs = self._agents.staffed_meeting(group.requirements(head_wait))
            share = sum(1 for a in theirs if a in shared_with_me) / len(theirs) if theirs else 1.0
            total += count * share
        return total

    # --- internals -----------------------------------------------------------

    def _competing(self, group: Group, my_rank: _Rank, mine: list[str], now: float) -> int:
        def ahead_of_me(enqueued_at: float, call_id: str) -> bool:
            return _rank_of(group, enqueued_at, call_id, now) < my_rank

        ahead = group.prefix(ahead_of_me)
        shared = self._first_shared_stage(group, mine) if ahead else None
        if shared is None:
            return 0

        def shares_an_agent(enqueued_at: float, _call_id: str) -> bool:
            return group.stage(now - enqueued_at) >= shared

        return min(ahead, group.prefix(shares_an_agent))

    def _first_shared_stage(self, group: Group, agents: list[str]) -> int | None:
        """The tightest stage of ``group`` that one of ``agents`` meets (stages nest)."""
        for index, items in enumerate(group.stages):
            if any(meets_items(self._agents.skills(a), items) for a in agents):
                return index
        return None

    def _assign(self, call: _Call, agent_id: str, now: float) -> Assignment:
        self.remove_call(call.call_id)
        self._agents.set_available(agent_id, False, now)
        return Assignment(call.call_id, agent_id, call.group.queue, now - call.enqueued_at)

    def _head_for(self, group: Group, agent_id: str, now: float) -> tuple[float, str] | None:
        """The oldest call of ``group`` that does not pass over the agent now (few
        calls ever do: the ones just transferred)."""
        for entry in group.calls:
            if not self._calls[entry[1]].avoids(agent_id, now):
                return entry
        return None

    def _waiting(self, call_id: str) -> _Call:
        call = self._calls.get(call_id)
        if call is None:
            raise KeyError(f"call {call_id!r} is not waiting")
        return call

    def _tick(self, now: float) -> None:
        self._clock = max(self._clock, now)

    def _live(self, entry: tuple[float, str, int]) -> bool:
        call = self._calls.get(entry[1])
        return call is not None and call.token == entry[2]

    def _schedule_relax(self, call: _Call, after: float) -> None:
        at = call.group.next_relax(call.enqueued_at, after)
        # Entries of calls that left the line stay until their time comes and are
        # skipped then: the heap holds at most the calls that arrived within the
        # longest relax delay, and no decision ever pays for a clean-up.
        if at is not None:
            heapq.heappush(self._relax, (at, call.call_id, call.token))

    def _new_group(self, key: GroupKey) -> Group:
        queue, priority, extra = key
        group = Group(queue, priority, extra)
        group.configure(self._queues[queue])
        self._groups[key] = group
        self._file(group)
        return group

    def _drop_group(self, group: Group) -> None:
        del self._groups[(group.queue, group.priority, group.extra)]
        self._unfile(group)

    def _file(self, group: Group) -> None:
        if group.priority not in self._by_priority:
            self._by_priority[group.priority] = {}
            self._priorities = sorted(self._by_priority, reverse=True)
        self._by_priority[group.priority].setdefault(group.floor, []).append(group)

    def _unfile(self, group: Group) -> None:
        buckets = self._by_priority[group.priority]
        buckets[group.floor].remove(group)
        if not buckets[group.floor]:
            del buckets[group.floor]
        if not buckets:
            del self._by_priority[group.priority]
            self._priorities = sorted(self._by_priority, reverse=True)


def _rank_of(group: Group, enqueued_at: float, call_id: str, now: float) -> _Rank:
    return (-group.priority, -(now - enqueued_at) * group.weight, enqueued_at, call_id)


def _rank(call: _Call, now: float) -> _Rank:
    return _rank_of(call.group, call.enqueued_at, call.call_id, now)
