"""The records writer's journal: events the database could not take, on disk, in order.

One JSON line per event: the writer that numbered it, its number, its kind and
its fields. Lines are appended at the end and read back from the start; once
every line has been read back the file is removed. An append that fails (its
disk is full too) is cut back off, so the file never holds half an append; a
line cut short by a crash is dropped when the file is opened again.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import fields
from pathlib import Path
from typing import IO, Any

from callcenter.core import events as ev

log = logging.getLogger(__name__)

Item = tuple[str, int, ev.Event]  # (writer id, the writer's number for it, the event)

KINDS: dict[str, type[ev.Event]] = {kind.__name__: kind for kind in ev.Event.__subclasses__()}
# Fields JSON turns into lists, turned back (the events are frozen: tuples, not lists).
TUPLES = {
    name: {f.name for f in fields(kind) if str(f.type).startswith("tuple")}
    for name, kind in KINDS.items()
}


def encode(item: Item) -> bytes:
    writer, seq, event = item
    kind = type(event).__name__
    values = {f.name: getattr(event, f.name) for f in fields(event)}
    line = json.dumps({"w": writer, "s": seq, "k": kind, "e": values}, separators=(",", ":"))
    return line.encode() + b"\n"


def decode(line: bytes) -> Item:
    found = json.loads(line)
    kind = found["k"]
    values: dict[str, Any] = found["e"]
    for name in TUPLES[kind]:
        values[name] = tuple(values[name])
    return found["w"], found["s"], KINDS[kind](**values)


class Journal:
    """An append-only file of events, read back in the order they were appended."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.unread = 0  # lines appended (or found at start) and not read back yet
        self.unreadable = 0  # lines that could not be read back (lost, and counted)
        self._out: IO[bytes] | None = None
        self._in: IO[bytes] | None = None

    def open_existing(self) -> int:
        """Take up a journal left by an earlier run (its events come first); how many."""
        if not self.path.exists():
            return 0
        lines = whole = offset = 0
        with self.path.open("r+b") as file:
            while chunk := file.read(1 << 20):  # the file may be large: counted in chunks
                lines += chunk.count(b"\n")
                if (last := chunk.rfind(b"\n")) >= 0:
                    whole = offset + last + 1
                offset += len(chunk)
            if whole < offset:
                log.warning("call records journal %s: a cut-short last line dropped", self.path)
                file.truncate(whole)
        self.unread = lines
        if self.unread == 0:
            self.clear()
        return self.unread

    def append(self, items: list[Item]) -> None:
        """Write ``items`` at the end, all or none (OSError: none, the file as it was)."""
        data = b"".join(encode(item) for item in items)
        if self._out is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._out = self.path.open("ab", buffering=0)
        out = self._out
        end = out.seek(0, os.SEEK_END)
        try:
            view = memoryview(data)
            while view:
                written = out.write(view)
                if not written:
                    raise OSError(f"no byte written to {self.path}")
                view = view[written:]
        except OSError:
            out.truncate(end)
            raise
        self.unread += len(items)

    def read(self, most: int) -> list[Item]:
        """Up to ``most`` of the oldest lines not read yet; the file goes when all are."""
        if self.unread == 0:
            return []
        if self._in is None:
            self._in = self.path.open("rb")
        items: list[Item] = []
        while self.unread and len(items) < most:
            line = self._in.readline()
            if not line:
                self.unreadable += self.unread  # the file changed under us
                log.error("call records journal %s ended early", self.path)
                self.unread = 0
                break
            self.unread -= 1
            try:
                items.append(decode(line))
            except (ValueError, KeyError, TypeError):
                self.unreadable += 1
                log.error("call records journal %s: an unreadable line skipped", self.path)
        if self.unread == 0:
            self.clear()
        return items

    def rest(self) -> list[bytes]:
        """The lines not read yet, as they are (a journal rewritten at stop keeps them)."""
        if self.unread == 0:
            return []
        if self._in is None:
            self._in = self.path.open("rb")
        return [self._in.readline() for _ in range(self.unread)]

    def rewrite(self, head: list[Item], lines: list[bytes], tail: list[Item]) -> None:
        """The file becomes ``head``, then ``lines`` (as read), then ``tail``; kept on disk
        (fsync) for the next run. OSError: the file as it was."""
        data = b"".join([*(encode(i) for i in head), *lines, *(encode(i) for i in tail)])
        fresh = self.path.with_name(self.path.name + ".new")
        try:
            with fresh.open("wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
        except OSError:
            fresh.unlink(missing_ok=True)
            raise
        self.clear()
        fresh.replace(self.path)
        self.unread = len(head) + len(lines) + len(tail)

    def clear(self) -> None:
        """Close and remove the file (every line read back, or taken elsewhere)."""
        for file in (self._out, self._in):
            if file is not None:
                file.close()
        self._out = self._in = None
        self.unread = 0
        self.path.unlink(missing_ok=True)
