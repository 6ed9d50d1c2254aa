"""An agent's wrap-up code decides what becomes of an outbound lead (core retry rules)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from callcenter.core import events as ce
from callcenter.core.calls.live import CallBook
from callcenter.core.outbound.records import LeadRecord
from callcenter.core.outbound.retry import LeadState
from callcenter.core.outbound.settings import load_settings
from callcenter.services.notify import Notifier
from callcenter.services.outbound.dialer_calls import DialerCalls
from callcenter.services.outbound.dialer_model import Attempt, Campaign
from callcenter.services.timers import Timers


class Store:
    def __init__(self) -> None:
        self.leads: list[LeadState] = []
        self.dnc: list[tuple[str, str]] = []
        self.audit: list[dict[str, Any]] = []

    def finish_attempt(self, audit_id: int, call_id: str, end: dict[str, Any], now: float) -> None:
        self.audit.append(end)

    def save_lead(self, lead_id: int, state: LeadState) -> None:
        self.leads.append(state)

    def add_dnc(self, scope: str, number: str, now: float) -> None:
        self.dnc.append((scope, number))


def connected_call(notifier: Notifier, store: Store) -> tuple[DialerCalls, Attempt]:
    agents = SimpleNamespace(statuses={})
    calls = DialerCalls(
        store, agents, CallBook(), notifier, None, Timers(lambda: 100.0), None, None
    )  # type: ignore[arg-type]
    notifier.subscribe(ce.CallDataChanged, calls.on_call_data)  # as callcenter/subscriptions.py
    campaign = Campaign(1, "spring", load_settings({}))
    lead = LeadRecord(7, 1, "+12125550100", "", "", "", "", {}, LeadState())
    dialled = LeadState(status="dialing", attempts=1, last_attempt_at=50.0)
    attempt = Attempt("c1", campaign, lead, "+12125550100", 3, 50.0, dialled, agent="agent1")
    attempt.answered_at, attempt.greeted_at, attempt.amd = 60.0, 62.0, "HUMAN"
    attempt.connected_at = 62.5
    calls.attempts["c1"] = attempt
    return calls, attempt


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0.01)


async def test_a_connected_lead_is_done_until_the_agent_says_do_not_call() -> None:
    notifier, store = Notifier(), Store()
    calls, attempt = connected_call(notifier, store)
    await calls.finish(attempt)
    assert store.audit[-1]["outcome"] == "connected"
    assert [s.status for s in store.leads] == ["done"]
    notifier.publish(
        ce.CallDataChanged(at=120.0, call_id="c1", changes={"disposition": "do-not-call"})
    )
    await settle()
    assert [s.status for s in store.leads] == ["done", "dnc"]
    assert store.dnc == [("campaign:spring", "+12125550100")]


async def test_a_code_given_before_the_hangup_is_applied_with_it() -> None:
    notifier, store = Notifier(), Store()
    calls, attempt = connected_call(notifier, store)
    notifier.publish(ce.CallDataChanged(at=90.0, call_id="c1", changes={"disposition": "retry"}))
    await settle()
    await calls.finish(attempt)
    assert store.leads[-1].status == "scheduled"  # tried again, per the no-answer delay
    assert store.leads[-1].next_attempt_at == 100.0 + 60 * 60.0


async def test_site_codes_the_core_does_not_know_change_nothing() -> None:
    notifier, store = Notifier(), Store()
    calls, attempt = connected_call(notifier, store)
    await calls.finish(attempt)
    notifier.publish(
        ce.CallDataChanged(at=120.0, call_id="c1", changes={"disposition": "resolved"})
    )
    await settle()
    assert [s.status for s in store.leads] == ["done"] and store.dnc == []
