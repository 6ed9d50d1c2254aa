"""The recordings table as the console and the retention job read it.

Rows are found by id or by search filters only; a row's ``path`` is handed
out as stored (relative to the recordings folder) and resolved, with its own
checks, by ``Recordings.host_path``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.models import CallRow, RecordingRow
from callcenter.core.recordings import AgentCall, Recording, RecordingFilter


def _recording(row: RecordingRow) -> Recording:
    return Recording(
        id=row.id,
        call_id=row.call_id,
        agent=row.agent,
        queue=row.queue,
        caller_number=row.caller_number,
        path=row.path,
        started_at=row.started_at,
        ended_at=row.ended_at,
        mutes=[list(m) for m in row.mutes or []],
    )


def _where(found: RecordingFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if found.since is not None:
        clauses.append(RecordingRow.started_at >= found.since)
    if found.until is not None:
        clauses.append(RecordingRow.started_at < found.until)
    if found.agent:
        clauses.append(RecordingRow.agent == found.agent)
    if found.queue:
        clauses.append(RecordingRow.queue == found.queue)
    if found.caller:
        clauses.append(RecordingRow.caller_number.contains(found.caller, autoescape=True))
    return clauses


class RecordingArchive:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def search(
        self, found: RecordingFilter, offset: int, limit: int
    ) -> tuple[list[Recording], int]:
        """One page of matches, newest first, and how many match in all."""
        clauses = _where(found)
        with self._sessions() as session:
            total = session.scalar(select(func.count(RecordingRow.id)).where(*clauses)) or 0
            rows = session.scalars(
                select(RecordingRow)
                .where(*clauses)
                .order_by(RecordingRow.started_at.desc(), RecordingRow.id.desc())
                .offset(offset)
                .limit(limit)
            )
            return [_recording(r) for r in rows], total

    def get(self, recording_id: int) -> Recording | None:
        with self._sessions() as session:
            row = session.get(RecordingRow, recording_id)
            return _recording(row) if row is not None else None

    def facets(self) -> dict[str, list[str]]:
        """The agents and queues that have recordings (for the search form)."""
        with self._sessions() as session:
            out: dict[str, list[str]] = {}
            for name, column in (("agents", RecordingRow.agent), ("queues", RecordingRow.queue)):
                values = session.scalars(select(column).distinct().order_by(column))
                out[name] = [v for v in values if v]
            return out

    # -- retention -------------------------------------------------------------------------
    def started_before(self, cutoff: float, limit: int) -> list[Recording]:
        with self._sessions() as session:
            rows = session.scalars(
                select(RecordingRow)
                .where(RecordingRow.started_at < cutoff)
                .order_by(RecordingRow.id)
                .limit(limit)
            )
            return [_recording(r) for r in rows]

    def delete(self, ids: Iterable[int]) -> int:
        wanted = list(ids)
        if not wanted:
            return 0
        with self._sessions.begin() as session:
            result: Any = session.execute(delete(RecordingRow).where(RecordingRow.id.in_(wanted)))
            return int(result.rowcount or 0)

    def referenced(self, paths: Iterable[str]) -> set[str]:
        """Which of these relative paths a recordings row still points to."""
        wanted = list(paths)
        if not wanted:
            return set()
        with self._sessions() as session:
            return set(
                session.scalars(select(RecordingRow.path).where(RecordingRow.path.in_(wanted)))
            )

    # -- an agent's calls --------------------------------------------------------------------
    def agent_calls(self, agent: str, since: float, limit: int = 500) -> list[AgentCall]:
        """Calls the agent answered or was offered since ``since``, newest first."""
        with self._sessions() as session:
            recordings = (
                select(RecordingRow.call_id, func.max(RecordingRow.id).label("rid"))
                .group_by(RecordingRow.call_id)
                .subquery()
            )
            rows = session.execute(
                select(CallRow, recordings.c.rid)
                .outerjoin(recordings, recordings.c.call_id == CallRow.id)
                .where(CallRow.agent == agent, CallRow.entered_at >= since)
                .order_by(CallRow.entered_at.desc())
                .limit(limit)
            )
            return [
                AgentCall(
                    call_id=call.id,
                    entered_at=call.entered_at,
                    answered_at=call.answered_at,
                    ended_at=call.ended_at,
                    caller_number=call.caller_number,
                    caller_name=call.caller_name,
                    queue=call.queue,
                    outcome=call.outcome,
                    wait_seconds=call.wait_seconds,
                    talk_seconds=call.talk_seconds,
                    disposition=call.disposition,
                    recording_id=rid,
                )
                for call, rid in rows
            ]
