"""Benchmark of the wait estimates callers hear (callcenter/core/acd/waits.py).

    python bench/wait_estimates.py            # from the repository root
    python bench/wait_estimates.py --days 2   # quicker

Simulated working days, driven through the real routing core
(core/acd/router.py: skills, relax steps, longest idle) with the agents'
states kept as the services keep them (core/acd/agent_state.AgentStatus):

- three queues sharing agents by skill: sales, support (with a relax step that
  lets any support agent in after 30 s) and billing; some agents have two skills;
- arrivals Poisson with a morning and an afternoon peak; talk times lognormal
  per queue (different means and spreads), a fixed wrap-up per queue, 2-6 s
  from an agent freeing up to the caller answered (the ring);
- callers give up after an exponential patience; agents take a short pause now
  and then;
- the estimator starts cold every day (no call measured, the queues' expected
  talk time 180 s) and learns from the calls handled, as after a restart.

Every caller who has to wait gets an estimate on arrival and every 45 s while
waiting (as the announcements do), made by the product's estimator
(core/acd/waits.py: line_for + agents_now + estimate, as
services/inbound/queueing.py calls it) and, at the very same moment, by the
naive estimate position x average handle time / agents (the average over the
calls handled so far, 180 s before any). When the caller reaches an agent, each
estimate is judged against the actual wait from that moment:
|estimate - actual| / actual (waits under 10 s count as 10 s, as in the
product's report). Callers who gave up have no actual wait and are left out.

Prints, per queue and overall: median and 90th percentile of that error over
all estimates, ours and naive; then over the figures callers were actually told
(core/queues.spoken_wait with a queue's default announcements: a figure the
product stands by, a minute or more; shorter or unreliable waits are not
spoken), ours as computed, ours as spoken in whole minutes, and naive at the
same moments; how ours' errors follow the error it expected of itself; what a
stricter confidence would trade; the CPU one estimate takes; then one JSON
object as the last line. ``--seed`` draws other days.

Scenario ``plain`` (one queue, ten agents, nobody gives up, no pauses) is where
the estimator's model is exact: its figures are the floor any estimate made
from what is known at the moment can reach with such talk times.
"""

from __future__ import annotations

import _checkout  # noqa: F401  first: this checkout's code (bench/_checkout.py)

# isort: split
import argparse
import heapq
import itertools
import json
import math
import platform
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from callcenter.core.acd.agent_state import AgentStatus
from callcenter.core.acd.model import AgentState, QueueConfig, RelaxStep
from callcenter.core.acd.router import Router
from callcenter.core.acd.waits import (
    DEFAULT_EXPECTED_TALK,
    Line,
    TalkFit,
    WaitHistory,
    agents_now,
    estimate,
    line_for,
    quantile,
    relative_errors,
)
from callcenter.core.queues import Announce, spoken_wait

SEED = 20_261_207
DAY = 8 * 3600.0
ANNOUNCE_EVERY = 45.0
GOAL_MEDIAN, GOAL_P90 = 0.20, 0.50
ANNOUNCE = Announce()  # a queue's announcements as shipped: figures only when reliable


@dataclass(frozen=True)
class QueueSpec:
    name: str
    requirements: dict[str, int]
    relax: tuple[RelaxStep, ...]
    calls_per_hour: float  # at the peaks
    talk_mean: float
    talk_cv: float
    wrapup: float


QUEUES = (
    QueueSpec("sales", {"sales": 1}, (), 130.0, 200.0, 0.8, 10.0),
    QueueSpec(
        "support", {"support": 3}, (RelaxStep(30.0, {"support": 1}),), 110.0, 330.0, 1.0, 20.0
    ),
    QueueSpec("billing", {"billing": 1}, (), 45.0, 260.0, 0.6, 15.0),
)
# (skills, how many agents)
STAFF = (
    ({"sales": 3}, 5),
    ({"sales": 2, "billing": 2}, 2),
    ({"support": 4}, 7),
    ({"support": 2}, 3),
    ({"support": 2, "billing": 3}, 2),
    ({"billing": 3}, 2),
)
PATIENCE_MEAN = 300.0  # seconds before a caller gives up, exponential
PAUSE_EVERY = 3600.0  # an agent pauses about this often, for 2-6 minutes


