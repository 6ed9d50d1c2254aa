"""Memory per waiting call in the controller.

    python bench/waiting_memory.py              # 10,000 waiting calls
    python bench/waiting_memory.py --calls 50000

The real controller (callcenter/bootstrap.py's Controller, every service and
subscriber wired as in production) is built on a SQLite database in a
temporary folder; nothing connects to Asterisk (AMI is never started, so its
commands fail fast and the services carry on, as they do while Asterisk is
away). One agent is logged in and on a break, so the queue is staffed and
every caller waits. Each call goes the way a real one does after the IVR: a
LiveCall with its IVR data in the CallBook, then Acd.enqueue (the router's
waiting entry, the max-wait and announcement timers, the CallQueued event and
whatever its subscribers keep: call records, wallboard, live view). The call
records writer runs and is flushed before each measurement.

Measured two ways, each in a fresh interpreter (so no memory another
measurement freed is reused): Python's own allocations (tracemalloc, the
difference of two snapshots after a full garbage collection) and the
process's resident memory (RSS from /proc, without tracemalloc running).

Baseline, in the same run: the same calls' fields as one bare dict per call
in a dict by call id (the least any controller must keep); the ratio says
how many times that ours keeps.

Prints human-readable lines, then one JSON object as the last line.
"""

from __future__ import annotations

from _checkout import ROOT  # first: this checkout's code (bench/_checkout.py)

# isort: split
import argparse
import asyncio
import gc
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from callcenter.adapters.db.migrate import upgrade
from callcenter.adapters.db.site_config import apply_site
from callcenter.adapters.pbx.secrets import ensure_secret
from callcenter.config import Settings
from callcenter.core.calls.live import LiveCall
from callcenter.core.dialplan import Status
from callcenter.runtime import Controller
from callcenter.services.site import parse_site

QUEUE = "support"
SITE = {
    "agents": [
        {"username": "agent1", "name": "Agent", "extension": "1001", "skills": {"support": 3}}
    ],
    "queues": [
        {
            "name": QUEUE,
            "requirements": {"support": 1},
            "max_wait": 3600,
            "announce": {"on_entry": True, "interval": 60},
        }
    ],
}


def fields_of(index: int, now: float) -> dict[str, Any]:
    """One caller as the IVR leaves it: ids, numbers, what they chose and entered."""
    return {
        "call_id": f"{int(now * 1000):x}{index:08x}",
        "unique_id": f"{int(now)}.{index}",
        "channel": f"PJSIP/trunk-{index:08x}",
        "caller": f"+1555{index:07d}",
        "caller_name": f"Caller {index}",
        "dialled": "5000",
        "entered_at": now,
        "data": {"dnis": "5000", "menu.welcome": "1", "account": f"{100000 + index}"},
        "path": ("welcome", "account", "support"),
    }


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Bench:
    def __init__(self, root: Path) -> None:
        url = f"sqlite:///{root / 'callcenter.db'}"
        self.settings = Settings(
            state_dir=root / "state",
            site_dir=root / "site",
            database={"url": url},
            web={"enabled": False},
            log={"level": "WARNING"},
        )
        ensure_secret(self.settings.state_dir, "ami")
        upgrade(url)
        self.controller = Controller(self.settings)
        apply_site(parse_site(SITE, root, "bench site"), self.controller.storage.sessions)

    async def start(self) -> None:
        controller = self.controller
        await controller.reload_config()
        controller.records.start()
        now = time.time()
        await controller.agents.login("agent1", now)
        await controller.agents.pause("agent1", "lunch", now)

    async def enqueue(self, start: int, count: int) -> None:
        controller, now = self.controller, time.time()
        for index in range(start, start + count):
            call = LiveCall(**fields_of(index, now))
            controller.calls.add(call)
            decision = await controller.acd.enqueue(call, QUEUE, 5, {}, now)
            if decision.status is not Status.WAIT:
                raise SystemExit(f"call {index} did not wait: {decision}")
            # Real calls arrive on their own FastAGI connections: the loop runs
            # between them, and with it the async subscribers' tasks.
            await asyncio.sleep(0)

    async def settle(self) -> None:
        for _ in range(10):  # the last async subscribers' tasks
            await asyncio.sleep(0)
        if not self.controller.records.flush(120):
            raise SystemExit("call records not written in 120 s")


