"""What a repository must do, whoever implements it.

Each check takes a *world*: the repository under test and the few hooks it
needs to arrange data the service side never writes (a campaign, a lead, a
DNC entry) and to read back what it never reads (an audit row, a call's
record). tests/unit/test_fakes.py runs every check on the in-memory fakes;
tests/adapter/test_repository_contracts.py runs the same checks on the
SQLAlchemy repositories over SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from callcenter.core.callbacks.records import Attempt, NewCallback
from callcenter.core.calls.record import CallRecord
from callcenter.core.dial_policy import DialRefusal
from callcenter.core.outbound import retry
from callcenter.core.outbound.records import NewDialAttempt
from callcenter.core.survey import SurveyResult
from callcenter.core.voicemail import LeftMessage
from callcenter.services.repositories import (
    CallbackRepository,
    CallRecords,
    DialerStore,
    DialRefusals,
    SurveyResults,
    Voicemails,
)


# -- the dialer's store -------------------------------------------------------------------------
@dataclass
class DialerWorld:
    store: DialerStore
    campaign: Callable[[str, str], int]  # (name, status) -> campaign id
    lead: Callable[[int, str, float], int]  # (campaign id, phone, due at) -> lead id
    listed: Callable[[str, str], None]  # (scope, number): put on a DNC list
    attempt: Callable[[int], dict[str, Any]]  # an audit row's columns
    call: Callable[[str], CallRecord | None]  # a call's stored record


def _two_campaigns(world: DialerWorld) -> int:
    spring = world.campaign("spring", "running")
    world.campaign("autumn", "paused")
    world.lead(spring, "+12125550100", 0.0)
    world.lead(spring, "+12125550101", 500.0)
    return spring


def running_campaigns_and_due_leads(world: DialerWorld) -> None:
    spring = _two_campaigns(world)
    store = world.store
    assert [c.name for c in store.campaigns()] == ["spring"]
    assert [lead.phone for lead in store.due_leads(spring, 100.0, 10)] == ["+12125550100"]
    assert [lead.phone for lead in store.due_leads(spring, 1000.0, 10)] == [
        "+12125550100",
        "+12125550101",
    ]
    assert len(store.due_leads(spring, 1000.0, 1)) == 1
    [lead] = store.due_leads(spring, 100.0, 10)
    assert (lead.campaign_id, lead.state, lead.attempts) == (spring, retry.LeadState(), 0)


def a_lead_is_claimed_once_and_its_state_saved(world: DialerWorld) -> None:
    spring = _two_campaigns(world)
    store = world.store
    [lead] = store.due_leads(spring, 100.0, 10)
    assert store.claim(lead.id) and not store.claim(lead.id)
    assert store.due_leads(spring, 100.0, 10) == []
    dialled = retry.dial(lead.state, 100.0)
    store.save_lead(lead.id, dialled)
    assert store.release_stale(200.0) == 1  # a run that stopped mid-call
    assert store.release_stale(200.0) == 0
    [again] = store.due_leads(spring, 200.0, 10)
    assert (again.state.status, again.attempts, again.state.next_attempt_at) == (
        "scheduled",
        1,
        200.0,
    )
    assert again.state.last_attempt_at == 100.0


def dnc_scopes_are_the_site_and_the_campaign_only(world: DialerWorld) -> None:
    world.listed("site", "+12125550100")
    world.listed("campaign:autumn", "+12125550101")
    store = world.store
    assert store.dnc_scopes("+12125550100", "spring") == ["site"]
    assert store.dnc_scopes("+12125550101", "spring") == []
    assert store.dnc_scopes("+12125550101", "autumn") == ["campaign:autumn"]
    store.add_dnc("campaign:spring", "+12125550101", 5.0)  # an agent's disposition
    assert store.dnc_scopes("+12125550101", "spring") == ["campaign:spring"]


def audit_rows_calls_and_the_pacing_sample(world: DialerWorld) -> None:
    spring = _two_campaigns(world)
    store = world.store

    def attempt(call_id: str) -> int:
        row = NewDialAttempt(
            campaign_id=spring, lead_id=1, call_id=call_id, number="+1", at=10.0, dialled=True
        )
        call = CallRecord(
            id=call_id, unique_id=call_id, direction="outbound", entered_at=10.0,
            flow="campaign:spring", data={"campaign": "spring"},
        )  # fmt: skip
        return store.add_attempt(row, call)

    assert world.call("c1") is None
    first = attempt("c1")
    assert world.call("c1") == CallRecord(
        id="c1", unique_id="c1", direction="outbound", entered_at=10.0,
        flow="campaign:spring", data={"campaign": "spring"},
    )  # fmt: skip
    store.finish_attempt(first, "c1", {"outcome": "busy"}, 12.0)
    done = {"outcome": "connected", "answered_at": 18.0, "agent_connected_at": 19.0}
    store.finish_attempt(attempt("c2"), "c2", done, 40.0)
    lost = {"outcome": "abandoned", "answered_at": 14.0, "abandoned": True}
    store.finish_attempt(attempt("c3"), "c3", lost, 20.0)
    refused = NewDialAttempt(
        campaign_id=spring, lead_id=2, call_id="", number="+2", at=11.0,
        hours_check="closed", outcome="outside-hours",
    )  # fmt: skip
    blocked = store.add_attempt(refused, None)

    row = world.attempt(first)
    assert (row["campaign_id"], row["call_id"], row["dialled"], row["outcome"]) == (
        spring,
        "c1",
        True,
        "busy",
    )
    row = world.attempt(blocked)
    assert (row["dialled"], row["hours_check"], row["outcome"], row["answered_at"]) == (
        False,
        "closed",
        "outside-hours",
        None,
    )
    attempt("c4")  # still ringing (or on): no outcome yet, not a dial of the sample
    sample = store.sample(spring, "spring", 0.0)
    assert (sample.dials, sample.connects, sample.abandoned) == (3, 2, 1)
    assert sample.mean_answer_seconds == pytest.approx(6.0)
    assert sample.mean_handle_seconds is None  # no talk time recorded yet
    assert sample.handle_times == ()
    # Newest first: c1 busy 2 s after it was placed, c2 and c3 answered after 8 and 4 s.
    assert sorted(sample.resolved) == [(2.0, False), (4.0, True), (8.0, True)]
    assert store.sample(spring, "spring", 11.0).dials == 0  # outside the window
    # Calls that reached no agent are closed here; a connected one by the call records.
    closed = {c: world.call(c) for c in ("c1", "c2", "c3")}
    assert {c: (r.outcome, r.ended_at) for c, r in closed.items() if r is not None} == {
        "c1": ("busy", 12.0),
        "c2": ("", None),
        "c3": ("abandoned", 20.0),
    }
    assert world.call("c4") is not None


def a_lead_dialled_by_a_dead_controller_is_held_not_redialled(world: DialerWorld) -> None:
    spring = _two_campaigns(world)
    store = world.store
    placed, claimed = store.due_leads(spring, 1000.0, 10)
    for lead in (placed, claimed):
        assert store.claim(lead.id)
        store.save_lead(lead.id, retry.dial(lead.state, 1000.0))
    # Only the first had its call placed (an audit row dialled, no end yet).
    attempt = NewDialAttempt(
        campaign_id=spring, lead_id=placed.id, call_id="c1", number=placed.phone, at=1000.0,
        dialled=True,
    )  # fmt: skip
    attempt_id = store.add_attempt(attempt, None)
    assert store.hold_unobserved(2000.0, 3600.0) == 1
    assert store.hold_unobserved(2000.0, 3600.0) == 0
    assert world.attempt(attempt_id)["outcome"] == "unobserved"
    assert store.release_stale(2000.0) == 1  # the claimed one, never dialled: due now
    assert [lead.id for lead in store.due_leads(spring, 2000.0, 10)] == [claimed.id]
    [held] = [lead for lead in store.due_leads(spring, 5600.0, 10) if lead.id == placed.id]
    assert (held.state.status, held.state.next_attempt_at, held.state.last_outcome) == (
        "scheduled",
        5600.0,
        "unobserved",
    )


DIALER_STORE = [
    running_campaigns_and_due_leads,
    a_lead_dialled_by_a_dead_controller_is_held_not_redialled,
    a_lead_is_claimed_once_and_its_state_saved,
    dnc_scopes_are_the_site_and_the_campaign_only,
    audit_rows_calls_and_the_pacing_sample,
]


# -- callbacks --------------------------------------------------------------------------------
@dataclass
class CallbackWorld:
    repo: CallbackRepository
    attempt: Callable[[int], dict[str, Any]]  # an audit row's columns


def _book(repo: CallbackRepository, number: str, kind: str = "scheduled") -> int:
    new = NewCallback(
        kind=kind, queue="support", number=number, requested_at=100.0, enqueued_at=90.0,
        due_at=200.0, max_attempts=3, origin_call_id="c9", priority=2, extra={"fr": 2},
        data={"callback": kind}, booked_by="alice", notes="after lunch",
    )  # fmt: skip
    return repo.add(new).id


def a_callback_is_added_and_read_back(world: CallbackWorld) -> None:
    repo = world.repo
    callback_id = _book(repo, "+33612345678")
    found = repo.get(callback_id)
    assert found is not None
    assert found.as_dict() == {
        "id": callback_id, "kind": "scheduled", "origin_call_id": "c9", "queue": "support",
        "number": "+33612345678", "priority": 2, "extra": {"fr": 2},
        "data": {"callback": "scheduled"}, "requested_at": 100.0, "enqueued_at": 90.0,
        "due_at": 200.0, "attempts": 0, "max_attempts": 3, "status": "pending",
        "booked_by": "alice", "last_outcome": "", "notes": "after lunch",
    }  # fmt: skip
    assert repo.get(callback_id + 1000) is None


def pending_and_recent_follow_the_status(world: CallbackWorld) -> None:
    repo = world.repo
    first, second, third = (_book(repo, f"+3361234567{n}") for n in range(3))
    repo.update(first, status="dialing", attempts=1)
    repo.update(second, status="done", last_outcome="reached")
    repo.update(third + 1000, status="done")  # no such callback: nothing happens
    assert [c.id for c in repo.pending()] == [first, third]
    found = repo.get(first)
    assert found is not None and (found.status, found.attempts) == ("dialing", 1)
    assert [c.id for c in repo.recent()] == [third, second, first]
    assert [c.id for c in repo.recent("done")] == [second]
    assert [c.id for c in repo.recent(limit=2)] == [third, second]


def each_attempt_has_its_audit_row(world: CallbackWorld) -> None:
    repo = world.repo
    callback_id = _book(repo, "+33612345678")

    def attempt(dialled: bool) -> int:
        return repo.attempt(
            Attempt(callback_id, "c1" if dialled else "", "+33612345678", 300.0,
                    "2026-01-05T09:00+01:00 CET", "clear", "open" if dialled else "closed",
                    dialled)
        )  # fmt: skip

    dialled, refused = attempt(True), attempt(False)
    assert dialled != refused
    row = world.attempt(dialled)
    assert (row["callback_id"], row["call_id"], row["lead_local_time"], row["outcome"]) == (
        callback_id,
        "c1",
        "2026-01-05T09:00+01:00 CET",
        "",
    )
    assert world.attempt(refused)["outcome"] == "not-dialled"
    repo.attempt_result(dialled, agent="alice", amd_result="HUMAN", outcome="reached")
    row = world.attempt(dialled)
    assert (row["agent"], row["amd_result"], row["outcome"], row["dialled"]) == (
        "alice",
        "HUMAN",
        "reached",
        True,
    )


def a_callback_dialled_by_a_dead_controller_is_closed(world: CallbackWorld) -> None:
    repo = world.repo
    placed, waiting, refused = (_book(repo, f"+3361234567{n}") for n in range(3))
    for callback_id in (placed, waiting, refused):
        repo.update(callback_id, status="dialing", attempts=1)
    repo.update(waiting, status="pending")  # its attempt ended: back in line
    audit = {"number": "+33612345670", "at": 300.0, "local_time": "", "dnc_check": "clear"}
    dialled = repo.attempt(Attempt(placed, "c1", hours_check="open", dialled=True, **audit))
    repo.attempt(Attempt(waiting, "c2", hours_check="open", dialled=True, **audit))
    repo.attempt(Attempt(refused, "", hours_check="closed", dialled=False, **audit))
    assert repo.close_unobserved() == [placed]
    assert repo.close_unobserved() == []
    found = repo.get(placed)
    assert found is not None and (found.status, found.last_outcome) == ("failed", "unobserved")
    assert world.attempt(dialled)["outcome"] == "unobserved"
    assert [c.id for c in repo.pending()] == [waiting, refused]


CALLBACK_REPOSITORY = [
    a_callback_is_added_and_read_back,
    a_callback_dialled_by_a_dead_controller_is_closed,
    pending_and_recent_follow_the_status,
    each_attempt_has_its_audit_row,
]


# -- call records (recovery) ------------------------------------------------------------------
@dataclass
class CallRecordsWorld:
    records: CallRecords
    store: Callable[[CallRecord], None]  # what the call records writer would have written


WAITING = CallRecord(
    id="c1", unique_id="1700.1", entered_at=1000.0, caller_number="+15550001111",
    caller_name="CAROL", dialled="5000", flow="main", ivr_path=("welcome", "support"),
    data={"account": "123456"}, customer_id=7, queue="support", priority=2,
    requirements={"fr": 2}, enqueued_at=1010.0, offers=1,
)  # fmt: skip


def a_call_record_is_read_back_whole(world: CallRecordsWorld) -> None:
    world.store(WAITING)
    assert world.records.call("c1") == WAITING
    assert world.records.call("nope") is None


def open_calls_are_the_unclosed_ones_entered_since(world: CallRecordsWorld) -> None:
    world.store(WAITING)
    world.store(CallRecord(id="c2", unique_id="1700.2", entered_at=1001.0, ended_at=1100.0))
    world.store(CallRecord(id="c3", unique_id="1600.3", entered_at=500.0))
    assert world.records.open_calls(900.0) == [("c1", "1700.1")]
    assert sorted(world.records.open_calls(0.0)) == [("c1", "1700.1"), ("c3", "1600.3")]


def recent_talks_are_the_last_of_each_queue_oldest_first(world: CallRecordsWorld) -> None:
    def talked(n: int, queue: str, agent: str, at: float, talk: float) -> CallRecord:
        return CallRecord(
            id=f"t{n}", unique_id=f"1800.{n}", entered_at=at - 10, queue=queue,
            answered_at=at, agent=agent, talk_seconds=talk, ended_at=at + talk,
        )  # fmt: skip

    for record in (
        talked(1, "sales", "ann", 100.0, 61.0),
        talked(2, "support", "bob", 110.0, 62.0),
        talked(3, "sales", "ann", 120.0, 63.0),
        talked(4, "sales", "cat", 130.0, 64.0),
        talked(5, "support", "bob", 140.0, 65.0),
    ):
        world.store(record)
    world.store(WAITING)  # no talk yet
    world.store(CallRecord(id="x", unique_id="1800.9", entered_at=1.0, answered_at=2.0,
                           talk_seconds=9.0))  # fmt: skip  # no queue (outbound)
    assert world.records.recent_talks(2) == [
        ("support", "bob", 62.0), ("sales", "ann", 63.0), ("sales", "cat", 64.0),
        ("support", "bob", 65.0),
    ]  # fmt: skip
    assert len(world.records.recent_talks(10)) == 5


CALL_RECORDS = [
    a_call_record_is_read_back_whole,
    open_calls_are_the_unclosed_ones_entered_since,
    recent_talks_are_the_last_of_each_queue_oldest_first,
]


# -- dial refusals ----------------------------------------------------------------------------
def _refusal(at: float, reason: str = "number-type", number: str = "+19005551234") -> DialRefusal:
    return DialRefusal(
        at=at, origin_kind="caller", origin_id="+12125550100", number=number,
        reason=reason, detail=f"{number} refused", where="keep-place",  # type: ignore[arg-type]
    )  # fmt: skip


def a_refusal_is_read_back_newest_first(refusals: DialRefusals) -> None:
    first, second = _refusal(10.0), _refusal(20.0, "country", "+33612345678")
    refusals.add(first)
    refusals.add(second)
    refusals.add(_refusal(20.0, "bad-number", "+1212??[2J"))
    rows, total = refusals.recent(0.0, 0, 10)
    assert total == 3
    assert rows == [_refusal(20.0, "bad-number", "+1212??[2J"), second, first]
    assert refusals.recent(15.0, 0, 10) == ([rows[0], second], 2)
    assert refusals.recent(0.0, 1, 1) == ([second], 3)


def refusals_are_counted_by_reason(refusals: DialRefusals) -> None:
    for at, reason in [(5.0, "number-type"), (6.0, "number-type"), (7.0, "country"),
                       (50.0, "number-type"), (100.0, "rate-limit")]:  # fmt: skip
        refusals.add(_refusal(at, reason))
    assert refusals.counts(0.0, 100.0) == {"number-type": 3, "country": 1}
    assert refusals.counts(50.0, 101.0) == {"number-type": 1, "rate-limit": 1}
    assert refusals.counts(200.0, 300.0) == {}


DIAL_REFUSALS = [a_refusal_is_read_back_newest_first, refusals_are_counted_by_reason]


# -- voicemail --------------------------------------------------------------------------------
def _left(msg_id: str, at: float, box: str = "200") -> LeftMessage:
    return LeftMessage(msg_id, box, "+12125550100", "Pat", at, 4.0, "")


def a_message_is_stored_once_and_read_back(voicemails: Voicemails) -> None:
    first = voicemails.add(_left("m-1", 10.0), "support", "200/INBOX/msg0000")
    voicemails.add(_left("m-2", 20.0, "300"), "billing", "300/INBOX/msg0000")
    assert voicemails.known(["m-1", "m-2", "m-3"]) == {"m-1", "m-2"}
    found = voicemails.get(first)
    assert found is not None
    assert (found.msg_id, found.queue, found.caller_number, found.status) == (
        "m-1", "support", "+12125550100", "new",
    )  # fmt: skip
    assert (found.left_at, found.duration, found.path) == (10.0, 4.0, "200/INBOX/msg0000")
    assert voicemails.get(first + 100) is None


def messages_are_listed_by_queue_and_status_newest_first(voicemails: Voicemails) -> None:
    a = voicemails.add(_left("a", 10.0), "support", "p/a")
    b = voicemails.add(_left("b", 30.0), "support", "p/b")
    c = voicemails.add(_left("c", 20.0), "billing", "p/c")
    assert [v.id for v in voicemails.search(None)] == [b, c, a]
    assert [v.id for v in voicemails.search(["support"])] == [b, a]
    assert [v.id for v in voicemails.search([])] == []
    assert [v.id for v in voicemails.search(None, queue="billing")] == [c]
    assert voicemails.take(a, "pat")
    assert [v.id for v in voicemails.search(None, status="taken")] == [a]
    voicemails.handled(c, "sam", 40.0)
    assert [v.id for v in voicemails.search(None, status="open")] == [b, a]
    assert [v.id for v in voicemails.left_between(10.0, 30.0)] == [a, c]


def a_message_taken_is_its_owners_until_handled(voicemails: Voicemails) -> None:
    m = voicemails.add(_left("t", 10.0), "support", "p/t")
    assert voicemails.take(m, "pat") and voicemails.take(m, "pat")
    assert not voicemails.take(m, "sam")
    voicemails.called_back(m, 7)
    voicemails.handled(m, "sam", 70.0)
    found = voicemails.get(m)
    assert found is not None
    assert (found.status, found.owner, found.handled_by, found.handled_at, found.callback_id) == (
        "handled", "pat", "sam", 70.0, 7,
    )  # fmt: skip
    assert not voicemails.take(m, "pat")


def old_messages_are_found_and_deleted(voicemails: Voicemails) -> None:
    old = voicemails.add(_left("o", 10.0), "support", "p/o")
    kept = voicemails.add(_left("k", 100.0), "support", "p/k")
    assert [v.id for v in voicemails.left_before(50.0, 10)] == [old]
    assert voicemails.delete([old, old + 100]) == 1
    assert voicemails.get(old) is None and voicemails.get(kept) is not None
    assert voicemails.delete([]) == 0


VOICEMAILS = [
    a_message_is_stored_once_and_read_back,
    messages_are_listed_by_queue_and_status_newest_first,
    a_message_taken_is_its_owners_until_handled,
    old_messages_are_found_and_deleted,
]


# -- post-call surveys -------------------------------------------------------------------------
def _survey(call_id: str, at: float, queue: str = "support", *scores: int | None) -> SurveyResult:
    return SurveyResult(call_id, at, queue, "ann", tuple(scores) or (None, None))


def surveys_are_read_back_oldest_first_within_the_period(results: SurveyResults) -> None:
    results.add(_survey("c2", 200.0, "support", 5, None))
    results.add(_survey("c1", 100.0, "support", 3, 4))
    results.add(_survey("c3", 300.0, "sales", 1, 2))
    found = results.between(100.0, 300.0)
    assert [r.call_id for r in found] == ["c1", "c2"]
    assert found[0] == SurveyResult("c1", 100.0, "support", "ann", (3, 4), "", "")
    assert found[1].scores == (5, None) and found[1].responded
    assert [r.call_id for r in results.between(0.0, 1000.0, "sales")] == ["c3"]
    assert results.between(301.0, 1000.0) == []


def a_caller_who_hung_up_reads_back_as_not_responded(results: SurveyResults) -> None:
    results.add(_survey("c1", 100.0))
    results.add(SurveyResult("c2", 101.0, "support", "ann", (2,), "2026/12/07/c2-comment.wav"))
    gone, rated = results.between(0.0, 1000.0)
    assert gone.scores == (None, None) and not gone.responded
    assert rated.responded and rated.comment == "2026/12/07/c2-comment.wav"


SURVEY_RESULTS = [
    surveys_are_read_back_oldest_first_within_the_period,
    a_caller_who_hung_up_reads_back_as_not_responded,
]
