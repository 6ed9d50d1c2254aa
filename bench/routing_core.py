"""Benchmark of the skills-based routing core (callcenter/core/acd/router.py).

    python bench/routing_core.py            # from the repository root

A call center with 1,000 logged-in agents (random skills over 50, levels 1-5,
3-8 skills each), 10 queues with requirements and relax steps, and 10,000
waiting calls. A long, seeded, mixed series of events is replayed: an agent
becomes free (set_available + offer_agent), a call arrives (enqueue +
offer_call), the relax timer fires (relax_due). Each event is timed alone with
perf_counter_ns, state update included. The max includes the interpreter's
own pauses (garbage collection, dict resizes), which no router can avoid.

The baseline is a naive router that scans every waiting call for each free
agent. It runs after the timed series, in a second phase of agent-free events
where both routers decide on the very same state and must choose the same call
(the agreement line). It runs apart because its scans flush the CPU caches,
which would slow the events after it and blur the real router's figures; the
speedup compares its p99 with the real router's offer_agent p99 from the
series, and the same-moment ratio (real router measured in phase two) is
reported beside it.

Prints human-readable lines, then one JSON object as the last line.
"""

from __future__ import annotations

import _checkout  # noqa: F401  first: this checkout's code (bench/_checkout.py)

# isort: split
import json
import platform
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

from callcenter.core.acd.model import QueueConfig, RelaxStep, Strategy, meets
from callcenter.core.acd.router import Assignment, Router

SEED = 20_240_601
AGENTS = 1_000
SKILLS = 50
QUEUES = 10
WAITING = 10_000
EVENTS = 40_000
NAIVE_SAMPLES = 200
STEP = 0.01  # simulated seconds between events
LANGUAGES = ("skill47", "skill48", "skill49")  # IVR extras ("press 2 for Spanish")


@dataclass(frozen=True, slots=True)
class Call:
    call_id: str
    queue: str
    priority: int
    enqueued_at: float
    extra: Mapping[str, int]


def naive_offer_agent(
    queues: Mapping[str, QueueConfig],
    waiting: Mapping[str, Call],
    skills: Mapping[str, int],
    now: float,
) -> str | None:
    """The obvious router: rank every eligible waiting call, keep the best."""
    best: tuple[int, float, float, str] | None = None
    for call in waiting.values():
        queue = queues[call.queue]
        if not meets(skills, queue.requirements_at(now - call.enqueued_at, call.extra)):
            continue
        rank = (
            -call.priority,
            -(now - call.enqueued_at) * queue.weight,
            call.enqueued_at,
            call.call_id,
        )
        if best is None or rank < best:
            best = rank
    return None if best is None else best[3]


def make_queues(rng: random.Random, skills: list[str]) -> dict[str, QueueConfig]:
    queues = {}
    for index in range(QUEUES):
        needed = rng.sample(skills[: SKILLS - len(LANGUAGES)], rng.randint(1, 3))
        base = {skill: rng.randint(2, 4) for skill in needed}
        looser = {skill: max(1, level - 1) for skill, level in base.items()}
        steps = [RelaxStep(30.0, looser), RelaxStep(90.0, {needed[0]: 1})]
        if index % 5 == 0:  # a few queues end with "anyone" after a long wait
            steps.append(RelaxStep(600.0, {}))
        name = f"queue{index}"
        queues[name] = QueueConfig(
            name,
            base,
            strategy=Strategy.MOST_PROFICIENT if index % 3 == 0 else Strategy.LONGEST_IDLE,
            weight=rng.choice([1.0, 1.0, 1.5, 2.0]),
            relax=tuple(steps),
        )
    return queues


def new_call(rng: random.Random, serial: int, queues: list[str], now: float) -> Call:
    extra: dict[str, int] = {}
    if rng.random() < 0.3:
        extra = {rng.choice(LANGUAGES): rng.randint(2, 3)}
    priority = rng.choices([0, 1, 2], weights=[80, 15, 5])[0]
    return Call(f"call{serial:07d}", rng.choice(queues), priority, now, extra)


