"""The controller's cost per inbound call: CPU seconds, AGI round trips, hot spots.

    python bench/inbound_profile.py                  # 300 calls at 20 calls/s
    python bench/inbound_profile.py --calls 600 --rate 30 --press-ms 100
    python bench/inbound_profile.py --cprofile 25    # and the 25 costliest functions

The lab of bench/inbound_paths.py (bench/inbound_lab.py: a private Asterisk,
the controller in this process, SIPp agents that answer after 100 ms and talk
200 ms). Callers take our path only: answered by the IVR (menu: 'beep', 1 for
the queue), they press 1 ``--press-ms`` after the answer (500: after the
beep, as inbound_paths.py; 100: type-ahead, during it) and stay until the
agent hangs up.

Measured over the loaded run only (after a warm-up of 20 calls):
* controller CPU seconds per call: this process's user+system time
  (/proc/self/stat; the controller is the only busy thread here, SIPp and
  Asterisk are other processes) divided by the calls placed;
* Asterisk's CPU seconds per call, the same way from its pid;
* AGI commands per call (FastAgiServer.commands; absent on older checkouts);
* calls that failed in SIPp, never reached an agent (CallAnswered events
  missing) or fell back;
* AMI events received per call, by name, and which of them the controller's
  table (core/pbx_events.py) does not use: each costs a parse for nothing
  (manager.conf's eventfilter can keep it from being sent).
With ``--cprofile N``, cProfile runs on the controller's event-loop thread
during the loaded run and the N functions with the most own time are
printed, for the controller's thread and for the call records writer's
(CPU time of each thread; profiling slows both: take CPU figures from a run
without it).

Prints a short table, then one JSON object as the last line.
"""

from __future__ import annotations

import _checkout  # noqa: F401  first: this checkout's code (bench/_checkout.py)

# isort: split
import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from bench.inbound_lab import Lab
from callcenter.core.pbx_events import EVENTS
from callcenter.simulate.procs import stop_process
from callcenter.simulate.sipp import caller_scenario

WARMUP_CALLS = 20


def place(lab: Lab, name: str, calls: int, rate: float, press_ms: int) -> tuple[int, int]:
    """Place the calls and wait until all are over; (successful, failed) per SIPp."""
    caller = lab.caller("ours", name)
    callers = [("Bench Caller", f"+1555{index:07d}") for index in range(calls)]
    scenario = caller_scenario([press_ms, "1"], end="await", await_ms=60_000)
    timeout = calls / rate + 90
    process = caller.start(scenario, callers, calls, rate, timeout, name)
    try:
        result = caller.finish(process, timeout + 10, name)
    finally:
        stop_process(process)
    lab.wait_idle(60)
    return result.successful, result.failed


def thread_cpu() -> dict[str, float]:
    """CPU seconds so far of each of this process's threads, by Python thread name."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, IndexError):
            continue
        name = names.get(int(task.name), "other")
        found[name] = found.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return found


def count_ami_events(lab: Lab, seen: Counter[str]) -> None:
    """Count every AMI event the controller's link receives, by name (on its loop)."""

    def count(_manager: object, message: object) -> None:
        seen[str(getattr(message, "get", lambda _k: "?")("Event"))] += 1

    manager = lab.controller.ami._manager  # the bench looks inside; the product never does
    assert manager is not None
    lab.controller_loop.call(lambda: manager.register_event("*", count))


def profile_writer(lab: Lab) -> cProfile.Profile:
    """Profile the call records writer's batches on its own thread from now on."""
    writer = lab.controller.records  # the bench looks inside; the product never does
    profiler = cProfile.Profile(time.thread_time)
    write = writer._write

    def profiled(*args: object) -> bool:
        return bool(profiler.runcall(write, *args))

    writer._write = profiled  # type: ignore[method-assign]
    return profiler