@dataclass(frozen=True)
class Scenario:
    queues: tuple[QueueSpec, ...]
    staff: tuple[tuple[dict[str, int], int], ...]
    patience_mean: float = math.inf  # inf: nobody gives up
    pause_every: float = math.inf  # inf: nobody pauses


SCENARIOS = {
    # The default: skills, a relax step, abandonment, pauses.
    "mixed": Scenario(QUEUES, STAFF, PATIENCE_MEAN, PAUSE_EVERY),
    # Where the estimator's model is exact (one queue, ten agents, no pauses, nobody
    # gives up): what is left is the randomness of talk times, the floor for any estimate
    # made from what is known at the moment.
    "plain": Scenario((QueueSpec("plain", {"plain": 1}, (), 150.0, 200.0, 0.8, 10.0),),
                      (({"plain": 1}, 10),)),
}  # fmt: skip


def arrival_rate(spec: QueueSpec, at: float) -> float:
    """Calls per second: two peaks (10:30 and 14:30 when the day starts at 8:00)."""
    hour = at / 3600
    shape = 0.55 + 0.45 * max(
        math.exp(-((hour - 2.5) ** 2) / 2), math.exp(-((hour - 6.5) ** 2) / 2)
    )
    return spec.calls_per_hour * shape / 3600


def lognormal(rng: random.Random, mean: float, cv: float) -> float:
    sigma = math.sqrt(math.log(1 + cv * cv))
    return rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)


def exponential(rng: random.Random, mean: float) -> float:
    return rng.expovariate(1 / mean) if math.isfinite(mean) else math.inf


@dataclass
class Caller:
    call_id: str
    queue: str
    arrived: float
    patience: float
    # (at, ours, reliable, naive, ours' expected error, minutes told or None) for each
    # estimate made while waiting
    estimates: list[tuple[float, float, bool, float, float, int | None]] = field(
        default_factory=list
    )
    answered: float | None = None
    gone: bool = False


@dataclass
class Naive:
    """position x average handle time / agents, the average of the calls handled so far."""

    handled: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def record(self, queue: str, handle: float) -> None:
        self.handled[queue].append(handle)

    def estimate(self, queue: str, position: int, agents: int) -> float:
        seen = self.handled[queue]
        average = sum(seen) / len(seen) if seen else DEFAULT_EXPECTED_TALK
        return position * average / max(agents, 1)


