"""The laboratory of bench/console_latency.py: the console with its streams and a browser.

``ConsoleLab.close()`` (use it with ``contextlib.closing``) stops the controller
and its web server, the SSE reader process and Chromium (with its
chromedriver), each through the handle that started it.
"""

from __future__ import annotations

import http.client
import json
import queue
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from werkzeug.security import generate_password_hash

from bench.console_bare_loop import BareLoop
from bench.inbound_metrics import percentile
from callcenter.adapters.db.models import UserRow
from callcenter.simulate.console import Console
from callcenter.simulate.procs import wait_for
from tests.e2e.browser import log_in, new_browser

CLIENTS = Path(__file__).with_name("console_sse_clients.py")
PASSWORD = "bench-password-1"
# Bench users get a cheap hash (the product's default costs ~0.15 s a login, 200 times).
CHEAP_HASH = "pbkdf2:sha256:1000"
MARKER = re.compile(r"bench-[a-z]-\d{4}")
OBSERVER = """
window.__seen = {};
const pattern = /bench-[a-z]-\\d{4}/g;
const scan = () => {
  const now = performance.timeOrigin + performance.now();
  for (const m of document.body.textContent.match(pattern) || []) {
    if (!(m in window.__seen)) window.__seen[m] = now;
  }
};
scan();
new MutationObserver(scan).observe(document.body,
  {subtree: true, childList: true, characterData: true});
"""
PAINT = """
const paint = {};
for (const e of performance.getEntriesByType('paint')) paint[e.name] = e.startTime;
const nav = performance.getEntriesByType('navigation')[0];
const res = performance.getEntriesByType('resource');
const statics = res.filter((r) => r.name.includes('/static/'));
const sum = (list, key) => list.reduce((n, r) => n + (r[key] || 0), 0);
const snapshot = res.find((r) => r.name.endsWith('/api/wallboard'));
return {paint, html: nav.decodedBodySize, html_transfer: nav.transferSize,
  assets: sum(statics, 'decodedBodySize'), assets_transfer: sum(statics, 'transferSize'),
  asset_count: statics.length, snapshot: snapshot ? snapshot.decodedBodySize : null};
"""


def _figures(prefix: str, values: list[float]) -> dict[str, float | int | None]:
    return {
        f"{prefix}_p50_ms": _ms(percentile(values, 50)),
        f"{prefix}_p95_ms": _ms(percentile(values, 95)),
        f"{prefix}_max_ms": _ms(max(values) if values else None),
        f"{prefix}_samples": len(values),
    }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _session(answer: http.client.HTTPResponse) -> str:
    for cookie in answer.msg.get_all("Set-Cookie") or []:
        if cookie.startswith("session="):
            return cookie.split(";")[0]
    raise RuntimeError("no session cookie in the answer")


