"""How far the call records are behind the calls: the records writer's own account.

The writer (adapters/db/records_writer.py) keeps every event the database could
not take yet and writes them, in order, once it can; meanwhile calls are routed
from memory. The wallboard and GET /api/health read this account through the
``RecordsLag`` port (services/repositories.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordsBacklog:
    waiting: int = 0  # events not written yet (in memory and in the journal)
    behind_since: float | None = None  # first failed write of this outage (epoch s); None: fine
    last_error: str = ""  # the last failure, short, with no secrets
    journal: int = 0  # of ``waiting``, the events spilled to the journal file
    dropped: int = 0  # events lost since start (memory cap reached with no journal to spill to)

    @property
    def behind(self) -> bool:
        return self.behind_since is not None
