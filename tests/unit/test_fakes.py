"""The in-memory repositories pass the same contract checks as the database ones
(tests/fakes/contracts.py; on SQLite and PostgreSQL: tests/adapter/test_repository_contracts.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from callcenter.core.callbacks.records import Attempt
from callcenter.core.outbound.retry import LeadState
from callcenter.services.repositories import (
    CallbackRepository,
    CallRecords,
    DialerStore,
    DialRefusals,
    RecordsLag,
    SurveyResults,
    Voicemails,
)
from tests.fakes import contracts
from tests.fakes.contracts import CallbackWorld, CallRecordsWorld, DialerWorld
from tests.fakes.quality import FakeQualityStore
from tests.fakes.quality_contracts import QUALITY_STORE, QualityWorld
from tests.fakes.repositories import (
    FakeCallbackRepository,
    FakeCallRecords,
    FakeDialerStore,
    FakeDialRefusals,
    FakeRecordsLag,
    FakeSurveyResults,
    FakeVoicemails,
)


def dialer_world() -> DialerWorld:
    store = FakeDialerStore()

    def lead(campaign_id: int, phone: str, due: float) -> int:
        return store.add_lead(campaign_id, phone, state=LeadState(next_attempt_at=due)).id

    def listed(scope: str, number: str) -> None:
        store.dnc.add((scope, number))

    return DialerWorld(
        store=store,
        campaign=lambda name, status: store.add_campaign(name, status=status).id,
        lead=lead,
        listed=listed,
        attempt=lambda attempt_id: dict(store.attempts[attempt_id]),
        call=store.calls.get,
    )


def callback_world() -> CallbackWorld:
    repo = FakeCallbackRepository()
    return CallbackWorld(repo=repo, attempt=lambda attempt_id: dict(repo.attempts[attempt_id]))


def call_records_world() -> CallRecordsWorld:
    records = FakeCallRecords()
    return CallRecordsWorld(records=records, store=records.add)


@pytest.mark.parametrize("check", contracts.DIALER_STORE, ids=lambda c: c.__name__)
def test_the_fake_dialer_store(check: Callable[[DialerWorld], None]) -> None:
    check(dialer_world())


@pytest.mark.parametrize("check", contracts.CALLBACK_REPOSITORY, ids=lambda c: c.__name__)
def test_the_fake_callback_repository(check: Callable[[CallbackWorld], None]) -> None:
    check(callback_world())


@pytest.mark.parametrize("check", contracts.CALL_RECORDS, ids=lambda c: c.__name__)
def test_the_fake_call_records(check: Callable[[CallRecordsWorld], None]) -> None:
    check(call_records_world())


@pytest.mark.parametrize("check", contracts.DIAL_REFUSALS, ids=lambda c: c.__name__)
def test_the_fake_dial_refusals(check: Callable[[DialRefusals], None]) -> None:
    check(FakeDialRefusals())


@pytest.mark.parametrize("check", contracts.VOICEMAILS, ids=lambda c: c.__name__)
def test_the_fake_voicemails(check: Callable[[Voicemails], None]) -> None:
    check(FakeVoicemails())


@pytest.mark.parametrize("check", contracts.SURVEY_RESULTS, ids=lambda c: c.__name__)
def test_the_fake_survey_results(check: Callable[[SurveyResults], None]) -> None:
    check(FakeSurveyResults())


def test_the_fakes_are_what_the_services_take() -> None:
    # Checked by mypy when it reads the tests; at run time, the methods are all there.
    dialer: DialerStore = FakeDialerStore()
    callbacks: CallbackRepository = FakeCallbackRepository()
    records: CallRecords = FakeCallRecords()
    lag: RecordsLag = FakeRecordsLag()
    refusals: DialRefusals = FakeDialRefusals()
    voicemails: Voicemails = FakeVoicemails()
    surveys: SurveyResults = FakeSurveyResults()
    pairs: list[tuple[object, type[Any]]] = [
        (dialer, DialerStore),
        (callbacks, CallbackRepository),
        (records, CallRecords),
        (lag, RecordsLag),
        (refusals, DialRefusals),
        (voicemails, Voicemails),
        (surveys, SurveyResults),
    ]
    for fake, protocol in pairs:
        wanted = [name for name in vars(protocol) if not name.startswith("_")]
        assert wanted and all(callable(getattr(fake, name, None)) for name in wanted), protocol


def test_an_unknown_audit_column_is_refused_as_the_database_would() -> None:
    repo = FakeCallbackRepository()
    attempt_id = repo.attempt(Attempt(1, "", "+1", 0.0, "", "", "", False))
    with pytest.raises(KeyError):
        repo.attempt_result(attempt_id, colour="red")


def quality_world() -> QualityWorld:
    store = FakeQualityStore()
    return QualityWorld(store=store, recorded=store.recorded)


@pytest.mark.parametrize("check", QUALITY_STORE, ids=lambda c: c.__name__)
def test_the_fake_quality_store(check: Callable[[QualityWorld], None]) -> None:
    check(quality_world())
