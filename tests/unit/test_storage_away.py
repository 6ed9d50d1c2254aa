"""The database away while calls flow: a storage error in the dialers and callbacks never
leaves an agent held for nothing, and never hangs up on a waiting caller.

The services are built with what each path reaches; the rest are stubs that
fail the test if touched. The storage raises what a database away makes it raise.
"""

from __future__ import annotations

from typing import Any, cast

import pytest

from callcenter.core.calls.live import CallBook, LiveCall
from callcenter.core.calls.state import CallState
from callcenter.core.dial_policy import DialPolicy
from callcenter.core.outbound.records import LeadRecord
from callcenter.core.outbound.retry import LeadState
from callcenter.core.outbound.settings import load_settings
from callcenter.core.queues import QueueSettings
from callcenter.services.callbacks.dialer import STORAGE_RETRY, CallbackDialer
from callcenter.services.callbacks.places import CallbackError, Callbacks
from callcenter.services.dial_guard import DialGuard
from callcenter.services.notify import Notifier
from callcenter.services.outbound.dialer import Dialer
from callcenter.services.outbound.dialer_model import Campaign
from callcenter.services.queues import QueueDirectory
from callcenter.services.timers import Timers
from tests.fakes.repositories import FakeCallbackRepository, FakeDialerStore, FakeDialRefusals

NOW = 1_760_000_000.0


class Away(Exception):
    """What a repository raises with its database stopped (an OperationalError)."""


def away(*_: Any, **__: Any) -> Any:
    raise Away("connection refused")


class Untouched:
    """A part the path under test must not use."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        raise AssertionError(f"{self._name}.{attribute} used")


class Recorder:
    """A part whose calls are only recorded (coroutines, but for the ``plain`` ones)."""

    def __init__(self, *plain: str) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self._plain = plain

    def __getattr__(self, name: str) -> Any:
        def record(*args: Any) -> Any:
            self.calls.append((name, args))
            return None if name in self._plain else _done()

        return record


async def _done() -> None:
    return None


def queues() -> QueueDirectory:
    directory = QueueDirectory()
    directory.load({"support": QueueSettings(name="support")}, {})
    return directory


def waiting_call(callback_id: int | None = None) -> LiveCall:
    return LiveCall(
        call_id="c1", unique_id="" if callback_id else "u1",
        channel="" if callback_id else "PJSIP/sipp-1", caller="+15550100", caller_name="",
        dialled="5000", entered_at=NOW - 60, state=CallState.WAITING, queue="support",
        enqueued_at=NOW - 50, callback_id=callback_id,
    )  # fmt: skip


def guard() -> DialGuard:
    return DialGuard(DialPolicy(), FakeDialRefusals(), lambda: NOW)


def callbacks(repo: Any, dnc_scopes: Any) -> Callbacks:
    return Callbacks(
        repo, cast(Any, Untouched("acd")), CallBook(), queues(), Notifier(),
        Timers(lambda: NOW), cast(Any, Untouched("scheduler")), dnc_scopes,
        lambda call_id, at: f"r/{call_id}.wav", guard(),
    )  # fmt: skip


@pytest.mark.parametrize("broken", ["dnc", "add"])
async def test_keeping_a_place_the_database_cannot_store_leaves_the_caller_waiting(
    broken: str,
) -> None:
    repo = FakeCallbackRepository()
    if broken == "add":
        repo.add = away  # type: ignore[method-assign]
    places = callbacks(repo, away if broken == "dnc" else lambda number: [])
    call = waiting_call()
    with pytest.raises(CallbackError) as refused:
        await places.keep_place(call, "+12125550199", NOW)
    # Inbound._offer_callback takes a CallbackError as "keep waiting" (no fallback queue).
    assert refused.value.code == "storage"
    assert call.state is CallState.WAITING and call.callback_id is None


async def test_a_callback_whose_turn_the_storage_fails_frees_its_agent_and_waits() -> None:
    acd, places = Recorder(), Recorder("requeue_at")
    repo = FakeCallbackRepository()
    repo.get = away  # type: ignore[method-assign]
    dialer = CallbackDialer(
        cast(Any, places), repo, cast(Any, acd), cast(Any, Untouched("agents")), CallBook(),
        queues(), Notifier(), Timers(lambda: NOW), cast(Any, Untouched("originator")),
        lambda: "trunk", lambda call_id, at: "", lambda number: [], guard(),
    )  # fmt: skip
    call = waiting_call(callback_id=7)
    call.agent = "amy"
    await dialer.turn(call, "amy")
    assert acd.calls == [("release_reserved", (call, NOW))]
    assert places.calls == [("requeue_at", (call, NOW + STORAGE_RETRY))]


@pytest.mark.parametrize("broken", ["dnc_scopes", "save_lead", "add_attempt"])
async def test_a_dial_the_storage_fails_halfway_frees_the_held_agent(broken: str) -> None:
    store = FakeDialerStore()
    setattr(store, broken, away)
    calls = Recorder()
    agents = Recorder()
    dialer = Dialer(
        store, cast(Any, agents), queues(), cast(Any, Untouched("originator")), cast(Any, calls),
        cast(Any, Untouched("staff")), Timers(lambda: NOW), "trunk", cast(Any, None), guard(),
    )  # fmt: skip
    campaign = Campaign(1, "spring", load_settings({"queue": "support", "mode": "preview"}))
    lead = LeadRecord(9, 1, "+15550111", "", "", "", "", {}, LeadState())
    with pytest.raises(Away):
        await dialer.dial(campaign, lead, "amy", held="c-held")  # a previewing agent
    assert ("release", ("amy", "c-held")) in calls.calls
