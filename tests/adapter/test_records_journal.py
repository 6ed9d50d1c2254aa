"""Where the records writer keeps what the database cannot take yet: memory, then the
journal file, in order, within bounds (adapters/db/records_held.py, records_journal.py)."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest

from callcenter.adapters.db.failures import describe
from callcenter.adapters.db.records_held import HeldEvents
from callcenter.adapters.db.records_journal import Item, Journal, decode, encode
from callcenter.core import events as ev
from tests.adapter.test_records_writer import stream


def items(count: int, writer: str = "w1", first: int = 1) -> list[Item]:
    events = stream()
    return [(writer, n, events[n % len(events)]) for n in range(first, first + count)]


def test_every_event_kind_comes_back_from_the_journal_as_it_went_in() -> None:
    events = stream()
    assert {type(e) for e in events} >= {
        ev.CallEntered, ev.IvrFinished, ev.CallAnswered, ev.AgentStateChanged,
        ev.CallDataChanged, ev.CallbackRequested, ev.CallbackAttempted,
    }  # fmt: skip
    for seq, event in enumerate(events):
        assert decode(encode(("w", seq, event))) == ("w", seq, event)


def test_the_journal_gives_back_its_lines_in_order_then_goes(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append(items(3))
    journal.append(items(4, first=4))
    assert journal.unread == 7
    assert journal.read(5) == items(5)
    journal.append(items(2, first=8))
    assert journal.read(100) == items(4, first=6)
    assert journal.unread == 0 and not journal.path.exists()


class HalfThenFull:
    """A file whose disk fills up in the middle of a write."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def write(self, data: memoryview) -> int:
        self.inner.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_failed_append_leaves_the_journal_as_it_was(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append(items(2))
    size = journal.path.stat().st_size
    journal._out = HalfThenFull(journal._out)  # type: ignore[assignment]
    with pytest.raises(OSError):
        journal.append(items(3, first=3))
    assert journal.path.stat().st_size == size and journal.unread == 2
    assert journal.read(10) == items(2)


def test_a_journal_left_by_a_crash_is_taken_up_without_its_cut_short_line(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(b"".join(encode(i) for i in items(3)) + encode(items(1, first=4)[0])[:20])
    journal = Journal(path)
    assert journal.open_existing() == 3
    assert journal.read(10) == items(3)


def test_memory_then_journal_then_memory_again_keeps_the_order(tmp_path: Path) -> None:
    held = HeldEvents(memory=5, cap=10, journal=Journal(tmp_path / "j.jsonl"))
    for item in items(12):
        assert held.add(item)
    assert (held.in_memory, held.in_journal, len(held)) == (5, 7, 12)
    # The journal's disk fills up: newer events wait in memory, after the journal's.
    assert held.journal is not None
    held.journal._out = HalfThenFull(held.journal._out)  # type: ignore[assignment]
    for item in items(3, first=13):
        assert held.add(item)
    assert (held.in_memory, held.in_journal, held.spill) == (8, 7, False)
    assert held.add(items(1, first=16)[0]) and held.add(items(1, first=17)[0])
    assert not held.add(items(1, first=18)[0])  # memory holds its cap: dropped, counted
    assert held.dropped == 1
    out: list[Item] = []
    while len(held):
        batch = held.oldest(4)
        out.extend(batch)
        held.forget(len(batch))
    assert out == items(17)
    assert not (tmp_path / "j.jsonl").exists()


def test_with_no_journal_memory_holds_up_to_the_cap() -> None:
    held = HeldEvents(memory=5, cap=10, journal=None)
    kept = [held.add(item) for item in items(12)]
    assert kept == [True] * 10 + [False] * 2
    assert (len(held), held.dropped) == (10, 2)
    assert held.oldest(100) == items(10)


def test_failures_are_told_short_and_without_secrets() -> None:
    from sqlalchemy.exc import OperationalError

    refused = OperationalError(
        "SELECT 1",
        {},
        Exception(
            'connection to server at "10.0.0.5", port 5432 failed: Connection refused\n'
            "\tIs the server running on that host and accepting TCP/IP connections?"
        ),
    )
    told = describe(refused)
    assert told.kind == "unreachable" and "\n" not in told.text and "Is the server" not in told.text
    secret = describe(Exception("bad dsn postgresql://app:hunter2@db/x password=hunter2 end"))
    assert "hunter2" not in secret.text
    full = describe(OperationalError("INSERT", {}, Exception("database or disk is full")))
    assert full.disk_full and full.text.startswith("disk full")
    assert len(describe(Exception("x" * 1000)).text) <= 160
