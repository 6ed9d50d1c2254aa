"""Call records: every domain event becomes rows in the database.

Writes happen on a writer thread with its own queue, so the event loop never
waits on the database. If the database goes away, the writer keeps the
events, retries with backoff and logs; nothing is dropped while the
controller lives.

The writer shares the interpreter (and its lock) with the event loop, so it
is kept cheap: SQL Core statements on one connection per batch of events, no
ORM objects; rows nothing in the batch reads back (call events, wait
estimates, the agent state log, new calls) are gathered and sent with one
executemany per table, before any statement that touches that table, so every
table sees its rows in the events' order (records_rows.py).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.records_rows import KEY, Rows, by_key, table
from callcenter.core import events as ev

log = logging.getLogger(__name__)

BATCH = 200

CALLS = table("calls")
EVENTS = table("call_events")
WAITS = table("wait_estimates")
STATUS = table("agent_status")
STATE_LOG = table("agent_state_log")
RECORDINGS = table("recordings")
# Gathered (rows.add) and sent at the end in this order: calls first, their rows after.
GATHERED = (CALLS, EVENTS, WAITS, STATE_LOG)

# Changes that read the row they change; the rest are plain Rows.update.
_FIRST = CALLS.c.enqueued_at
QUEUED = by_key(CALLS, "id").values(
    enqueued_at=case((_FIRST.is_(None) | (_FIRST == 0), bindparam("at_")), else_=_FIRST)
)
OFFERED = by_key(CALLS, "id").values(offers=CALLS.c.offers + 1)
ANSWERED = by_key(WAITS, "call_id").values(actual_seconds=bindparam("at_") - WAITS.c.at)


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
        self._handlers: dict[type[ev.Event], Callable[[Rows, Any], None]] = {
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
                rows = Rows(session.connection(), GATHERED)
                for event in batch:
                    self._handlers[type(event)](rows, event)
                rows.finish()
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
        rows: Rows, call_id: str, at: float, kind: str, agent: str = "", **detail: Any
    ) -> None:
        rows.add(EVENTS, call_id=call_id, at=at, kind=kind, agent=agent, detail=detail)

    @staticmethod
    def _call(rows: Rows, call_id: str, **values: Any) -> None:
        rows.update(CALLS, "id", call_id, **values)

    @staticmethod
    def _call_column(rows: Rows, call_id: str, column: str) -> tuple[bool, Any]:
        """(whether the call's row exists, its ``column``)."""
        found = rows.execute(CALLS, select(CALLS.c[column]).where(CALLS.c.id == call_id)).first()
        return (False, None) if found is None else (True, found[0])

    @staticmethod
    def _wait_estimate(rows: Rows, e: ev.CallQueued | ev.WaitAnnounced) -> None:
        rows.add(
            WAITS,
            call_id=e.call_id,
            queue=e.queue,
            at=e.at,
            position=e.position,
            estimate_seconds=e.estimate,
        )

    def _entered(self, rows: Rows, e: ev.CallEntered) -> None:
        rows.add(
            CALLS,
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
        self._event(rows, e.call_id, e.at, "entered", caller=e.caller, dialled=e.dialled)

    def _ivr(self, rows: Rows, e: ev.IvrFinished) -> None:
        values: dict[str, Any] = {
            "ivr_path": list(e.path),
            "data": dict(e.data),
            "customer_id": e.customer_id,
        }
        if e.outcome != "queued":
            values["outcome"] = f"ivr-{e.outcome}"
        self._call(rows, e.call_id, **values)
        self._event(rows, e.call_id, e.at, "ivr", path=list(e.path), outcome=e.outcome)

    def _queued(self, rows: Rows, e: ev.CallQueued) -> None:
        # The first time queued stays (a transfer to another queue keeps it).
        rows.execute(
            CALLS,
            QUEUED,
            {
                KEY: e.call_id,
                "at_": e.at,
                "queue": e.queue,
                "priority": e.priority,
                "requirements": e.extra,
            },
        )
        self._wait_estimate(rows, e)
        self._event(
            rows,
            e.call_id,
            e.at,
            "queued",
            queue=e.queue,
            priority=e.priority,
            position=e.position,
            estimate=e.estimate,
        )

    def _announced(self, rows: Rows, e: ev.WaitAnnounced) -> None:
        self._wait_estimate(rows, e)

    def _offered(self, rows: Rows, e: ev.CallOffered) -> None:
        rows.execute(CALLS, OFFERED, {KEY: e.call_id, "agent": e.agent})
        self._event(rows, e.call_id, e.at, "offered", e.agent, queue=e.queue)

    def _no_answer(self, rows: Rows, e: ev.CallRingNoAnswer) -> None:
        self._event(
            rows,
            e.call_id,
            e.at,
            "ring-no-answer",
            e.agent,
            ring_seconds=round(e.ring_seconds, 3),
            status=e.status,
        )

    def _answered(self, rows: Rows, e: ev.CallAnswered) -> None:
        self._call(rows, e.call_id, answered_at=e.at, agent=e.agent, wait_seconds=e.wait)
        rows.execute(WAITS, ANSWERED, {KEY: e.call_id, "at_": e.at})
        self._event(
            rows,
            e.call_id,
            e.at,
            "answered",
            e.agent,
            queue=e.queue,
            wait=round(e.wait, 3),
            ring_seconds=round(e.ring_seconds, 3),
        )

    def _abandoned(self, rows: Rows, e: ev.CallAbandoned) -> None:
        self._call(rows, e.call_id, outcome="abandoned", wait_seconds=e.wait)
        self._event(
            rows,
            e.call_id,
            e.at,
            "abandoned",
            e.while_ringing,
            queue=e.queue,
            wait=round(e.wait, 3),
            position=e.position,
        )

    def _overflowed(self, rows: Rows, e: ev.CallOverflowed) -> None:
        if e.action != "queue":
            self._call(rows, e.call_id, outcome=f"{e.reason}-{e.action}", wait_seconds=e.wait)
        self._event(
            rows,
            e.call_id,
            e.at,
            "overflow",
            queue=e.queue,
            reason=e.reason,
            action=e.action,
            target=e.target,
            wait=round(e.wait, 3),
        )

    def _completed(self, rows: Rows, e: ev.CallCompleted) -> None:
        self._call(rows, e.call_id, outcome="completed", talk_seconds=e.talk)
        self._event(
            rows,
            e.call_id,
            e.at,
            "completed",
            e.agent,
            talk=round(e.talk, 3),
            ended_by=e.ended_by,
        )

    def _ended(self, rows: Rows, e: ev.CallEnded) -> None:
        found, outcome = self._call_column(rows, e.call_id, "outcome")
        if not found:
            return
        values: dict[str, Any] = {"ended_at": e.at}
        if not outcome:
            outcome = {"ivr": "ivr-hangup", "waiting": "abandoned"}.get(e.outcome, e.outcome)
            values["outcome"] = outcome
        self._call(rows, e.call_id, **values)
        self._event(rows, e.call_id, e.at, "ended", outcome=outcome)

    def _fell_back(self, rows: Rows, e: ev.CallFellBack) -> None:
        self._call(rows, e.call_id, outcome="fallback")
        self._event(rows, e.call_id, e.at, "fallback", reason=e.reason)

    def _agent(self, rows: Rows, e: ev.AgentStateChanged) -> None:
        now = {"state": e.state, "reason": e.reason, "since": e.at, "call_id": e.call_id}
        changed = rows.update(STATUS, "agent", e.agent, **now)
        if changed.rowcount == 0:
            rows.execute(STATUS, STATUS.insert().values(agent=e.agent, **now))
        if e.previous == "wrap_up" and e.call_id:
            # Wrap-up belongs to the call it followed (AHT = talk + wrap-up).
            self._call(rows, e.call_id, wrapup_seconds=e.previous_seconds)
            self._event(
                rows, e.call_id, e.at, "wrapup", e.agent, seconds=round(e.previous_seconds, 3)
            )
        rows.add(
            STATE_LOG, agent=e.agent, state=e.state, reason=e.reason, at=e.at, call_id=e.call_id
        )

    def _recording_started(self, rows: Rows, e: ev.RecordingStarted) -> None:
        rows.execute(
            RECORDINGS,
            RECORDINGS.insert().values(
                call_id=e.call_id,
                agent=e.agent,
                queue=e.queue,
                path=e.path,
                caller_number=e.caller,
                started_at=e.at,
                mutes=[],
            ),
        )

    def _recording_muted(self, rows: Rows, e: ev.RecordingMuted) -> None:
        row = self._recording(rows, e.call_id)
        if row is None:
            return
        offset = round(e.at - row.started_at, 3)
        mutes = [list(m) for m in row.mutes]
        if e.muted:
            mutes.append([offset, None])
        elif mutes and mutes[-1][1] is None:
            mutes[-1][1] = offset
        self._set_recording(rows, row.id, mutes=mutes)
        self._event(rows, e.call_id, e.at, "recording-muted" if e.muted else "recording-resumed")

    def _recording_stopped(self, rows: Rows, e: ev.RecordingStopped) -> None:
        row = self._recording(rows, e.call_id)
        if row is None or row.ended_at is not None:
            return
        values: dict[str, Any] = {"ended_at": e.at}
        offset = round(e.at - row.started_at, 3)
        if row.mutes and row.mutes[-1][1] is None:
            values["mutes"] = [*row.mutes[:-1], [row.mutes[-1][0], offset]]
        self._set_recording(rows, row.id, **values)

    def _callback_requested(self, rows: Rows, e: ev.CallbackRequested) -> None:
        if not e.call_id:
            return  # booked with no call to follow up: the callbacks table is its record
        found, data = self._call_column(rows, e.call_id, "data")
        if found and e.kind == "keep-place":
            self._call(
                rows,
                e.call_id,
                data={**(data or {}), "callback": e.kind, "callback.number": e.number},
            )
        self._event(
            rows,
            e.call_id,
            e.at,
            "callback",
            callback_id=e.callback_id,
            callback_kind=e.kind,
            number=e.number,
            due_at=e.due_at,
            booked_by=e.booked_by,
        )

    def _callback_attempted(self, rows: Rows, e: ev.CallbackAttempted) -> None:
        rows.execute(
            CALLS,
            update(CALLS)
            .where(CALLS.c.id == e.call_id, CALLS.c.flow == "callback")
            .values(direction="callback"),
        )
        self._event(
            rows,
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

    def _data_changed(self, rows: Rows, e: ev.CallDataChanged) -> None:
        allowed = {k: v for k, v in e.changes.items() if k in ("disposition", "notes")}
        if allowed:
            self._call(rows, e.call_id, **allowed)
        self._event(rows, e.call_id, e.at, "data", **e.changes)

    @staticmethod
    def _recording(rows: Rows, call_id: str) -> Any:
        """The call's latest recording row (id, started_at, ended_at, mutes), or None."""
        r = RECORDINGS.c
        return rows.execute(
            RECORDINGS,
            select(r.id, r.started_at, r.ended_at, r.mutes)
            .where(r.call_id == call_id)
            .order_by(r.id.desc()),
        ).first()

    @staticmethod
    def _set_recording(rows: Rows, recording_id: int, **values: Any) -> None:
        rows.update(RECORDINGS, "id", recording_id, **values)
