"""Dialer simulation: predictive vs progressive pacing on the pure outbound core.

    python bench/dialer_simulation.py                  # from the repository root
    python bench/dialer_simulation.py --agents 50 --days 10 --seed 7

A discrete-event simulation, no I/O: agents work 8-hour shifts; the dialer
asks ``core.outbound.pacing.pace`` how many calls to place after every event
(a call ends, a call is answered, an agent finishes a call, a waiting call's
2 s run out); leads go through ``core.outbound.retry`` (busy, no answer,
machine, abandoned: the 72 h quiet period) and every answered call is judged
by ``core.outbound.dispositions.outcome_of`` (abandoned: a person, no agent
within 2 s of the end of their greeting, i.e. AMD's verdict).

Same leads, same model for both modes: lead ``i`` and its attempt ``k`` have
one fate, drawn from a generator seeded by (seed, i, k): whether a person or
a machine answers, after how long, what AMD says, how long the talk lasts.
So the two modes differ only in when and how much they dial.

The model (per attempt; leads are 30 % easy, 50 % hard, 20 % never a person):
a person answers after 3-15 s (easy 55 %, hard 15 %), a machine after 2-10 s
(15 %, 20 %, 60 %), busy after 2 s (5 %), nothing fails after 1 s (2 %), the
rest rings out at 20 s. AMD hears a person as HUMAN 95 %, NOTSURE 3 %,
MACHINE 2 %; a machine as MACHINE 90 %, NOTSURE 10 % (then an agent gets it,
for 20 s). Talk is lognormal, mean 120 s, plus 15 s wrap-up. On a machine
the campaign hangs up. Occupancy = (talk + wrap-up) / logged-in time.

Prints human-readable lines, then one JSON object as the last line.
"""

from __future__ import annotations

import _checkout  # noqa: F401  first: this checkout's code (bench/_checkout.py)

# isort: split
import argparse
import heapq
import json
import math
import platform
import random
import time
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache

from callcenter.core.outbound.dispositions import AmdResult, Attempt, outcome_of
from callcenter.core.outbound.pacing import AbandonStats, PacingInput, pace
from callcenter.core.outbound.retry import LeadState, dial, finish
from callcenter.core.outbound.settings import (
    CampaignSettings,
    Mode,
    load_settings,
)

SHIFT_HOURS = 8.0
DAY = 86400.0
HANDLES = 200  # recent handle times pacing reads a busy agent's time on call against
RESOLVED = 500  # recent dials pacing reads a ringing call's age against
SAMPLE = 500  # recent dials the connect rate is measured over
GRACE = 2.0
WRAP = 15.0
TALK_MEAN = 120.0
TALK_SIGMA = 0.6  # lognormal shape
MACHINE_TO_AGENT_TALK = 20.0
RING_OUT = 20.0


@dataclass(frozen=True, slots=True)
class Fate:
    kind: str  # person | machine | busy | failed | ring-out
    after: float  # seconds from dialling to the answer (or the end, unanswered)
    amd_seconds: float
    amd: AmdResult
    talk: float


@lru_cache(maxsize=1 << 18)
def lead_kind(seed: int, lead: int) -> str:
    draw = random.Random(seed * 1_000_003 + lead).random()
    return "easy" if draw < 0.3 else "hard" if draw < 0.8 else "never"


HEARD_AS: tuple[AmdResult, ...] = ("HUMAN", "NOTSURE", "MACHINE")
PERSON = {"easy": 0.55, "hard": 0.15, "never": 0.0}
MACHINE = {"easy": 0.15, "hard": 0.20, "never": 0.60}