class Measure:
    """Bytes that filling ``calls`` more waiting calls adds: traced or resident."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self._before: tracemalloc.Snapshot | int = 0
        self.top: list[tuple[str, int]] = []  # (file, bytes) that grew most (traced only)

    def begin(self) -> None:
        gc.collect()
        if self.mode == "traced":
            tracemalloc.start()
            self._before = tracemalloc.take_snapshot()
        else:
            self._before = rss_bytes()

    def end(self) -> int:
        gc.collect()
        if isinstance(self._before, tracemalloc.Snapshot):
            after = tracemalloc.take_snapshot()
            tracemalloc.stop()
            stats = after.compare_to(self._before, "filename")
            root = str(ROOT) + "/"
            self.top = [(str(s.traceback).replace(root, ""), s.size_diff) for s in stats[:6]]
            return sum(stat.size_diff for stat in stats)
        return rss_bytes() - self._before


async def ours(calls: int, mode: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cc-memory-") as tmp:
        bench = Bench(Path(tmp))
        await bench.start()
        await bench.enqueue(0, 200)  # warm-up: first-use allocations (caches, SQL statements)
        await bench.settle()
        measure = Measure(mode)
        measure.begin()
        await bench.enqueue(200, calls)
        await bench.settle()
        grown = measure.end()
        waiting = len(bench.controller.calls)
        bench.controller.records.stop()
        bench.controller.timers.cancel_all()
        bench.controller.storage.engine.dispose()
    return {"bytes_per_call": grown / calls, "waiting": waiting, "top": measure.top}


def bare(calls: int, mode: str) -> dict[str, Any]:
    now = time.time()
    book: dict[str, dict[str, Any]] = {}

    def fill(start: int, count: int) -> None:
        for index in range(start, start + count):
            record = fields_of(index, now)
            record.update(queue=QUEUE, priority=5, enqueued_at=now)
            book[record["call_id"]] = record

    fill(0, 200)  # warm-up, as for ours
    measure = Measure(mode)
    measure.begin()
    fill(200, calls)
    return {"bytes_per_call": measure.end() / calls, "waiting": len(book)}


def child(kind: str, mode: str, calls: int) -> dict[str, Any]:
    """One measurement in a fresh interpreter: no memory freed by another one to reuse."""
    argv = [sys.executable, __file__, "--calls", str(calls), "--only", f"{kind}:{mode}"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{kind} {mode} failed:\n{done.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=10_000, help="waiting calls measured")
    parser.add_argument("--only", default="", help=argparse.SUPPRESS)  # one child measurement
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.only:
        kind, mode = args.only.split(":")
        run = asyncio.run(ours(args.calls, mode)) if kind == "ours" else bare(args.calls, mode)
        print(json.dumps(run))
        return
    started = time.perf_counter()
    got = {(k, m): child(k, m, args.calls) for k in ("ours", "bare") for m in ("traced", "rss")}
    seconds = time.perf_counter() - started
    per = {key: value["bytes_per_call"] for key, value in got.items()}
    held = int(got["ours", "traced"]["waiting"])
    print(f"{args.calls:,} waiting calls measured ({held:,} held at the end; {seconds:.1f} s)")
    for kind in ("ours", "bare"):
        traced, rss = per[kind, "traced"], per[kind, "rss"]
        print(f"  {kind:5} {traced:8.0f} B/call traced   {rss:8.0f} B/call RSS")
    print("  ours, where the traced bytes are (file: bytes per call):")
    for where, grown in got["ours", "traced"]["top"]:
        print(f"    {where}: {grown / args.calls:.0f}")
    figures = {
        "benchmark": "waiting_memory",
        "python": platform.python_version(),
        "waiting_calls_measured": args.calls,
        "waiting_calls_held_at_end": held,
        "bytes_per_waiting_call": round(per["ours", "traced"]),
        "rss_bytes_per_waiting_call": round(per["ours", "rss"]),
        "baseline_bare_dict_bytes_per_call": round(per["bare", "traced"]),
        "baseline_bare_dict_rss_bytes_per_call": round(per["bare", "rss"]),
        "ratio_ours_to_bare_dict_bytes": round(per["ours", "traced"] / per["bare", "traced"], 2),
        "ratio_ours_to_bare_dict_rss": round(per["ours", "rss"] / per["bare", "rss"], 2),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
