"""The database repositories on SQLite and PostgreSQL pass the contract checks that the
in-memory fakes pass too (tests/fakes/contracts.py; the fakes: tests/unit/test_fakes.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.call_records import call_record, call_row
from callcenter.adapters.db.callbacks import CallbackRepository
from callcenter.adapters.db.config import ConfigRepository
from callcenter.adapters.db.dial_refusals import DialRefusalRepository
from callcenter.adapters.db.dialer_store import DialerStore
from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.models import (
    CallRow,
    CampaignRow,
    DialAttemptRow,
    DncRow,
    LeadRow,
    RecordingRow,
)
from callcenter.adapters.db.quality import QualityRepository
from callcenter.adapters.db.survey_results import SurveyRepository
from callcenter.adapters.db.voicemails import VoicemailRepository
from callcenter.core.calls.record import CallRecord
from callcenter.core.survey import SurveyResult
from callcenter.services.repositories import DialRefusals, SurveyResults, Voicemails
from tests.fakes import contracts
from tests.fakes.contracts import CallbackWorld, CallRecordsWorld, DialerWorld
from tests.fakes.quality_contracts import QUALITY_STORE, QualityWorld


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    try:
        yield make_sessions(engine)
    finally:
        engine.dispose()


def _adder(sessions: sessionmaker[Session]) -> Callable[[Any], int]:
    def add(row: Any) -> int:
        with sessions.begin() as session:
            session.add(row)
            session.flush()
            return int(row.id)

    return add


def _attempt(sessions: sessionmaker[Session]) -> Callable[[int], dict[str, Any]]:
    def read(attempt_id: int) -> dict[str, Any]:
        with sessions() as session:
            row = session.get(DialAttemptRow, attempt_id)
            assert row is not None
            return {c.name: getattr(row, c.name) for c in DialAttemptRow.__table__.columns}

    return read


def _call(sessions: sessionmaker[Session]) -> Callable[[str], CallRecord | None]:
    def read(call_id: str) -> CallRecord | None:
        with sessions() as session:
            row = session.get(CallRow, call_id)
            return call_record(row) if row is not None else None

    return read


def _store_call(sessions: sessionmaker[Session]) -> Callable[[CallRecord], None]:
    def store(record: CallRecord) -> None:
        with sessions.begin() as session:
            session.add(call_row(record))

    return store


def dialer_world(sessions: sessionmaker[Session]) -> DialerWorld:
    add = _adder(sessions)

    def campaign(name: str, status: str) -> int:
        return add(CampaignRow(name=name, settings={}, status=status, created_at=0.0))

    def lead(campaign_id: int, phone: str, due: float) -> int:
        return add(
            LeadRow(campaign_id=campaign_id, phone=phone, next_attempt_at=due, created_at=0.0)
        )

    def listed(scope: str, number: str) -> None:
        add(DncRow(scope=scope, number=number, added_at=0.0))

    return DialerWorld(
        store=DialerStore(sessions),
        campaign=campaign,
        lead=lead,
        listed=listed,
        attempt=_attempt(sessions),
        call=_call(sessions),
    )


@pytest.mark.parametrize("check", contracts.DIALER_STORE, ids=lambda c: c.__name__)
def test_the_dialer_store(
    sessions: sessionmaker[Session], check: Callable[[DialerWorld], None]
) -> None:
    check(dialer_world(sessions))


@pytest.mark.parametrize("check", contracts.CALLBACK_REPOSITORY, ids=lambda c: c.__name__)
def test_the_callback_repository(
    sessions: sessionmaker[Session], check: Callable[[CallbackWorld], None]
) -> None:
    check(CallbackWorld(repo=CallbackRepository(sessions), attempt=_attempt(sessions)))


@pytest.mark.parametrize("check", contracts.CALL_RECORDS, ids=lambda c: c.__name__)
def test_the_call_records(
    sessions: sessionmaker[Session], check: Callable[[CallRecordsWorld], None]
) -> None:
    check(CallRecordsWorld(records=ConfigRepository(sessions), store=_store_call(sessions)))


@pytest.mark.parametrize("check", contracts.DIAL_REFUSALS, ids=lambda c: c.__name__)
def test_the_dial_refusals(
    sessions: sessionmaker[Session], check: Callable[[DialRefusals], None]
) -> None:
    check(DialRefusalRepository(sessions))


@pytest.mark.parametrize("check", contracts.VOICEMAILS, ids=lambda c: c.__name__)
def test_the_voicemails(
    sessions: sessionmaker[Session], check: Callable[[Voicemails], None]
) -> None:
    check(VoicemailRepository(sessions))


@pytest.mark.parametrize("check", contracts.SURVEY_RESULTS, ids=lambda c: c.__name__)
def test_the_survey_results(
    sessions: sessionmaker[Session], check: Callable[[SurveyResults], None]
) -> None:
    check(SurveyRepository(sessions))


def test_a_survey_reads_its_calls_disposition(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        session.add(CallRow(id="c1", unique_id="u1", entered_at=90.0, disposition="resolved"))
    results = SurveyRepository(sessions)
    results.add(SurveyResult("c1", 100.0, "support", "ann", (5,)))
    results.add(SurveyResult("c9", 101.0, "support", "ann", (4,)))  # no record (yet)
    assert [r.disposition for r in results.between(0.0, 200.0)] == ["resolved", ""]


def quality_world(sessions: sessionmaker[Session]) -> QualityWorld:
    add = _adder(sessions)

    def recorded(
        call_id: str, agent: str, queue: str, at: float, answered: bool, ended: bool
    ) -> int:
        with sessions.begin() as session:
            answered_at = at if answered else None
            session.add(
                CallRow(id=call_id, unique_id=f"{at}", queue=queue, agent=agent,
                        entered_at=at - 5, answered_at=answered_at)
            )  # fmt: skip
        return add(
            RecordingRow(call_id=call_id, agent=agent, queue=queue, caller_number="+12125550100",
                         path=f"{call_id}.wav", started_at=at, ended_at=at + 60 if ended else None)
        )  # fmt: skip

    return QualityWorld(store=QualityRepository(sessions), recorded=recorded)


@pytest.mark.parametrize("check", QUALITY_STORE, ids=lambda c: c.__name__)
def test_the_quality_store(
    sessions: sessionmaker[Session], check: Callable[[QualityWorld], None]
) -> None:
    check(quality_world(sessions))
