"""The call-records writer while the database is away: it holds the events, says it is
behind, and once the database is back writes them in order, nothing dropped, nothing twice.

The outage is real where it can be (a PostgreSQL server stopped and started; SQLite
on a tiny filesystem that fills up, in a private mount namespace) and made up
where the moment matters (a commit answered by an error, a batch failing halfway).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db import records_writer
from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.migrate import upgrade
from callcenter.adapters.db.records_rows import table
from callcenter.adapters.db.records_writer import RecordWriter
from callcenter.core import events as ev
from callcenter.simulate.procs import wait_for
from tests.adapter.test_records_writer import TABLES, answered_call, stream, without_ids
from tests.support.postgres import PostgresCluster

REFUSED = ConnectionRefusedError("connection refused")


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records_writer, "RETRY_FIRST", 0.05)
    monkeypatch.setattr(records_writer, "RETRY_MOST", 0.2)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    with made.begin() as connection:
        for name in TABLES:
            connection.execute(text(f"DELETE FROM {name}"))
    try:
        yield made
    finally:
        made.dispose()


def rows_of(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every records table, in a stable order, without autoincrement ids."""
    with engine.connect() as connection:
        found = {
            name: [row._asdict() for row in connection.execute(select(table(name)))]
            for name in TABLES
        }
    return {
        name: sorted(without_ids(rows), key=lambda r: json.dumps(r, sort_keys=True, default=str))
        for name, rows in found.items()
    }


def expected(database_url: str, events: list[ev.Event], tmp_path: Path) -> dict[str, Any]:
    """The rows a writer with no outage writes for ``events`` (on a database of its own)."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'expected.db'}"
        upgrade(url)
    else:
        url = database_url
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for name in TABLES:
                connection.execute(text(f"DELETE FROM {name}"))
        writer = RecordWriter(make_sessions(engine))
        writer.start()
        for e in events:
            writer.submit(e)
        assert writer.flush(20)
        writer.stop()
        return rows_of(engine)
    finally:
        engine.dispose()


class Outage:
    """Sessions whose transactions fail while ``down`` (as a database away makes them)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.kw = sessions.kw
        self.down = False
        self.commit_then_fail = 0  # the next N commits succeed and are answered by an error

    def begin(self) -> Any:
        if self.down:
            raise OperationalError("BEGIN", {}, REFUSED)
        return self._begin()

    @contextlib.contextmanager
    def _begin(self) -> Iterator[Session]:
        with self.sessions.begin() as session:
            yield session
        if self.commit_then_fail:
            self.commit_then_fail -= 1
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))


def writer_on(sessions: Outage, **options: Any) -> RecordWriter:
    writer = RecordWriter(cast(sessionmaker[Session], sessions), **options)
    writer.start()
    return writer


def many_calls(count: int, at: float = 1_760_000_000.0, prefix: str = "m") -> list[ev.Event]:
    return [e for n in range(count) for e in answered_call(f"{prefix}{n}", f"a{n % 7}", at + n)]


