"""Inbound calls: our routing path against a plain Asterisk Queue(), same load.

    python bench/inbound_paths.py            # about 4 minutes
    python bench/inbound_paths.py --quick    # about 1 minute

What runs (bench/inbound_lab.py): a private Asterisk 22 on its own ports, the
controller in this process (SQLite in the temporary directory), and agents
that always answer: one SIPp UAS per agent pool, every agent an endpoint with
a static contact there. Callers are SIPp: answered by the IVR, they wait
0.5 s (``--press-ms``; 100: type-ahead, during the beep), press 1 (RFC 4733),
and stay until Asterisk hangs up after the agent's BYE.

* ours: trunk -> cc-inbound -> FastAGI IVR (menu, prompt 'beep') -> the
  controller's skills-based ACD -> Dial of the chosen agent (at once from the
  route, or by AMI Redirect when an agent frees up).
* plain: the same callers through a plain dialplan: Answer, Read one digit
  after the same 'beep', Queue() with strategy leastrecent, autofill, retry 1,
  no wrap-up, ringinuse no, the same 15 s ring timeout.

Both paths run against the same Asterisk, agents and callers, one after the
other, alternating which goes first at each rate.

Method: every timestamp comes from one packet capture (dumpcap on lo; filter:
the SIP port and anything the callers send), stamped by the kernel, so the
caller's INVITE, Asterisk's 200 OK, the end of the caller's digit (first RTP
telephone-event packet with the end bit), Asterisk's INVITE to the agent and
the agent's BYE are all on one clock (bench/inbound_metrics.py joins them).

Phases:

1. Rate ladder (20 agents answering after 100 ms, talking 200 ms; enough that
   agents are never the bottleneck below about 50 calls/s). At each rate a
   path still in the race places ``rate x seconds`` calls. A call fails if
   SIPp reports it failed, it never reached an agent, or its post-dial delay
   or queue-to-agent latency exceeded 2 s (a backlog forming: the path no
   longer keeps up). A path leaves the ladder at its first failed call; its
   figure is the highest rate with none.
   Reported: max zero-failure calls/s and the ratio ours/plain; post-dial
   delay (INVITE -> 200 OK) and queue-to-agent latency (end of digit ->
   INVITE at the agent), p50/p95, at the highest rate both paths passed.
2. Backlog (10 agents answering after 100 ms, talking 1 s, 0 s wrap-up;
   more callers than they can take). Agent-free-to-next-ring: from an
   agent's BYE to that agent's next INVITE, counted when a caller was left
   waiting for them (more callers in line than other agents idle).

Prints a table, then one JSON object as the last line.
"""

from __future__ import annotations

import _checkout  # noqa: F401  first: this checkout's code (bench/_checkout.py)

# isort: split
import argparse
import json
import platform
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.inbound_lab import (
    AGENT_HOST,
    ASTERISK,
    OURS_CALLER,
    PLAIN_CALLER,
    PORT_SHIFT,
    SIP_PORT,
    Lab,
)
from bench.inbound_metrics import (
    agent_free_to_ring,
    ms,
    percentile,
    timelines,
)
from callcenter.simulate.capture import Capture
from callcenter.simulate.procs import stop_process
from callcenter.simulate.sipp import caller_scenario

PATHS = ("ours", "plain")
SLA = 2.0  # seconds of post-dial delay or queue-to-agent latency that count as failure
HOSTS = {"ours": OURS_CALLER[0], "plain": PLAIN_CALLER[0]}
CAPTURE_FILTER = (
    f"udp and (port {SIP_PORT} or src host {OURS_CALLER[0]} or src host {PLAIN_CALLER[0]})"
)


