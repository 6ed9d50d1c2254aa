"""What the call center shows Prometheus, fed by the composition root.

Four feeds, none of them importing this module: domain events
(callcenter/subscriptions.py: routing latency, call counts), the wallboard's
pictures (queues waiting, longest wait, agents by state: the same figures the
wallboard shows, computed once by its service), the FastAGI server's request
observer and the dial guard's refusals. The AMI link and the records writer's
backlog are read at scrape time through the callables given (both are safe to
read from any thread).

Routing latency is the time from the moment a caller and an agent could be
joined (the later of: the caller queued or back in line after an unanswered
ring, the agent becoming ready) to the agent's phone being offered the call. It
is timed when each event is published (a monotonic clock), not from the events'
own ``at``: a decision made in one step stamps its events with one time, and
what is measured here is the controller's real work between them.
Everything is updated on the controller's loop and read on the HTTP server's
thread: counters and histograms are thread-safe, and the latest wallboard
picture is swapped in whole.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from callcenter.core import events as ce
from callcenter.core.acd.model import AgentState
from callcenter.core.dial_policy import DialRefusal
from callcenter.core.records_backlog import RecordsBacklog
from callcenter.services.console.wallboard_snapshot import WallboardOut

ROUTING_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# An AGI request lasts from milliseconds (a dial result) to minutes (an IVR flow).
AGI_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
AGENT_STATES = tuple(state.value for state in AgentState)
_CALL_STEPS: dict[type[ce.Event], str] = {
    ce.CallEntered: "entered",
    ce.CallQueued: "queued",
    ce.CallOffered: "offered",
    ce.CallRingNoAnswer: "ring_no_answer",
    ce.CallAnswered: "answered",
    ce.CallAbandoned: "abandoned",
    ce.CallOverflowed: "overflowed",
    ce.CallCompleted: "completed",
}


class CallCenterMetrics:
    """The metrics of one running call center, in a registry of their own."""

    def __init__(
        self,
        ami_connected: Callable[[], bool],
        records: Callable[[], RecordsBacklog],
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._clock = clock
        self._monotonic = monotonic
        self._board: WallboardOut | None = None
        self._ready_since: dict[str, float] = {}
        self._in_line_since: dict[str, float] = {}
        self.calls = Counter(
            "callcenter_calls", "Steps of calls, by step", ["step"], registry=self.registry
        )
        self.routing = Histogram(
            "callcenter_routing_latency_seconds",
            "From a caller and an agent both being ready to the agent's phone offered the call",
            buckets=ROUTING_BUCKETS,
            registry=self.registry,
        )
        self.agi_requests = Counter(
            "callcenter_agi_requests",
            "FastAGI requests, by route and the status the dialplan got",
            ["route", "status"],
            registry=self.registry,
        )
        self.dial_refusals = Counter(
            "callcenter_dial_refusals",
            "Numbers the dial policy refused (core/dial_policy.py), by reason and where",
            ["reason", "where"],
            registry=self.registry,
        )
        self.agi_seconds = Histogram(
            "callcenter_agi_request_seconds",
            "How long a FastAGI request took, by route",
            ["route"],
            buckets=AGI_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_LiveFigures(self, ami_connected, records))

    # -- domain events (callcenter/subscriptions.py) -------------------------------------
    def on_event(self, event: ce.Event) -> None:
        step = _CALL_STEPS.get(type(event))
        if step is not None:
            self.calls.labels(step).inc()

    def on_queued(self, event: ce.CallQueued) -> None:
        self._in_line_since[event.call_id] = self._monotonic()

    def on_ring_no_answer(self, event: ce.CallRingNoAnswer) -> None:
        self._in_line_since[event.call_id] = self._monotonic()  # back in line from now

    def on_agent_state(self, event: ce.AgentStateChanged) -> None:
        if event.state == AgentState.READY.value:
            self._ready_since[event.agent] = self._monotonic()
        else:
            self._ready_since.pop(event.agent, None)

    def on_offered(self, event: ce.CallOffered) -> None:
        ready = [
            at
            for at in (self._in_line_since.get(event.call_id), self._ready_since.get(event.agent))
            if at is not None
        ]
        if ready:
            self.routing.observe(max(0.0, self._monotonic() - max(ready)))

    def on_call_over(self, event: ce.CallAnswered | ce.CallAbandoned | ce.CallEnded) -> None:
        self._in_line_since.pop(event.call_id, None)

    # -- the wallboard's pictures, the FastAGI server's requests ---------------------------
    def on_board(self, board: WallboardOut) -> None:
        self._board = board

    def on_agi_request(self, route: str, status: str, seconds: float) -> None:
        self.agi_requests.labels(route, status).inc()
        self.agi_seconds.labels(route).observe(seconds)

    def on_dial_refusal(self, refusal: DialRefusal) -> None:
        self.dial_refusals.labels(refusal.reason, refusal.where).inc()

    @property
    def board(self) -> WallboardOut | None:
        return self._board

    def now(self) -> float:
        return self._clock()


class _LiveFigures(Collector):
    """Gauges read when Prometheus scrapes: queues, agents, the AMI link (each node's
    from the wallboard's last picture), the records."""

    def __init__(
        self,
        metrics: CallCenterMetrics,
        ami_connected: Callable[[], bool],
        records: Callable[[], RecordsBacklog],
    ) -> None:
        self._metrics = metrics
        self._ami_connected = ami_connected
        self._records = records

    def describe(self) -> Iterator[Any]:
        return iter(self._families(None, None, None))

    def collect(self) -> Iterator[Any]:
        return iter(self._families(self._metrics.board, self._ami_connected(), self._records()))

    def _families(
        self, board: WallboardOut | None, ami: bool | None, records: RecordsBacklog | None
    ) -> list[GaugeMetricFamily]:
        now = self._metrics.now()
        waiting = GaugeMetricFamily(
            "callcenter_queue_waiting", "Callers in the queue not talking yet", labels=["queue"]
        )
        longest = GaugeMetricFamily(
            "callcenter_queue_longest_wait_seconds",
            "How long the caller waiting longest has waited (0: nobody waits)",
            labels=["queue"],
        )
        queue_agents = GaugeMetricFamily(
            "callcenter_queue_agents",
            "Logged-in agents able to take the queue's calls, by state",
            labels=["queue", "state"],
        )
        agents = GaugeMetricFamily("callcenter_agents", "Agents by state", labels=["state"])
        for queue in board.queues if board else []:
            waiting.add_metric([queue.queue], queue.waiting)
            since = queue.longest_wait_since
            longest.add_metric([queue.queue], max(0.0, now - since) if since else 0.0)
            for state, count in queue.agents.model_dump().items():
                queue_agents.add_metric([queue.queue, state], count)
        if board is not None:
            by_state = Tally(row.state for row in board.agents)
            for state in AGENT_STATES:
                agents.add_metric([state], by_state.get(state, 0))
        link = GaugeMetricFamily("callcenter_ami_up", "1 while the AMI link is logged in")
        nodes = GaugeMetricFamily(
            "callcenter_pbx_node_up",
            "[[pbx.nodes]]: 1 while the AMI link to the node is logged in (as last pushed)",
            labels=["node"],
        )
        for node in board.nodes if board else []:
            nodes.add_metric([node.node], 1.0 if node.up else 0.0)
        backlog = GaugeMetricFamily(
            "callcenter_records_backlog", "Call record events not written to the database yet"
        )
        lag = GaugeMetricFamily(
            "callcenter_records_lag_seconds",
            "How long writing call records has been failing or catching up (0: keeping up)",
        )
        journal = GaugeMetricFamily(
            "callcenter_records_journal", "Of the waiting events, those in the journal file"
        )
        dropped = GaugeMetricFamily(
            "callcenter_records_dropped", "Call record events lost since start (memory full)"
        )
        if ami is not None:
            link.add_metric([], 1.0 if ami else 0.0)
        if records is not None:
            backlog.add_metric([], records.waiting)
            since = records.behind_since
            lag.add_metric([], max(0.0, now - since) if since else 0.0)
            journal.add_metric([], records.journal)
            dropped.add_metric([], records.dropped)
        return [waiting, longest, queue_agents, agents, link, nodes, backlog, lag, journal, dropped]