def fate(seed: int, lead: int, attempt: int) -> Fate:
    rng = random.Random(hash((seed, lead, attempt)))
    kind = lead_kind(seed, lead)
    draw = rng.random()
    talk = rng.lognormvariate(math.log(TALK_MEAN) - TALK_SIGMA**2 / 2, TALK_SIGMA)
    if draw < PERSON[kind]:
        amd: AmdResult = rng.choices(HEARD_AS, [95, 3, 2])[0]
        return Fate("person", rng.uniform(3, 15), rng.uniform(1.5, 3.0), amd, talk)
    draw -= PERSON[kind]
    if draw < MACHINE[kind]:
        amd = "MACHINE" if rng.random() < 0.9 else "NOTSURE"
        return Fate("machine", rng.uniform(2, 10), rng.uniform(3, 5), amd, MACHINE_TO_AGENT_TALK)
    draw -= MACHINE[kind]
    if draw < 0.05:
        return Fate("busy", 2.0, 0.0, "", 0.0)
    if draw < 0.07:
        return Fate("failed", 1.0, 0.0, "", 0.0)
    return Fate("ring-out", RING_OUT, 0.0, "", 0.0)


@dataclass
class Call:
    lead: int
    placed: float
    fate: Fate
    answered_at: float = 0.0
    connected_at: float | None = None
    waiting: bool = False


@dataclass
class Figures:
    dials: int = 0
    live_answered: int = 0
    connects: int = 0
    abandoned: int = 0
    machines: int = 0
    busy_seconds: float = 0.0
    logged_seconds: float = 0.0
    pace_calls: int = 0
    overdial_decisions: int = 0
    day_rates: list[float] = field(default_factory=list)


