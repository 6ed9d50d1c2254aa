"""Post-call surveys (table survey_results): written once per call, read by the reports."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.models import CallRow, SurveyResultRow
from callcenter.core.survey import SurveyResult


def _scores(stored: Any) -> tuple[int | None, ...]:
    values = stored if isinstance(stored, list) else []
    return tuple(int(v) if isinstance(v, int) else None for v in values)


class SurveyRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def add(self, result: SurveyResult) -> int:
        with self._sessions.begin() as session:
            row = SurveyResultRow(
                call_id=result.call_id,
                at=result.at,
                queue=result.queue,
                agent=result.agent,
                scores=list(result.scores),
                responded=result.responded,
                comment=result.comment,
            )
            session.add(row)
            session.flush()
            return int(row.id)

    def between(self, since: float, until: float, queue: str = "") -> list[SurveyResult]:
        row = SurveyResultRow
        query = (
            select(row, CallRow.disposition)
            .outerjoin(CallRow, CallRow.id == row.call_id)
            .where(row.at >= since, row.at < until)
            .order_by(row.at, row.id)
        )
        if queue:
            query = query.where(row.queue == queue)
        with self._sessions() as session:
            return [
                SurveyResult(
                    r.call_id, r.at, r.queue, r.agent, _scores(r.scores), r.comment,
                    disposition or "",
                )
                for r, disposition in session.execute(query)
            ]  # fmt: skip
