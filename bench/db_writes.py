"""Database writes per inbound call: SQL statements, rows and transactions.

    python bench/db_writes.py                      # SQLite and PostgreSQL, 200 calls each
    python bench/db_writes.py --databases sqlite --calls 100 --rate 5

The lab of bench/inbound_paths.py (bench/inbound_lab.py: a private Asterisk,
the controller in this process, SIPp agents that answer after 100 ms and talk
2 s). Callers take the product's path: the FastAGI IVR's menu, press 1 after
500 ms, the controller's ACD, Dial of the agent, recorded with MixMonitor; the
agent hangs up. Every call record is written by the product's records writer
(callcenter/adapters/db/records_writer.py) to the database under test:
SQLite in the lab's directory, or a throwaway PostgreSQL cluster
(tests/support/postgres.py: loopback, fsync off, removed at the end).

Counted from SQLAlchemy's engine events in this process (every engine the
controller makes), from after a warm-up of 20 calls until every call is over
and the records writer has nothing left to write:

* statements sent (``before_cursor_execute``), by verb and table, and by
  thread (the records writer's, the event loop's, others);
* rows written: for an executemany the number of parameter sets, else the
  cursor's rowcount (INSERT, UPDATE, DELETE);
* transactions committed (``commit``).

Everything divided by the calls placed. Calls are offered to an agent once
if the agent answers; ``offers`` per call is printed (a ring not answered
writes more). The console is off (no screen pops' reads) as in the other
inbound benches.

Prints a table per database, then one JSON object as the last line.
"""

from __future__ import annotations

import _checkout  # noqa: F401  first: this checkout's code (bench/_checkout.py)

# isort: split
import argparse
import json
import os
import platform
import re
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.inbound_lab import Lab
from callcenter.simulate.procs import stop_process, wait_for
from callcenter.simulate.sipp import caller_scenario

WARMUP_CALLS = 20
_TABLE = re.compile(
    r"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM|SELECT\b.*?\bFROM)\s+\"?(\w+)", re.I | re.S
)


@dataclass
class Counts:
    """What went to the database while ``on`` (engine events, any thread)."""

    on: bool = False
    statements: Counter[str] = field(default_factory=Counter)  # "VERB table"
    by_thread: Counter[str] = field(default_factory=Counter)
    rows: Counter[str] = field(default_factory=Counter)  # "table" -> rows written
    commits: Counter[str] = field(default_factory=Counter)  # thread -> commits
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.statements.clear()
            self.by_thread.clear()
            self.rows.clear()
            self.commits.clear()

    def listen(self) -> None:
        event.listen(Engine, "after_cursor_execute", self._executed)
        event.listen(Engine, "commit", self._commit)

    def _executed(
        self,
        _conn: object,
        cursor: Any,
        statement: str,
        parameters: object,
        _context: object,
        executemany: bool,
    ) -> None:
        if not self.on:
            return
        verb = statement.lstrip().split(None, 1)[0].upper()
        match = _TABLE.match(statement)
        name = match.group(2).lower() if match else "-"
        thread = threading.current_thread().name
        written = 0
        if verb in ("INSERT", "UPDATE", "DELETE"):
            count = getattr(cursor, "rowcount", -1)
            if isinstance(count, int) and count >= 0:
                written = count
            elif executemany and isinstance(parameters, (list, tuple)):
                written = len(parameters)
            else:
                written = 1
        with self.lock:
            self.statements[f"{verb} {name}"] += 1
            self.by_thread[thread] += 1
            if written:
                self.rows[name] += written

    def _commit(self, _conn: object) -> None:
        if self.on:
            with self.lock:
                self.commits[threading.current_thread().name] += 1


COUNTS = Counts()


def place(lab: Lab, name: str, calls: int, rate: float) -> tuple[int, int]:
    caller = lab.caller("ours", name)
    callers = [("Bench Caller", f"+1555{index:07d}") for index in range(calls)]
    scenario = caller_scenario([500, "1"], end="await", await_ms=60_000)
    timeout = calls / rate + 90
    process = caller.start(scenario, callers, calls, rate, timeout, name)
    try:
        result = caller.finish(process, timeout + 10, name)
    finally:
        stop_process(process)
    lab.wait_idle(60)
    return result.successful, result.failed


def settle(lab: Lab) -> None:
    """Until the records writer has written everything it was given."""
    writer = lab.controller.records  # the bench looks inside; the product never does
    time.sleep(0.5)
    wait_for(lambda: writer.backlog().waiting == 0, 30, "records written", step=0.2)
    time.sleep(0.5)


