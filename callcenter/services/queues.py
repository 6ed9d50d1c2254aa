"""Queues' settings and business hours, as loaded from the database."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime

from callcenter.core.acd.fallback import eligible
from callcenter.core.hours import Schedule, closes_in, is_open
from callcenter.core.queues import QueueSettings


class QueueDirectory:
    def __init__(self) -> None:
        self.queues: dict[str, QueueSettings] = {}
        self.schedules: dict[str, Schedule] = {}

    def load(self, queues: Mapping[str, QueueSettings], schedules: Mapping[str, Schedule]) -> None:
        self.queues = dict(queues)
        self.schedules = dict(schedules)

    def get(self, name: str) -> QueueSettings | None:
        return self.queues.get(name)

    def served_by(self, skills: Mapping[str, int]) -> list[str]:
        """The queues an agent with ``skills`` can take calls of (their most relaxed needs)."""
        return sorted(
            name
            for name, settings in self.queues.items()
            if eligible(skills, settings.to_config().requirements_at(math.inf))
        )

    def accepting(self, settings: QueueSettings, now: float) -> bool:
        """Open, and not inside the closing margin (new callers are turned away then)."""
        schedule = self.schedules.get(settings.schedule) if settings.schedule else None
        if schedule is None:
            return True
        at = datetime.fromtimestamp(now, UTC)
        if not is_open(schedule, at):
            return False
        if settings.closing_margin > 0:
            left = closes_in(schedule, at)
            if left is not None and left <= settings.closing_margin:
                return False
        return True

    def schedule_open(self, name: str, now: float) -> bool:
        schedule = self.schedules.get(name)
        return schedule is None or is_open(schedule, datetime.fromtimestamp(now, UTC))
