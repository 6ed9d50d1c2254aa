"""The events the records writer has not written yet, oldest first, in bounded memory.

Three parts, read in this order: ``head`` in memory, then the journal on disk,
then ``tail`` in memory. Events go to ``head`` while it holds fewer than
``memory``; past that they are spilled to the journal, and once the journal
holds events every newer one goes after them (the journal, or ``tail`` when the
journal cannot take them), so the order never changes. As ``head`` is written,
it is refilled from the journal; when the journal is read out, ``tail`` joins
``head``.

With no journal to spill to (none configured, an append failed, or the writer
says the journal's disk is the full one), memory holds up to ``cap`` events;
past that new events are dropped and counted: the only loss, always logged.

Only the writer thread touches this object.
"""

from __future__ import annotations

import logging
from collections import deque

from callcenter.adapters.db.records_journal import Item, Journal

log = logging.getLogger(__name__)


class HeldEvents:
    def __init__(self, memory: int, cap: int, journal: Journal | None) -> None:
        self.memory = memory
        self.cap = max(cap, memory)
        self.journal = journal
        self.spill = journal is not None  # may the journal take events now
        self._dropped = 0
        self._head: deque[Item] = deque()
        self._tail: deque[Item] = deque()

    def __len__(self) -> int:
        return len(self._head) + self.in_journal + len(self._tail)

    @property
    def dropped(self) -> int:
        """Events lost: past the cap, or unreadable in the journal."""
        return self._dropped + (self.journal.unreadable if self.journal is not None else 0)

    @property
    def in_journal(self) -> int:
        return self.journal.unread if self.journal is not None else 0

    @property
    def in_memory(self) -> int:
        return len(self._head) + len(self._tail)

    def add(self, item: Item) -> bool:
        """Keep ``item`` after every other; False if it had to be dropped."""
        after_journal = bool(self.in_journal or self._tail)
        if not after_journal and len(self._head) < self.memory:
            self._head.append(item)
            return True
        if self.spill and not self._tail and self._to_journal(item):
            return True
        if self.in_memory >= self.cap:
            self._dropped += 1
            return False
        (self._tail if after_journal else self._head).append(item)
        return True

    def _to_journal(self, item: Item) -> bool:
        assert self.journal is not None
        try:
            self.journal.append([item])
        except OSError as exc:
            self.spill = False
            log.error(
                "call records: the journal %s cannot be written (%s); keeping up to %d events "
                "in memory, newer ones past that are lost",
                self.journal.path,
                exc.strerror or exc,
                self.cap,
            )
            return False
        return True

    def oldest(self, most: int) -> list[Item]:
        """The ``most`` oldest events (fewer if fewer are held), not taken away."""
        if len(self._head) < most and self.journal is not None and self.journal.unread:
            room = max(most, self.memory) - len(self._head)
            self._head.extend(self.journal.read(room))
        if not self.in_journal and self._tail:
            self._head.extend(self._tail)
            self._tail.clear()
        return [self._head[i] for i in range(min(most, len(self._head)))]

    def forget(self, count: int) -> None:
        """The ``count`` oldest events are written."""
        for _ in range(count):
            self._head.popleft()

    def keep_on_disk(self) -> int:
        """Everything held into the journal, in order (the controller stops); how many."""
        if self.journal is None or not len(self):
            return 0
        count = len(self)
        self.journal.rewrite(list(self._head), self.journal.rest(), list(self._tail))
        self._head.clear()
        self._tail.clear()
        return count