def measure(database: str, url: str, calls: int, rate: float, agents: int) -> dict[str, Any]:
    pools = {"a": (agents, 17090, 100, 2000)}
    with Lab(pools, database_url=url) as lab:
        lab.staff("a")
        place(lab, f"warmup-{database}", WARMUP_CALLS, 5)
        settle(lab)
        COUNTS.reset()
        events_before = Counter(lab.controller_loop.call(lambda: dict(lab.events)))
        COUNTS.on = True
        started = time.monotonic()
        ok, failed = place(lab, f"load-{database}", calls, rate)
        settle(lab)
        COUNTS.on = False
        seconds = time.monotonic() - started
        events = Counter(lab.controller_loop.call(lambda: dict(lab.events)))
        events.subtract(events_before)
    statements = sum(COUNTS.statements.values())
    writes = {k: v for k, v in COUNTS.statements.items() if not k.startswith("SELECT")}
    reads = {k: v for k, v in COUNTS.statements.items() if k.startswith("SELECT")}
    writer_thread = "record-writer"
    report: dict[str, Any] = {
        "database": database,
        "calls": calls,
        "rate_cps": rate,
        "sipp_successful": ok,
        "sipp_failed": failed,
        "answered": events["CallAnswered"],
        "offers_per_call": round(events["CallOffered"] / calls, 2) if calls else None,
        "seconds": round(seconds, 1),
        "statements_per_call": round(statements / calls, 2),
        "write_statements_per_call": round(sum(writes.values()) / calls, 2),
        "read_statements_per_call": round(sum(reads.values()) / calls, 2),
        "rows_written_per_call": round(sum(COUNTS.rows.values()) / calls, 2),
        "transactions_per_call": round(sum(COUNTS.commits.values()) / calls, 3),
        "writer_transactions_per_call": round(COUNTS.commits[writer_thread] / calls, 3),
        "writer_statements_per_call": round(COUNTS.by_thread[writer_thread] / calls, 2),
        "rows_per_call_by_table": {
            k: round(v / calls, 2) for k, v in sorted(COUNTS.rows.items(), key=lambda i: -i[1])
        },
        "statements_per_call_by_kind": {
            k: round(v / calls, 2)
            for k, v in sorted(COUNTS.statements.items(), key=lambda i: -i[1])
        },
        "statements_by_thread": dict(COUNTS.by_thread),
        "commits_by_thread": dict(COUNTS.commits),
        "load_average": os.getloadavg(),
    }
    return report


def print_report(report: dict[str, Any]) -> None:
    print(
        f"\n{report['database']}: {report['calls']} calls at {report['rate_cps']}/s, "
        f"{report['answered']} answered, SIPp failed {report['sipp_failed']}, "
        f"offers/call {report['offers_per_call']}, load average "
        f"{' '.join(f'{x:.2f}' for x in report['load_average'])}"
    )
    print(
        f"  per call: {report['statements_per_call']} statements "
        f"({report['write_statements_per_call']} writes, {report['read_statements_per_call']} "
        f"reads), {report['rows_written_per_call']} rows written, "
        f"{report['transactions_per_call']} transactions "
        f"(records writer: {report['writer_transactions_per_call']} transactions, "
        f"{report['writer_statements_per_call']} statements)"
    )
    print(
        "  rows written per call by table: "
        + ", ".join(f"{k} {v}" for k, v in report["rows_per_call_by_table"].items())
    )
    print(
        "  statements per call: "
        + ", ".join(f"{k} {v}" for k, v in report["statements_per_call_by_kind"].items())
    )
    print(f"  statements by thread: {report['statements_by_thread']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--agents", type=int, default=40)
    args = parser.parse_args()
    COUNTS.listen()
    reports = []
    for database in args.databases.split(","):
        if database == "sqlite":
            reports.append(measure(database, "", args.calls, args.rate, args.agents))
        elif database == "postgresql":
            from tests.support.postgres import PostgresCluster

            cluster = PostgresCluster()
            url = cluster.start()
            try:
                reports.append(measure(database, url, args.calls, args.rate, args.agents))
            finally:
                cluster.stop()
        else:
            parser.error(f"unknown database {database!r}")
        print_report(reports[-1])
    print(
        json.dumps({"benchmark": "db_writes", "python": platform.python_version(), "runs": reports})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
