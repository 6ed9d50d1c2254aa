"""Console users: their roles, a user as stored, and why a change to one is refused."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("agent", "supervisor", "admin")


class UserError(Exception):
    """A refused change to a user or token; ``code`` is stable (exists, unknown,
    last-admin, weak-password, bad-role, no-agent)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    role: str
    agent: str
    active: bool
