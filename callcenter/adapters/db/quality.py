"""QA forms and evaluations (core/quality.py) in the database; the recorded calls to review."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.models import CallRow, QaEvaluationRow, QaFormRow, RecordingRow
from callcenter.core.quality import (
    Candidate,
    Evaluation,
    Form,
    NewEvaluation,
    QualityError,
    parse_form,
)


def _form(row: QaFormRow, used: bool) -> Form:
    return Form(
        id=row.id,
        name=row.name,
        version=row.version,
        definition=parse_form(row.definition),
        created_at=row.created_at,
        created_by=row.created_by,
        retired=row.retired,
        used=used,
    )


def _evaluation(row: QaEvaluationRow, form: QaFormRow) -> Evaluation:
    return Evaluation(
        id=row.id,
        form_id=row.form_id,
        form_name=form.name,
        form_version=form.version,
        recording_id=row.recording_id,
        call_id=row.call_id,
        agent=row.agent,
        queue=row.queue,
        call_at=row.call_at,
        evaluator=row.evaluator,
        evaluated_at=row.evaluated_at,
        answers=dict(row.answers or {}),
        score=row.score,
        critical_failed=row.critical_failed,
        comment=row.comment,
        acknowledged_at=row.acknowledged_at,
        agent_comment=row.agent_comment,
    )


def _used(form_id: Any) -> ColumnElement[bool]:
    return exists().where(QaEvaluationRow.form_id == form_id)


class QualityRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # -- forms ---------------------------------------------------------------------------------
    def forms(self, retired: bool = False) -> list[Form]:
        """The latest version of each form, by name (retired ones too if asked)."""
        latest = (
            select(QaFormRow.name, func.max(QaFormRow.version).label("version"))
            .group_by(QaFormRow.name)
            .subquery()
        )
        query = (
            select(QaFormRow, _used(QaFormRow.id))
            .join(
                latest,
                (latest.c.name == QaFormRow.name) & (latest.c.version == QaFormRow.version),
            )
            .order_by(QaFormRow.name)
        )
        if not retired:
            query = query.where(QaFormRow.retired.is_(False))
        with self._sessions() as session:
            return [_form(row, used) for row, used in session.execute(query)]

    def form(self, form_id: int) -> Form | None:
        with self._sessions() as session:
            found = session.execute(
                select(QaFormRow, _used(QaFormRow.id)).where(QaFormRow.id == form_id)
            ).first()
            return _form(found[0], found[1]) if found is not None else None

    def versions(self, name: str) -> list[Form]:
        with self._sessions() as session:
            rows = session.execute(
                select(QaFormRow, _used(QaFormRow.id))
                .where(QaFormRow.name == name)
                .order_by(QaFormRow.version)
            )
            return [_form(row, used) for row, used in rows]

    def save_form(self, name: str, definition: Mapping[str, Any], who: str, at: float) -> Form:
        """The latest version changed in place while no evaluation used it and it is not
        retired; otherwise a new version (which is in use again)."""
        try:
            return self._save_form(name, definition, who, at)
        except IntegrityError:  # another save made the same version first
            raise QualityError(
                "conflict", f"form {name!r} was saved meanwhile: try again"
            ) from None

    def _save_form(self, name: str, definition: Mapping[str, Any], who: str, at: float) -> Form:
        with self._sessions.begin() as session:
            latest = session.scalars(
                select(QaFormRow)
                .where(QaFormRow.name == name)
                .order_by(QaFormRow.version.desc())
                .limit(1)
                .with_for_update()
            ).first()
            used = latest is not None and bool(session.scalar(select(_used(latest.id))))
            if latest is not None and not used and not latest.retired:
                latest.definition = dict(definition)
                latest.created_at, latest.created_by = at, who
                row = latest
            else:
                row = QaFormRow(
                    name=name,
                    version=(latest.version + 1) if latest is not None else 1,
                    definition=dict(definition),
                    created_at=at,
                    created_by=who,
                    retired=False,
                )
                session.add(row)
            session.flush()
            return _form(row, False)

    def retire_form(self, name: str) -> bool:
        """No new evaluations with any version of it (old ones keep theirs)."""
        with self._sessions.begin() as session:
            result: Any = session.execute(
                update(QaFormRow)
                .where(QaFormRow.name == name, QaFormRow.retired.is_(False))
                .values(retired=True)
            )
            return bool(result.rowcount)

    # -- evaluations ---------------------------------------------------------------------------
    def add_evaluation(self, new: NewEvaluation) -> Evaluation:
        row = QaEvaluationRow(
            form_id=new.form_id,
            recording_id=new.recording_id,
            call_id=new.call_id,
            agent=new.agent,
            queue=new.queue,
            call_at=new.call_at,
            evaluator=new.evaluator,
            evaluated_at=new.evaluated_at,
            answers=dict(new.answers),
            score=new.score,
            critical_failed=new.critical_failed,
            comment=new.comment,
            agent_comment="",
        )
        try:
            with self._sessions.begin() as session:
                session.add(row)
                session.flush()
                new_id = row.id
        except IntegrityError:
            raise QualityError(
                "evaluated", f"recording {new.recording_id} has its evaluation already"
            ) from None
        found = self.evaluation(new_id)
        assert found is not None
        return found

    def evaluation(self, evaluation_id: int) -> Evaluation | None:
        with self._sessions() as session:
            found = session.execute(
                select(QaEvaluationRow, QaFormRow)
                .join(QaFormRow, QaFormRow.id == QaEvaluationRow.form_id)
                .where(QaEvaluationRow.id == evaluation_id)
            ).first()
            return _evaluation(found[0], found[1]) if found is not None else None

    def evaluations(
        self,
        agent: str = "",
        queue: str = "",
        since: float | None = None,
        until: float | None = None,
        limit: int = 200,
    ) -> list[Evaluation]:
        """Newest call first; ``since``/``until`` bound the call's time."""
        clauses: list[ColumnElement[bool]] = []
        if agent:
            clauses.append(QaEvaluationRow.agent == agent)
        if queue:
            clauses.append(QaEvaluationRow.queue == queue)
        if since is not None:
            clauses.append(QaEvaluationRow.call_at >= since)
        if until is not None:
            clauses.append(QaEvaluationRow.call_at < until)
        with self._sessions() as session:
            rows = session.execute(
                select(QaEvaluationRow, QaFormRow)
                .join(QaFormRow, QaFormRow.id == QaEvaluationRow.form_id)
                .where(*clauses)
                .order_by(QaEvaluationRow.call_at.desc(), QaEvaluationRow.id.desc())
                .limit(limit)
            )
            return [_evaluation(e, f) for e, f in rows]

    def acknowledge(self, evaluation_id: int, agent: str, at: float, comment: str) -> bool:
        """The agent's acknowledgement, once (atomic); False if not theirs or done already."""
        with self._sessions.begin() as session:
            result: Any = session.execute(
                update(QaEvaluationRow)
                .where(
                    QaEvaluationRow.id == evaluation_id,
                    QaEvaluationRow.agent == agent,
                    QaEvaluationRow.acknowledged_at.is_(None),
                )
                .values(acknowledged_at=at, agent_comment=comment)
            )
            return bool(result.rowcount)

    # -- the recorded calls ----------------------------------------------------------------------
    def _recorded(self) -> Any:
        return (
            select(RecordingRow, CallRow.queue)
            .join(CallRow, CallRow.id == RecordingRow.call_id)
            .where(
                CallRow.answered_at.is_not(None),
                RecordingRow.ended_at.is_not(None),
                RecordingRow.agent != "",
            )
        )

    @staticmethod
    def _candidate(row: RecordingRow, queue: str) -> Candidate:
        duration = None if row.ended_at is None else max(0.0, row.ended_at - row.started_at)
        return Candidate(
            recording_id=row.id,
            call_id=row.call_id,
            agent=row.agent,
            queue=row.queue or queue,
            started_at=row.started_at,
            caller_number=row.caller_number,
            duration=duration,
        )

    def recorded_call(self, recording_id: int) -> Candidate | None:
        """The recording, if it is a finished recording of an answered call with an agent."""
        with self._sessions() as session:
            found = session.execute(self._recorded().where(RecordingRow.id == recording_id)).first()
            return self._candidate(found[0], found[1]) if found is not None else None

    def candidates(self, since: float, until: float, queue: str = "") -> list[Candidate]:
        """Recorded, answered calls started in [since, until) with no evaluation yet."""
        query = self._recorded().where(
            RecordingRow.started_at >= since,
            RecordingRow.started_at < until,
            ~exists().where(QaEvaluationRow.recording_id == RecordingRow.id),
        )
        if queue:
            query = query.where(RecordingRow.queue == queue)
        with self._sessions() as session:
            return [self._candidate(r, q) for r, q in session.execute(query)]

    def evaluated_counts(self, since: float, until: float, queue: str = "") -> dict[str, int]:
        """Evaluations per agent of calls started in [since, until)."""
        query = (
            select(QaEvaluationRow.agent, func.count(QaEvaluationRow.id))
            .where(QaEvaluationRow.call_at >= since, QaEvaluationRow.call_at < until)
            .group_by(QaEvaluationRow.agent)
        )
        if queue:
            query = query.where(QaEvaluationRow.queue == queue)
        with self._sessions() as session:
            return {agent: int(n) for agent, n in session.execute(query)}
