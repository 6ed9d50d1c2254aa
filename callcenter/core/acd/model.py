"""Queue configuration and the skill-requirement rules of the ACD (pure, no I/O).

Requirement rules, in one place because the router, the estimator and the
wallboard must all agree on them:

* A call needs, for every required skill, an agent level >= the minimum.
  An empty requirement mapping means "any logged-in agent".
* Relax steps loosen a queue's requirements as a call waits. The step with the
  largest ``after`` <= wait applies; before the first step, the queue's own
  ``requirements`` apply. Steps replace the queue's requirements (they are not
  merged with them), so a step lists every skill still required.
* Steps may only loosen: each step lists a subset of the previous step's skills
  (the queue's ``requirements`` for the first step), each at the same or a lower
  level. A tightening step is refused when the config is built. This makes a
  call's eligible-agent set grow monotonically with its wait, which the router
  relies on (the oldest call of a group is its loosest).
* Extra per-call requirements (from the IVR, e.g. ``{"spanish": 3}``) are added
  to the step in force; a skill in both needs the higher level. They survive
  every step except one whose mapping is empty: "anyone" is the queue author's
  explicit statement that any agent beats a longer wait, so it drops extras too.
  Otherwise only the IVR knows why the caller needs the skill (their language),
  and no queue step written without that knowledge should silently drop it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TypeAlias

Requirements: TypeAlias = Mapping[str, int]

MIN_LEVEL = 1
MAX_LEVEL = 5


def checked_levels(what: str, levels: Mapping[str, int]) -> Mapping[str, int]:
    """A read-only copy of ``levels`` after checking names and the 1..5 range.

    The copy matters: configs are frozen and validated once, so a caller later
    mutating the dict it passed in must not bypass the validation.
    """
    for skill, level in levels.items():
        if not isinstance(skill, str) or not skill:
            raise ValueError(f"{what}: skill names must be non-empty strings, got {skill!r}")
        if isinstance(level, bool) or not isinstance(level, int):
            raise ValueError(f"{what}: level of {skill!r} must be an integer, got {level!r}")
        if not MIN_LEVEL <= level <= MAX_LEVEL:
            raise ValueError(
                f"{what}: level of {skill!r} must be {MIN_LEVEL}..{MAX_LEVEL}, got {level}"
            )
    return MappingProxyType(dict(levels))


def meets(skills: Mapping[str, int], requirements: Requirements) -> bool:
    """True if an agent with ``skills`` may take a call needing ``requirements``."""
    return all(skills.get(skill, 0) >= level for skill, level in requirements.items())


def merged(step: Requirements, extra: Requirements) -> dict[str, int]:
    """``step`` plus ``extra``; a skill in both needs the higher level."""
    out = dict(step)
    for skill, level in extra.items():
        out[skill] = max(out.get(skill, 0), level)
    return out


def _tightening(earlier: Requirements, later: Requirements) -> str | None:
    """Why ``later`` requires more than ``earlier``, or None if it does not."""
    for skill, level in later.items():
        if skill not in earlier:
            return f"adds skill {skill!r}"
        if level > earlier[skill]:
            return f"raises {skill!r} from {earlier[skill]} to {level}"
    return None


@dataclass(frozen=True, slots=True)
class RelaxStep:
    """Once a call has waited ``after`` seconds, the queue requires ``requirements``."""

    after: float
    requirements: Requirements

    def __post_init__(self) -> None:
        if not (math.isfinite(self.after) and self.after >= 0):
            raise ValueError(f"relax step: 'after' must be a finite number >= 0, got {self.after}")
        levels = checked_levels(f"relax step after {self.after}s", self.requirements)
        object.__setattr__(self, "requirements", levels)


class Strategy(StrEnum):
    LONGEST_IDLE = "longest_idle"
    MOST_PROFICIENT = "most_proficient"


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


_NO_EXTRA: Requirements = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """One queue. Times are seconds; ``weight`` scales waits when queues compete."""

    name: str
    requirements: Requirements
    strategy: Strategy = Strategy.LONGEST_IDLE
    weight: float = 1.0
    relax: tuple[RelaxStep, ...] = ()
    wrapup: float = 0.0
    ring_timeout: float = 20.0
    max_wait: float | None = None
    service_level_target: float = 20.0

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("queue name must not be empty")
        where = f"queue {self.name!r}"
        object.__setattr__(self, "requirements", checked_levels(where, self.requirements))
        object.__setattr__(self, "strategy", Strategy(self.strategy))
        object.__setattr__(self, "relax", tuple(self.relax))
        _positive(where, "weight", self.weight)
        _positive(where, "ring_timeout", self.ring_timeout)
        _positive(where, "service_level_target", self.service_level_target)
        if not (math.isfinite(self.wrapup) and self.wrapup >= 0):
            raise ValueError(f"{where}: wrapup must be a finite number >= 0, got {self.wrapup}")
        if self.max_wait is not None:
            _positive(where, "max_wait", self.max_wait)
        self._check_relax(where)

    def _check_relax(self, where: str) -> None:
        previous, previous_after = self.requirements, -math.inf
        for index, step in enumerate(self.relax):
            if step.after <= previous_after:
                raise ValueError(
                    f"{where}: relax step {index} (after {step.after}s) must come later "
                    f"than the step before it (after {previous_after}s)"
                )
            reason = _tightening(previous, step.requirements)
            if reason is not None:
                raise ValueError(
                    f"{where}: relax step {index} (after {step.after}s) tightens the "
                    f"requirements ({reason}); relax steps may only loosen"
                )
            previous, previous_after = step.requirements, step.after

    def step_at(self, wait: float) -> RelaxStep | None:
        """The relax step in force after ``wait`` seconds (None: the queue's own)."""
        current = None
        for step in self.relax:
            if step.after > wait:
                break
            current = step
        return current

    def requirements_at(self, wait: float, extra: Requirements = _NO_EXTRA) -> dict[str, int]:
        """What a call needs after ``wait`` seconds, with its IVR ``extra`` (module doc)."""
        step = self.step_at(wait)
        if step is None:
            return merged(self.requirements, extra)
        if not step.requirements:
            return {}
        return merged(step.requirements, extra)


def _positive(where: str, field: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{where}: {field} must be a finite number > 0, got {value}")
