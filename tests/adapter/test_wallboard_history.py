"""A restarted controller's wallboard: the RecordWriter's rows read back give the live legs."""

from __future__ import annotations

from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.records_writer import RecordWriter
from callcenter.adapters.db.wallboard_history import CallEventHistory
from callcenter.core.stats import fold_legs
from callcenter.services.console.wallboard_legs import record_of
from tests.unit.wallboard_support import T0, a_morning, entered, rig


def test_rows_written_by_the_record_writer_fold_to_the_live_legs(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        sessions = make_sessions(engine)
        writer = RecordWriter(sessions)
        writer.start()
        events = a_morning()
        # Every call's record starts with the caller entering (before the IVR).
        for event in [entered(c, T0 - 10) for c in ("c1", "c2", "c3")] + events:
            writer.submit(event)
        assert writer.flush(10)
        writer.stop()

        stored = CallEventHistory(sessions).since(T0 - 1)
        live = [record for record in map(record_of, events) if record is not None]
        assert [(r.call_id, r.kind, r.agent) for r in stored] == [
            (r.call_id, r.kind, r.agent) for r in live
        ]
        assert fold_legs(stored) == fold_legs(live)
        assert CallEventHistory(sessions).since(T0 + 300) == []

        # And a board started on that database shows what the live board showed.
        before, after = rig(now=T0 + 400), rig(now=T0 + 400, history=stored)
        for event in events:
            before.publish(event)
        after.board.rebuild(stored)
        assert before.board.snapshot().queues == after.board.snapshot().queues
    finally:
        engine.dispose()
