"""Takeover time of the standby controller, p50/p95 over repeated kills.

A throwaway PostgreSQL, the project's Asterisk and two `callcenter run` processes
with `[ha] enabled`, all on ports of their own (CALLCENTER_TEST_PORT_BASE, default
19000: AMI +38, FastAGI +573, SIP +60, PostgreSQL +432, RTP +6000..+6999), in a
temporary directory. Each round kills the active controller with SIGKILL and
times, on the standby's log (polled every 10 ms), when it

* ``locked``: was granted PostgreSQL's advisory lock (the standby waits for it in
  PostgreSQL, which grants it the moment the dead controller's session ends);
* ``active``: may act (the lock held ``fence_after`` = 1.5 s, an old leader's
  confirmation expired by then);
* ``serving``: listens for FastAGI (every part started);
* ``resynced``: logged in to AMI and rebuilt its view of Asterisk's channels.

The killed node is then started again as the new standby. Bounded: ``--rounds``
(default 6) and 30 s per step. Prints one JSON object on its last line.

    .venv/bin/python bench/takeover.py [--rounds 6]
"""

from __future__ import annotations

import _checkout  # noqa: F401  first: this checkout's code (bench/_checkout.py)

# isort: split
import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from callcenter.adapters.db.migrate import upgrade
from callcenter.adapters.pbx.asterisk import AsteriskProcess
from callcenter.adapters.pbx.provider import choose_provider
from callcenter.config import Settings
from callcenter.simulate.controller_process import controller_process
from callcenter.simulate.procs import stop_process, wait_for
from tests.support.postgres import PostgresCluster

BASE = int(os.environ.get("CALLCENTER_TEST_PORT_BASE", "19000"))
STEP_TIMEOUT = 30.0
# The standby's log lines that mark each phase (callcenter/standby.py, runtime.py,
# adapters/agi/server.py, adapters/ami/pbx_view.py).
MARKS = {
    "locked": "holds the lock",
    "active": "is the active controller",
    "serving": "FastAGI listening",
    "resynced": "resynchronised:",
}


def lab_settings(root: Path, url: str, node: str) -> Settings:
    return Settings(
        state_dir=root / "state",
        site_dir=root / "site",
        ami={"port": BASE + 38},
        agi={"port": BASE + 573},
        sip={
            "bind": "127.0.0.1",
            "port": BASE + 60,
            "rtp_start": BASE + 6000,
            "rtp_end": BASE + 6999,
        },
        database={"url": url},
        web={"enabled": False},
        log={"level": "INFO"},
        ha={"enabled": True, "node": node},
    )


class Node:
    """One controller process of the pair; each start writes a log of its own."""

    def __init__(self, root: Path, url: str, name: str) -> None:
        self.settings = lab_settings(root, url, name)
        self.workdir = root / name
        self.workdir.mkdir()
        self.name = name
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def log(self) -> Path:
        return self.workdir / f"controller-{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        self.process = controller_process(self.settings, self.workdir, self.log.name)

    def says(self, text: str) -> bool:
        return self.log.exists() and text in self.log.read_text(errors="replace")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(5)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)


def one_round(active: Node, standby: Node) -> dict[str, float]:
    wait_for(lambda: standby.says("active controller is"), STEP_TIMEOUT, "a standby")
    time.sleep(1.0 + random.random())  # the active one settled; kills at any moment
    active.kill()
    killed = time.monotonic()
    found: dict[str, float] = {}
    deadline = killed + STEP_TIMEOUT
    while len(found) < len(MARKS):
        text = standby.log.read_text(errors="replace")
        now = time.monotonic()
        for phase, mark in MARKS.items():
            if phase not in found and mark in text:
                found[phase] = now - killed
        if now > deadline:
            raise AssertionError(f"{standby.name} did not take over: {sorted(found)}")
        time.sleep(0.01)
    return found


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    rounds = max(1, min(args.rounds, 50))
    root = Path(tempfile.mkdtemp(prefix="cc-bench-takeover-"))
    cluster = PostgresCluster(port=BASE + 432)
    asterisk: AsteriskProcess | None = None
    nodes: list[Node] = []
    results: list[dict[str, float]] = []
    try:
        url = cluster.start()
        upgrade(url)
        nodes = [Node(root, url, "node-a"), Node(root, url, "node-b")]
        asterisk = AsteriskProcess(nodes[0].settings, choose_provider(nodes[0].settings.pbx))
        asterisk.up([])
        active, standby = nodes
        active.start()
        wait_for(lambda: active.says("resynchronised:"), STEP_TIMEOUT, "the first controller")
        standby.start()
        for number in range(rounds):
            figures = one_round(active, standby)
            results.append(figures)
            print(f"round {number + 1}: " + ", ".join(f"{k} {v:.2f}s" for k, v in figures.items()))
            active, standby = standby, active
            standby.start()  # the killed one comes back as the standby
    finally:
        for node in nodes:
            node.stop()
        if asterisk is not None:
            asterisk.down()
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
    summary: dict[str, object] = {"rounds": len(results), "cores": os.cpu_count()}
    for phase in MARKS:
        values = [r[phase] for r in results]
        summary[f"{phase}_p50"] = round(statistics.median(values), 3)
        summary[f"{phase}_p95"] = round(percentile(values, 0.95), 3)
        summary[f"{phase}_max"] = round(max(values), 3)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