class Day:
    def __init__(self, seed: int, scenario: Scenario) -> None:
        self.rng = random.Random(seed)
        self.scenario = scenario
        self.specs = {q.name: q for q in scenario.queues}
        self.router = Router(
            {
                q.name: QueueConfig(q.name, dict(q.requirements), relax=q.relax, wrapup=q.wrapup)
                for q in scenario.queues
            }
        )
        self.statuses: dict[str, AgentStatus] = {}
        self.history = WaitHistory()
        self.naive = Naive()
        self.callers: dict[str, Caller] = {}
        self.events: list[tuple[float, int, str, str]] = []
        self.seq = itertools.count()
        self.timings: list[float] = []
        self.pause_next: set[str] = set()
        for index, (skills, count) in enumerate(scenario.staff):
            for n in range(count):
                agent = f"a{index}-{n}"
                self.router.upsert_agent(agent, skills)
                self.router.set_logged_in(agent, True)
                self._state(agent, AgentState.READY, 0.0)
                self._at(exponential(self.rng, scenario.pause_every), "pause", agent)
        for spec in scenario.queues:
            self._next_arrival(spec, 0.0)
        self.relax_at: float | None = None

    # -- the event loop ---------------------------------------------------------------
    def _at(self, at: float, kind: str, who: str) -> None:
        if not math.isfinite(at):
            return  # never
        heapq.heappush(self.events, (at, next(self.seq), kind, who))

    def _state(self, agent: str, state: AgentState, now: float, call_id: str | None = None) -> None:
        pending = "break" if agent in self.pause_next else None
        self.statuses[agent] = AgentStatus(state, now, pending_pause=pending, call_id=call_id)
        self.router.set_available(agent, state is AgentState.READY, now)

    def run(self) -> list[Caller]:
        handlers: dict[str, Callable[[str, float], None]] = {
            "arrive": self._arrive,
            "answer": self._answer,
            "hangup": self._hangup,
            "free": self._free,
            "give-up": self._give_up,
            "announce": self._announce,
            "pause": self._pause,
            "unpause": self._unpause,
        }
        while self.events:
            at, seq, kind, who = heapq.heappop(self.events)
            if self.relax_at is not None and self.relax_at <= at:
                # A relax step is due first; what it starts may come before this event.
                heapq.heappush(self.events, (at, seq, kind, who))
                self._relax(self.relax_at)
                self._arm_relax()
                continue
            handlers[kind](who, at)
            self._arm_relax()
        return list(self.callers.values())

    def _arm_relax(self) -> None:
        self.relax_at = self.router.next_relax_at()

    def _relax(self, now: float) -> None:
        for assignment in self.router.relax_due(now):
            self._ring(assignment.call_id, assignment.agent_id, now)

    # -- callers ------------------------------------------------------------------------
    def _next_arrival(self, spec: QueueSpec, now: float) -> None:
        # Thinning: candidates at the peak rate, kept in proportion to the rate now.
        at = now
        while at < DAY:
            at += self.rng.expovariate(spec.calls_per_hour / 3600)
            if self.rng.random() < arrival_rate(spec, at) * 3600 / spec.calls_per_hour:
                self._at(at, "arrive", spec.name)
                return

    def _arrive(self, queue: str, now: float) -> None:
        self._next_arrival(self.specs[queue], now)
        call_id = f"c{next(self.seq)}"
        caller = Caller(call_id, queue, now, exponential(self.rng, self.scenario.patience_mean))
        self.callers[call_id] = caller
        self.router.enqueue(call_id, queue, 0, now)
        assignment = self.router.offer_call(call_id, now)
        if assignment is not None:
            self._ring(call_id, assignment.agent_id, now)
            return
        self._estimate(caller, now)
        self._at(now + caller.patience, "give-up", call_id)
        self._at(now + ANNOUNCE_EVERY, "announce", call_id)

    def _estimate(self, caller: Caller, now: float) -> None:
        spec = self.specs[caller.queue]
        started = time.thread_time()
        eligible = self.router.eligible_over_time(caller.call_id, now)
        ahead = self.router.calls_ahead(caller.call_id, now)
        agents = agents_now(
            eligible,
            self.statuses,
            self.router.is_available,
            lambda agent: self.history.fit(caller.queue, DEFAULT_EXPECTED_TALK, agent),
            spec.wrapup,
            now,
            self.history.pause_fit,
        )

        def line() -> Line | None:  # only if a draw needs it
            return line_for(
                self.router,
                caller.call_id,
                self.statuses,
                self.router.is_available,
                lambda agent: self._work(agent, caller.queue),
                lambda queue: self.history.fit(queue, DEFAULT_EXPECTED_TALK),
                lambda queue: self.specs[queue].wrapup,
                now,
                self.history.pause_fit,
            )

        ours = estimate(
            self.router.expected_ahead(caller.call_id, now),
            agents,
            answer_delay=self.history.answer_delay(caller.queue),
            line=line,
            abandon_rate=self.history.abandon_rate(caller.queue),
        )
        self.timings.append(time.thread_time() - started)
        if ours.seconds is None:
            return
        naive = self.naive.estimate(caller.queue, ahead + 1, len(eligible))
        expected = -1.0 if ours.expected_error is None else ours.expected_error
        spoken = spoken_wait(ANNOUNCE, ours.seconds, ours.reliable)
        told = spoken if isinstance(spoken, int) else None
        caller.estimates.append((now, ours.seconds, ours.reliable, naive, expected, told))

    def _work(self, agent: str, queue: str) -> tuple[TalkFit, float]:
        """Talk times and wrap-up of the call the agent is on (else of ``queue``)."""
        call_id = self.statuses[agent].call_id
        if call_id is not None:
            queue = self.callers[call_id].queue
        return self.history.fit(queue, DEFAULT_EXPECTED_TALK, agent), self.specs[queue].wrapup

    def _announce(self, call_id: str, now: float) -> None:
        caller = self.callers[call_id]
        if caller.answered is None and not caller.gone and call_id in self.router.waiting():
            self._estimate(caller, now)
            self._at(now + ANNOUNCE_EVERY, "announce", call_id)

    def _give_up(self, call_id: str, now: float) -> None:
        caller = self.callers[call_id]
        if self.router.remove_call(call_id):
            caller.gone = True
            self.history.abandoned(caller.queue, now - caller.arrived)

    # -- agents -------------------------------------------------------------------------
    def _ring(self, call_id: str, agent: str, now: float) -> None:
        self._state(agent, AgentState.RINGING, now, call_id)
        self._at(now + self.rng.uniform(2.0, 6.0), "answer", agent)

    def _answer(self, agent: str, now: float) -> None:
        call_id = self.statuses[agent].call_id
        assert call_id is not None
        caller = self.callers[call_id]
        caller.answered = now
        ring = now - self.statuses[agent].since
        self.history.answered(caller.queue, ring, now - caller.arrived)
        self._state(agent, AgentState.ON_CALL, now, call_id)
        spec = self.specs[caller.queue]
        self._at(now + lognormal(self.rng, spec.talk_mean, spec.talk_cv), "hangup", agent)

    def _hangup(self, agent: str, now: float) -> None:
        status = self.statuses[agent]
        assert status.call_id is not None
        queue = self.callers[status.call_id].queue
        talk = now - status.since
        self.history.talk(queue, agent, talk)
        self.naive.record(queue, talk + self.specs[queue].wrapup)
        self._state(agent, AgentState.WRAP_UP, now, status.call_id)  # as the product keeps it
        self._at(now + self.specs[queue].wrapup, "free", agent)

    def _free(self, agent: str, now: float) -> None:
        if agent in self.pause_next:
            self.pause_next.discard(agent)
            self._pause_now(agent, now)
            return
        self._state(agent, AgentState.READY, now)
        assignment = self.router.offer_agent(agent, now)
        if assignment is not None:
            self._ring(assignment.call_id, agent, now)

    def _pause(self, agent: str, now: float) -> None:
        if now >= DAY:
            return
        status = self.statuses[agent]
        if status.state is AgentState.READY:
            self._pause_now(agent, now)
        elif status.state is not AgentState.PAUSED:
            self.pause_next.add(agent)  # after this call (the product's "pause after")
            self.statuses[agent] = replace(status, pending_pause="break")

    def _pause_now(self, agent: str, now: float) -> None:
        self._state(agent, AgentState.PAUSED, now)
        self.statuses[agent] = AgentStatus(AgentState.PAUSED, now, "break")
        self._at(now + self.rng.uniform(120, 360), "unpause", agent)

    def _unpause(self, agent: str, now: float) -> None:
        status = self.statuses[agent]
        self.history.paused(status.reason, now - status.since)
        self._at(now + exponential(self.rng, self.scenario.pause_every), "pause", agent)
        self._free(agent, now)