class SseClients:
    """The reader process (bench/console_sse_clients.py)."""

    def __init__(self, connections: list[dict[str, Any]]) -> None:
        self.expected = len(connections)
        self.process = subprocess.Popen(
            [sys.executable, str(CLIENTS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(connections) + "\n")
        self.process.stdin.flush()
        ready = self.process.stdout.readline().split()
        if ready[:1] != ["ready"] or int(ready[1]) != self.expected:
            self.kill()
            raise RuntimeError(f"SSE readers: {ready} of {self.expected} streams opened")

    def stop(self) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("stop\n")
        self.process.stdin.flush()
        result: dict[str, Any] = json.loads(self.process.stdout.readline())
        self.process.wait(10)
        return result

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@dataclass
class Side:
    """One side's run: when each event started, and who saw it when."""

    name: str
    started: dict[str, float] = field(default_factory=dict)
    seen: list[list[Any]] = field(default_factory=list)
    dom: dict[str, float] = field(default_factory=dict)  # marker -> epoch ms
    failed_streams: int = 0
    expected: dict[str, int] = field(default_factory=dict)  # label -> deliveries due
    frames: int = 0
    bytes: int = 0

    def figures(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for label in ("wallboard", "desktop"):
            got = [(m, t) for lab, m, t in self.seen if lab == label and m in self.started]
            values = [(t - self.started[m]) * 1000 for m, t in got]
            out.update(_figures(f"{self.name}_{label}_sse_latency", values))
            out[f"{self.name}_{label}_sse_deliveries_missed"] = self.expected[label] - len(got)
        dom = [t - self.started[m] * 1000 for m, t in self.dom.items() if m in self.started]
        out.update(_figures(f"{self.name}_wallboard_chromium_dom_latency", dom))
        out[f"{self.name}_wallboard_chromium_updates_missed"] = len(self.started) - len(dom)
        out[f"{self.name}_failed_streams"] = self.failed_streams
        out[f"{self.name}_sse_frames_received"] = self.frames
        out[f"{self.name}_sse_bytes_received"] = self.bytes
        return out


@dataclass
class ProductRun(Side):
    # Per event: the exact frames the hub sent (for the bare loop to send again).
    wallboard_frames: dict[str, bytes] = field(default_factory=dict)
    agent_frames: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    page: dict[str, Any] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        return {**super().figures(), **self.page}


class ConsoleLab:
    def __init__(self, workdir: Path, agents: int) -> None:
        self.workdir = workdir
        self.agents = [f"agent{n:03d}" for n in range(1, agents + 1)]
        self.console = Console(workdir / "console")
        self.profile = Path(tempfile.mkdtemp(prefix="cc-bench-chromium-"))
        self.browser: Any = None
        self.clients: SseClients | None = None
        try:
            self._populate()
            self.base = self.console.serve()
            self.token = self.console.controller.users.create_token("tv", "supervisor")
            self.browser = new_browser(self.profile, trust=self.console.certificate)
        except BaseException:
            self.close()
            raise

    # -- set-up ------------------------------------------------------------------------
    def _populate(self) -> None:
        self.console.load_site(
            {
                "agents": [
                    {"username": a, "name": a.title(), "extension": str(2000 + i)}
                    for i, a in enumerate(self.agents, 1)
                ],
                "queues": [{"name": "support", "requirements": {}}],
            }
        )
        cheap = generate_password_hash(PASSWORD, method=CHEAP_HASH)
        rows = [
            {"username": a, "password_hash": cheap, "role": "agent", "agent": a}
            for a in self.agents
        ]
        rows.append({"username": "boss", "password_hash": cheap, "role": "supervisor"})
        with self.console.controller.storage.sessions.begin() as session:
            session.execute(
                insert(UserRow), [{**r, "active": True, "created_at": time.time()} for r in rows]
            )
        service = self.console.controller.agents
        for agent in self.agents:
            self.console.run(service.login(agent, time.time()))

    def _session_cookie(self, username: str) -> str:
        """Log in through the real form over HTTP; the session cookie it sets."""
        host = self.base.removeprefix("https://")
        tls = ssl.create_default_context(cafile=str(self.console.certificate))
        link = http.client.HTTPSConnection(host, timeout=10, context=tls)
        try:
            link.request("GET", "/login")
            answer = link.getresponse()
            page = answer.read().decode()
            first = _session(answer)
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
            assert token is not None
            body = f"username={username}&password={PASSWORD}&csrf_token={token.group(1)}"
            headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": first}
            link.request("POST", "/login", body, headers)
            answer = link.getresponse()
            answer.read()
            if answer.status != 302:
                raise RuntimeError(f"login of {username}: HTTP {answer.status}")
            return _session(answer)
        finally:
            link.close()

    def _wait_streams(self, count: int, what: object) -> None:
        wait_for(lambda: what() == count, 30, f"{count} open streams")  # type: ignore[operator]

    # -- the product ---------------------------------------------------------------------
    def run_product(self, events: int, interval: float, wallboards: int) -> ProductRun:
        run = ProductRun("console")
        hub = self.console.controller.hub
        streams = [
            {
                "label": "wallboard",
                "url": f"{self.base}/api/events?topics=wallboard",
                "headers": {"Authorization": f"Bearer {self.token}"},
                "cafile": str(self.console.certificate),
            }
        ] * wallboards
        streams += [
            {
                "label": "desktop",
                "url": f"{self.base}/api/events?topics=desktop,agents",
                "headers": {"Cookie": self._session_cookie(agent)},
                "cafile": str(self.console.certificate),
            }
            for agent in self.agents
        ]
        self.clients = SseClients(streams)
        run.page = self._open_wallboard()
        capture = hub.connect("supervisor", "", {"wallboard", "agents"})
        self._wait_streams(len(streams) + 2, lambda: hub.clients)
        self.browser.execute_script(OBSERVER)
        service = self.console.controller.agents
        for i in range(events):
            marker, agent = f"bench-a-{i:04d}", self.agents[i]

            async def pause(agent: str = agent, marker: str = marker) -> float:
                began = time.time()
                await service.pause(agent, marker, began)
                return began

            run.started[marker] = self.console.run(pause())
            time.sleep(interval)
        self._finish(run, wallboards)
        hub.disconnect(capture)
        self._keep_frames(run, capture.messages)
        return run

    def _open_wallboard(self) -> dict[str, Any]:
        log_in(self.browser, self.base, "boss", PASSWORD)
        self.browser.execute_cdp_cmd("Network.enable", {})
        self.browser.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        self.browser.get(f"{self.base}/wallboard")
        wait_for(
            lambda: (
                self.browser.execute_script(
                    "return document.querySelectorAll('#wb-agents tbody tr').length"
                )
                >= len(self.agents)
            ),
            30,
            "the wallboard's agent rows",
        )
        page = self.browser.execute_script(PAINT)
        return {
            "wallboard_first_paint_ms": _ms(page["paint"].get("first-paint")),
            "wallboard_first_contentful_paint_ms": _ms(page["paint"].get("first-contentful-paint")),
            "wallboard_page_bytes": page["html"] + page["assets"],
            "wallboard_page_transfer_bytes": page["html_transfer"] + page["assets_transfer"],
            "wallboard_page_asset_files": page["asset_count"],
            "wallboard_snapshot_json_bytes": page["snapshot"],
        }

    def _finish(self, side: Side, wallboards: int) -> None:
        side.expected = {"wallboard": wallboards * len(side.started), "desktop": len(side.started)}
        time.sleep(1.5)  # the last events' stragglers
        assert self.clients is not None
        result = self.clients.stop()
        self.clients = None
        side.seen, side.failed_streams = result["seen"], result["failed"]
        side.frames, side.bytes = result["frames"], result["bytes"]
        side.dom = self.browser.execute_script("return window.__seen")

    @staticmethod
    def _keep_frames(run: ProductRun, frames: queue.Queue[str | None]) -> None:
        while True:
            try:
                frame = frames.get_nowait()
            except queue.Empty:
                return
            if frame is None:
                continue
            kind = "wallboard" if "\nevent: wallboard\n" in frame else "agents"
            for marker in MARKER.findall(frame):
                if kind == "wallboard":
                    run.wallboard_frames.setdefault(marker, frame.encode())
                elif agent := json.loads(frame.split("data: ", 1)[1]).get("agent"):
                    run.agent_frames.setdefault(marker, (agent, frame.encode()))

    # -- the baseline ---------------------------------------------------------------------
    def run_bare(
        self, bare: BareLoop, product: ProductRun, interval: float, wallboards: int
    ) -> dict[str, Any]:
        run = Side("bare_loop")
        url = bare.start()
        streams = [
            {"label": "wallboard", "url": f"{url}/events?who=wallboard", "headers": {}}
        ] * wallboards
        streams += [
            {"label": "desktop", "url": f"{url}/events?who={a}", "headers": {}} for a in self.agents
        ]
        self.clients = SseClients(streams)
        self.browser.get(f"{url}/")
        self._wait_streams(len(streams) + 1, bare.clients)
        self.browser.execute_script(OBSERVER)
        for marker in product.started:
            ours = marker.replace("bench-a-", "bench-b-")
            frames = []
            if marker in product.wallboard_frames:
                frames.append(("wallboard", product.wallboard_frames[marker]))
            if marker in product.agent_frames:
                frames.append(product.agent_frames[marker])
            frames = [(who, f.replace(marker.encode(), ours.encode())) for who, f in frames]
            run.started[ours] = bare.publish(frames)
            time.sleep(interval)
        self._finish(run, wallboards)
        figures = run.figures()
        figures["bare_loop_events_without_captured_frames"] = sum(
            1 for m in product.started if m not in product.wallboard_frames
        )
        return figures

    # -- tear-down ----------------------------------------------------------------------
    def close(self) -> None:
        if self.clients is not None:
            self.clients.kill()
            self.clients = None
        if self.browser is not None:
            self.browser.quit()  # chromedriver and its Chromium
            self.browser = None
        shutil.rmtree(self.profile, ignore_errors=True)
        self.console.close()
