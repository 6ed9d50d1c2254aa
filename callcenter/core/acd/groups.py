"""Waiting calls grouped by what decides their requirements (pure).

All calls of one group share a queue, a priority and IVR extra requirements,
so their requirements depend only on how long they have waited. Relax steps
only loosen (model.py refuses configs that tighten), hence within a group:

* the oldest call has the loosest requirements: if it cannot go to an agent,
  no call of the group can, and if it can, it is the group's most deserving
  call (same priority, same weight, longest wait). A routing decision looks at
  group heads only.
* the calls sharing an agent with some other call form a prefix of the group
  in age order, which makes counting "calls ahead" a binary search.
* every stage requires at least the skills of the loosest stage (the group's
  ``floor``), so an agent lacking one of those never gets a call from the group
  and the router can skip it without looking at its head.

Calls are kept in a plain sorted list: new calls append at the end, the head
leaves from the front, and a re-enqueued call (ring-no-answer) inserts near
the front. Python's list moves are memmoves, cheap at call-center sizes, and
the list allows the binary searches above, which a heap would not.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from callcenter.core.acd.model import QueueConfig
from callcenter.core.acd.pool import Items

GroupKey = tuple[str, int, Items]  # queue, priority, extra requirements


def group_key(queue: str, priority: int, extra: Mapping[str, int]) -> GroupKey:
    return queue, priority, tuple(sorted(extra.items()))


@dataclass(slots=True, eq=False)  # identity: groups are looked up, never compared
class Group:
    queue: str
    priority: int
    extra: Items
    weight: float = 1.0
    # afters[k] is the wait from which stages[k] applies; afters[0] is -inf.
    afters: list[float] = field(default_factory=list)
    stages: list[Items] = field(default_factory=list)
    calls: list[tuple[float, str]] = field(default_factory=list)  # (enqueued_at, call_id)
    floor: frozenset[str] = frozenset()  # skills every stage requires

    def configure(self, config: QueueConfig) -> None:
        """Precompute every stage's requirements (the rule itself lives in model.py)."""
        extra = dict(self.extra)
        self.weight = config.weight
        self.afters = [-math.inf, *(step.after for step in config.relax)]
        self.stages = [tuple(sorted(config.requirements_at(a, extra).items())) for a in self.afters]
        self.floor = frozenset(skill for skill, _ in self.stages[-1])

    def add(self, enqueued_at: float, call_id: str) -> None:
        bisect.insort(self.calls, (enqueued_at, call_id))

    def remove(self, enqueued_at: float, call_id: str) -> None:
        index = bisect.bisect_left(self.calls, (enqueued_at, call_id))
        del self.calls[index]

    def stage(self, wait: float) -> int:
        return bisect.bisect_right(self.afters, wait) - 1

    def requirements(self, wait: float) -> Items:
        return self.stages[self.stage(wait)]

    def next_relax(self, enqueued_at: float, after: float) -> float | None:
        """When, strictly after the absolute time ``after``, the call's stage next changes."""
        index = bisect.bisect_right(self.afters, after - enqueued_at)
        if index >= len(self.afters):
            return None
        at = enqueued_at + self.afters[index]
        # Float rounding may put the boundary at or before ``after``; the
        # stage test (wait >= step.after) decides, so just look again later.
        return at if at > after else math.nextafter(after, math.inf)

    def prefix(self, holds: Callable[[float, str], bool]) -> int:
        """How many calls, oldest first, satisfy ``holds`` (true on a prefix only)."""
        low, high = 0, len(self.calls)
        while low < high:
            middle = (low + high) // 2
            if holds(*self.calls[middle]):
                low = middle + 1
            else:
                high = middle
        return low