@dataclass
class Run:
    path: str
    phase: str
    rate: float
    calls: int
    successful: int = 0
    sipp_failed: int = 0
    not_connected: int = 0
    slow: int = 0
    fallbacks: int = 0
    dropped_packets: int = 0
    seconds: float = 0.0
    cpu_pct: dict[str, float] = field(default_factory=dict)
    cpu_ms_per_call: dict[str, float] = field(default_factory=dict)
    post_dial: list[float] = field(default_factory=list)
    queue_to_agent: list[float] = field(default_factory=list)
    free_to_ring: list[float] = field(default_factory=list)

    @property
    def failures(self) -> int:
        missing = max(0, self.calls - self.successful - self.sipp_failed)
        return self.sipp_failed + missing + self.not_connected + self.slow + self.fallbacks

    def failure_detail(self) -> str:
        """Why calls failed, when some did (one line; empty otherwise)."""
        if not self.failures:
            return ""
        missing = max(0, self.calls - self.successful - self.sipp_failed)
        parts = {
            "sipp_failed": self.sipp_failed,
            "sipp_missing": missing,
            "no_agent": self.not_connected,
            "over_sla": self.slow,
            "fallback": self.fallbacks,
        }
        return "         failed: " + ", ".join(f"{k} {v}" for k, v in parts.items() if v)

    def row(self) -> str:
        def pair(values: list[float]) -> str:
            return f"{_fmt(ms(percentile(values, 50)))}/{_fmt(ms(percentile(values, 95)))}"

        return (
            f"{self.phase:8} {self.path:6} {self.rate:5.0f} {self.calls:6d} "
            f"{self.successful:5d} {self.failures:5d}  {pair(self.post_dial):>13} "
            f"{pair(self.queue_to_agent):>15} {pair(self.free_to_ring):>15} "
            f"{self.cpu_pct.get('asterisk', 0):6.0f} {self.cpu_pct.get('controller', 0):6.0f} "
            f"{self.cpu_ms_per_call.get('controller', 0):6.1f}"
        )


HEADER = (
    "phase    path    cps  calls    ok  fail  post-dial p50/p95 queue->agent p50/p95 "
    "free->ring p50/p95  ast%  ctl% ctl-ms   (ms; CPU % of one core; ctl-ms: the "
    "controller's CPU ms per call)"
)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


PRESS_MS = [500]  # after the answer, the caller presses 1 (--press-ms; 100: type-ahead)


def run_load(lab: Lab, path: str, phase: str, rate: float, calls: int, await_s: int) -> Run:
    """Place ``calls`` calls at ``rate`` through ``path``; measure them from the capture."""
    name = f"{phase}-{path}-{rate:g}cps"
    run = Run(path, phase, rate, calls)
    caller = lab.caller(path, name)
    callers = [("Bench Caller", f"+1555{index:07d}") for index in range(calls)]
    scenario = caller_scenario([PRESS_MS[0], "1"], end="await", await_ms=await_s * 1000)
    capture = Capture(lab.root / "captures" / f"{name}.pcap", CAPTURE_FILTER)
    events_before = Counter(lab.controller_loop.call(lambda: dict(lab.events)))
    cpu_before, started = lab.cpu_seconds(), time.monotonic()
    capture.start()
    try:
        timeout = calls / rate + await_s + 30
        process = caller.start(scenario, callers, calls, rate, timeout, name)
        try:
            result = caller.finish(process, timeout + 10, name)
        finally:
            stop_process(process)
        lab.wait_idle(60)
    finally:
        run.dropped_packets = capture.stop()
    run.seconds = time.monotonic() - started
    cpu_after = lab.cpu_seconds()
    used = {
        "asterisk": cpu_after["asterisk"] - cpu_before["asterisk"],
        "controller": cpu_after["bench_process"] - cpu_before["bench_process"],
    }
    run.cpu_pct = {name: 100 * seconds / run.seconds for name, seconds in used.items()}
    # The plain path costs the controller too (AMI events of every channel, the wallboard).
    run.cpu_ms_per_call = {name: 1000 * seconds / calls for name, seconds in used.items()}
    events = Counter(lab.controller_loop.call(lambda: dict(lab.events)))
    run.fallbacks = events["CallFellBack"] - events_before["CallFellBack"]
    run.successful, run.sipp_failed = result.successful, result.failed
    found = timelines(capture.datagrams(), HOSTS[path], ASTERISK, AGENT_HOST)
    for leg in found.callers.values():
        if leg.post_dial is not None:
            run.post_dial.append(leg.post_dial)
        if leg.queue_to_agent is not None:
            run.queue_to_agent.append(leg.queue_to_agent)
        if not leg.agent_answered:
            run.not_connected += 1
        elif phase == "ladder" and ((leg.post_dial or 0) > SLA or (leg.queue_to_agent or 0) > SLA):
            run.slow += 1
    run.not_connected += max(0, calls - len(found.callers))
    if phase == "backlog":
        run.free_to_ring = agent_free_to_ring(found)
    return run


@dataclass
class Plan:
    agents: int
    rates: list[float]
    seconds_per_rate: float
    backlog_agents: int
    backlog_rate: float
    backlog_calls: int


