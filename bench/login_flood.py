"""Does a login flood on the console delay call routing? Both phases in one run.

The product's controller and console (callcenter/simulate/console.py: the real
composition, no Asterisk) serve the console over HTTPS with the product's server.
A prober plays Asterisk's side of FastAGI: it asks the controller's real
``inbound`` route for each call (the IVR, then the queue decision) and answers
every AGI command at once, so what it times is the controller's own routing
(connect to the route's final status). A second probe times the controller's
event loop (how late a 5 ms timer fires).

Phase 1: probes alone. Phase 2: the same probes while flood processes (other
processes, as an attacker's would be) hammer ``POST /login`` with wrong
passwords over fresh TLS connections, each from one of many loopback addresses
(so the per-address limit alone does not stop them), with a real CSRF token
each time (so the attempts reach the password check unless throttled).

    .venv/bin/python bench/login_flood.py [--seconds 15] [--workers 4] [--threads 50]

Prints p50/p95/max of both probes in both phases, the ratio flood/no-flood, and
what the logins got (429 throttled, 401 checked and refused, 503 waited too
long for a hashing slot).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import http.client
import json
import multiprocessing
import re
import socket
import ssl
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from callcenter.simulate.console import Console, free_port

SITE = {
    "agents": [{"username": "agent1", "name": "Agent", "extension": "1001",
                "skills": {"support": 3}}],
    "queues": [{"name": "support", "requirements": {"support": 1},
                "announce": {"on_entry": False, "interval": 0}}],
    # Straight to the queue; nobody is logged in, so the ACD's answer is "unstaffed".
    "flows": {"main": {"document": {"name": "main", "start": "line", "nodes": {
        "line": {"type": "queue", "queue": "support", "priority": 0, "skills": {}}}}}},
}  # fmt: skip
CSRF = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')


# -- the flood (other processes) ------------------------------------------------------------
def flood_worker(
    port: int, cafile: str, threads: int, first: int, stop_at: float, out: Any
) -> None:
    counts: collections.Counter[int] = collections.Counter()
    lock = threading.Lock()

    def attack(address: str) -> None:
        tls = ssl.create_default_context(cafile=cafile)
        while time.time() < stop_at:
            try:
                link = http.client.HTTPSConnection(
                    "127.0.0.1", port, timeout=30, context=tls, source_address=(address, 0)
                )
                link.request("GET", "/login")
                page = link.getresponse()
                body = page.read()
                cookie = (page.getheader("Set-Cookie") or "").split(";")[0]
                token = CSRF.search(body)
                form = f"username=boss&password=wrong-guess-{time.time()}&csrf_token=" + (
                    token.group(1).decode() if token else ""
                )
                headers = {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": cookie,
                    "Referer": f"https://127.0.0.1:{port}/login",  # as a browser sends it
                }
                link.request("POST", "/login", form, headers)
                answer = link.getresponse()
                answer.read()
                link.close()
                status = answer.status
            except (OSError, http.client.HTTPException):
                status = 0  # refused or reset: the server's connection cap
            with lock:
                counts[status] += 1

    workers = [
        threading.Thread(
            target=attack, args=(f"127.0.{(first + i) // 250}.{(first + i) % 250 + 2}",)
        )
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    out.put(dict(counts))


# -- the control: the same flood on a trivial HTTPS server in a process of its own -------------
def control_server(port: int, cert: str, key: str) -> None:
    """Answers like the console's login (a page with a token, then 429) at no cost: what
    the flood costs the machine (its clients, TLS) when the console is not in the way."""
    from cheroot import wsgi
    from cheroot.ssl.builtin import BuiltinSSLAdapter

    page = b'<input id="csrf_token" name="csrf_token" type="hidden" value="abc">'

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["REQUEST_METHOD"] == "POST":
            environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            start_response("429 Too Many Requests", [("Content-Type", "text/plain")])
            return [b"Too many login attempts"]
        start_response("200 OK", [("Content-Type", "text/html"), ("Set-Cookie", "session=x")])
        return [page]

    server = wsgi.Server(("127.0.0.1", port), app, numthreads=64, max=64)
    server.ssl_adapter = BuiltinSSLAdapter(cert, key)
    server.safe_start()


def flood(
    port: int, cafile: str, args: Any, console: Console
) -> tuple[dict[str, list[float]], collections.Counter[int]]:
    """Probe while the flood runs against ``port``; the probes and the logins' answers."""
    results: Any = multiprocessing.Queue()
    stop_at = time.time() + args.seconds + 3
    floods = [
        multiprocessing.Process(
            target=flood_worker,
            args=(port, cafile, args.threads, w * args.threads, stop_at, results),
        )
        for w in range(args.workers)
    ]
    for process in floods:
        process.start()
    time.sleep(2)  # the flood at full strength before measuring
    found = probe(console, args.seconds)
    counts: collections.Counter[int] = collections.Counter()
    for _ in floods:
        counts.update(results.get(timeout=120))
    for process in floods:
        process.join(30)
    return found, counts