def test_an_outage_holds_the_events_then_writes_them_in_order(
    database_url: str, engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    events = stream()
    half = len(events) // 2
    sessions = Outage(make_sessions(engine))
    writer = writer_on(sessions)
    for e in events[:half]:
        writer.submit(e)
    assert writer.flush(10)
    assert not writer.backlog().behind

    sessions.down = True
    with caplog.at_level(logging.WARNING, logger=records_writer.__name__):
        for e in events[half:]:
            writer.submit(e)
        wait_for(lambda: writer.failures >= 3, 10, "writes failing")
        behind = writer.backlog()
        assert behind.behind and behind.waiting == len(events) - half
        assert behind.last_error.startswith("database unreachable")
        assert behind.behind_since is not None and behind.dropped == 0
        sessions.down = False
        assert writer.flush(10)
    assert not writer.backlog().behind and writer.backlog().waiting == 0
    writer.stop()
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 1, [r.getMessage() for r in failures]  # once per outage
    assert "caught up" in caplog.records[-1].getMessage()
    actual = rows_of(engine)
    assert actual == expected(database_url, events, tmp_path)


def test_a_batch_that_fails_halfway_is_rolled_back_and_written_whole(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    events = stream()
    writer = RecordWriter(make_sessions(engine))
    answered = writer._handlers[ev.CallAnswered]
    failed: list[str] = []

    def cut_off(rows: Any, e: ev.CallAnswered) -> None:
        if not failed:  # the rows before it in the batch are sent already
            failed.append(e.call_id)
            raise OperationalError("UPDATE calls", {}, Exception("terminating connection"))
        answered(rows, e)

    writer._handlers[ev.CallAnswered] = cut_off
    for e in events:
        writer.submit(e)
    writer.start()
    assert writer.flush(10)
    writer.stop()
    assert failed and writer.failures == 1
    actual = rows_of(engine)
    assert actual == expected(database_url, events, tmp_path)


def test_a_commit_answered_by_an_error_is_not_written_twice(
    database_url: str, engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    events = stream()
    sessions = Outage(make_sessions(engine))
    sessions.commit_then_fail = 2
    writer = writer_on(sessions)
    with caplog.at_level(logging.WARNING, logger=records_writer.__name__):
        for e in events:
            writer.submit(e)
        assert writer.flush(10)
    writer.stop()
    assert writer.failures == 2
    assert any("not written again" in r.getMessage() for r in caplog.records)
    actual = rows_of(engine)
    assert actual == expected(database_url, events, tmp_path)


def test_past_the_memory_limit_events_wait_in_the_journal(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    events = many_calls(20)
    journal = tmp_path / "state" / "records-journal.jsonl"
    sessions = Outage(make_sessions(engine))
    sessions.down = True
    writer = writer_on(sessions, memory=250, journal=journal)  # more than a batch
    for e in events:
        writer.submit(e)
    wait_for(lambda: writer.backlog().journal == len(events) - 250, 10, "the rest in the journal")
    assert journal.exists() and writer.backlog().waiting == len(events)
    sessions.down = False
    assert writer.flush(20)
    writer.stop()
    assert not journal.exists()
    actual = rows_of(engine)
    assert actual == expected(database_url, events, tmp_path)


def test_what_is_held_at_stop_is_written_first_at_the_next_start(
    database_url: str, engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = many_calls(6), many_calls(3, at=1_760_100_000.0, prefix="n")
    journal = tmp_path / "records-journal.jsonl"
    sessions = Outage(make_sessions(engine))
    writer = writer_on(sessions, memory=40, journal=journal)
    for e in first[:30]:
        writer.submit(e)
    assert writer.flush(10)
    sessions.down = True
    for e in first[30:]:
        writer.submit(e)
    with caplog.at_level(logging.ERROR, logger=records_writer.__name__):
        writer.stop(timeout=2)
    assert "kept in" in caplog.records[-1].getMessage()
    assert journal.exists()

    sessions.down = False
    sessions.commit_then_fail = 1  # and the first batch of the new run is answered badly
    again = writer_on(sessions, memory=40, journal=journal)
    for e in second:
        again.submit(e)
    assert again.flush(20)
    wait_for(lambda: again.backlog().waiting == 0, 10, "the journal written")
    again.stop()
    assert not journal.exists()
    actual = rows_of(engine)
    assert actual == expected(database_url, first + second, tmp_path)


def test_with_no_room_anywhere_memory_holds_the_cap_and_counts_the_rest(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    events = many_calls(10)
    blocked = Path("/proc/no-journal-here/records-journal.jsonl")  # cannot be created
    sessions = Outage(make_sessions(engine))
    sessions.down = True
    writer = writer_on(sessions, memory=100, cap=150, journal=blocked)
    with caplog.at_level(logging.ERROR):
        for e in events:
            writer.submit(e)
        wait_for(lambda: writer.backlog().dropped == len(events) - 150, 10, "the rest dropped")
    assert writer.backlog().waiting == 150
    assert any("DROPPED" in r.getMessage() for r in caplog.records)
    assert any("cannot be written" in r.getMessage() for r in caplog.records)
    sessions.down = False
    assert writer.flush(20)  # settled: written, or dropped and counted
    writer.stop()
    with engine.connect() as connection:
        kept = connection.execute(text("SELECT count(*) FROM call_events")).scalar()
    assert kept and kept < sum(1 for e in events if not isinstance(e, ev.AgentStateChanged))


# -- real outages ------------------------------------------------------------------------------
def test_postgresql_stopped_and_started_again_loses_nothing(
    postgres: tuple[PostgresCluster, str], tmp_path: Path
) -> None:
    cluster, url = postgres
    cluster.reset(url)
    upgrade(url)
    events = many_calls(30)
    engine = make_engine(url)
    writer = RecordWriter(make_sessions(engine), memory=100, journal=tmp_path / "j.jsonl")
    writer.start()
    try:
        for e in events[:200]:
            writer.submit(e)
        assert writer.flush(10)
        cluster.pause()
        try:
            for e in events[200:]:
                writer.submit(e)
            wait_for(lambda: writer.backlog().behind, 10, "the writer behind")
            behind = writer.backlog()
            assert behind.last_error.startswith("database unreachable"), behind
            assert behind.waiting == len(events) - 200 and behind.journal > 0
        finally:
            cluster.resume()
        assert writer.flush(30)
        assert not writer.backlog().behind
    finally:
        writer.stop()
        engine.dispose()
    got = make_engine(url)
    try:
        actual = rows_of(got)
    finally:
        got.dispose()
    assert actual == expected(url, events, tmp_path)


def test_sqlite_full_says_so_once_and_catches_up_when_there_is_room(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # PRAGMA max_page_count makes SQLite answer SQLITE_FULL ("database or disk is full"),
    # the error a full disk gives; raising it again is the room coming back.
    url = f"sqlite:///{tmp_path / 'callcenter.db'}"
    upgrade(url)
    engine = make_engine(url)
    limit = {"pages": 0}

    @event.listens_for(engine, "checkout")
    def _cap(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if limit["pages"]:
            dbapi_connection.execute(f"PRAGMA max_page_count = {limit['pages']}")

    with engine.connect() as connection:
        limit["pages"] = connection.exec_driver_sql("PRAGMA page_count").scalar_one() + 1
    events = many_calls(40)
    writer = RecordWriter(make_sessions(engine), journal=tmp_path / "state" / "j.jsonl")
    writer.start()
    try:
        with caplog.at_level(logging.WARNING, logger=records_writer.__name__):
            for e in events:
                writer.submit(e)
            wait_for(lambda: writer.failures >= 3, 10, "the disk full")
            behind = writer.backlog()
            assert behind.behind and behind.last_error.startswith("disk full")
            limit["pages"] = 1_000_000
            assert writer.flush(20)
    finally:
        writer.stop()
    told = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(told) == 1, told
    assert str(tmp_path / "callcenter.db") in told[0] and "Free space" in told[0]
    actual = rows_of(engine)
    engine.dispose()
    assert actual == expected(url, events, tmp_path)


TINY_DISK = textwrap.dedent(
    """
    import json, logging, os, sys, time
    from pathlib import Path
    from callcenter.adapters.db import records_writer
    from callcenter.adapters.db.engine import make_engine, make_sessions
    from callcenter.adapters.db.migrate import upgrade
    from callcenter.adapters.db.records_writer import RecordWriter
    from callcenter.simulate.procs import wait_for
    from tests.adapter.test_records_outage import many_calls

    records_writer.RETRY_MOST = 0.2
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    disk = Path(sys.argv[1])
    url = f"sqlite:///{disk / 'callcenter.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as c:  # the controller's pool is open before the disk fills
        c.exec_driver_sql("SELECT count(*) FROM calls")
    (disk / "state").mkdir()
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as f:  # fill the disk up
        try:
            while True:
                f.write(b"x" * 4096)
                f.flush()
        except OSError:
            pass
    writer = RecordWriter(
        make_sessions(engine), memory=100, cap=2000, journal=disk / "state" / "j.jsonl"
    )
    writer.start()
    events = many_calls(40)
    for e in events:
        writer.submit(e)
    wait_for(lambda: writer.failures >= 2 and writer.backlog().waiting == len(events), 20, "full")
    behind = writer.backlog()
    filler.unlink()  # room again
    written = writer.flush(30)
    writer.stop()
    with engine.connect() as c:
        rows = c.exec_driver_sql("SELECT count(*) FROM call_events").scalar_one()
    print(json.dumps({"behind": behind.behind, "error": behind.last_error,
                      "journal": behind.journal, "dropped": behind.dropped,
                      "written": written, "rows": rows}))
    """
)


def test_sqlite_on_a_tiny_full_filesystem(tmp_path: Path) -> None:
    """A real full disk: a 4 MB tmpfs in a private mount namespace (gone with the process)."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare for a private tmpfs")
    disk = tmp_path / "disk"
    disk.mkdir()
    script = tmp_path / "tiny_disk.py"
    script.write_text(TINY_DISK)
    command = f"mount -t tmpfs -o size=4m tmpfs {disk} && exec {sys.executable} {script} {disk}"
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    if done.returncode and "mount" in done.stderr and "permission" in done.stderr.lower():
        pytest.skip(f"no private tmpfs here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["behind"] and result["error"].startswith("disk full"), result
    # The journal is on the full disk too: kept in memory (up to the cap), said in the log.
    assert result["journal"] == 0 and "same disk" in done.stderr, done.stderr[-3000:]
    assert result["dropped"] == 0 and result["written"]
    wanted = expected(f"sqlite:///{tmp_path / 'expected.db'}", many_calls(40), tmp_path)
    assert result["rows"] == len(wanted["call_events"])
