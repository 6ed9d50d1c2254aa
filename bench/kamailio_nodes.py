"""Kamailio in front of 1 vs 2 Asterisk nodes: calls per second with no failure,
the same SIPp load on both, in the same run; then how fast a killed node is left out.

    python bench/kamailio_nodes.py                     # from the repository root, as root
    python bench/kamailio_nodes.py --rates 50,100,150 --seconds 8 --hold 1000

Two labs of callcenter/simulate/kamailio_lab.py live side by side (network
namespaces b<port base>x with one node, b<port base>y with two; loopback
addresses only). For each rate of the ladder, in turn on the 1-node and the
2-node lab, SIPp places ``rate x seconds`` calls through Kamailio, each held
``--hold`` ms (Answer, Echo); a step passes when every call is answered and ends
with 0 failed. A configuration stops climbing at its first failed step. Each
step also reports the INVITE->200 p50/p95 and the CPU seconds the nodes and
Kamailio used (from /proc).

Then, with no traffic, one node of the 2-node lab is killed (SIGKILL) ``--kills``
times: the seconds until Kamailio's dispatcher marks it down (OPTIONS probing
alone: 1 s interval, 2 misses, 1 s answer timeout), and it is restarted between
kills. Prints human-readable lines, then one JSON object as the last line.
"""

from __future__ import annotations

import _checkout  # noqa: F401  first: this checkout's code (bench/_checkout.py)

# isort: split
import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from callcenter.simulate.kamailio_lab import KamailioLab, read_setup_times
from callcenter.simulate.procs import wait_for

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its direct children (Kamailio's workers)."""
    total = 0.0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    except OSError:
        pass
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def step(lab: KamailioLab, workdir: Path, rate: int, seconds: int, hold: int) -> dict[str, object]:
    calls = rate * seconds
    name = f"r{rate}n{len(lab.nodes)}"
    kamailio_pid = lab.kamailio.running_pid() or 0
    before = [cpu_seconds(node.pid) for node in lab.nodes] + [cpu_seconds(kamailio_pid)]
    started = time.monotonic()
    process = lab.start_callers(
        workdir, name, calls=calls, rate=rate, hold_ms=hold, timeout=seconds + 30
    )
    result = lab.finish_callers(workdir, name, process, timeout=seconds + 60)
    elapsed = time.monotonic() - started
    after = [cpu_seconds(node.pid) for node in lab.nodes] + [cpu_seconds(kamailio_pid)]
    setup = sorted(read_setup_times(workdir, name))
    used = [round(b - a, 2) for a, b in zip(before, after, strict=True)]
    # Calls whose BYE was lost under overload stay up: counted, then hung up.
    leftover = 0
    deadline = time.monotonic() + 15
    while (leftover := sum(node.channels() for node in lab.nodes)) and time.monotonic() < deadline:
        time.sleep(0.5)
    if leftover:
        for node in lab.nodes:
            node.cli("channel request hangup all")
        wait_for(lambda: sum(node.channels() for node in lab.nodes) == 0, 30, "the nodes idle")
    return {
        "nodes": len(lab.nodes),
        "rate": rate,
        "calls": calls,
        "successful": result.successful,
        "failed": result.failed,
        "passed": result.successful == calls and result.failed == 0 and not leftover,
        "leftover_channels": leftover,
        "setup_p50_ms": round(setup[len(setup) // 2], 1) if setup else None,
        "setup_p95_ms": round(setup[int(len(setup) * 0.95)], 1) if setup else None,
        "seconds": round(elapsed, 1),
        "cpu_nodes_s": used[:-1],
        "cpu_kamailio_s": used[-1],
    }


def kills(lab: KamailioLab, count: int) -> list[float]:
    found = []
    node = lab.nodes[0]
    for _ in range(count):
        lab.wait_nodes_up(len(lab.nodes), timeout=15)
        time.sleep(1.5)  # a probe round with both up
        killed = node.kill()
        wait_for(
            lambda: not lab.node_flags().get(node.address, "A").startswith("A"),
            20,
            "the killed node marked down",
        )
        found.append(round(time.monotonic() - killed, 2))
        node.start()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="40,80,120,160,200,240,280")
    parser.add_argument("--seconds", type=int, default=8, help="calls placed per step, in s")
    parser.add_argument("--hold", type=int, default=1000, help="each call's length, ms")
    parser.add_argument("--kills", type=int, default=3)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench: network namespaces need root", file=sys.stderr)
        return 2
    rates = [int(value) for value in args.rates.split(",")]
    base = int(os.environ.get("CALLCENTER_TEST_PORT_BASE", "15000"))
    workdir = Path(tempfile.mkdtemp(prefix="cc-bench-kamailio-"))
    print(
        f"machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )
    steps: list[dict[str, object]] = []
    best = {1: 0, 2: 0}
    with (
        KamailioLab(f"b{base}x", nodes=1) as one,
        KamailioLab(f"b{base}y", nodes=2) as two,
    ):
        climbing = {1: True, 2: True}
        for rate in rates:
            for lab in (one, two):
                count = len(lab.nodes)
                if not climbing[count]:
                    continue
                done = step(lab, workdir, rate, args.seconds, args.hold)
                steps.append(done)
                print(
                    f"{count} node(s) {rate:>4}/s: {done['successful']}/{done['calls']} ok, "
                    f"{done['failed']} failed, INVITE->200 p50 {done['setup_p50_ms']} ms "
                    f"p95 {done['setup_p95_ms']} ms, CPU nodes {done['cpu_nodes_s']} s "
                    f"kamailio {done['cpu_kamailio_s']} s"
                )
                if done["passed"]:
                    best[count] = rate
                else:
                    climbing[count] = False
            if not any(climbing.values()):
                break
        detection = kills(two, args.kills)
    ratio = best[2] / best[1] if best[1] else None
    print(f"no-failure rate: 1 node {best[1]}/s, 2 nodes {best[2]}/s (x{ratio or 0:.2f})")
    print(f"killed node marked down after (s): {detection}")
    summary = {
        "cores": os.cpu_count(),
        "load_average_end": round(os.getloadavg()[0], 1),
        "hold_ms": args.hold,
        "seconds_per_step": args.seconds,
        "best_rate": {"1": best[1], "2": best[2]},
        "ratio": round(ratio, 2) if ratio else None,
        "down_after_s": detection,
        "down_after_median_s": statistics.median(detection) if detection else None,
        "steps": steps,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