# -- the probes (this process, beside the controller) ----------------------------------------
def agi_request(port: int, call: int) -> float:
    """One call's FastAGI request to the inbound route; seconds to its final status."""
    headers = (
        "agi_network: yes\nagi_network_script: inbound\nagi_request: agi://127.0.0.1/inbound\n"
        f"agi_channel: PJSIP/trunk-{call:08x}\nagi_uniqueid: {call}.1\n"
        f"agi_linkedid: {call}.1\nagi_callerid: 21255501{call % 100:02d}\n"
        "agi_calleridname: Bench\nagi_extension: 800\nagi_arg_1: 800\n\n"
    )
    began = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as link:
        link.sendall(headers.encode())
        reader = link.makefile("rb")
        for line in reader:
            command = line.decode(errors="replace").strip()
            if command.startswith("SET VARIABLE CC_STATUS"):
                link.sendall(b"200 result=1\n")
                break
            if command.startswith("GET "):
                link.sendall(b"200 result=1 ()\n")
            else:  # ANSWER, STREAM FILE, EXEC...: done at once
                link.sendall(b"200 result=0 endpos=0\n")
    return time.perf_counter() - began


def probe(console: Console, seconds: float) -> dict[str, list[float]]:
    port = console.settings.agi.port
    routing: list[float] = []
    lags: list[float] = []

    async def loop_lag() -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            began = time.perf_counter()
            await asyncio.sleep(0.005)
            lags.append(time.perf_counter() - began - 0.005)

    lag = threading.Thread(target=lambda: console.run(loop_lag(), seconds + 30))
    lag.start()
    end, call = time.monotonic() + seconds, int(time.time())
    while time.monotonic() < end:
        call += 1
        routing.append(agi_request(port, call))
        time.sleep(0.05)
    lag.join()
    return {"routing": routing, "loop lag": lags}


def summary(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return statistics.median(ordered) * 1000, p95 * 1000, ordered[-1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=4, help="flood processes")
    parser.add_argument("--threads", type=int, default=50, help="attacking threads per process")
    parser.add_argument("--switch", type=float, default=0, help="sys.setswitchinterval, s")
    args = parser.parse_args()
    if args.switch:
        sys.setswitchinterval(args.switch)
    with tempfile.TemporaryDirectory(prefix="login-flood-") as folder:
        console = Console(Path(folder))
        try:
            console.load_site(SITE)
            console.controller.users.add("boss", "the real passphrase here", "admin")
            base = console.serve()
            port = int(base.rsplit(":", 1)[1])
            print(f"console {base}; FastAGI 127.0.0.1:{console.settings.agi.port}")
            quiet = probe(console, args.seconds)
            cafile = str(console.certificate)
            tls = console.server.tls if console.server else None
            assert tls is not None
            spare = free_port()
            control = multiprocessing.Process(
                target=control_server, args=(spare, str(tls.cert), str(tls.key)), daemon=True
            )
            control.start()
            time.sleep(1)
            elsewhere, control_counts = flood(spare, cafile, args, console)
            control.terminate()
            control.join(5)
            loud, counts = flood(port, cafile, args, console)
        finally:
            console.close()
    concurrent = args.workers * args.threads
    for what, found in (("control server", control_counts), ("console", counts)):
        attempts = sum(found.values())
        answers = ", ".join(
            f"{'conn error' if k == 0 else k}: {v}" for k, v in sorted(found.items())
        )
        print(f"flood on the {what}: {concurrent} concurrent attackers, {concurrent} loopback "
              f"addresses, {attempts} logins in {args.seconds + 1:.0f} s ({answers})")  # fmt: skip
    phases = (("no flood", quiet), ("flood elsewhere", elsewhere), ("flood console", loud))
    figures: dict[str, Any] = {"concurrent_attackers": concurrent}
    print(f"{'probe':<10} {'phase':<16} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name in ("routing", "loop lag"):
        for phase, found in phases:
            p50, p95, top = summary(found[name])
            print(
                f"{name:<10} {phase:<16} {len(found[name]):>5} {p50:>8.2f} {p95:>8.2f} {top:>8.1f}"
            )
        base = max(summary(quiet[name])[1], 1e-6)
        ratios = ", ".join(
            f"{phase} {summary(found[name])[1] / base:.2f}" for phase, found in phases[1:]
        )
        console_vs_control = summary(loud[name])[1] / max(summary(elsewhere[name])[1], 1e-6)
        print(f"{name:<10} p95 ratio to no flood: {ratios}; console/elsewhere "
              f"{console_vs_control:.2f}")  # fmt: skip
        figures[name] = {
            phase: dict(zip(("p50_ms", "p95_ms", "max_ms"), summary(found[name]), strict=True))
            for phase, found in phases
        }
        figures[name]["p95_ratio_console_flood"] = summary(loud[name])[1] / base
        figures[name]["p95_ratio_console_vs_elsewhere"] = console_vs_control
    figures["logins"] = {str(k): v for k, v in counts.items()}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
