"""The voicemails table: messages found in the spool, and what the console did with them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.models import CallRow, VoicemailRow
from callcenter.core.voicemail import HANDLED, NEW, OPEN, TAKEN, LeftMessage, Voicemail


def _voicemail(row: VoicemailRow, ivr_path: list[Any] | None) -> Voicemail:
    return Voicemail(
        id=row.id,
        msg_id=row.msg_id,
        box=row.box,
        queue=row.queue,
        call_id=row.call_id,
        caller_number=row.caller_number,
        caller_name=row.caller_name,
        left_at=row.left_at,
        duration=row.duration,
        path=row.path,
        status=row.status,
        owner=row.owner,
        handled_by=row.handled_by,
        handled_at=row.handled_at,
        callback_id=row.callback_id,
        ivr_path=list(ivr_path or []),
    )


class VoicemailRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def known(self, msg_ids: Iterable[str]) -> set[str]:
        wanted = list(msg_ids)
        if not wanted:
            return set()
        with self._sessions() as session:
            return set(
                session.scalars(select(VoicemailRow.msg_id).where(VoicemailRow.msg_id.in_(wanted)))
            )

    def add(self, message: LeftMessage, queue: str, path: str) -> int:
        """Store a message found in the spool (its queue: the call's, else the box's)."""
        with self._sessions.begin() as session:
            if message.call_id:
                call_queue = session.scalar(
                    select(CallRow.queue).where(CallRow.id == message.call_id)
                )
                queue = call_queue or queue
            row = VoicemailRow(
                msg_id=message.msg_id,
                box=message.box,
                queue=queue,
                call_id=message.call_id,
                caller_number=message.caller_number,
                caller_name=message.caller_name,
                left_at=message.left_at,
                duration=message.duration,
                path=path,
                status=NEW,
                owner="",
                handled_by="",
            )
            session.add(row)
            session.flush()
            return row.id

    def search(
        self, queues: list[str] | None, queue: str = "", status: str = "", limit: int = 200
    ) -> list[Voicemail]:
        """Newest first; ``queues`` limits to those queues (None: all)."""
        clauses: list[ColumnElement[bool]] = []
        if queues is not None:
            clauses.append(VoicemailRow.queue.in_(queues))
        if queue:
            clauses.append(VoicemailRow.queue == queue)
        if status == OPEN:
            clauses.append(VoicemailRow.status != HANDLED)
        elif status:
            clauses.append(VoicemailRow.status == status)
        with self._sessions() as session:
            rows = session.execute(
                select(VoicemailRow, CallRow.ivr_path)
                .outerjoin(CallRow, CallRow.id == VoicemailRow.call_id)
                .where(*clauses)
                .order_by(VoicemailRow.left_at.desc(), VoicemailRow.id.desc())
                .limit(limit)
            )
            return [_voicemail(row, ivr) for row, ivr in rows]

    def get(self, voicemail_id: int) -> Voicemail | None:
        with self._sessions() as session:
            found = session.execute(
                select(VoicemailRow, CallRow.ivr_path)
                .outerjoin(CallRow, CallRow.id == VoicemailRow.call_id)
                .where(VoicemailRow.id == voicemail_id)
            ).first()
            return _voicemail(found[0], found[1]) if found is not None else None

    def take(self, voicemail_id: int, who: str) -> bool:
        """Make it ``who``'s, unless someone else took it or it is handled (atomic)."""
        with self._sessions.begin() as session:
            result: Any = session.execute(
                update(VoicemailRow)
                .where(
                    VoicemailRow.id == voicemail_id,
                    or_(
                        VoicemailRow.status == NEW,
                        (VoicemailRow.status == TAKEN) & (VoicemailRow.owner == who),
                    ),
                )
                .values(status=TAKEN, owner=who)
            )
            return bool(result.rowcount)

    def handled(self, voicemail_id: int, who: str, at: float) -> None:
        self._set(voicemail_id, status=HANDLED, handled_by=who, handled_at=at)

    def called_back(self, voicemail_id: int, callback_id: int) -> None:
        self._set(voicemail_id, callback_id=callback_id)

    def _set(self, voicemail_id: int, **values: Any) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(VoicemailRow).where(VoicemailRow.id == voicemail_id).values(**values)
            )

    def left_between(self, since: float, until: float, limit: int = 100_000) -> list[Voicemail]:
        with self._sessions() as session:
            rows = session.scalars(
                select(VoicemailRow)
                .where(VoicemailRow.left_at >= since, VoicemailRow.left_at < until)
                .order_by(VoicemailRow.left_at)
                .limit(limit)
            )
            return [_voicemail(r, None) for r in rows]

    # -- retention -------------------------------------------------------------------------
    def left_before(self, cutoff: float, limit: int) -> list[Voicemail]:
        with self._sessions() as session:
            rows = session.scalars(
                select(VoicemailRow)
                .where(VoicemailRow.left_at < cutoff)
                .order_by(VoicemailRow.id)
                .limit(limit)
            )
            return [_voicemail(r, None) for r in rows]

    def delete(self, ids: Iterable[int]) -> int:
        wanted = list(ids)
        if not wanted:
            return 0
        with self._sessions.begin() as session:
            result: Any = session.execute(delete(VoicemailRow).where(VoicemailRow.id.in_(wanted)))
            return int(result.rowcount or 0)
