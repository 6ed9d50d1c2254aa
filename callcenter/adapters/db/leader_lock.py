"""The active controller's lock: a PostgreSQL session-level advisory lock.

One connection of its own (psycopg2, autocommit, outside SQLAlchemy's pool)
holds ``pg_advisory_lock(key)`` for as long as this controller is active.
PostgreSQL releases it the moment that session ends: the process killed (the
kernel closes its socket), the connection cut, the backend terminated. Host
death and network partitions are bounded by TCP keepalives and
``tcp_user_timeout`` set on both ends of this one connection, so the server drops
a silent peer's session (and its lock) within about ``DEAD_PEER_SECONDS``.

Every method blocks (call it through ``asyncio.to_thread``) for at most
``statement_timeout``.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import psycopg2
import psycopg2.errors
from sqlalchemy.engine import make_url

DEAD_PEER_SECONDS = 3  # keepalive idle 1 s, then 2 probes 1 s apart; tcp_user_timeout 3 s
STATEMENT_TIMEOUT_MS = 1000
APPLICATION_PREFIX = "callcenter-controller:"

_HOLDER = """
SELECT a.application_name, a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.classid = 0 AND l.objid = %s::oid AND l.objsubid = 1
  AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


class LockUnavailable(Exception):
    """PostgreSQL could not be asked (connection refused or lost, timeout)."""


def psycopg_dsn(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as a libpq connection string."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError("the active controller's lock needs PostgreSQL")
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


class LeaderLock:
    """The lock of one controller (``node`` names it in ``pg_stat_activity``)."""

    def __init__(self, url: str, key: int, node: str) -> None:
        if not 0 < key < 2**31:
            raise ValueError("the lock key is a positive 32-bit number")
        self._dsn = psycopg_dsn(url)
        self.key = key
        self.node = node
        self._conn: Any = None
        self._guard = threading.Lock()  # one statement at a time on the connection
        self.backend_pid: int | None = None

    def _connect(self) -> Any:
        conn = psycopg2.connect(
            self._dsn,
            connect_timeout=2,
            application_name=f"{APPLICATION_PREFIX}{self.node}"[:63],
            keepalives=1,
            keepalives_idle=1,
            keepalives_interval=1,
            keepalives_count=2,
            tcp_user_timeout=DEAD_PEER_SECONDS * 1000,
        )
        conn.autocommit = True
        with conn.cursor() as cur:
            # The server side of the same keepalives: it drops a silent controller's
            # session, and with it the lock.
            cur.execute(
                "SET tcp_keepalives_idle = 1; SET tcp_keepalives_interval = 1;"
                " SET tcp_keepalives_count = 2; SET tcp_user_timeout = %s;"
                " SET statement_timeout = %s; SELECT pg_backend_pid()",
                (DEAD_PEER_SECONDS * 1000, STATEMENT_TIMEOUT_MS),
            )
            (self.backend_pid,) = cur.fetchone()
        return conn

    def _query(
        self, sql: str, args: tuple[Any, ...], allowed: type[Exception] | None = None
    ) -> Any:
        """One statement's first row; ``allowed``: an error that leaves the session up."""
        with self._guard:
            try:
                if self._conn is None:
                    self._conn = self._connect()
                with self._conn.cursor() as cur:
                    cur.execute(sql, args)
                    return cur.fetchone()
            except psycopg2.Error as exc:
                if allowed is not None and isinstance(exc, allowed):
                    raise
                self._drop()
                raise LockUnavailable(" ".join(str(exc).split()) or type(exc).__name__) from exc

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; never waits for it."""
        (granted,) = self._query("SELECT pg_try_advisory_lock(%s)", (self.key,))
        return bool(granted)

    def acquire(self, wait: float) -> bool:
        """Take the lock, waiting for it up to ``wait`` seconds: granted the moment
        its holder's session ends, with no polling delay."""
        ms = max(1, int(wait * 1000))
        try:
            # One implicit transaction: the LOCAL settings end with it; the session's
            # lock, once granted, does not.
            self._query(
                "SET LOCAL lock_timeout = %s; SET LOCAL statement_timeout = %s;"
                " SELECT pg_advisory_lock(%s)",
                (ms, ms + STATEMENT_TIMEOUT_MS, self.key),
                allowed=psycopg2.errors.LockNotAvailable,
            )
        except psycopg2.errors.LockNotAvailable:
            return False
        return True

    def held(self) -> bool:
        """Is the lock still this session's? (LockUnavailable: the session is gone.)"""
        (held,) = self._query(
            "SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory'"
            " AND pid = pg_backend_pid() AND classid = 0 AND objid = %s::oid"
            " AND objsubid = 1 AND granted",
            (self.key,),
        )
        return bool(held)

    def holder(self) -> str | None:
        """The node holding the lock now (any session may ask), or None."""
        row = self._query(_HOLDER, (self.key,))
        if row is None:
            return None
        name = str(row[0])
        return name.removeprefix(APPLICATION_PREFIX) if name else f"pid {row[1]}"

    def _drop(self) -> None:
        conn, self._conn, self.backend_pid = self._conn, None, None
        if conn is not None:
            with contextlib.suppress(psycopg2.Error):
                conn.close()

    def release(self) -> None:
        """End the session (and so the lock)."""
        with self._guard:
            self._drop()
