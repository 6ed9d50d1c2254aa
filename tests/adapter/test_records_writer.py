"""The call-records writer: every event kind's rows, the same whether the events
come one per transaction or all in one batch (gathered inserts keep their order)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text

from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.records_rows import table
from callcenter.adapters.db.records_writer import RecordWriter
from callcenter.core import events as ev

T = 1_760_000_000.0
TABLES = (
    "calls",
    "call_events",
    "wait_estimates",
    "agent_status",
    "agent_state_log",
    "recordings",
    "survey_results",
)


def answered_call(call: str, agent: str, at: float) -> list[ev.Event]:
    uid = f"u-{call}"
    return [
        ev.CallEntered(
            at=at, call_id=call, unique_id=uid, caller="0611", caller_name="Ann",
            dialled="5000", flow="main",
        ),
        ev.IvrFinished(
            at=at + 1, call_id=call, path=("welcome", "support"), data={"account": "7"},
            outcome="queued", customer_id=7,
        ),
        ev.CallQueued(
            at=at + 2, call_id=call, unique_id=uid, queue="support", priority=1,
            extra={"fr": 2}, caller="0611", position=1, estimate=12.5,
        ),
        ev.WaitAnnounced(at=at + 3, call_id=call, queue="support", position=1, estimate=4.0),
        # A transfer to another queue: the first time queued stays.
        ev.CallQueued(
            at=at + 4, call_id=call, unique_id=uid, queue="sales", priority=0, extra={},
            caller="0611", position=2, estimate=None,
        ),
        ev.CallOffered(at=at + 5, call_id=call, unique_id=uid, queue="sales", agent="z", wait=3),
        ev.CallRingNoAnswer(
            at=at + 6, call_id=call, unique_id=uid, queue="sales", agent="z",
            ring_seconds=1.23456, status="NOANSWER",
        ),
        ev.CallOffered(at=at + 7, call_id=call, unique_id=uid, queue="sales", agent=agent, wait=5),
        ev.AgentStateChanged(
            at=at + 7, agent=agent, state="ringing", call_id=call, previous="ready",
        ),
        ev.CallAnswered(
            at=at + 8, call_id=call, unique_id=uid, queue="sales", agent=agent, wait=6,
            ring_seconds=1, agent_channel="PJSIP/x",
        ),
        ev.AgentStateChanged(at=at + 8, agent=agent, state="on_call", call_id=call),
        ev.RecordingStarted(
            at=at + 8, call_id=call, agent=agent, queue="sales", path=f"r/{call}.wav",
            caller="0611",
        ),
        ev.RecordingMuted(at=at + 9, call_id=call, muted=True),
        ev.RecordingMuted(at=at + 10.5, call_id=call, muted=False),
        ev.RecordingMuted(at=at + 11, call_id=call, muted=True),
        ev.CallCompleted(
            at=at + 12, call_id=call, unique_id=uid, queue="sales", agent=agent, wait=6,
            talk=4, ended_by="caller",
        ),
        ev.RecordingStopped(at=at + 12, call_id=call),
        ev.RecordingStopped(at=at + 13, call_id=call),  # a second stop changes nothing
        ev.SurveyFinished(
            at=at + 12, call_id=call, queue="sales", agent=agent, scores=(5, None),
        ),
        ev.CallEnded(at=at + 12, call_id=call, unique_id=uid, outcome="talking"),
        ev.AgentStateChanged(
            at=at + 12, agent=agent, state="wrap_up", call_id=call, previous="on_call",
            previous_seconds=4,
        ),
        ev.CallDataChanged(at=at + 13, call_id=call, changes={"disposition": "sale", "x": 1}),
        ev.AgentStateChanged(
            at=at + 14, agent=agent, state="ready", call_id=call, previous="wrap_up",
            previous_seconds=2.5,
        ),
    ]  # fmt: skip


def other_calls(at: float) -> list[ev.Event]:
    def entered(call: str) -> ev.CallEntered:
        return ev.CallEntered(
            at=at,
            call_id=call,
            unique_id=call,
            caller="1",
            caller_name="",
            dialled="5000",
            flow="callback" if call == "cb" else "main",
        )

    return [
        entered("ivr"),
        ev.IvrFinished(at=at + 1, call_id="ivr", path=("welcome",), data={}, outcome="hangup"),
        ev.CallEnded(at=at + 2, call_id="ivr", unique_id="ivr", outcome="ivr"),
        entered("gone"),
        ev.CallQueued(
            at=at + 1, call_id="gone", unique_id="gone", queue="support", priority=0, extra={},
            caller="1", position=1, estimate=None,
        ),
        ev.CallbackRequested(
            at=at + 2, call_id="gone", callback_id=3, kind="keep-place", queue="support",
            number="0622", due_at=at + 60,
        ),
        ev.CallAbandoned(
            at=at + 3, call_id="gone", unique_id="gone", queue="support", wait=2, position=1,
        ),
        ev.CallEnded(at=at + 3, call_id="gone", unique_id="gone", outcome="waiting"),
        entered("waits"),
        ev.CallEnded(at=at + 4, call_id="waits", unique_id="waits", outcome="waiting"),
        entered("cb"),
        ev.CallbackAttempted(
            at=at + 5, call_id="cb", callback_id=3, attempt=1, number="0622", agent="amy",
            outcome="reached", next_status="done",
        ),
        entered("fb"),
        ev.CallFellBack(at=at + 5, call_id="fb", unique_id="fb", reason="controller down"),
        ev.CallEnded(at=at + 6, call_id="fb", unique_id="fb", outcome="other"),
        # About calls with no record: no call row appears, nothing fails.
        ev.CallEnded(at=at + 7, call_id="ghost", unique_id="g", outcome="talking"),
        ev.RecordingMuted(at=at + 7, call_id="ghost", muted=True),
        ev.CallbackRequested(
            at=at + 7, call_id="", callback_id=4, kind="scheduled", queue="support",
            number="1", due_at=at,
        ),
    ]  # fmt: skip


def stream() -> list[ev.Event]:
    first, second = answered_call("c1", "amy", T), answered_call("c2", "bob", T + 0.5)
    mixed = [event for pair in zip(first, second, strict=True) for event in pair]
    return mixed + other_calls(T + 20)


def written(database_url: str, events: list[ev.Event], one_by_one: bool) -> dict[str, Any]:
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            for name in TABLES:
                connection.execute(text(f"DELETE FROM {name}"))
        writer = RecordWriter(make_sessions(engine))
        if not one_by_one:
            for event in events:
                writer.submit(event)
        writer.start()
        for event in events if one_by_one else []:
            writer.submit(event)
            assert writer.flush(10)
        assert writer.flush(10)
        writer.stop()
        assert writer.failures == 0
        with engine.connect() as connection:
            return {
                name: [row._asdict() for row in connection.execute(select(table(name)))]
                for name in TABLES
            }
    finally:
        engine.dispose()


def without_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "id"} for row in rows]


def test_one_batch_writes_what_one_event_per_transaction_writes(database_url: str) -> None:
    events = stream()
    single = written(database_url, events, one_by_one=True)
    batch = written(database_url, events, one_by_one=False)
    for name in TABLES:
        key = "id" if name != "agent_status" else "agent"
        ordered = {
            n: sorted(rows, key=lambda r: r[key])
            for n, rows in (("s", single[name]), ("b", batch[name]))
        }
        assert without_ids(ordered["s"]) == without_ids(ordered["b"]), name


def test_rows_of_every_event_kind(database_url: str) -> None:
    rows = written(database_url, stream(), one_by_one=False)
    calls = {row["id"]: row for row in rows["calls"]}
    c1 = calls["c1"]
    assert (c1["queue"], c1["priority"], c1["requirements"]) == ("sales", 0, {})
    assert (c1["enqueued_at"], c1["answered_at"], c1["ended_at"]) == (T + 2, T + 8, T + 12)
    assert (c1["offers"], c1["agent"], c1["outcome"]) == (2, "amy", "completed")
    assert (c1["wait_seconds"], c1["talk_seconds"], c1["wrapup_seconds"]) == (6, 4, 2.5)
    assert (c1["ivr_path"], c1["customer_id"], c1["disposition"]) == (
        ["welcome", "support"],
        7,
        "sale",
    )
    assert c1["data"] == {"account": "7"}
    outcomes = {call: row["outcome"] for call, row in calls.items()}
    assert outcomes == {
        "c1": "completed",
        "c2": "completed",
        "ivr": "ivr-hangup",
        "gone": "abandoned",
        "waits": "abandoned",
        "cb": "",
        "fb": "fallback",
    }
    assert calls["cb"]["direction"] == "callback"
    assert calls["gone"]["data"] == {"callback": "keep-place", "callback.number": "0622"}
    events = sorted(rows["call_events"], key=lambda e: e["id"])
    kinds = [e["kind"] for e in events if e["call_id"] == "c1"]
    assert kinds == [
        "entered", "ivr", "queued", "queued", "offered", "ring-no-answer", "offered",
        "answered", "recording-muted", "recording-resumed", "recording-muted", "completed",
        "ended", "data", "wrapup",
    ]  # fmt: skip
    assert not [e for e in rows["call_events"] if e["call_id"] in ("", "ghost")]
    waits = [w for w in rows["wait_estimates"] if w["call_id"] == "c1"]
    assert [(w["queue"], w["actual_seconds"]) for w in sorted(waits, key=lambda w: w["id"])] == [
        ("support", 6),
        ("support", 5),
        ("sales", 4),
    ]
    status = {row["agent"]: (row["state"], row["call_id"]) for row in rows["agent_status"]}
    assert status == {"amy": ("ready", "c1"), "bob": ("ready", "c2")}
    assert len(rows["agent_state_log"]) == 8
    recordings = {row["call_id"]: row for row in rows["recordings"]}
    assert recordings["c1"]["ended_at"] == T + 12
    surveys = {row["call_id"]: row for row in rows["survey_results"]}
    assert (surveys["c1"]["agent"], surveys["c1"]["queue"], surveys["c1"]["at"]) == (
        "amy", "sales", T + 12,
    )  # fmt: skip
    assert (surveys["c1"]["scores"], surveys["c1"]["responded"]) == ([5, None], True)
    assert recordings["c1"]["mutes"] == [[1.0, 2.5], [3.0, 4.0]]
