"""Call records: every domain event becomes rows in the database.

Writes happen on a writer thread with its own queue, so the event loop never
waits on the database, and calls are routed from memory whatever the database
does. If the database goes away (stopped, unreachable, its disk full), the
writer keeps the events, retries with a backoff and writes them in order once
it can: nothing is dropped, nothing written twice.

- A batch is one transaction: one that fails is rolled back and retried whole.
  Each transaction also records the number of its last event
  (``records_progress``); after a failure the writer first reads that number
  back and skips the events written already (a commit can succeed and still be
  answered by an error; call_events and the state log, keyed by autoincrement
  ids, would otherwise get rows twice).
- What waits is held in bounded memory (records_held.py): past ``memory``
  events they spill to a journal file (records_journal.py); with no journal to
  spill to (its disk is the full one), memory holds up to ``cap`` events and
  newer ones are dropped, logged and counted: the only loss.
- ``backlog()`` tells how far behind the records are (the RecordsLag port: the
  wallboard, GET /api/health); the first failure of an outage is logged with
  what to do, then a reminder every minute, then the catch-up.
- At stop, what the database still has not taken is kept in the journal and
  written first at the next start.

The writer shares the interpreter (and its lock) with the event loop, so it
is kept cheap: SQL Core statements on one connection per batch of events, no
ORM objects; rows nothing in the batch reads back (call events, wait
estimates, the agent state log, new calls) are gathered and sent with one
executemany per table, before any statement that touches that table, so every
table sees its rows in the events' order (records_rows.py).
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, case, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.failures import Failure, describe
from callcenter.adapters.db.records_held import HeldEvents
from callcenter.adapters.db.records_journal import Item, Journal
from callcenter.adapters.db.records_rows import KEY, Rows, by_key, insert_into, table
from callcenter.core import events as ev
from callcenter.core.records_backlog import RecordsBacklog

log = logging.getLogger(__name__)

BATCH = 200
# After the first event of a quiet spell, the writer waits this long for more before it
# writes: under load a transaction then carries the events of several calls (its
# begin, progress row and commit, and one executemany per gathered table, shared)
# rather than two or three transactions per call. Records are this much later.
LINGER = 0.05
MEMORY = 200_000  # events held in memory before the journal takes the newer ones
CAP = 500_000  # events held in memory when there is no journal to spill to
RETRY_FIRST = 0.5  # seconds before the first retry, doubled up to RETRY_MOST
RETRY_MOST = 5.0
REMIND_EVERY = 60.0  # an outage that goes on is logged again this often
NOTICE_EVERY = 1.0  # watchers hear of a backlog's progress at most this often

CALLS = table("calls")
EVENTS = table("call_events")
WAITS = table("wait_estimates")
STATUS = table("agent_status")
STATE_LOG = table("agent_state_log")
RECORDINGS = table("recordings")
PROGRESS = table("records_progress")
SURVEYS = table("survey_results")
# Gathered (rows.add) and sent at the end in this order: calls first, their rows after.
GATHERED = (CALLS, EVENTS, WAITS, STATE_LOG, SURVEYS)

# Changes that read the row they change; the rest are plain Rows.update.
_FIRST = CALLS.c.enqueued_at
QUEUED = by_key(CALLS, "id").values(
    enqueued_at=case((_FIRST.is_(None) | (_FIRST == 0), bindparam("at_")), else_=_FIRST)
)
OFFERED = by_key(CALLS, "id").values(offers=CALLS.c.offers + 1)
ANSWERED = by_key(WAITS, "call_id").values(actual_seconds=bindparam("at_") - WAITS.c.at)
# Reads, built once (see records_rows.py).
CALL_COLUMN = {
    column: select(CALLS.c[column]).where(CALLS.c.id == bindparam(KEY))
    for column in ("outcome", "data")
}
_R = RECORDINGS.c
LATEST_RECORDING = (
    select(_R.id, _R.started_at, _R.ended_at, _R.mutes)
    .where(_R.call_id == bindparam(KEY))
    .order_by(_R.id.desc())
    .limit(1)
)


class RecordWriter:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        recordings_dir: str = "",
        *,
        memory: int = MEMORY,
        cap: int = CAP,
        journal: Path | None = None,
        clock: Callable[[], float] = time.time,
        linger: float = LINGER,
    ) -> None:
        """``journal``: the file events past ``memory`` spill to (None: memory only,
        up to ``cap``)."""
        self._sessions = sessions
        self.id = secrets.token_hex(8)  # this run's writer, in records_progress
        self._queue: queue.SimpleQueue[ev.Event | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="record-writer", daemon=True)
        self._held = HeldEvents(memory, cap, Journal(journal) if journal is not None else None)
        self._seq = 0
        self._clock = clock
        self.linger = linger
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._submitted = 0  # events of this run submitted ...
        self._settled = 0  # ... and written (or dropped)
        self._since: float | None = None  # the outage's first failure
        self._error = ""
        self._kind = ""  # the kind of the last failure (adapters/db/failures.py)
        self._watchers: list[Callable[[], None]] = []
        self._stop_by = float("inf")
        self._logged = 0.0  # monotonic time of the last outage log line
        self._noticed = 0.0  # ... and of the last notice to the watchers
        self._dropped_logged = 0
        self._caught = 0  # events written since the outage began
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
            ev.CallHeld: self._on_hold,
            ev.CallResumed: self._resumed,
            ev.CallTransferred: self._transferred,
            ev.CallSegmentEnded: self._segment,
            ev.CallFellBack: self._fell_back,
            ev.AgentStateChanged: self._agent,
            ev.RecordingStarted: self._recording_started,
            ev.RecordingMuted: self._recording_muted,
            ev.RecordingStopped: self._recording_stopped,
            ev.CallDataChanged: self._data_changed,
            ev.CallbackRequested: self._callback_requested,
            ev.CallbackAttempted: self._callback_attempted,
            ev.SurveyFinished: self._survey,
        }

    # -- life ------------------------------------------------------------------------
    def start(self) -> None:
        journal = self._held.journal
        if journal is not None and journal.open_existing():
            log.warning(
                "call records: %d events an earlier run could not write (%s) are written first",
                journal.unread,
                journal.path,
            )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is held (trying until ``timeout``); what the database still has
        not taken then is kept in the journal for the next start."""
        self._stop_by = time.monotonic() + max(0.0, timeout - 1.0)
        self._queue.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("call records: the writer did not finish within %.0f s", timeout)

    def submit(self, event: ev.Event) -> None:
        if type(event) in self._handlers:
            with self._lock:
                self._submitted += 1
            self._queue.put(event)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far is written (tests, shutdown)."""
        with self._changed:
            target = self._submitted
            return self._changed.wait_for(lambda: self._settled >= target, timeout)

    # -- how far behind ----------------------------------------------------------------
    def backlog(self) -> RecordsBacklog:
        """The RecordsLag port: read from any thread, never waits for the database."""
        with self._lock:
            since, error = self._since, self._error
        return RecordsBacklog(
            waiting=self._queue.qsize() + len(self._held),
            behind_since=since,
            last_error=error,
            journal=self._held.in_journal,
            dropped=self._held.dropped,
        )

    def on_change(self, watcher: Callable[[], None]) -> None:
        """``watcher()`` (on the writer's thread) when the backlog changes: falling behind,
        catching up, and while behind at most once a second."""
        self._watchers.append(watcher)

    # -- the writer's thread -------------------------------------------------------------
    def _run(self) -> None:
        stopping = False
        failed = False  # the last write failed: what did the database keep?
        delay = RETRY_FIRST
        while True:
            if not len(self._held):
                if stopping:
                    self._finished()
                    return
                stopping = self._take(self._queue.get()) or self._linger()
            stopping = self._take_queued() or stopping
            batch = self._held.oldest(BATCH)
            if not batch:
                continue
            if self._write(batch, failed or any(w != self.id for w, _, _ in batch)):
                self._held.forget(len(batch))
                self._written(batch)
                failed, delay = False, RETRY_FIRST
                continue
            failed = True
            if stopping and time.monotonic() >= self._stop_by:
                self._keep_for_next_run()
                return
            stopping = self._pause(delay) or stopping
            delay = min(delay * 2, RETRY_MOST)

    def _take(self, item: ev.Event | None) -> bool:
        """Hold one event from the queue; True for the stop mark."""
        if item is None:
            return True
        self._seq += 1
        if not self._held.add((self.id, self._seq, item)):
            self._settle(1)
            self._log_dropped()
        return False

    def _linger(self) -> bool:
        """Hold what arrives within LINGER (up to a batch); True if told to stop."""
        deadline = time.monotonic() + self.linger
        while len(self._held) < BATCH and (left := deadline - time.monotonic()) > 0:
            try:
                item = self._queue.get(timeout=left)
            except queue.Empty:
                return False
            if self._take(item):
                return True
        return False

    def _take_queued(self) -> bool:
        stopping = False
        while not self._queue.empty():
            stopping = self._take(self._queue.get()) or stopping
        return stopping

    def _pause(self, seconds: float) -> bool:
        """Wait before retrying, holding what arrives meanwhile; True if told to stop."""
        deadline = min(time.monotonic() + seconds, self._stop_by)
        stopping = False
        while (left := deadline - time.monotonic()) > 0:
            try:
                item = self._queue.get(timeout=left)
            except queue.Empty:
                break
            stopping = self._take(item) or stopping
        return stopping

    def _settle(self, count: int) -> None:
        with self._changed:
            self._settled += count
            self._changed.notify_all()

    def _write(self, batch: list[Item], check: bool) -> bool:
        try:
            with self._sessions.begin() as session:
                connection = session.connection()
                todo = self._not_written(connection, batch) if check else batch
                rows = Rows(connection, GATHERED)
                for _, _, event in todo:
                    self._handlers[type(event)](rows, event)
                rows.finish()
                self._mark(rows, batch)
        except Exception as exc:
            self._failed(exc)
            return False
        return True

    def _not_written(self, connection: Connection, batch: list[Item]) -> list[Item]:
        """The events of ``batch`` the database does not have (a failed commit may have
        been a commit all the same)."""
        writers = {writer for writer, _, _ in batch}
        query = select(PROGRESS.c.writer, PROGRESS.c.seq).where(PROGRESS.c.writer.in_(writers))
        done: dict[str, int] = {w: s for w, s in connection.execute(query)}
        todo = [item for item in batch if item[1] > done.get(item[0], -1)]
        if len(todo) < len(batch):
            log.warning(
                "call records: %d events were written before the failure; not written again",
                len(batch) - len(todo),
            )
        return todo

    def _mark(self, rows: Rows, batch: list[Item]) -> None:
        """Each writer's last event in ``batch``, in the same transaction."""
        last = {writer: seq for writer, seq, _ in batch}
        now = self._clock()
        for writer, seq in last.items():
            if rows.update(PROGRESS, "writer", writer, seq=seq, at=now).rowcount == 0:
                values = {"writer": writer, "seq": seq, "at": now}
                rows.execute(PROGRESS, insert_into(PROGRESS), values)

    def _written(self, batch: list[Item]) -> None:
        self.written += len(batch)
        if self._since is not None:
            self._caught += len(batch)
            if len(self._held) or not self._queue.empty():
                self._notify()
            else:
                self._caught_up(self._since)
        self._settle(sum(1 for writer, _, _ in batch if writer == self.id))

    def _caught_up(self, since: float) -> None:
        log.warning(
            "call records caught up: %d events written, %.0f s after the first failure",
            self._caught,
            self._clock() - since,
        )
        with self._lock:
            self._since, self._error = None, ""
        self._kind = ""
        self._held.spill = self._held.journal is not None
        self._notify(force=True)

    def _failed(self, exc: Exception) -> None:
        self.failures += 1
        failure = describe(exc)
        first = self._since is None
        changed = failure.kind != self._kind  # said again only if it is another trouble
        self._kind = failure.kind
        with self._lock:
            if first:
                self._since, self._caught = self._clock(), 0
            self._error = failure.text
        if failure.disk_full and self._held.spill and self._journal_on_full_disk():
            self._held.spill = False
        if first or changed:
            self._logged = time.monotonic()
            if not isinstance(exc, SQLAlchemyError):
                log.exception("call records: writing failed (a bug, not the database)")
            log.error("%s", self._explain(failure))
        elif time.monotonic() - self._logged >= REMIND_EVERY:
            self._logged = time.monotonic()
            log.warning(
                "call records still behind: %d events waiting (%d in the journal), "
                "%.0f s since the first failure; last error: %s",
                len(self._held),
                self._held.in_journal,
                self._clock() - (self._since or self._clock()),
                failure.text,
            )
        self._notify(force=first)

    # -- what the log says ---------------------------------------------------------------
    def _database(self) -> tuple[str, Path | None]:
        """How to name the database in the log; the SQLite file, if it is one."""
        url = self._sessions.kw["bind"].url
        if url.get_backend_name() == "sqlite" and url.database:
            return f"the SQLite database {url.database}", Path(url.database)
        return f"the database {url.render_as_string(hide_password=True)}", None

    def _journal_on_full_disk(self) -> bool:
        """Is the journal on the SQLite database's disk (the one that is full)?"""
        journal, (_, path) = self._held.journal, self._database()
        if journal is None or path is None:
            return False
        folder = journal.path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent  # the journal's folder is made at its first line
        try:
            return os.stat(folder).st_dev == os.stat(path.parent).st_dev
        except OSError:
            return False

    def _explain(self, failure: Failure) -> str:
        name, path = self._database()
        held = self._held
        if held.journal is None:
            kept = f"in memory (up to {held.cap} events)"
        elif held.spill:
            kept = f"in memory (up to {held.memory} events, then in {held.journal.path})"
        else:
            kept = (
                f"in memory only, up to {held.cap} events: the journal {held.journal.path} "
                "is on the same disk"
            )
        waiting = f"{len(held)} events waiting, kept {kept}"
        if failure.disk_full and path is not None:
            return (
                f"call records: {name} cannot grow, its disk is full ({failure.said}). "
                f"Free space on that disk (see: df -h {path.parent}); {waiting}, and written "
                "in order once there is room."
            )
        if failure.disk_full:
            return (
                f"call records: {name} cannot write, its disk is full ({failure.said}). "
                f"Free space on the database server's disk; {waiting}, and written in order "
                "once there is room."
            )
        return (
            f"call records: cannot write to {name} ({failure.text}); {waiting}, retried every "
            f"few seconds and written in order once it works."
        )

    def _log_dropped(self) -> None:
        dropped = self._held.dropped
        if self._dropped_logged and time.monotonic() - self._logged < REMIND_EVERY:
            return
        self._logged = time.monotonic()
        self._dropped_logged = dropped
        log.error(
            "call records: %d events held in memory, the most allowed with no journal to "
            "spill to; newer events are DROPPED (%d so far) until the database takes them",
            self._held.in_memory,
            dropped,
        )

    def _notify(self, force: bool = False) -> None:
        if not force and time.monotonic() - self._noticed < NOTICE_EVERY:
            return
        self._noticed = time.monotonic()
        for watcher in self._watchers:
            try:
                watcher()
            except Exception:
                log.exception("call records: backlog watcher %r failed", watcher)

    # -- the end -------------------------------------------------------------------------
    def _finished(self) -> None:
        """Everything written: this run's progress row is no longer needed."""
        try:
            with self._sessions.begin() as session:
                session.execute(PROGRESS.delete().where(PROGRESS.c.writer == self.id))
        except SQLAlchemyError as exc:
            log.info("call records: progress row left (%s)", describe(exc).text)

    def _keep_for_next_run(self) -> None:
        held = len(self._held)
        try:
            kept = self._held.keep_on_disk()
        except OSError as exc:
            kept = 0
            log.error("call records: the journal cannot be written (%s)", exc.strerror or exc)
        if kept:
            assert self._held.journal is not None
            log.error(
                "call records: the database is still away at stop: %d events kept in %s, "
                "written at the next start",
                kept,
                self._held.journal.path,
            )
        if held - kept:
            log.error("call records: %d events LOST at stop (no journal to keep them)", held - kept)

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
        found = rows.execute(CALLS, CALL_COLUMN[column], {KEY: call_id}).first()
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
            reliable=e.reliable,
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
            node=e.node,
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
            reliable=e.reliable,
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
        if e.transferred:  # the first answer's wait stays the call's; the agent is the last
            self._call(rows, e.call_id, agent=e.agent)
        else:
            self._call(
                rows,
                e.call_id,
                answered_at=e.at,
                agent=e.agent,
                agent_node=e.agent_node,
                wait_seconds=e.wait,
            )
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
            **({"agent_node": e.agent_node} if e.agent_node else {}),
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

    def _on_hold(self, rows: Rows, e: ev.CallHeld) -> None:
        self._event(rows, e.call_id, e.at, "held", e.agent)

    def _resumed(self, rows: Rows, e: ev.CallResumed) -> None:
        self._event(rows, e.call_id, e.at, "resumed", e.agent, held=round(e.held, 3))

    def _transferred(self, rows: Rows, e: ev.CallTransferred) -> None:
        self._event(
            rows,
            e.call_id,
            e.at,
            "transferred",
            e.agent,
            to=e.kind,
            target=e.target,
            reason=e.reason,
            queue=e.queue,
        )

    def _segment(self, rows: Rows, e: ev.CallSegmentEnded) -> None:
        """One agent's part of the call: the ``segment`` rows of call_events, in order."""
        self._event(
            rows,
            e.call_id,
            e.at,
            "segment",
            e.agent,
            queue=e.queue,
            answered_at=e.answered_at,
            talk=round(e.talk, 3),
            hold=round(e.hold, 3),
            holds=e.holds,
            reason=e.reason,
            target=e.target,
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
        rows.latest(
            STATUS, "agent", e.agent, state=e.state, reason=e.reason, since=e.at, call_id=e.call_id
        )
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
            insert_into(RECORDINGS),
            {
                "call_id": e.call_id,
                "agent": e.agent,
                "queue": e.queue,
                "path": e.path,
                "caller_number": e.caller,
                "node": e.node,
                "started_at": e.at,
                "mutes": [],
            },
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

    @staticmethod
    def _survey(rows: Rows, e: ev.SurveyFinished) -> None:
        rows.add(
            SURVEYS, call_id=e.call_id, at=e.at, queue=e.queue, agent=e.agent,
            scores=list(e.scores), responded=any(s is not None for s in e.scores),
            comment=e.comment,
        )  # fmt: skip

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
        return rows.execute(RECORDINGS, LATEST_RECORDING, {KEY: call_id}).first()

    @staticmethod
    def _set_recording(rows: Rows, recording_id: int, **values: Any) -> None:
        rows.update(RECORDINGS, "id", recording_id, **values)