class Simulation:
    def __init__(
        self, mode: Mode, agents: int, days: int, seed: int, rules: CampaignSettings
    ) -> None:
        self.rules = rules
        self.mode = mode
        self.agents = agents
        self.days = days
        self.seed = seed
        self.now = 0.0
        self.events: list[tuple[float, int, str, Call | None]] = []
        self.order = 0
        self.idle = 0
        self.busy = 0
        self.in_flight = 0
        self.waiting: deque[Call] = deque()
        self.dialling = False
        self.leads: dict[int, LeadState] = {}
        self.retries: list[tuple[float, int]] = []
        self.fresh = 0
        self.recent: deque[bool] = deque()
        self.recent_connects = 0
        self.handle_total, self.handle_count = 0.0, 0
        self.handles: deque[float] = deque(maxlen=HANDLES)  # the most recent handle times
        self.on_call: dict[int, float] = {}  # each busy agent's call (id) -> when it began
        self.ringing: dict[int, float] = {}  # each call in flight (id) -> when it was placed
        # The most recent dials that are over: (seconds until the verdict or the end,
        # whether it needed an agent).
        self.resolved: deque[tuple[float, bool]] = deque(maxlen=RESOLVED)
        self.answer_total, self.answer_count = 0.0, 0
        self.shift_end = 0.0
        self.day_live, self.day_abandoned = 0, 0
        # Live answers within the rule's window (30 days, 24 h): (time, abandoned).
        self.window: deque[tuple[float, bool]] = deque()
        self.window_abandoned = 0
        self.figures = Figures()

    # -- the event loop ----------------------------------------------------------------------
    def run(self) -> Figures:
        for day in range(self.days):
            self.at(day * DAY + 9 * 3600, "shift-start", None)
        while self.events:
            self.now, _, kind, call = heapq.heappop(self.events)
            getattr(self, "on_" + kind.replace("-", "_"))(call)
            if self.dialling:
                self.dial_more()
        return self.figures

    def at(self, when: float, kind: str, call: Call | None) -> None:
        self.order += 1
        heapq.heappush(self.events, (when, self.order, kind, call))

    def on_shift_start(self, _: Call | None) -> None:
        self.idle, self.busy, self.dialling = self.agents, 0, True
        self.shift_end = self.now + SHIFT_HOURS * 3600
        self.figures.logged_seconds += self.agents * SHIFT_HOURS * 3600
        self.day_live, self.day_abandoned = 0, 0
        self.at(self.shift_end, "shift-end", None)

    def on_shift_end(self, _: Call | None) -> None:
        self.dialling = False
        if self.day_live:
            self.figures.day_rates.append(100.0 * self.day_abandoned / self.day_live)

    # -- dialling ------------------------------------------------------------------------------
    def dial_more(self) -> None:
        recent = len(self.recent)
        decision = pace(
            PacingInput(
                mode=self.mode,
                free_agents=self.idle,
                busy_agents=self.busy,
                in_flight=self.in_flight,
                dials=recent,
                connects=self.recent_connects,
                mean_handle_seconds=self._mean(self.handle_total, self.handle_count, 135.0),
                mean_answer_seconds=self._mean(self.answer_total, self.answer_count, 12.0),
                abandons=self.abandons(),
                cap_pct=self.rules.abandon_cap_pct,
                max_dial_ratio=self.rules.max_dial_ratio,
                busy_elapsed=tuple(self.now - began for began in self.on_call.values()),
                handle_times=tuple(self.handles),
                in_flight_ages=tuple(self.now - placed for placed in self.ringing.values()),
                resolved=tuple(self.resolved),
            )
        )
        self.figures.pace_calls += 1
        if decision.dial > max(0, self.idle - self.in_flight):
            self.figures.overdial_decisions += 1
        for _ in range(decision.dial):
            self.place(self.next_lead())

    def abandons(self) -> AbandonStats:
        start = self.now - self.rules.abandon_window_seconds
        while self.window and self.window[0][0] < start:
            self.window_abandoned -= self.window.popleft()[1]
        return AbandonStats(len(self.window), self.window_abandoned)

    def count_live(self, abandoned: bool) -> None:
        self.window.append((self.now, abandoned))
        self.window_abandoned += abandoned

    @staticmethod
    def _mean(total: float, count: int, default: float) -> float:
        return total / count if count else default

    def next_lead(self) -> int:
        if self.retries and self.retries[0][0] <= self.now:
            return heapq.heappop(self.retries)[1]
        self.fresh += 1
        return self.fresh

    def place(self, lead: int) -> None:
        state = dial(self.leads.get(lead, LeadState()), self.now)
        self.leads[lead] = state
        call = Call(lead, self.now, fate(self.seed, lead, state.attempts))
        self.in_flight += 1
        self.ringing[id(call)] = self.now
        self.figures.dials += 1
        answered = call.fate.kind in ("person", "machine")
        delay = call.fate.after + call.fate.amd_seconds
        self.at(self.now + delay, "verdict" if answered else "unanswered", call)

    def remember(self, needed_agent: bool) -> None:
        self.recent.append(needed_agent)
        self.recent_connects += needed_agent
        if len(self.recent) > SAMPLE:
            self.recent_connects -= self.recent.popleft()

    # -- calls -----------------------------------------------------------------------------------
    def on_unanswered(self, call: Call) -> None:
        self.in_flight -= 1
        self.resolved.append((self.now - self.ringing.pop(id(call)), False))
        self.remember(False)
        cause = {"busy": 17, "failed": 34}.get(call.fate.kind, 19)
        self.close(call, Attempt(cause=cause))

    def on_verdict(self, call: Call) -> None:
        self.in_flight -= 1
        call.answered_at = self.now  # the greeting is over: TCPA's 2 s start now
        needs_agent = call.fate.amd in ("HUMAN", "NOTSURE")
        self.resolved.append((self.now - self.ringing.pop(id(call)), needs_agent))
        self.remember(needs_agent)
        if not needs_agent:
            self.figures.machines += 1
            self.close(call, Attempt(answered_at=self.now, amd="MACHINE"))
            return
        self.figures.live_answered += 1
        self.day_live += 1
        self.answer_total += self.now - call.placed
        self.answer_count += 1
        if self.idle > 0:
            self.count_live(False)
            self.connect(call)
        else:
            call.waiting = True
            self.waiting.append(call)
            self.at(self.now + GRACE, "grace", call)

    def on_grace(self, call: Call) -> None:
        if call.waiting:  # nobody came: abandoned (the identification message plays)
            call.waiting = False
            self.figures.abandoned += 1
            self.day_abandoned += 1
            self.count_live(True)
            self.close(call, Attempt(answered_at=call.answered_at, amd=call.fate.amd))

    def connect(self, call: Call) -> None:
        self.idle -= 1
        self.busy += 1
        call.connected_at = self.now
        self.on_call[id(call)] = self.now
        handle = call.fate.talk + WRAP
        self.figures.connects += 1
        self.figures.busy_seconds += handle
        self.figures.logged_seconds += max(0.0, self.now + handle - self.shift_end)
        self.handle_total += handle
        self.handle_count += 1
        self.at(self.now + handle, "agent-free", call)

    def on_agent_free(self, call: Call) -> None:
        self.busy -= 1
        began = self.on_call.pop(id(call))
        self.handles.append(self.now - began)
        self.close(call, Attempt(call.answered_at, call.connected_at, call.fate.amd))
        self.idle += 1
        while self.waiting:  # the agent goes straight to a call waiting for one
            waiting = self.waiting.popleft()
            if waiting.waiting:
                waiting.waiting = False
                self.count_live(False)
                self.connect(waiting)
                return

    def close(self, call: Call, attempt: Attempt) -> None:
        outcome = outcome_of(attempt, self.rules.agent_grace_seconds)
        state = finish(self.leads[call.lead], outcome, self.rules.retry, self.now)
        self.leads[call.lead] = state
        if state.status == "scheduled":
            heapq.heappush(self.retries, (state.next_attempt_at, call.lead))
        else:
            del self.leads[call.lead]  # final: done, exhausted...


