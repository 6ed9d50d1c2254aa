"""The metrics adapter fed fake domain events, wallboard pictures and AGI requests,
read back from its registry and over its own HTTP server."""

from __future__ import annotations

import urllib.request

import pytest

from callcenter.adapters.metrics.collector import CallCenterMetrics
from callcenter.adapters.metrics.server import MetricsServer
from callcenter.core import events as ce
from callcenter.core.dial_policy import DialPolicy
from callcenter.core.records_backlog import RecordsBacklog
from callcenter.services.console.wallboard_snapshot import (
    AgentBoard,
    AgentCounts,
    NodeOut,
    QueueBoard,
    WallboardOut,
)
from callcenter.services.dial_guard import DialGuard
from callcenter.services.notify import Notifier
from callcenter.subscriptions import live, metrics_table, subscribe_domain
from tests.fakes.repositories import FakeDialRefusals


class Figures:
    """The clocks and the live figures the metrics read; tests move them."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.tick = 0.0  # the monotonic clock events are timed with
        self.ami = True
        self.records = RecordsBacklog()


@pytest.fixture
def figures() -> Figures:
    return Figures()


@pytest.fixture
def metrics(figures: Figures) -> CallCenterMetrics:
    return CallCenterMetrics(
        lambda: figures.ami, lambda: figures.records, lambda: figures.now, lambda: figures.tick
    )


class Wired:
    """The notifier joined to the metrics as the composition root joins them; each
    event is published at the monotonic time given."""

    def __init__(self, metrics: CallCenterMetrics, figures: Figures) -> None:
        self.notifier = Notifier()
        self.figures = figures
        subscribe_domain(self.notifier, metrics_table(metrics))
        self.notifier.subscribe_all(live(metrics.on_event))

    def publish(self, event: ce.Event, tick: float | None = None) -> None:
        self.figures.tick = event.at if tick is None else tick
        self.notifier.publish(event)


def wired(metrics: CallCenterMetrics, figures: Figures) -> Wired:
    return Wired(metrics, figures)


def value(metrics: CallCenterMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def queued(call: str, at: float, recovered: bool = False) -> ce.CallQueued:
    return ce.CallQueued(at=at, call_id=call, unique_id=call, queue="support", priority=0,
                         extra={}, caller="+12125550100", position=1, estimate=None,
                         recovered=recovered)  # fmt: skip


def ready(agent: str, at: float) -> ce.AgentStateChanged:
    return ce.AgentStateChanged(at=at, agent=agent, state="ready")


def offered(call: str, agent: str, at: float) -> ce.CallOffered:
    return ce.CallOffered(at=at, call_id=call, unique_id=call, queue="support", agent=agent,
                          wait=0.0)  # fmt: skip


def test_routing_latency_counts_from_when_both_caller_and_agent_were_ready(
    metrics: CallCenterMetrics, figures: Figures
) -> None:
    notifier = wired(metrics, figures)
    # An agent ready first, the caller comes: from the caller queued.
    notifier.publish(ready("alice", 100.0))
    notifier.publish(queued("c1", 150.0))
    notifier.publish(offered("c1", "alice", 150.004))
    # A caller waiting, an agent frees up: from the agent ready.
    notifier.publish(ce.AgentStateChanged(at=151.0, agent="alice", state="ringing"))
    notifier.publish(queued("c2", 160.0))
    notifier.publish(ready("bob", 200.0))
    notifier.publish(offered("c2", "bob", 200.02))
    count = value(metrics, "callcenter_routing_latency_seconds_count")
    total = value(metrics, "callcenter_routing_latency_seconds_sum")
    assert count == 2
    assert total == pytest.approx(0.024)
    assert value(metrics, "callcenter_routing_latency_seconds_bucket", le="0.005") == 1
    assert value(metrics, "callcenter_routing_latency_seconds_bucket", le="0.025") == 2


def test_an_unanswered_ring_puts_the_caller_back_in_line_from_then(
    metrics: CallCenterMetrics, figures: Figures
) -> None:
    notifier = wired(metrics, figures)
    notifier.publish(ready("carol", 10.0))  # ready long before: not the point to count from
    notifier.publish(queued("c1", 50.0))
    notifier.publish(
        ce.CallRingNoAnswer(
            at=300.0,
            call_id="c1",
            unique_id="c1",
            queue="support",
            agent="alice",
            ring_seconds=15.0,
            status="NOANSWER",
        )
    )
    notifier.publish(offered("c1", "carol", 300.01))
    assert value(metrics, "callcenter_routing_latency_seconds_sum") == pytest.approx(0.01)
    assert value(metrics, "callcenter_calls_total", step="ring_no_answer") == 1


def test_latency_is_timed_when_events_are_published_not_by_their_stamps(
    metrics: CallCenterMetrics, figures: Figures
) -> None:
    """Events of one decision carry one ``at``; the work between them still counts."""
    notifier = wired(metrics, figures)
    notifier.publish(ready("alice", 10.0), tick=10.0)
    notifier.publish(queued("c1", 20.0), tick=20.0)
    notifier.publish(offered("c1", "alice", 20.0), tick=20.003)
    assert value(metrics, "callcenter_routing_latency_seconds_sum") == pytest.approx(0.003)


def test_steps_rebuilt_after_an_outage_are_not_counted(
    metrics: CallCenterMetrics, figures: Figures
) -> None:
    notifier = wired(metrics, figures)
    notifier.publish(queued("c1", 10.0, recovered=True))
    notifier.publish(queued("c2", 11.0))
    notifier.publish(
        ce.CallAnswered(
            at=12.0,
            call_id="c2",
            unique_id="c2",
            queue="support",
            agent="alice",
            wait=1.0,
            ring_seconds=0.5,
            agent_channel="PJSIP/alice-1",
        )
    )
    assert value(metrics, "callcenter_calls_total", step="queued") == 1
    assert value(metrics, "callcenter_calls_total", step="answered") == 1


def test_queues_and_agents_come_from_the_wallboards_picture(
    metrics: CallCenterMetrics, figures: Figures
) -> None:
    assert value(metrics, "callcenter_queue_waiting", queue="support") is None  # no picture yet
    counts = AgentCounts(ready=1, ringing=1, on_call=2, wrap_up=0, paused=1)
    board = WallboardOut.model_construct(
        at=figures.now,
        queues=[
            QueueBoard.model_construct(queue="support", waiting=3, longest_wait_since=958.5,
                                       agents=counts),
            QueueBoard.model_construct(queue="sales", waiting=0, longest_wait_since=None,
                                       agents=AgentCounts(ready=0, ringing=0, on_call=0,
                                                          wrap_up=0, paused=0)),
        ],
        agents=[AgentBoard.model_construct(agent=name, state=state)
                for name, state in [("a", "ready"), ("b", "on_call"), ("c", "on_call"),
                                    ("d", "logged_out")]],
        nodes=[NodeOut(node="alpha", up=True, since=1.0),
               NodeOut(node="beta", up=False, since=2.0)],
    )  # fmt: skip
    metrics.on_board(board)
    figures.now = 1001.5
    assert value(metrics, "callcenter_queue_waiting", queue="support") == 3
    assert value(metrics, "callcenter_queue_longest_wait_seconds", queue="support") == 43.0
    assert value(metrics, "callcenter_queue_longest_wait_seconds", queue="sales") == 0.0
    assert value(metrics, "callcenter_queue_agents", queue="support", state="on_call") == 2
    assert value(metrics, "callcenter_agents", state="on_call") == 2
    assert value(metrics, "callcenter_agents", state="paused") == 0
    assert value(metrics, "callcenter_agents", state="logged_out") == 1
    assert value(metrics, "callcenter_pbx_node_up", node="alpha") == 1.0
    assert value(metrics, "callcenter_pbx_node_up", node="beta") == 0.0


def test_ami_link_and_records_backlog_are_read_at_scrape_time(
    metrics: CallCenterMetrics, figures: Figures
) -> None:
    assert value(metrics, "callcenter_ami_up") == 1.0
    assert value(metrics, "callcenter_records_lag_seconds") == 0.0
    figures.ami = False
    figures.records = RecordsBacklog(waiting=120, behind_since=990.0, journal=20, dropped=3)
    assert value(metrics, "callcenter_ami_up") == 0.0
    assert value(metrics, "callcenter_records_backlog") == 120
    assert value(metrics, "callcenter_records_lag_seconds") == 10.0
    assert value(metrics, "callcenter_records_journal") == 20
    assert value(metrics, "callcenter_records_dropped") == 3


def test_agi_requests_are_counted_and_timed_by_route(metrics: CallCenterMetrics) -> None:
    metrics.on_agi_request("inbound", "QUEUE", 0.004)
    metrics.on_agi_request("inbound", "HANGUP", 12.0)
    metrics.on_agi_request("dial-result", "CONTINUE", 0.002)
    assert value(metrics, "callcenter_agi_requests_total", route="inbound", status="QUEUE") == 1
    assert value(metrics, "callcenter_agi_request_seconds_count", route="inbound") == 2
    assert value(metrics, "callcenter_agi_request_seconds_bucket", route="inbound", le="0.005") == 1


def test_dial_refusals_are_counted_by_reason_and_where(metrics: CallCenterMetrics) -> None:
    guard = DialGuard(DialPolicy(), FakeDialRefusals(), lambda: 0.0)
    guard.on_refusal(metrics.on_dial_refusal)
    for raw in ("+19005551234", "+449098790000", "+881631456789"):
        guard.check(raw, "US", (), ("campaign", "spring"), "lead-import")
    assert guard.check("+12125550100", "US", (), ("campaign", "spring"), "lead-import").ok
    counted = value(
        metrics, "callcenter_dial_refusals_total", reason="number-type", where="lead-import"
    )
    assert counted == 2
    networks = value(
        metrics,
        "callcenter_dial_refusals_total",
        reason="international-network",
        where="lead-import",
    )
    assert networks == 1


def test_served_on_loopback_by_its_own_http_server(metrics: CallCenterMetrics) -> None:
    server = MetricsServer(metrics.registry, "127.0.0.1", 0)
    server.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5) as r:
            text = r.read().decode()
    finally:
        server.stop()
    assert "callcenter_ami_up 1.0" in text
    assert "# TYPE callcenter_routing_latency_seconds histogram" in text
