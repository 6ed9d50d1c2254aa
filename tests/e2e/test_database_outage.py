"""PostgreSQL stopped for a minute while calls flow: calls are still routed, the console
says the records are behind, and afterwards every call has its whole record.

Real peers: SIPp callers press 1 in the IVR and talk, two baresip agents answer by
themselves. The database server is stopped (pg_ctl, sessions cut) before the first
call and started again 60 s later; six calls happen in between. The test polls
GET /api/health (public) and follows the wallboard's pushes through the outage,
then compares each call's stored record with what the SIP side saw (who answered,
when, when it ended). The cluster is the session's: it is started again (and
waited for) whatever happens, so the tests after this one find it up.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import pytest

from callcenter.adapters.db.models import AgentStateLogRow, CallEventRow, CallRow
from callcenter.services.console.wallboard_snapshot import RecordsOut
from callcenter.simulate.procs import wait_for
from callcenter.simulate.softphone import Softphone
from tests.e2e.conftest import CALLER_PORT, CallCenter, PlacedCall
from tests.e2e.metrics_support import sample, scrape
from tests.e2e.sites import one_queue_site
from tests.support.postgres import PostgresCluster

pytestmark = pytest.mark.e2e

OUTAGE = 60.0  # seconds the database server is down
CALLS = 6
EVERY = 8.0  # seconds between calls: two at a time at most, one per agent
TALK_MS = 6000
# "segment": the agent's part of the call (one per agent it passed through), before the end
KINDS = ["entered", "ivr", "queued", "offered", "answered", "segment", "completed", "ended"]
TOLERANCE = 1.0  # s between a phone's event and the controller's instant for it


@dataclass
class HealthLog:
    """GET /api/health every half second, on a thread, while the test runs."""

    url: str
    seen: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._poll, daemon=True)
        thread.start()
        return thread

    def _poll(self) -> None:
        while not self._stop.is_set():
            with urllib.request.urlopen(f"{self.url}/api/health", timeout=5) as answer:
                self.seen.append((time.time(), json.load(answer)["records"]))
            self._stop.wait(0.5)

    def stop(self) -> None:
        self._stop.set()

    def last(self) -> dict[str, Any]:
        return self.seen[-1][1] if self.seen else {}


def until(moment: float) -> None:
    """Wait for a point of the test's timeline (time.monotonic)."""
    wait_for(lambda: time.monotonic() >= moment, max(0.0, moment - time.monotonic()) + 5, "time")


def number(n: int) -> str:
    return f"+1555010{n:04d}"


def answered_by(phones: dict[str, Softphone], caller: str) -> tuple[str, dict[str, Any]]:
    """The agent whose phone took ``caller``'s call, and its first event of that call
    (phones that answer by themselves report no CALL_INCOMING)."""
    for agent, phone in phones.items():
        for event in list(phone.events):
            if caller in str(event.get("peeruri", "")):
                return agent, event
    seen = {a: [(e.get("type"), e.get("peeruri")) for e in p.events] for a, p in phones.items()}
    raise AssertionError(f"no phone took {caller}'s call: {seen}")


def after(phone: Softphone, kind: str, first: dict[str, Any]) -> dict[str, Any]:
    """The phone's first ``kind`` event from ``first`` on."""
    events = list(phone.events)
    later = events[events.index(first) :]
    found = next((e for e in later if e.get("type") == kind), None)
    assert found is not None, (phone.username, kind, [e.get("type") for e in later])
    return found


