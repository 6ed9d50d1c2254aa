"""The dialer's database adapter on a real (SQLite) database: due leads, claims,
DNC look-ups, audit rows and the pacing sample."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update

from callcenter.adapters.db.dialer_store import DialerStore
from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.migrate import upgrade
from callcenter.adapters.db.models import CallRow, CampaignRow, DncRow, LeadRow
from callcenter.core.calls.record import CallRecord
from callcenter.core.outbound import retry
from callcenter.core.outbound.records import NewDialAttempt


@pytest.fixture
def store(tmp_path: Path) -> DialerStore:
    url = f"sqlite:///{tmp_path / 'dialer.db'}"
    upgrade(url)
    sessions = make_sessions(make_engine(url))
    with sessions.begin() as session:
        session.add(CampaignRow(id=1, name="spring", settings={}, status="running", created_at=0))
        session.add(CampaignRow(id=2, name="autumn", settings={}, status="paused", created_at=0))
        for index, (phone, due) in enumerate([("+12125550100", 0), ("+12125550101", 500)]):
            session.add(
                LeadRow(id=index + 1, campaign_id=1, phone=phone, next_attempt_at=due, created_at=0)
            )
        session.add(DncRow(scope="site", number="+12125550100", added_at=0))
        session.add(DncRow(scope="campaign:autumn", number="+12125550101", added_at=0))
    return DialerStore(sessions)


def test_running_campaigns_and_due_leads(store: DialerStore) -> None:
    assert [c.name for c in store.campaigns()] == ["spring"]
    assert [lead.phone for lead in store.due_leads(1, 100.0, 10)] == ["+12125550100"]
    assert len(store.due_leads(1, 1000.0, 10)) == 2


def test_a_lead_is_claimed_once_and_its_state_saved(store: DialerStore) -> None:
    [lead] = store.due_leads(1, 100.0, 10)
    assert store.claim(lead.id) and not store.claim(lead.id)
    assert store.due_leads(1, 100.0, 10) == []
    dialled = retry.dial(lead.state, 100.0)
    store.save_lead(lead.id, dialled)
    assert store.release_stale(200.0) == 1  # a run that stopped mid-call
    [again] = store.due_leads(1, 200.0, 10)
    assert (again.state.status, again.attempts, again.state.next_attempt_at) == (
        "scheduled",
        1,
        200.0,
    )


def test_dnc_scopes_are_the_site_and_the_campaign_only(store: DialerStore) -> None:
    assert store.dnc_scopes("+12125550100", "spring") == ["site"]
    assert store.dnc_scopes("+12125550101", "spring") == []
    assert store.dnc_scopes("+12125550101", "autumn") == ["campaign:autumn"]


def test_audit_rows_calls_and_the_pacing_sample(store: DialerStore) -> None:
    def attempt(call_id: str) -> int:
        row = NewDialAttempt(
            campaign_id=1, lead_id=1, call_id=call_id, number="+1", at=10.0, dialled=True
        )
        call = CallRecord(
            id=call_id,
            unique_id=call_id,
            direction="outbound",
            entered_at=10.0,
            flow="campaign:spring",
        )
        return store.add_attempt(row, call)

    store.finish_attempt(attempt("c1"), "c1", {"outcome": "busy"}, 12.0)
    done = {"outcome": "connected", "answered_at": 18.0, "agent_connected_at": 19.0}
    store.finish_attempt(attempt("c2"), "c2", done, 40.0)
    lost = {"outcome": "abandoned", "answered_at": 14.0, "abandoned": True}
    store.finish_attempt(attempt("c3"), "c3", lost, 20.0)
    sample = store.sample(1, "spring", 0.0)
    assert (sample.dials, sample.connects, sample.abandoned) == (3, 2, 1)
    assert sample.mean_answer_seconds == pytest.approx(6.0)
    assert store.sample(1, "spring", 11.0).dials == 0  # outside the window
    with store._sessions() as session:
        calls = {c.id: (c.outcome, c.ended_at) for c in session.query(CallRow)}
    # Calls that reached no agent are closed here; a connected one by the call records.
    assert calls == {"c1": ("busy", 12.0), "c2": ("", None), "c3": ("abandoned", 20.0)}


def test_the_sample_leaves_out_calls_still_on_and_lists_recent_handles(
    store: DialerStore,
) -> None:
    for n, (talk, wrap) in enumerate([(30.0, 5.0), (50.0, None), (None, None)]):
        call_id = f"h{n}"
        row = NewDialAttempt(
            campaign_id=1, lead_id=1, call_id=call_id, number="+1", at=10.0 + n, dialled=True
        )
        call = CallRecord(
            id=call_id, unique_id=call_id, direction="outbound", entered_at=10.0 + n,
            flow="campaign:spring",
        )  # fmt: skip
        attempt = store.add_attempt(row, call)
        if talk is not None:  # over: connected, its talk (and wrap-up) recorded
            end = {"outcome": "connected", "answered_at": 12.0 + n, "agent_connected_at": 13.0 + n}
            store.finish_attempt(attempt, call_id, end, 60.0)
            with store._sessions.begin() as session:
                session.execute(
                    update(CallRow)
                    .where(CallRow.id == call_id)
                    .values(talk_seconds=talk, wrapup_seconds=wrap)
                )
    sample = store.sample(1, "spring", 0.0)
    assert (sample.dials, sample.connects) == (2, 2)  # h2 is still on: no outcome yet
    assert sample.handle_times == (50.0, 35.0)  # newest first
    assert sample.mean_handle_seconds == pytest.approx(42.5)
    # Answered 2 s after the dial (h0 at 10, h1 at 11); h2 is not over.
    assert sample.resolved == ((pytest.approx(2.0), True), (pytest.approx(2.0), True))
    row = NewDialAttempt(campaign_id=1, lead_id=1, call_id="r", number="+1", at=30.0, dialled=True)
    call = CallRecord(id="r", unique_id="r", direction="outbound", entered_at=30.0)
    store.finish_attempt(store.add_attempt(row, call), "r", {"outcome": "no-answer"}, 45.0)
    assert store.sample(1, "spring", 0.0).resolved[0] == (pytest.approx(15.0), False)
