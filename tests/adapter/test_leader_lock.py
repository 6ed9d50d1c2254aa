"""The active controller's lock on a real PostgreSQL: exclusion, release on death,
and the fence of a controller whose lock session is gone."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import psycopg2
import pytest

from callcenter.adapters.db.leader_lock import LeaderLock, LockUnavailable, psycopg_dsn
from callcenter.core.leadership import Role, Timing
from callcenter.simulate.procs import stop_process, wait_for
from callcenter.standby import Leader, LostLock
from tests.support.postgres import PostgresCluster

KEY = 4242


@pytest.fixture
def url(postgres: tuple[PostgresCluster, str]) -> Iterator[str]:
    yield postgres[1]


def terminate(url: str, pid: int) -> None:
    conn = psycopg2.connect(psycopg_dsn(url))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
    finally:
        conn.close()


def test_one_holder_at_a_time_and_everyone_knows_who(url: str) -> None:
    a, b = LeaderLock(url, KEY, "node-a"), LeaderLock(url, KEY, "node-b")
    try:
        assert a.try_acquire(), a.holder()
        assert not b.try_acquire()
        assert a.held() and not b.held()
        assert b.holder() == "node-a"
        assert a.try_acquire()  # re-entrant on its own session: still one holder
        a.release()  # the server frees it once it has seen the session end
        wait_for(b.try_acquire, 2, "the lock free after its holder's session ended")
        assert b.holder() == "node-b"
    finally:
        a.release()
        b.release()


def test_the_lock_is_released_the_moment_its_holder_is_killed(url: str) -> None:
    """A `callcenter run` killed -9: the kernel closes its socket, PostgreSQL ends the
    session and frees the lock (measured here: no keepalive wait)."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from callcenter.adapters.db.leader_lock import LeaderLock\n"
            f"lock = LeaderLock({url!r}, {KEY}, 'doomed')\n"
            "assert lock.try_acquire()\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
    )
    b = LeaderLock(url, KEY, "node-b")
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"held"
        assert b.holder() == "doomed" and not b.try_acquire()
        assert not b.acquire(0.2)  # a wait for it times out while the holder lives
        granted: list[float] = []
        waiter = threading.Thread(target=lambda: b.acquire(5) and granted.append(time.monotonic()))
        waiter.start()
        time.sleep(0.3)  # b waits inside PostgreSQL
        killed = time.monotonic()
        os.kill(holder.pid, signal.SIGKILL)
        waiter.join(6)
        assert granted and granted[0] - killed < 0.5, granted
        assert b.held() and b.holder() == "node-b"
    finally:
        stop_process(holder)
        b.release()


def test_a_session_ended_under_the_holder_is_seen_at_the_next_check(url: str) -> None:
    a, b = LeaderLock(url, KEY, "node-a"), LeaderLock(url, KEY, "node-b")
    try:
        assert a.try_acquire()
        assert a.backend_pid is not None
        terminate(url, a.backend_pid)
        wait_for(b.try_acquire, 2, "the lock free after its holder's backend ended")
        with pytest.raises(LockUnavailable):
            a.held()
        assert not a.held()  # a new session of its own holds nothing
    finally:
        a.release()
        b.release()


class FakeClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


def test_a_leader_fences_itself_when_its_lock_is_taken_while_it_sleeps(url: str) -> None:
    """The old leader is 'paused' (its clock jumps 30 s: its confirmation is stale),
    its session is ended, another controller takes the lock. On waking it may not
    act, and its first check finds the lock gone: it stops for good."""
    timing = Timing(check_interval=0.2, fence_after=0.6)

    async def scenario() -> None:
        clock = FakeClock()
        old = Leader(LeaderLock(url, KEY, "old"), timing, clock)
        new = Leader(LeaderLock(url, KEY, "new"), timing)
        lost: list[str] = []
        old.on_lost(lost.append)
        waiting: asyncio.Task[None] | None = None
        try:
            await asyncio.wait_for(old.wait_until_active(), 5)
            old.started()
            assert old.may_act()
            waiting = asyncio.create_task(new.wait_until_active())
            for _ in range(60):  # a try waits 2 s in PostgreSQL, then it asks who holds it
                if new.holder is not None:
                    break
                await asyncio.sleep(0.05)
            assert not waiting.done() and new.holder == "old"  # the standby stands by
            clock.offset = 30.0  # the pause: whatever it last confirmed is too old now
            assert not old.may_act()
            assert old.lock.backend_pid is not None
            terminate(url, old.lock.backend_pid)
            await asyncio.wait_for(waiting, 5)
            new.started()
            assert new.may_act()
            for _ in range(50):
                if lost:
                    break
                await asyncio.sleep(0.05)
            assert old.role is Role.FENCED and lost, lost
            assert not old.may_act()
        finally:
            if waiting is not None:
                waiting.cancel()
                await asyncio.gather(waiting, return_exceptions=True)
            await old.stop()
            await new.stop()

    asyncio.run(scenario())


def test_a_standby_that_loses_the_lock_while_starting_never_acts(url: str) -> None:
    timing = Timing(check_interval=0.1, fence_after=1.0)

    async def scenario() -> None:
        leader = Leader(LeaderLock(url, KEY, "brief"), timing)
        try:
            waiting = asyncio.create_task(leader.wait_until_active())
            for _ in range(40):
                if leader.lock.backend_pid is not None and leader.role is Role.STARTING:
                    break
                await asyncio.sleep(0.05)
            assert leader.lock.backend_pid is not None
            terminate(url, leader.lock.backend_pid)
            with pytest.raises(LostLock):
                await asyncio.wait_for(waiting, 5)
            assert not leader.may_act()
        finally:
            await leader.stop()

    asyncio.run(scenario())
