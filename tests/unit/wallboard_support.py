"""A wallboard on a fake clock, with the domain events a short day of calls produces."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from callcenter.core import events as ev
from callcenter.core.acd.agent_state import AgentStatus
from callcenter.core.acd.model import AgentState
from callcenter.core.calls.live import CallBook, LiveCall
from callcenter.core.calls.state import CallState
from callcenter.core.model import SipAccount
from callcenter.core.queues import QueueSettings
from callcenter.core.stats import CallEventRecord
from callcenter.services.console.wallboard import Wallboard
from callcenter.services.queues import QueueDirectory
from tests.fakes.repositories import FakeRecordsLag

PARIS = ZoneInfo("Europe/Paris")
# 2026-01-15 09:00 in Paris (UTC+1): 540 minutes after local midnight.
T0 = datetime(2026, 1, 15, 9, 0, tzinfo=PARIS).timestamp()
MIDNIGHT = datetime(2026, 1, 15, tzinfo=PARIS).timestamp()


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeAgents:
    statuses: dict[str, AgentStatus] = field(default_factory=dict)
    skills: dict[str, dict[str, int]] = field(default_factory=dict)


class Names:
    def get(self, username: str) -> SipAccount | None:
        if username == "ghost":
            return None
        return SipAccount(username, "0" * 32, username.title() + " Smith", "1001")


def queues() -> QueueDirectory:
    directory = QueueDirectory()
    directory.load(
        {
            "support": QueueSettings(name="support", service_level_target=20),
            "sales": QueueSettings(
                name="sales", service_level_target=10, requirements={"sales": 1}
            ),
        },
        {},
    )
    return directory


@dataclass
class Rig:
    clock: FakeClock
    agents: FakeAgents
    calls: CallBook
    board: Wallboard
    history: list[CallEventRecord]
    records: FakeRecordsLag

    def publish(self, event: ev.Event) -> None:
        self.board.on_event(event)


def rig(
    now: float = T0,
    history: list[CallEventRecord] | None = None,
    real_clock: bool = False,
    nodes: dict[str, bool] | None = None,
) -> Rig:
    clock = FakeClock(now)
    agents = FakeAgents(
        {
            "alice": AgentStatus(AgentState.READY, now - 100),
            "bob": AgentStatus(AgentState.PAUSED, now - 50, reason="lunch"),
            "carol": AgentStatus(AgentState.LOGGED_OUT, now - 9000),
        },
        {"alice": {"sales": 2}, "bob": {}, "carol": {"sales": 1}},
    )
    calls = CallBook()
    stored = list(history or [])
    records = FakeRecordsLag()
    board = Wallboard(
        agents, Names(), calls, queues(), lambda since: stored, records,
        time.time if real_clock else clock, PARIS,
        nodes=None if nodes is None else (lambda: nodes),
    )  # fmt: skip
    return Rig(clock, agents, calls, board, stored, records)


def live_call(call_id: str, queue: str, enqueued_at: float, state: CallState) -> LiveCall:
    return LiveCall(
        call_id=call_id,
        unique_id=f"u-{call_id}",
        channel=f"PJSIP/trunk-{call_id}",
        caller="+15550000",
        caller_name="",
        dialled="5000",
        entered_at=enqueued_at - 5,
        state=state,
        queue=queue,
        enqueued_at=enqueued_at,
    )


# -- domain events, as the ACD and the agent service publish them -----------------------------
def entered(call: str, at: float) -> ev.CallEntered:
    return ev.CallEntered(
        at=at, call_id=call, unique_id=f"u-{call}", caller="+15550000", caller_name="",
        dialled="5000", flow="main",
    )  # fmt: skip


def queued(call: str, queue: str, at: float) -> ev.CallQueued:
    return ev.CallQueued(
        at=at, call_id=call, unique_id=f"u-{call}", queue=queue, priority=0, extra={},
        caller="+15550000", position=1, estimate=None,
    )  # fmt: skip


def answered(call: str, queue: str, agent: str, at: float, wait: float) -> ev.CallAnswered:
    return ev.CallAnswered(
        at=at, call_id=call, unique_id=f"u-{call}", queue=queue, agent=agent, wait=wait,
        ring_seconds=1.0, agent_channel=f"PJSIP/{agent}-1",
    )  # fmt: skip


def completed(call: str, queue: str, agent: str, at: float, talk: float) -> ev.CallCompleted:
    return ev.CallCompleted(
        at=at, call_id=call, unique_id=f"u-{call}", queue=queue, agent=agent, wait=0.0,
        talk=talk, ended_by="caller",
    )  # fmt: skip


def abandoned(call: str, queue: str, at: float, wait: float) -> ev.CallAbandoned:
    return ev.CallAbandoned(
        at=at, call_id=call, unique_id=f"u-{call}", queue=queue, wait=wait, position=1
    )


def overflowed(call: str, queue: str, at: float, action: str, target: str) -> ev.CallOverflowed:
    return ev.CallOverflowed(
        at=at, call_id=call, unique_id=f"u-{call}", queue=queue, reason="max-wait",
        action=action, target=target, wait=0.0,
    )  # fmt: skip


def ended(call: str, at: float) -> ev.CallEnded:
    return ev.CallEnded(at=at, call_id=call, unique_id=f"u-{call}", outcome="ended")


def wrapped_up(agent: str, call: str, at: float, seconds: float) -> ev.AgentStateChanged:
    return ev.AgentStateChanged(
        at=at, agent=agent, state="ready", call_id=call, previous="wrap_up",
        previous_seconds=seconds,
    )  # fmt: skip


def a_morning(tag: str = "") -> list[ev.Event]:
    """c1 answered in 5 s, talks 60 s, 10 s wrap-up; c2 abandoned after 30 s;
    c3 waits 12 s in support, overflows to sales, answered there 4 s later."""
    return [
        queued(tag + "c1", "support", T0),
        answered(tag + "c1", "support", "alice", T0 + 5, 5),
        completed(tag + "c1", "support", "alice", T0 + 65, 60),
        ended(tag + "c1", T0 + 65),
        wrapped_up("alice", tag + "c1", T0 + 75, 10),
        queued(tag + "c2", "support", T0 + 100),
        abandoned(tag + "c2", "support", T0 + 130, 30),
        ended(tag + "c2", T0 + 130),
        queued(tag + "c3", "support", T0 + 200),
        overflowed(tag + "c3", "support", T0 + 212, "queue", "sales"),
        queued(tag + "c3", "sales", T0 + 212),
        answered(tag + "c3", "sales", "alice", T0 + 216, 16),
    ]