def plans(quick: bool) -> Plan:
    if quick:
        return Plan(30, [10, 30, 50], 4, 10, 15, 60)
    return Plan(30, [10, 20, 30, 40, 50, 60, 70, 80], 8, 10, 15, 150)


def ladder(lab: Lab, plan: Plan) -> tuple[list[Run], dict[str, float | None]]:
    runs: list[Run] = []
    best: dict[str, float | None] = {path: None for path in PATHS}
    alive = set(PATHS)
    for index, rate in enumerate(plan.rates):
        order = PATHS if index % 2 == 0 else PATHS[::-1]
        for path in order:
            if path not in alive:
                continue
            calls = max(20, round(rate * plan.seconds_per_rate))
            run = run_load(lab, path, "ladder", rate, calls, await_s=60)
            runs.append(run)
            print(run.row(), flush=True)
            if run.failures:
                print(run.failure_detail(), flush=True)
                alive.discard(path)
            else:
                best[path] = rate
        if not alive:
            break
    return runs, best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a shorter run (about 1 minute)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--press-ms",
        type=int,
        default=500,
        help="when callers press 1 after the answer (500: after the 0.44 s beep; "
        "100: type-ahead, during it)",
    )
    parser.add_argument(
        "--rates",
        type=lambda text: [float(r) for r in text.split(",")],
        help="the ladder's calls/s, comma-separated (e.g. 40,50,60), instead of the plan's",
    )
    parser.add_argument("--seconds", type=float, help="seconds of calls at each rate")
    parser.add_argument(
        "--no-backlog", action="store_true", help="skip the backlog phase (agent free -> ring)"
    )
    parser.add_argument(
        "--first-menu",
        action="store_true",
        help="[agi] first_menu_in_dialplan: the flow's first menu runs in the dialplan",
    )
    args = parser.parse_args()
    PRESS_MS[0] = args.press_ms
    plan = plans(args.quick)
    if args.rates:
        plan.rates = args.rates
    if args.seconds:
        plan.seconds_per_rate = args.seconds
    started = time.monotonic()
    pools = {
        "a": (plan.agents, 17090 + PORT_SHIFT, 100, 200),
        "d": (plan.backlog_agents, 17091 + PORT_SHIFT, 100, 1000),
    }
    with Lab(pools, keep=args.keep, first_menu=args.first_menu) as lab:
        print(f"lab in {lab.root}: Asterisk pid {lab.asterisk_pid}, SIP {ASTERISK}:{SIP_PORT}")
        lab.staff("a")
        for path in PATHS:  # warm-up: sound files, database, first FastAGI connections
            run_load(lab, path, "warmup", 5, 10, await_s=30)
        print(HEADER)
        runs, best = ladder(lab, plan)
        backlog: dict[str, Run] = {}
        if not args.no_backlog:
            lab.staff("d")
            backlog = {
                path: run_load(
                    lab, path, "backlog", plan.backlog_rate, plan.backlog_calls, await_s=180
                )
                for path in PATHS
            }
        for run in backlog.values():
            print(run.row(), flush=True)
            if run.failures:
                print(run.failure_detail(), flush=True)
        if args.keep:
            print(f"kept {lab.root}")
    report = summary(plan, runs, best, backlog, time.monotonic() - started)
    print_verdict(report)
    print(json.dumps(report))
    return 0


