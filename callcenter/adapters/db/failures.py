"""A database error, told short: what kind of failure, in one line with no secrets.

For the records writer's log and for GET /api/health (public): the driver's first
line only (PostgreSQL adds hints on further lines), passwords and URL user
parts blanked, cut to a length a status line can show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError

LONGEST = 160
SECRETS = (
    (re.compile(r"(password\s*=\s*)\S+", re.I), r"\1***"),
    (re.compile(r"(://)[^@/\s]+@"), r"\1***@"),
)
PG_DISK_FULL = "53100"  # SQLSTATE disk_full
FULL_WORDS = ("database or disk is full", "no space left on device", "disk full")
UNREACHABLE_WORDS = (
    "could not connect",
    "connection refused",
    "server closed the connection",
    "terminating connection",
    "connection to server",
    "the database system is",  # starting up, shutting down, in recovery
    "unable to open database file",
)


@dataclass(frozen=True, slots=True)
class Failure:
    kind: str  # disk-full | unreachable | error
    text: str  # one short line, no secrets: the kind, then what the driver said
    said: str  # what the driver said (its class and first line), no secrets

    @property
    def disk_full(self) -> bool:
        return self.kind == "disk-full"


def describe(exc: BaseException) -> Failure:
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first = next((line for line in str(cause).splitlines() if line.strip()), "").strip()
    for pattern, blank in SECRETS:
        first = pattern.sub(blank, first)
    said = f"{type(cause).__name__}: {first}" if first else type(cause).__name__
    lower = said.lower()
    if getattr(cause, "pgcode", None) == PG_DISK_FULL or any(w in lower for w in FULL_WORDS):
        return Failure("disk-full", _cut(f"disk full ({said})"), said)
    invalidated = isinstance(exc, DBAPIError) and exc.connection_invalidated
    if invalidated or any(w in lower for w in UNREACHABLE_WORDS):
        return Failure("unreachable", _cut(f"database unreachable ({said})"), said)
    return Failure("error", _cut(said), said)


def _cut(text: str) -> str:
    return text if len(text) <= LONGEST else text[: LONGEST - 1] + "…"
