"""Call records: every domain event becomes rows in the database.

Writes happen on a writer thread with its own queue, so the event loop never
waits on the database. If the database goes away, the writer keeps the
events, retries with backoff and logs; nothing is dropped while the
controller lives.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.models import (
    AgentStateLogRow,
    AgentStatusRow,
    CallEventRow,
    CallRow,
    RecordingRow,
    WaitEstimateRow,
)
from callcenter.core import events as ev

log = logging.getLogger(__name__)

BATCH = 200


class RecordWriter:
    def __init__(self, sessions: sessionmaker[Session], recordings_dir: str = "") -> None:
        self._sessions = sessions
        self._queue: queue.SimpleQueue[ev.Event | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="record-writer", daemon=True)
        self._idle = threading.Event()
        self._idle.set()
        self.recordings_dir = recordings_dir
        self.written = 0
        self.failures = 0
        self._handlers: dict[type[ev.Event], Callable[[Session, Any], None]] = {
            ev.CallEntered: self._entered,
            ev.IvrFinished: self._ivr,
            ev.CallQueued: self._queued,
            ev.WaitAnnounced: self._announced,
            ev.CallOffered: self._offered,
            ev.CallRingNoAnswer: self._no_answer,
            ev.CallAnswered: self._answered,
            ev.CallAbandoned: self._abandoned,
            ev.CallOverflowed: self._overflowed,
            ev.CallCompleted: self._completed,
            ev.CallEnded: self._ended,
            ev.CallFellBack: self._fell_back,
            ev.AgentStateChanged: self._agent,
            ev.RecordingStarted: self._recording_started,
            ev.RecordingMuted: self._recording_muted,
            ev.RecordingStopped: self._recording_stopped,
            ev.CallDataChanged: self._data_changed,
            ev.CallbackRequested: self._callback_requested,
            ev.CallbackAttempted: self._callback_attempted,
        }

    # -- life ------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def submit(self, event: ev.Event) -> None:
        if type(event) in self._handlers:
            self._idle.clear()
            self._queue.put(event)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far is written (tests, shutdown)."""
        return self._idle.wait(timeout)

    def _run(self) -> None:
        delay = 0.5
        pending: list[ev.Event] = []
        while True:
            if not pending:
                if self._queue.empty():
                    self._idle.set()
                item = self._queue.get()
                if item is None:
                    return
                pending.append(item)
            while len(pending) < BATCH and not self._queue.empty():
                item = self._queue.get()
                if item is None:
                    self._write(pending)
                    return
                pending.append(item)
            if self._write(pending):
                pending = []
                delay = 0.5
            else:
                time.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _write(self, batch: list[ev.Event]) -> bool:
        try:
            with self._sessions.begin() as session:
                for event in batch:
                    self._handlers[type(event)](session, event)
                    session.flush()
        except SQLAlchemyError as exc:
            self.failures += 1
            log.error(
                "call records: database write failed (%s); %d events kept for retry",
                type(exc).__name__,
                len(batch),
            )
            return False
        self.written += len(batch)
        return True

    # -- one handler per event ---------------------------------------------------------
    @staticmethod
    def _event(
        session: Session, call_id: str, at: float, kind: str, agent: str = "", **detail: Any
    ) -> None:
        session.add(CallEventRow(call_id=call_id, at=at, kind=kind, agent=agent, detail=detail))

    @staticmethod
    def _call(session: Session, call_id: str, **values: Any) -> None:
        session.execute(update(CallRow).where(CallRow.id == call_id).values(**values))

    def _entered(self, session: Session, e: ev.CallEntered) -> None:
        session.add(
            CallRow(
                id=e.call_id,
                unique_id=e.unique_id,
                caller_number=e.caller,
                caller_name=e.caller_name,
                dialled=e.dialled,
                flow=e.flow,
                entered_at=e.at,
                ivr_path=[],
                data={},
                requirements={},
            )
        )
        self._event(session, e.call_id, e.at, "entered", caller=e.caller, dialled=e.dialled)

    def _ivr(self, session: Session, e: ev.IvrFinished) -> None:
        self._call(
            session, e.call_id, ivr_path=list(e.path), data=dict(e.data), customer_id=e.customer_id
        )
        if e.outcome != "queued":
            self._call(session, e.call_id, outcome=f"ivr-{e.outcome}")
        self._event(session, e.call_id, e.at, "ivr", path=list(e.path), outcome=e.outcome)

    def _queued(self, session: Session, e: ev.CallQueued) -> None:
        call = session.get(CallRow, e.call_id)
        if call is not None:
            call.queue, call.priority, call.requirements = e.queue, e.priority, e.extra
            call.enqueued_at = call.enqueued_at or e.at
        session.add(
            WaitEstimateRow(
                call_id=e.call_id,
                queue=e.queue,
                at=e.at,
                position=e.position,
                estimate_seconds=e.estimate,
            )
        )
        self._event(
            session,
            e.call_id,
            e.at,
            "queued",
            queue=e.queue,
            priority=e.priority,
            position=e.position,
            estimate=e.estimate,
        )

    def _announced(self, session: Session, e: ev.WaitAnnounced) -> None:
        session.add(
            WaitEstimateRow(
                call_id=e.call_id,
                queue=e.queue,
                at=e.at,
                position=e.position,
                estimate_seconds=e.estimate,
            )
        )

    def _offered(self, session: Session, e: ev.CallOffered) -> None:
        self._call(session, e.call_id, offers=CallRow.offers + 1, agent=e.agent)
        self._event(session, e.call_id, e.at, "offered", e.agent, queue=e.queue)

    def _no_answer(self, session: Session, e: ev.CallRingNoAnswer) -> None:
        self._event(
            session,
            e.call_id,
            e.at,
            "ring-no-answer",
            e.agent,
            ring_seconds=round(e.ring_seconds, 3),
            status=e.status,
        )

    def _answered(self, session: Session, e: ev.CallAnswered) -> None:
        self._call(session, e.call_id, answered_at=e.at, agent=e.agent, wait_seconds=e.wait)
        session.execute(
            update(WaitEstimateRow)
            .where(WaitEstimateRow.call_id == e.call_id)
            .values(actual_seconds=e.at - WaitEstimateRow.at)
        )
        self._event(
            session,
            e.call_id,
            e.at,
            "answered",
            e.agent,
            queue=e.queue,
            wait=round(e.wait, 3),
            ring_seconds=round(e.ring_seconds, 3),
        )

    def _abandoned(self, session: Session, e: ev.CallAbandoned) -> None:
        self._call(session, e.call_id, outcome="abandoned", wait_seconds=e.wait)
        self._event(
            session,
            e.call_id,
            e.at,
            "abandoned",
            e.while_ringing,
            queue=e.queue,
            wait=round(e.wait, 3),
            position=e.position,
        )

    def _overflowed(self, session: Session, e: ev.CallOverflowed) -> None:
        if e.action != "queue":
            self._call(session, e.call_id, outcome=f"{e.reason}-{e.action}", wait_seconds=e.wait)
        self._event(
            session,
            e.call_id,
            e.at,
            "overflow",
            queue=e.queue,
            reason=e.reason,
            action=e.action,
            target=e.target,
            wait=round(e.wait, 3),
        )

    def _completed(self, session: Session, e: ev.CallCompleted) -> None:
        self._call(session, e.call_id, outcome="completed", talk_seconds=e.talk)
        self._event(
            session,
            e.call_id,
            e.at,
            "completed",
            e.agent,
            talk=round(e.talk, 3),
            ended_by=e.ended_by,
        )

    def _ended(self, session: Session, e: ev.CallEnded) -> None:
        call = session.get(CallRow, e.call_id)
        if call is None:
            return
        call.ended_at = e.at
        if not call.outcome:
            call.outcome = {"ivr": "ivr-hangup", "waiting": "abandoned"}.get(e.outcome, e.outcome)
        self._event(session, e.call_id, e.at, "ended", outcome=call.outcome)

    def _fell_back(self, session: Session, e: ev.CallFellBack) -> None:
        self._call(session, e.call_id, outcome="fallback")
        self._event(session, e.call_id, e.at, "fallback", reason=e.reason)

    def _agent(self, session: Session, e: ev.AgentStateChanged) -> None:
        row = session.get(AgentStatusRow, e.agent)
        if row is None:
            row = AgentStatusRow(agent=e.agent, state=e.state, since=e.at)
            session.add(row)
        row.state, row.reason, row.since, row.call_id = e.state, e.reason, e.at, e.call_id
        if e.previous == "wrap_up" and e.call_id:
            # Wrap-up belongs to the call it followed (AHT = talk + wrap-up).
            self._call(session, e.call_id, wrapup_seconds=e.previous_seconds)
            self._event(
                session, e.call_id, e.at, "wrapup", e.agent, seconds=round(e.previous_seconds, 3)
            )
        session.add(
            AgentStateLogRow(
                agent=e.agent, state=e.state, reason=e.reason, at=e.at, call_id=e.call_id
            )
        )

    def _recording_started(self, session: Session, e: ev.RecordingStarted) -> None:
        session.add(
            RecordingRow(
                call_id=e.call_id,
                agent=e.agent,
                queue=e.queue,
                path=e.path,
                caller_number=e.caller,
                started_at=e.at,
                mutes=[],
            )
        )

    def _recording_muted(self, session: Session, e: ev.RecordingMuted) -> None:
        row = self._recording(session, e.call_id)
        if row is None:
            return
        offset = round(e.at - row.started_at, 3)
        mutes = [list(m) for m in row.mutes]
        if e.muted:
            mutes.append([offset, None])
        elif mutes and mutes[-1][1] is None:
            mutes[-1][1] = offset
        row.mutes = mutes
        self._event(session, e.call_id, e.at, "recording-muted" if e.muted else "recording-resumed")

    def _recording_stopped(self, session: Session, e: ev.RecordingStopped) -> None:
        row = self._recording(session, e.call_id)
        if row is None or row.ended_at is not None:
            return
        row.ended_at = e.at
        offset = round(e.at - row.started_at, 3)
        if row.mutes and row.mutes[-1][1] is None:
            row.mutes = [*row.mutes[:-1], [row.mutes[-1][0], offset]]

    def _callback_requested(self, session: Session, e: ev.CallbackRequested) -> None:
        if not e.call_id:
            return  # booked with no call to follow up: the callbacks table is its record
        call = session.get(CallRow, e.call_id)
        if call is not None and e.kind == "keep-place":
            call.data = {**(call.data or {}), "callback": e.kind, "callback.number": e.number}
        self._event(
            session,
            e.call_id,
            e.at,
            "callback",
            callback_id=e.callback_id,
            callback_kind=e.kind,
            number=e.number,
            due_at=e.due_at,
            booked_by=e.booked_by,
        )

    def _callback_attempted(self, session: Session, e: ev.CallbackAttempted) -> None:
        session.execute(
            update(CallRow)
            .where(CallRow.id == e.call_id, CallRow.flow == "callback")
            .values(direction="callback")
        )
        self._event(
            session,
            e.call_id,
            e.at,
            "callback-attempt",
            e.agent,
            callback_id=e.callback_id,
            attempt=e.attempt,
            outcome=e.outcome,
            next_status=e.next_status,
            retry_at=e.retry_at,
        )

    def _data_changed(self, session: Session, e: ev.CallDataChanged) -> None:
        allowed = {k: v for k, v in e.changes.items() if k in ("disposition", "notes")}
        if allowed:
            self._call(session, e.call_id, **allowed)
        self._event(session, e.call_id, e.at, "data", **e.changes)

    @staticmethod
    def _recording(session: Session, call_id: str) -> RecordingRow | None:
        return session.scalars(
            select(RecordingRow)
            .where(RecordingRow.call_id == call_id)
            .order_by(RecordingRow.id.desc())
        ).first()
