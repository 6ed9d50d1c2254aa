"""Event-to-screen latency of the console, against a bare loop, in one run.

    python bench/console_latency.py [--events 80] [--interval 0.3]

What runs (all on loopback, in a temporary folder, stopped by this script):

* the product: a real controller (bootstrap.Controller, no Asterisk: the AMI
  link points at a closed port) with 200 agents and one queue, and its console
  served by the product's own web server (werkzeug, a thread per stream);
* 50 wallboard streams (``/api/events?topics=wallboard``, a supervisor's
  Bearer token, as a TV wallboard) and 200 agent desktop streams
  (``topics=desktop,agents``, each agent logged in with a session), read by
  Python SSE readers in a process of their own (bench/console_sse_clients.py);
* one headless Chromium (Debian's chromium + chromedriver) showing the
  wallboard page, logged in as the supervisor;
* then the baseline: the same number of streams and the same bytes (the
  frames the product sent, each event's marker swapped) fanned out by a bare
  asyncio loop (bench/console_bare_loop.py), and the same Chromium on a
  minimal page that renders the agents from those frames.

An event is an agent's pause with a reason of its own (``bench-a-NNNN``), one
agent after the other. Its clock starts on the controller's loop just before
the agent service applies it, which is where an AMI or FastAGI handler hands
a change over; from there the domain event goes through the notifier to the
hub (the agent's desktop) and the wallboard service (a new picture for every
wallboard, at most one per 0.15 s). Its clock stops when a reader first sees
the marker in a frame, or when Chromium's DOM first shows it (a
MutationObserver; performance.timeOrigin + performance.now()). The bare loop's
clock starts when the loop begins writing the frames.

Also: the wallboard page's weight (its HTML, CSS and JS, and the JSON snapshot
it loads) and its first paint and first contentful paint (Chromium's
performance API, cache disabled). Prints a summary, then one JSON object as
the last line.
"""

from __future__ import annotations

import _checkout  # noqa: F401  first: this checkout's code (bench/_checkout.py)

# isort: split
import argparse
import contextlib
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.console_bare_loop import BareLoop
from bench.console_lab import ConsoleLab


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="cc-console-bench-"))
    report: dict[str, Any] = {
        "benchmark": "console_latency",
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "events": args.events,
        "event_interval_seconds": args.interval,
        "wallboard_streams": args.wallboards,
        "desktop_streams": args.desktops,
    }
    try:
        with contextlib.closing(ConsoleLab(workdir, agents=args.desktops)) as lab:
            product = lab.run_product(args.events, args.interval, args.wallboards)
            report.update(product.figures())
            bare = BareLoop()
            try:
                report.update(lab.run_bare(bare, product, args.interval, args.wallboards))
            finally:
                bare.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for name in ("wallboard_sse", "desktop_sse", "wallboard_chromium_dom"):
        ours = report.get(f"console_{name}_latency_p95_ms")
        base = report.get(f"bare_loop_{name}_latency_p95_ms")
        if ours is not None and base:
            report[f"{name}_p95_ratio_console_to_bare_loop"] = round(ours / base, 2)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=80, help="agent state changes per side")
    parser.add_argument("--interval", type=float, default=0.3, help="seconds between events")
    parser.add_argument("--wallboards", type=int, default=50)
    parser.add_argument("--desktops", type=int, default=200)
    args = parser.parse_args()
    if not 1 <= args.events <= min(args.desktops, 9999):
        parser.error("--events must be between 1 and --desktops (one agent per event)")
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    started = time.monotonic()
    report = run(args)
    report["bench_seconds"] = round(time.monotonic() - started, 1)
    for key, value in report.items():
        print(f"{key:55} {value}")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