@pytest.mark.parametrize("e2e_database", ["postgresql"], indirect=True)
def test_calls_flow_and_no_record_is_lost_while_postgresql_is_down(
    callcenter: CallCenter, postgres: tuple[PostgresCluster, str]
) -> None:
    cluster, _ = postgres
    callcenter.load_site(one_queue_site("amy", "ben"))
    phones = {
        name: callcenter.softphone(callcenter.account(name), auto_answer=True)
        for name in ("amy", "ben")
    }
    callcenter.login("amy", "ben")
    callcenter.wait_available("amy", "ben")
    wall = time.time() - time.monotonic()  # the phones' monotonic instants, as epoch seconds
    pushed: list[RecordsOut] = []  # the wallboard's pictures, as every open board gets them
    callcenter.get(lambda c: c.wallboard.on_publish(lambda board: pushed.append(board.records)))
    health = HealthLog(callcenter.base_url)
    health.start()
    placed: dict[str, PlacedCall] = {}
    try:
        wait_for(lambda: health.seen, 5, "a first health answer")
        assert not health.last()["behind"]
        cluster.pause()
        down_at = time.monotonic()
        try:
            for n in range(CALLS):
                until(down_at + 2 + n * EVERY)
                address = ("127.0.0.2", "127.0.0.3")[n % 2]
                placed[number(n)] = callcenter.place_call(
                    [800, "1", TALK_MS], number(n), f"Caller {n}", end="bye", address=address,
                    port=CALLER_PORT,
                )  # fmt: skip
                if n >= 2:  # this address's previous caller is done
                    result = placed[number(n - 2)].finish(timeout=20)
                    assert (result.successful, result.failed) == (1, 0), result.log
            for caller in list(placed)[-2:]:
                result = placed[caller].finish(timeout=30)
                assert (result.successful, result.failed) == (1, 0), result.log
            during = health.last()
            assert during["behind"] and during["waiting"] > 0, during
            assert during["last_error"].startswith("database unreachable"), during
            assert during["since"] is not None and during["dropped"] == 0
            metrics = scrape(callcenter)  # Prometheus sees the same backlog
            assert (sample(metrics, "callcenter_records_backlog") or 0) > 0, metrics
            assert (sample(metrics, "callcenter_records_lag_seconds") or 0) > 0, metrics
            board = callcenter.get(lambda c: c.wallboard.snapshot().records)
            assert board.behind and board.waiting > 0 and board.since == during["since"]
            assert any(records.behind for records in pushed)
            until(down_at + OUTAGE)
        finally:
            cluster.resume()
        back_at = time.monotonic()
        wait_for(lambda: not health.last().get("behind", True), 60, "the records caught up")
        caught_up = time.monotonic() - back_at
    finally:
        health.stop()

    behind = [records for _, records in health.seen if records["behind"]]
    peak = max(records["waiting"] for records in behind)
    print(
        f"\noutage {back_at - down_at:.1f} s; {CALLS} calls; backlog peak {peak} events "
        f"({max(r['journal'] for r in behind)} in the journal); caught up {caught_up:.1f} s "
        f"after the database was back; last error: {behind[-1]['last_error']}"
    )
    assert health.last()["waiting"] == 0 and health.last()["dropped"] == 0
    caught = scrape(callcenter)
    assert sample(caught, "callcenter_records_backlog") == 0
    assert sample(caught, "callcenter_records_lag_seconds") == 0
    wait_for(lambda: pushed and not pushed[-1].behind, 5, "the wallboard told it caught up")

    # Every call as the SIP side saw it, and as the records say.
    for caller in placed:
        agent, first = answered_by(phones, caller)
        phone = phones[agent]
        established = after(phone, "CALL_ESTABLISHED", first)["_at"] + wall
        closed = after(phone, "CALL_CLOSED", first)["_at"] + wall
        (row,) = callcenter.rows(CallRow, CallRow.caller_number == caller)
        assert (row.queue, row.agent, row.outcome, row.offers) == ("support", agent, "completed", 1)
        assert row.entered_at <= row.enqueued_at <= row.answered_at <= row.ended_at
        assert abs(row.answered_at - established) < TOLERANCE, (caller, row, established)
        assert abs(row.ended_at - closed) < TOLERANCE, (caller, row, closed)
        assert row.talk_seconds is not None
        assert abs(row.talk_seconds - (closed - established)) < TOLERANCE
        events = callcenter.rows(CallEventRow, CallEventRow.call_id == row.id)
        assert [e.kind for e in events] == KINDS, (caller, [e.kind for e in events])
        with_agent = ("offered", "answered", "segment", "completed")
        assert {e.agent for e in events if e.kind in with_agent} == {agent}
        states = callcenter.rows(AgentStateLogRow, AgentStateLogRow.call_id == row.id)
        assert [s.state for s in states][:2] == ["ringing", "on_call"], (caller, states)
        assert {s.agent for s in states} == {agent}
    assert len(callcenter.rows(CallRow)) == CALLS  # and nothing twice
    callcenter.wait_no_calls()