def percentile(sorted_values: list[float], share: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(share * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def summary(nanoseconds: list[int]) -> dict[str, float]:
    values = sorted(ns / 1000 for ns in nanoseconds)
    return {
        "count": len(values),
        "p50_us": percentile(values, 0.50),
        "p99_us": percentile(values, 0.99),
        "max_us": values[-1] if values else float("nan"),
    }


class Bench:
    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.skill_names = [f"skill{i:02d}" for i in range(SKILLS)]
        self.queues = make_queues(self.rng, self.skill_names)
        self.router = Router(self.queues)
        self.waiting: dict[str, Call] = {}
        self.skills: dict[str, dict[str, int]] = {}
        self.busy: list[str] = []
        self.now = 1_000.0
        self.serial = 0
        self.assignments = 0
        self.timings: dict[str, list[int]] = {"offer_agent": [], "offer_call": [], "relax_due": []}
        self.naive: list[int] = []
        self.ours_when_naive: list[int] = []
        self.agreement = 0

    # --- set-up (not timed) -----------------------------------------------------

    def populate(self) -> None:
        for index in range(AGENTS):
            agent_id = f"agent{index:04d}"
            held = self.rng.sample(self.skill_names, self.rng.randint(3, 8))
            self.skills[agent_id] = {skill: self.rng.randint(1, 5) for skill in held}
            self.router.upsert_agent(agent_id, self.skills[agent_id])
            self.router.set_logged_in(agent_id, True)
        names = sorted(self.queues)
        for _ in range(WAITING):
            self.serial += 1
            enqueued_at = self.now - self.rng.uniform(0.0, 900.0)
            self.enqueue(new_call(self.rng, self.serial, names, enqueued_at))
        ready = set(self.rng.sample(sorted(self.skills), AGENTS // 20))
        self.busy = [agent_id for agent_id in sorted(self.skills) if agent_id not in ready]
        for agent_id in sorted(ready):
            self.free_agent(agent_id)
        self.record_all(self.router.relax_due(self.now))

    # --- bookkeeping ----------------------------------------------------------------

    def enqueue(self, call: Call) -> None:
        self.router.enqueue(call.call_id, call.queue, call.priority, call.enqueued_at, call.extra)
        self.waiting[call.call_id] = call

    def record(self, call_id: str, agent_id: str) -> None:
        del self.waiting[call_id]
        self.busy.append(agent_id)
        self.assignments += 1

    def record_all(self, assignments: list[Assignment]) -> None:
        for assignment in assignments:
            self.record(assignment.call_id, assignment.agent_id)

    def free_agent(self, agent_id: str) -> None:
        self.router.set_available(agent_id, True, self.now)
        assignment = self.router.offer_agent(agent_id, self.now)
        if assignment is not None:
            self.record(assignment.call_id, assignment.agent_id)

    # --- the timed events -----------------------------------------------------------

    def pick_busy_agent(self) -> str:
        index = self.rng.randrange(len(self.busy))
        self.busy[index], self.busy[-1] = self.busy[-1], self.busy[index]
        return self.busy.pop()

    def agent_frees_up(self) -> None:
        agent_id = self.pick_busy_agent()
        start = time.perf_counter_ns()
        self.router.set_available(agent_id, True, self.now)
        assignment = self.router.offer_agent(agent_id, self.now)
        self.timings["offer_agent"].append(time.perf_counter_ns() - start)
        if assignment is not None:
            self.record(assignment.call_id, agent_id)

    def compare_with_naive(self) -> None:
        """Both routers on one state: ours decides first, the naive one reads
        ``self.waiting``, which still holds the call ours just took."""
        agent_id = self.pick_busy_agent()
        start = time.perf_counter_ns()
        self.router.set_available(agent_id, True, self.now)
        assignment = self.router.offer_agent(agent_id, self.now)
        self.ours_when_naive.append(time.perf_counter_ns() - start)
        start = time.perf_counter_ns()
        expected = naive_offer_agent(self.queues, self.waiting, self.skills[agent_id], self.now)
        self.naive.append(time.perf_counter_ns() - start)
        self.agreement += (None if assignment is None else assignment.call_id) == expected
        if assignment is not None:
            self.record(assignment.call_id, agent_id)

    def call_arrives(self, names: list[str]) -> None:
        self.serial += 1
        call = new_call(self.rng, self.serial, names, self.now)
        start = time.perf_counter_ns()
        self.router.enqueue(call.call_id, call.queue, call.priority, call.enqueued_at, call.extra)
        assignment = self.router.offer_call(call.call_id, self.now)
        self.timings["offer_call"].append(time.perf_counter_ns() - start)
        self.waiting[call.call_id] = call
        if assignment is not None:
            self.record(assignment.call_id, assignment.agent_id)

    def relax_timer(self) -> None:
        start = time.perf_counter_ns()
        assignments = self.router.relax_due(self.now)
        self.timings["relax_due"].append(time.perf_counter_ns() - start)
        self.record_all(assignments)

    def run(self) -> None:
        names = sorted(self.queues)
        for _ in range(EVENTS):
            self.now += STEP
            draw = self.rng.random()
            if draw < 0.45 and self.busy:
                self.agent_frees_up()
            elif draw < 0.90:
                self.call_arrives(names)
            else:
                self.relax_timer()

    def run_naive(self) -> None:
        names = sorted(self.queues)
        for _ in range(NAIVE_SAMPLES):
            self.now += STEP
            self.serial += 1
            call = new_call(self.rng, self.serial, names, self.now)
            self.enqueue(call)  # keeps the line as long, untimed
            assignment = self.router.offer_call(call.call_id, self.now)
            if assignment is not None:
                self.record(assignment.call_id, assignment.agent_id)
            self.compare_with_naive()


def report(bench: Bench, groups: int) -> dict[str, object]:
    everything = [ns for series in bench.timings.values() for ns in series]
    total = summary(everything)
    kinds = {kind: summary(series) for kind, series in bench.timings.items()}
    naive = summary(bench.naive)
    ours = summary(bench.ours_when_naive)
    per_second = len(everything) / (sum(everything) / 1e9)  # per second spent in the router
    for kind, f in kinds.items():
        print(
            f"  {kind:12s} n={f['count']:6.0f}  p50 {f['p50_us']:8.1f} us"
            f"  p99 {f['p99_us']:8.1f} us  max {f['max_us']:9.1f} us"
        )
    print(
        f"  all decisions n={total['count']:.0f}: {per_second:,.0f} per second,"
        f" p50 {total['p50_us']:.1f} us, p99 {total['p99_us']:.1f} us, max {total['max_us']:.1f} us"
    )
    print(
        f"  naive offer_agent (scans every waiting call), n={naive['count']:.0f}:"
        f" p50 {naive['p50_us']:,.0f} us, p99 {naive['p99_us']:,.0f} us"
    )
    print(
        f"  offer_agent at the same moments (caches cold after naive scans):"
        f" p50 {ours['p50_us']:.1f} us, p99 {ours['p99_us']:.1f} us"
    )
    ours_p50, ours_p99 = kinds["offer_agent"]["p50_us"], kinds["offer_agent"]["p99_us"]
    print(
        f"  speedup vs naive offer_agent: p50 x{naive['p50_us'] / ours_p50:,.0f},"
        f" p99 x{naive['p99_us'] / ours_p99:,.0f}"
    )
    print(f"  agreement with the naive router: {bench.agreement}/{len(bench.naive)}")
    print(f"  assignments: {bench.assignments}, calls waiting at the end: {len(bench.waiting)}")
    result: dict[str, object] = {
        "benchmark": "routing_core",
        "seed": SEED,
        "agents": AGENTS,
        "skills": SKILLS,
        "queues": QUEUES,
        "waiting_calls": WAITING,
        "waiting_calls_at_end": len(bench.waiting),
        "call_groups": groups,
        "decisions": len(everything),
        "assignments": bench.assignments,
        "decisions_per_second": round(per_second, 1),
        "p50_decision_us": round(total["p50_us"], 2),
        "p99_decision_us": round(total["p99_us"], 2),
        "max_decision_us": round(total["max_us"], 2),
        **{f"{kind}_p50_us": round(f["p50_us"], 2) for kind, f in kinds.items()},
        **{f"{kind}_p99_us": round(f["p99_us"], 2) for kind, f in kinds.items()},
        "naive_samples": naive["count"],
        "naive_offer_agent_p50_us": round(naive["p50_us"], 1),
        "naive_offer_agent_p99_us": round(naive["p99_us"], 1),
        "sampled_offer_agent_p99_us": round(ours["p99_us"], 2),
        "speedup_vs_naive_p50": round(naive["p50_us"] / ours_p50, 1),
        "speedup_vs_naive_p99": round(naive["p99_us"] / ours_p99, 1),
        "speedup_same_moments_p99": round(naive["p99_us"] / ours["p99_us"], 1),
        "naive_agreement": bench.agreement / len(bench.naive) if bench.naive else None,
        "python": platform.python_version(),
    }
    return result


def main() -> None:
    wall = time.perf_counter()
    bench = Bench()
    bench.populate()
    groups = len(
        {(c.queue, c.priority, tuple(sorted(c.extra.items()))) for c in bench.waiting.values()}
    )
    print(
        f"routing core: {AGENTS} agents, {SKILLS} skills, {QUEUES} queues,"
        f" {len(bench.waiting)} waiting calls in {groups} groups (seed {SEED})"
    )
    at_start = len(bench.waiting)
    bench.run()
    bench.run_naive()
    result = report(bench, groups)
    result["waiting_calls_at_start"] = at_start
    result["wall_seconds"] = round(time.perf_counter() - wall, 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
