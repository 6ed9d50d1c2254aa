"""Callbacks in the database: booked, pending, dialled, done; and each dial attempt's audit row.

The database is the callbacks' memory across controller restarts: every change
of a callback's status is written before the controller acts on it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.models import CallbackRow, DialAttemptRow
from callcenter.core.callbacks.records import PENDING, Attempt, Callback, NewCallback

UNOBSERVED = "unobserved"  # an attempt dialled by a controller that died before its end


def _record(row: CallbackRow) -> Callback:
    return Callback(
        id=row.id,
        kind=row.kind,
        origin_call_id=row.origin_call_id,
        queue=row.queue,
        number=row.number,
        priority=row.priority,
        extra={str(k): int(v) for k, v in (row.extra or {}).items()},
        data={str(k): str(v) for k, v in (row.data or {}).items()},
        requested_at=row.requested_at,
        enqueued_at=row.enqueued_at,
        due_at=row.due_at,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        status=row.status,
        booked_by=row.booked_by,
        last_outcome=row.last_outcome,
        notes=row.notes,
    )


class CallbackRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def add(self, new: NewCallback) -> Callback:
        with self._sessions.begin() as session:
            row = CallbackRow(
                kind=new.kind,
                origin_call_id=new.origin_call_id,
                queue=new.queue,
                number=new.number,
                priority=new.priority,
                extra=dict(new.extra),
                data=dict(new.data),
                requested_at=new.requested_at,
                enqueued_at=new.enqueued_at,
                due_at=new.due_at,
                attempts=0,
                max_attempts=new.max_attempts,
                status="pending",
                booked_by=new.booked_by,
                last_outcome="",
                notes=new.notes,
            )
            session.add(row)
            session.flush()
            return _record(row)

    def get(self, callback_id: int) -> Callback | None:
        with self._sessions() as session:
            row = session.get(CallbackRow, callback_id)
            return _record(row) if row is not None else None

    def update(self, callback_id: int, **values: Any) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(CallbackRow).where(CallbackRow.id == callback_id).values(**values)
            )

    def pending(self) -> list[Callback]:
        with self._sessions() as session:
            rows = session.scalars(
                select(CallbackRow).where(CallbackRow.status.in_(PENDING)).order_by(CallbackRow.id)
            )
            return [_record(row) for row in rows]

    def close_unobserved(self) -> list[int]:
        with self._sessions.begin() as session:
            open_attempt = (
                DialAttemptRow.callback_id.is_not(None),
                DialAttemptRow.dialled.is_(True),
                DialAttemptRow.outcome == "",
            )
            dialling = select(DialAttemptRow.callback_id).where(*open_attempt)
            found = list(
                session.scalars(
                    select(CallbackRow.id)
                    .where(CallbackRow.status == "dialing", CallbackRow.id.in_(dialling))
                    .order_by(CallbackRow.id)
                )
            )
            if found:
                session.execute(
                    update(DialAttemptRow)
                    .where(DialAttemptRow.callback_id.in_(found), *open_attempt[1:])
                    .values(outcome=UNOBSERVED)
                )
                session.execute(
                    update(CallbackRow)
                    .where(CallbackRow.id.in_(found))
                    .values(status="failed", last_outcome=UNOBSERVED)
                )
            return found

    def recent(
        self, status: str = "", limit: int = 100, mine: tuple[str, list[str]] | None = None
    ) -> list[Callback]:
        with self._sessions() as session:
            query = select(CallbackRow).order_by(CallbackRow.id.desc()).limit(limit)
            if status:
                query = query.where(CallbackRow.status == status)
            if mine is not None:
                booked_by, queues = mine
                query = query.where(
                    or_(CallbackRow.booked_by == booked_by, CallbackRow.queue.in_(queues))
                )
            return [_record(row) for row in session.scalars(query)]

    def attempt(self, attempt: Attempt) -> int:
        with self._sessions.begin() as session:
            row = DialAttemptRow(
                callback_id=attempt.callback_id,
                call_id=attempt.call_id,
                number=attempt.number,
                at=attempt.at,
                lead_local_time=attempt.local_time,
                dnc_check=attempt.dnc_check,
                hours_check=attempt.hours_check,
                dialled=attempt.dialled,
                outcome="" if attempt.dialled else "not-dialled",
            )
            session.add(row)
            session.flush()
            return row.id

    def attempt_result(self, attempt_id: int, **values: Any) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(DialAttemptRow).where(DialAttemptRow.id == attempt_id).values(**values)
            )
