"""Today's call events from the database, so a restarted controller's wallboard starts right."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.models import CallEventRow
from callcenter.core.stats import CallEventRecord

# The kinds core/stats.py's fold_legs reads; the rest (entered, ivr, data...) would only cost.
KINDS = ("queued", "answered", "abandoned", "overflow", "completed", "wrapup", "ended", "fallback")


class CallEventHistory:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def since(self, at: float) -> list[CallEventRecord]:
        # Insertion order is publish order (one writer thread), the order the
        # live board saw; ``at`` alone can tie or, across awaits, disagree.
        query = (
            select(CallEventRow.call_id, CallEventRow.at, CallEventRow.kind, CallEventRow.agent,
                   CallEventRow.detail)
            .where(CallEventRow.at >= at, CallEventRow.kind.in_(KINDS))
            .order_by(CallEventRow.id)
        )  # fmt: skip
        with self._sessions() as session:
            return [
                CallEventRecord(call_id, when, kind, agent or "", dict(detail or {}))
                for call_id, when, kind, agent, detail in session.execute(query)
            ]
