"""Console users: their roles, a user as stored, a password's minimum strength, and why a
change to one is refused."""

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
    # Changes whenever the password does: sessions carry it, so a new password ends them.
    stamp: str = ""


@dataclass(frozen=True, slots=True)
class ApiToken:
    name: str
    role: str  # the most it may do: agent < supervisor < admin
    created_at: float
    expires_at: float | None  # None: made before tokens expired; never expires
    last_used_at: float | None

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at


MIN_PASSWORD = 12
# The few passwords every guessing list starts with (checked lowercased, whole).
COMMON = frozenset(
    {
        "password1234", "123456789012", "qwertyuiopas", "letmein12345", "administrator",
        "passwordpassword", "changeme1234", "welcome12345", "callcenter123", "asterisk1234",
    }
)  # fmt: skip


def password_problem(password: str, username: str = "") -> str | None:
    """Why ``password`` is too weak, or None. The rule: at least 12 characters, not one
    character repeated, not the user's name, not a well-known password."""
    if len(password) < MIN_PASSWORD:
        return f"passwords need at least {MIN_PASSWORD} characters (this one has {len(password)})"
    if len(set(password)) < 4:
        return "the password repeats too few different characters"
    lowered = password.lower()
    if len(username) >= 4 and username.lower() in lowered:
        return "the password must not contain the user name"
    if lowered in COMMON:
        return "that password is on every guessing list"
    return None


def check_password(password: str, username: str = "") -> None:
    problem = password_problem(password, username)
    if problem is not None:
        raise UserError("weak-password", problem)