def agi_commands(lab: Lab) -> int | None:
    server = lab.controller.agi
    count = getattr(server, "commands", None)
    return None if count is None else int(lab.controller_loop.call(lambda: server.commands))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--press-ms", type=int, default=500, help="key this long after answer")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N", help="top N functions")
    parser.add_argument(
        "--sort", default="tottime", help="cProfile order: tottime (own) or cumulative"
    )
    parser.add_argument(
        "--pstats", default="", metavar="PREFIX", help="also save PREFIX-{controller,writer}.pstats"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    pools = {"a": (30, 17090, 100, 200)}
    with Lab(pools, keep=args.keep) as lab:
        if args.keep:
            print(f"lab in {lab.root}", flush=True)
        lab.staff("a")
        place(lab, "warmup", WARMUP_CALLS, 5, args.press_ms)
        ami_events: Counter[str] = Counter()
        count_ami_events(lab, ami_events)
        # CPU time of the thread (wall time would count waits for the GIL and the CPU)
        profiler = cProfile.Profile(time.thread_time) if args.cprofile else None
        writer_profiler = profile_writer(lab) if args.cprofile else None
        events_before = Counter(lab.controller_loop.call(lambda: dict(lab.events)))
        commands_before = agi_commands(lab)
        cpu_before, started = lab.cpu_seconds(), time.monotonic()
        threads_before = thread_cpu()
        if profiler is not None:
            lab.controller_loop.call(profiler.enable)  # on the controller's own thread
        ok, failed = place(lab, "load", args.calls, args.rate, args.press_ms)
        if profiler is not None:
            lab.controller_loop.call(profiler.disable)
        seconds = time.monotonic() - started
        cpu_after = lab.cpu_seconds()
        threads_after = thread_cpu()
        commands_after = agi_commands(lab)
        events = Counter(lab.controller_loop.call(lambda: dict(lab.events)))
    delta = {k: events[k] - events_before[k] for k in events}
    controller = cpu_after["bench_process"] - cpu_before["bench_process"]
    asterisk = cpu_after["asterisk"] - cpu_before["asterisk"]
    report: dict[str, object] = {
        "benchmark": "inbound_profile",
        "calls": args.calls,
        "rate_cps": args.rate,
        "press_ms": args.press_ms,
        "cprofile": bool(profiler),
        "sipp_ok": ok,
        "sipp_failed": failed,
        "agent_answered": delta.get("CallAnswered", 0),
        "fell_back": delta.get("CallFellBack", 0),
        "seconds": round(seconds, 1),
        "controller_cpu_ms_per_call": round(1000 * controller / args.calls, 2),
        "controller_cpu_pct": round(100 * controller / seconds, 1),
        "asterisk_cpu_ms_per_call": round(1000 * asterisk / args.calls, 2),
        "asterisk_cpu_pct": round(100 * asterisk / seconds, 1),
        "agi_commands_per_call": (
            None
            if commands_before is None or commands_after is None
            else round((commands_after - commands_before) / args.calls, 2)
        ),
        "events": dict(sorted(delta.items())),
        "thread_cpu_ms_per_call": {
            name: round(1000 * (seconds - threads_before.get(name, 0.0)) / args.calls, 2)
            for name, seconds in sorted(threads_after.items())
            if seconds - threads_before.get(name, 0.0) > 0
        },
        "ami_events_per_call": round(sum(ami_events.values()) / args.calls, 2),
        "ami_events_unused_per_call": round(
            sum(n for name, n in ami_events.items() if name not in EVENTS) / args.calls, 2
        ),
        "ami_events": dict(ami_events.most_common()),
        "python": platform.python_version(),
    }
    for key in (
        "controller_cpu_ms_per_call",
        "controller_cpu_pct",
        "asterisk_cpu_ms_per_call",
        "agi_commands_per_call",
        "thread_cpu_ms_per_call",
        "ami_events_per_call",
        "ami_events_unused_per_call",
        "sipp_ok",
        "sipp_failed",
        "agent_answered",
        "fell_back",
    ):
        print(f"{key:28} {report[key]}")
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.cprofile)
        if args.pstats:
            profiler.dump_stats(f"{args.pstats}-controller.pstats")
        print("controller thread (event loop), CPU seconds:")
        print(out.getvalue())
    if writer_profiler is not None:
        out = io.StringIO()
        stats = pstats.Stats(writer_profiler, stream=out).sort_stats(args.sort)
        stats.print_stats(args.cprofile)
        if args.pstats:
            writer_profiler.dump_stats(f"{args.pstats}-writer.pstats")
        print("record-writer thread, CPU seconds:")
        print(out.getvalue())
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