def summary(mode: str, figures: Figures) -> dict[str, float]:
    hours = figures.logged_seconds / 3600
    live = figures.live_answered
    return {
        "occupancy_pct": round(100.0 * figures.busy_seconds / figures.logged_seconds, 2),
        "abandon_rate_pct": round(100.0 * figures.abandoned / live, 3) if live else 0.0,
        "worst_day_abandon_rate_pct": round(max(figures.day_rates, default=0.0), 3),
        "dials": figures.dials,
        "live_answered": live,
        "connects_to_agents": figures.connects,
        "abandoned_calls": figures.abandoned,
        "agent_hours": round(hours, 1),
        "connects_per_agent_hour": round(figures.connects / hours, 2),
        "dials_per_agent_hour": round(figures.dials / hours, 2),
        "pace_decisions": figures.pace_calls,
        "overdial_decisions": figures.overdial_decisions,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=25)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20_261_124)
    parser.add_argument("--rule", choices=["tcpa-30d", "ofcom-24h"], default="tcpa-30d")
    args = parser.parse_args()
    rules = load_settings({"mode": "predictive", "abandon_rule": args.rule})
    wall = time.perf_counter()
    cpu = time.process_time()
    results = {}
    for mode in ("progressive", "predictive"):
        started = time.perf_counter()
        figures = Simulation(mode, args.agents, args.days, args.seed, rules).run()
        results[mode] = summary(mode, figures)
        took = time.perf_counter() - started
        print(f"{mode:>11}: {json.dumps(results[mode])} ({took:.1f} s)")
    progressive, predictive = results["progressive"], results["predictive"]
    ratio = predictive["occupancy_pct"] / progressive["occupancy_pct"]
    cap = rules.abandon_cap_pct
    result: dict[str, object] = {
        "agents": args.agents,
        "days": args.days,
        "shift_hours": SHIFT_HOURS,
        "seed": args.seed,
        "abandon_cap_pct": cap,
        "abandon_rule": rules.abandon_rule,
    }
    for mode, found in results.items():
        result.update({f"{mode}_{name}": value for name, value in found.items()})
    result.update(
        {
            "predictive_occupancy_ratio_vs_progressive": round(ratio, 3),
            "predictive_connects_ratio_vs_progressive": round(
                predictive["connects_per_agent_hour"] / progressive["connects_per_agent_hour"], 3
            ),
            "goal_occupancy_ratio_at_least": 1.3,
            "goal_met": ratio >= 1.3 and predictive["abandon_rate_pct"] < cap,
            "wall_seconds": round(time.perf_counter() - wall, 2),
            "cpu_seconds": round(time.process_time() - cpu, 2),
            "simulated_agent_hours_per_cpu_second": round(
                (progressive["agent_hours"] + predictive["agent_hours"])
                / max(time.process_time() - cpu, 1e-9),
                1,
            ),
            "python": platform.python_version(),
        }
    )
    print(
        f"predictive/progressive occupancy {ratio:.3f}x; predictive abandon rate "
        f"{predictive['abandon_rate_pct']} % (cap {cap} %)"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