def summary(
    plan: Plan,
    runs: list[Run],
    best: dict[str, float | None],
    backlog: dict[str, Run],
    seconds: float,
) -> dict[str, object]:
    both = [r for r in plan.rates if all(b is not None and b >= r for b in best.values())]
    reference = max(both) if both else plan.rates[0]
    at_ref = {run.path: run for run in runs if run.rate == reference}
    ours_max, plain_max = best["ours"], best["plain"]
    report: dict[str, object] = {
        "benchmark": "inbound_paths",
        "agents": plan.agents,
        "rates_cps": plan.rates,
        "seconds_per_rate": plan.seconds_per_rate,
        "calls": sum(run.calls for run in runs) + sum(run.calls for run in backlog.values()),
        "sla_s": SLA,
        "press_ms": PRESS_MS[0],
        "ours_max_zero_failure_cps": ours_max,
        "plain_max_zero_failure_cps": plain_max,
        "throughput_ratio": (
            round(ours_max / plain_max, 3) if ours_max is not None and plain_max else None
        ),
        "ladder_capped": ours_max == plan.rates[-1] and plain_max == plan.rates[-1],
        "reference_cps": reference,
    }
    for metric in ("post_dial", "queue_to_agent"):
        for path in PATHS:
            run = at_ref.get(path)
            values = getattr(run, metric) if run else []
            report[f"{path}_p50_{metric}_ms"] = ms(percentile(values, 50))
            report[f"{path}_p95_{metric}_ms"] = ms(percentile(values, 95))
        report[f"{metric}_p95_ratio_ours_over_plain"] = _ratio(
            report[f"ours_p95_{metric}_ms"], report[f"plain_p95_{metric}_ms"]
        )
    for path in PATHS:
        run = at_ref.get(path)
        report[f"{path}_asterisk_cpu_pct_at_reference"] = (
            round(run.cpu_pct["asterisk"]) if run else None
        )
        report[f"{path}_controller_cpu_pct_at_reference"] = (
            round(run.cpu_pct["controller"]) if run else None
        )
        report[f"{path}_controller_cpu_ms_per_call_at_reference"] = (
            round(run.cpu_ms_per_call["controller"], 2) if run else None
        )
    report["backlog_agents"] = plan.backlog_agents
    report["backlog_calls"] = plan.backlog_calls
    report["backlog_offered_cps"] = plan.backlog_rate
    for path in PATHS:
        run = backlog.get(path, Run(path, "backlog", 0, 0))
        report[f"{path}_p50_agent_free_to_ring_ms"] = ms(percentile(run.free_to_ring, 50))
        report[f"{path}_p95_agent_free_to_ring_ms"] = ms(percentile(run.free_to_ring, 95))
        report[f"{path}_agent_free_to_ring_samples"] = len(run.free_to_ring)
        report[f"{path}_backlog_failures"] = run.failures
        report[f"{path}_backlog_drain_s"] = round(run.seconds, 1)
    report["agent_free_to_ring_p95_ratio_ours_over_plain"] = _ratio(
        report["ours_p95_agent_free_to_ring_ms"], report["plain_p95_agent_free_to_ring_ms"]
    )
    report["dropped_packets"] = sum(run.dropped_packets for run in [*runs, *backlog.values()])
    # Issue 13's goals: at least 0.9x plain's rate, post-dial p95 within 2x of plain's.
    report["goal_throughput_ratio_ge_0_9"] = (
        isinstance(report["throughput_ratio"], float) and report["throughput_ratio"] >= 0.9
    )
    post_dial = report["post_dial_p95_ratio_ours_over_plain"]
    report["goal_post_dial_p95_within_2x"] = isinstance(post_dial, float) and post_dial <= 2.0
    ours_ring, plain_ring = (
        report["ours_p95_agent_free_to_ring_ms"],
        report["plain_p95_agent_free_to_ring_ms"],
    )
    report["goal_free_to_ring_p95_lt_250ms_and_better"] = (
        isinstance(ours_ring, float)
        and isinstance(plain_ring, float)
        and ours_ring < 250
        and ours_ring < plain_ring
    )
    report["python"] = platform.python_version()
    report["duration_s"] = round(seconds, 1)
    return report


def _ratio(ours: object, plain: object) -> float | None:
    if isinstance(ours, float) and isinstance(plain, float) and plain > 0:
        return round(ours / plain, 3)
    return None


def print_verdict(report: dict[str, object]) -> None:
    print(
        f"max zero-failure rate: ours {report['ours_max_zero_failure_cps']} calls/s, "
        f"plain {report['plain_max_zero_failure_cps']} calls/s, "
        f"ratio {report['throughput_ratio']} (goal >= 0.9)"
        + (" [both reached the top of the ladder]" if report["ladder_capped"] else "")
    )
    print(
        f"at {report['reference_cps']} calls/s: post-dial p95 ours "
        f"{report['ours_p95_post_dial_ms']} ms vs plain {report['plain_p95_post_dial_ms']} ms "
        "(goal: within 2x); "
        f"queue->agent p95 ours {report['ours_p95_queue_to_agent_ms']} ms vs plain "
        f"{report['plain_p95_queue_to_agent_ms']} ms; controller CPU per call ours "
        f"{report['ours_controller_cpu_ms_per_call_at_reference']} ms"
    )
    print(
        f"agent free -> next ring p95: ours {report['ours_p95_agent_free_to_ring_ms']} ms vs "
        f"plain {report['plain_p95_agent_free_to_ring_ms']} ms (goal < 250 ms and better)"
    )


if __name__ == "__main__":
    sys.exit(main())