# -- the report ---------------------------------------------------------------------------
class Row(NamedTuple):
    """One estimate of a caller who was answered, and the wait that followed."""

    ours: float
    actual: float
    reliable: bool
    naive: float
    expected: float  # the error ours expected of itself; -1.0: not known
    spoken: int | None  # the minutes the caller was told (core/queues.spoken_wait); None: none


def judged(callers: list[Caller]) -> dict[str, list[Row]]:
    """Per queue: a Row for every estimate of an answered caller."""
    found: dict[str, list[Row]] = defaultdict(list)
    for caller in callers:
        if caller.answered is None:
            continue
        for at, ours, reliable, naive, expected, spoken in caller.estimates:
            row = Row(ours, caller.answered - at, reliable, naive, expected, spoken)
            found[caller.queue].append(row)
    return found


def by_confidence(rows: list[Row]) -> list[tuple[str, int, float | None, float | None]]:
    """Actual errors of ours, grouped by the error ours expected of itself."""
    bands = ((0.0, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5), (0.5, 0.7), (0.7, math.inf))
    found = []
    for low, high in bands:
        errors = relative_errors([(r.ours, r.actual) for r in rows if low <= r.expected < high])
        label = f"{low:.0%}-{high:.0%}" if math.isfinite(high) else f">= {low:.0%}"
        found.append((label, len(errors), quantile(errors, 0.5), quantile(errors, 0.9)))
    return found


