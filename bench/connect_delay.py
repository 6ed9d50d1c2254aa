"""Connect delay: from the caller being chosen for an agent to the agent's audio path,
ringing agents against always-connected agents, p50/p95, in the same run.

The project's Asterisk, the controller in-process and SIPp callers, on the ports of
CALLCENTER_TEST_PORT_BASE (default 19000, as the end-to-end tests), in a temporary
directory. Two baresip agents that answer by themselves: rita rings (the default
mode), nora is always-connected ([sip.agents.nora] nailed: her phone is called once
when she logs in). Phase one: rita alone takes ``--calls`` callers one after the
other; phase two: nora alone takes as many.

Measured per call on the controller's own clock, from ``CallOffered.at`` (the router
chose the agent) to

* ``chosen_to_answered``: ``CallAnswered.at``: for rita, Dial, her phone's INVITE
  and 200 OK (DialEnd ANSWER); for nora, cc-connect's CcNailedConnect, right before
  Bridge() joins the caller to her waiting line;
* ``chosen_to_audio_path``: the AMI BridgeEnter that puts the second channel into
  the caller's bridge (caller and agent leg bridged: audio flows).

Both agents' phones answer by themselves at once (baresip ``answermode=auto``): the
ringing figure is the floor for ringing mode; a person picking up adds seconds.

Bounded: ``--calls`` (default 10, at most 50) per mode, 20 s per call. Prints one
JSON object on its last line.

    CALLCENTER_TEST_PORT_BASE=23000 .venv/bin/python bench/connect_delay.py [--calls 10]
"""

from __future__ import annotations

import _checkout  # noqa: F401  first: this checkout's code (bench/_checkout.py)

# isort: split
import argparse
import json
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.inbound_metrics import percentile
from callcenter.adapters.db.migrate import upgrade
from callcenter.adapters.pbx.asterisk import AsteriskProcess
from callcenter.adapters.pbx.provider import choose_provider
from callcenter.core import pbx_events as ev
from callcenter.core.events import CallAnswered, CallOffered
from callcenter.simulate.procs import wait_for
from tests.e2e.conftest import CallCenter, Pbx, _center, test_settings
from tests.e2e.sites import one_queue_site
from tests.e2e.test_nailed_agents import with_nailed

CALL_SECONDS = 20.0


class Marks:
    """CallOffered and CallAnswered times per call, and when the caller's bridge got
    its second channel (AMI BridgeEnter), all on the controller's loop and clock."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.offered: dict[str, float] = {}
        self.callers: dict[str, str] = {}  # caller's unique id -> call id
        self.answered: dict[str, tuple[str, float]] = {}
        self.bridge_of: dict[str, str] = {}  # call id -> bridge id
        self.full: dict[str, float] = {}  # bridge id -> when it had two channels
        self.agent_of: dict[str, str] = {}

    def on_offered(self, event: CallOffered) -> None:
        with self.lock:
            self.offered.setdefault(event.call_id, event.at)
            self.callers[event.unique_id] = event.call_id
            self.agent_of[event.call_id] = event.agent

    def on_bridge_enter(self, event: ev.BridgeEnter) -> None:
        now = self.clock()
        with self.lock:
            if event.bridge_num_channels >= 2:
                self.full.setdefault(event.bridge_unique_id, now)
            call_id = self.callers.get(event.unique_id)
            if call_id is not None:
                self.bridge_of.setdefault(call_id, event.bridge_unique_id)

    def bridged(self, agent: str) -> list[float]:
        """Chosen to the caller's bridge with the agent's leg in it: the audio path."""
        with self.lock:
            return [
                self.full[bridge] - self.offered[call_id]
                for call_id, bridge in self.bridge_of.items()
                if self.agent_of.get(call_id) == agent and bridge in self.full
            ]

    def on_answered(self, event: CallAnswered) -> None:
        with self.lock:
            self.answered[event.call_id] = (event.agent, event.at)

    def delays(self, agent: str) -> list[float]:
        with self.lock:
            return [
                at - self.offered[call_id]
                for call_id, (who, at) in self.answered.items()
                if who == agent and call_id in self.offered
            ]


def run_phase(center: CallCenter, agent: str, calls: int, first_number: int) -> None:
    center.login(agent)
    center.wait_available(agent, timeout=15)
    for n in range(calls):
        placed = center.place_call([600, "1", 800], f"+1555{first_number + n:07d}", end="bye")
        result = placed.finish(timeout=CALL_SECONDS)
        if result.successful != 1:
            raise RuntimeError(f"call {n} to {agent} failed: {result}")
        center.wait_no_calls(10)
        center.wait_available(agent, timeout=10)
    center.thread.run(center.controller.agents.logout(agent, center.controller.timers.clock()))


def summary(values: list[float]) -> dict[str, Any]:
    ms = [v * 1000 for v in values]
    return {
        "samples": len(ms),
        "p50_ms": round(percentile(ms, 50) or 0, 1),
        "p95_ms": round(percentile(ms, 95) or 0, 1),
        "max_ms": round(max(ms), 1) if ms else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=10)
    args = parser.parse_args()
    calls = max(1, min(args.calls, 50))
    root = Path(tempfile.mkdtemp(prefix="cc-connect-delay-"))
    settings = test_settings(root)
    asterisk = AsteriskProcess(settings, choose_provider(settings.pbx))
    asterisk.up([])
    try:
        url = f"sqlite:///{root / 'callcenter.db'}"
        upgrade(url)
        center = with_nailed(_center(Pbx(root, settings, asterisk), url, root / "work"), "nora")
        center.start()
        marks = Marks(center.controller.timers.clock)
        try:
            center.load_site(one_queue_site("rita", "nora"))

            def subscribe(c: Any) -> None:
                c.notifier.subscribe(CallOffered, marks.on_offered)
                c.notifier.subscribe(CallAnswered, marks.on_answered)
                c.ami.subscribe(ev.BridgeEnter, marks.on_bridge_enter)

            center.get(subscribe)
            for name in ("rita", "nora"):
                center.softphone(center.account(name), auto_answer=True)
            run_phase(center, "rita", calls, 1000)
            run_phase(center, "nora", calls, 2000)
            wait_for(lambda: len(marks.delays("nora")) >= calls, 5, "every answer seen")
        finally:
            center.stop()
    finally:
        asterisk.down()
        shutil.rmtree(root, ignore_errors=True)
    figures = {
        "calls_per_mode": calls,
        "chosen_to_answered": {
            "ringing": summary(marks.delays("rita")),
            "always_connected": summary(marks.delays("nora")),
        },
        "chosen_to_audio_path": {
            "ringing": summary(marks.bridged("rita")),
            "always_connected": summary(marks.bridged("nora")),
        },
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
