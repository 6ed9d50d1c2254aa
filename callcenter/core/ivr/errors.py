"""Errors of the IVR core, each saying whose fault it is.

- FlowError: the flow document is wrong (the administrator's to fix).
- ProtocolError: the adapter fed the session a result that does not answer
  the action it was given (a bug in the adapter, never the caller's doing:
  whatever the caller types is input the engine handles).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    node: str | None  # None for the flow's own fields (start, hours, ...)
    field: str
    message: str

    def describe(self, source: str) -> str:
        where = (
            f"node {self.node!r}, field {self.field!r}" if self.node else f"field {self.field!r}"
        )
        return f"{source}: {where}: {self.message}"


class FlowError(ValueError):
    """Every problem found in one flow document, one per line."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__("\n".join(problem.describe(source) for problem in self.problems))


class ProtocolError(RuntimeError):
    """The adapter broke the session protocol (its fault, not the caller's)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"adapter error: {message}")