def if_told_below(rows: list[Row], limit: float) -> tuple[float, float | None, float | None]:
    """Were figures told only when ours expected an error up to ``limit`` (and reliable
    and a minute or more, as today): the share of estimates told, their p50 and p90."""
    told = [r for r in rows if r.spoken is not None and 0 <= r.expected <= limit]
    errors = relative_errors([(r.ours, r.actual) for r in told])
    return len(told) / len(rows) if rows else 0.0, quantile(errors, 0.5), quantile(errors, 0.9)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def figures(rows: list[Row]) -> dict[str, Any]:
    """All estimates, and the figures callers were told (reliable, a minute or more:
    core/queues.spoken_wait), those judged as ours gave them and as spoken (whole minutes)."""
    ours = relative_errors([(r.ours, r.actual) for r in rows])
    naive = relative_errors([(r.naive, r.actual) for r in rows])
    told = [r for r in rows if r.spoken is not None]
    ours_told = relative_errors([(r.ours, r.actual) for r in told])
    spoken = relative_errors([(60.0 * r.spoken, r.actual) for r in told if r.spoken is not None])
    naive_told = relative_errors([(r.naive, r.actual) for r in told])
    return {
        "estimates": len(rows),
        "ours_median": _round(quantile(ours, 0.5)),
        "ours_p90": _round(quantile(ours, 0.9)),
        "naive_median": _round(quantile(naive, 0.5)),
        "naive_p90": _round(quantile(naive, 0.9)),
        "reliable_share": _round(sum(1 for r in rows if r.reliable) / len(rows)) if rows else None,
        "told": len(told),
        "told_share": _round(len(told) / len(rows)) if rows else None,
        "told_ours_median": _round(quantile(ours_told, 0.5)),
        "told_ours_p90": _round(quantile(ours_told, 0.9)),
        "told_spoken_median": _round(quantile(spoken, 0.5)),
        "told_spoken_p90": _round(quantile(spoken, 0.9)),
        "told_naive_median": _round(quantile(naive_told, 0.5)),
        "told_naive_p90": _round(quantile(naive_told, 0.9)),
    }


def pct(value: float | None) -> str:
    return "   -  " if value is None else f"{100 * value:5.1f}%"


