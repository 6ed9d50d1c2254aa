"""Numbers the dial policy refused (table dial_refusals): written once, read by supervisors."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.models import DialRefusalRow
from callcenter.core.dial_policy import DialRefusal, Reason


def _refusal(row: DialRefusalRow) -> DialRefusal:
    return DialRefusal(
        at=row.at,
        origin_kind=row.origin_kind,
        origin_id=row.origin_id,
        number=row.number,
        reason=cast(Reason, row.reason),
        detail=row.detail,
        where=row.place,
    )


class DialRefusalRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def add(self, refusal: DialRefusal) -> int:
        with self._sessions.begin() as session:
            row = DialRefusalRow(
                at=refusal.at,
                origin_kind=refusal.origin_kind,
                origin_id=refusal.origin_id,
                number=refusal.number,
                reason=refusal.reason,
                detail=refusal.detail,
                place=refusal.where,
            )
            session.add(row)
            session.flush()
            return int(row.id)

    def recent(self, since: float, offset: int, limit: int) -> tuple[list[DialRefusal], int]:
        with self._sessions() as session:
            where: Any = DialRefusalRow.at >= since
            total = session.scalar(select(func.count()).select_from(DialRefusalRow).where(where))
            rows = session.scalars(
                select(DialRefusalRow)
                .where(where)
                .order_by(DialRefusalRow.at.desc(), DialRefusalRow.id.desc())
                .offset(offset)
                .limit(limit)
            )
            return [_refusal(row) for row in rows], int(total or 0)

    def counts(self, since: float, until: float) -> dict[str, int]:
        with self._sessions() as session:
            rows = session.execute(
                select(DialRefusalRow.reason, func.count())
                .where(DialRefusalRow.at >= since, DialRefusalRow.at < until)
                .group_by(DialRefusalRow.reason)
            )
            return {str(reason): int(count) for reason, count in rows}