def met(median: float | None, p90: float | None) -> bool:
    return median is not None and p90 is not None and median <= GOAL_MEDIAN and p90 <= GOAL_P90


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="mixed")
    parser.add_argument(
        "--seed", type=int, default=SEED, help=f"day d is drawn with seed + d (default {SEED})"
    )
    args = parser.parse_args()
    callers: list[Caller] = []
    timings: list[float] = []
    for day in range(args.days):
        simulation = Day(args.seed + day, SCENARIOS[args.scenario])
        callers += simulation.run()
        timings += simulation.timings
    rows = judged(callers)
    every = [row for queue in sorted(rows) for row in rows[queue]]
    report = {name: figures(rows[name]) for name in sorted(rows)} | {"all": figures(every)}
    answered = [c for c in callers if c.answered is not None]
    gave_up = sum(1 for c in callers if c.gone)
    waited = sorted(c.answered - c.arrived for c in answered if c.answered is not None)
    had_estimate = [c for c in answered if c.estimates]
    heard = sum(1 for c in had_estimate if any(e[5] is not None for e in c.estimates))
    print(
        f"{args.days} simulated days of {DAY / 3600:.0f} h (seed {args.seed}): {len(callers)} "
        f"callers, {len(answered)} answered, {gave_up} gave up; wait p50 "
        f"{quantile(waited, 0.5):.0f} s, p90 {quantile(waited, 0.9):.0f} s; "
        f"{len(had_estimate)} answered callers waited for an agent, {heard} of them were told "
        "a figure"
    )
    print(
        "|estimate - actual| / actual, all estimates (ours | naive), then the figures callers "
        "were told\n(reliable and a minute or more): ours as computed | as spoken in whole "
        "minutes | naive at the same moments"
    )
    print(
        f"{'queue':8} {'estimates':>9}  {'ours p50':>8} {'p90':>6}  {'naive':>6} {'p90':>6}  "
        f"{'told':>6}  {'ours':>6} {'p90':>6}  {'spoken':>6} {'p90':>6}  {'naive':>6} {'p90':>6}"
    )
    for name, f in report.items():
        print(
            f"{name:8} {f['estimates']:9d}  {pct(f['ours_median']):>8} {pct(f['ours_p90']):>6}  "
            f"{pct(f['naive_median']):>6} {pct(f['naive_p90']):>6}  {pct(f['told_share']):>6}  "
            f"{pct(f['told_ours_median']):>6} {pct(f['told_ours_p90']):>6}  "
            f"{pct(f['told_spoken_median']):>6} {pct(f['told_spoken_p90']):>6}  "
            f"{pct(f['told_naive_median']):>6} {pct(f['told_naive_p90']):>6}"
        )
    print("ours by the error it expected of itself (the confidence): estimates, p50, p90")
    for label, count, median, p90 in by_confidence(every):
        print(f"  expected {label:>9}: {count:5d}   {pct(median):>7} {pct(p90):>7}")
    print("were figures told only up to an expected error of: share of estimates told, p50, p90")
    for limit in (0.2, 0.3, 0.4, 0.5):
        share, median, p90 = if_told_below(every, limit)
        print(f"  {limit:.0%}{' (today)' if limit == 0.5 else '':8}: {pct(share)}  "
              f"{pct(median)} {pct(p90)}")  # fmt: skip
    ordered = sorted(timings)
    ms = {
        "p50": round(1000 * (quantile(ordered, 0.5) or 0), 3),
        "p99": round(1000 * (quantile(ordered, 0.99) or 0), 3),
        "max": round(1000 * (ordered[-1] if ordered else 0), 3),
    }
    print(
        f"CPU of one estimate (line_for + agents_now + estimate, thread time): p50 {ms['p50']} "
        f"ms, p99 {ms['p99']} ms, max {ms['max']} ms"
    )
    whole = report["all"]
    goal_all = met(whole["ours_median"], whole["ours_p90"])
    goal_told = met(whole["told_ours_median"], whole["told_ours_p90"])
    print(
        f"goal (median <= {GOAL_MEDIAN:.0%}, p90 <= {GOAL_P90:.0%}): all estimates "
        f"{'met' if goal_all else 'NOT met'}; figures told {'met' if goal_told else 'NOT met'}"
    )
    print(
        json.dumps(
            {
                "benchmark": "wait_estimates",
                "python": platform.python_version(),
                "days": args.days,
                "seed": args.seed,
                "scenario": args.scenario,
                "callers": len(callers),
                "answered": len(answered),
                "gave_up": gave_up,
                "waited": len(had_estimate),
                "told_a_figure": heard,
                "queues": report,
                "estimate_ms": ms,
                "goal_met": goal_all,
                "goal_met_told": goal_told,
            }
        )
    )


if __name__ == "__main__":
    main()
