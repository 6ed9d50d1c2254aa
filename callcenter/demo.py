"""`callcenter demo`: the call center on its embedded defaults, with simulated
callers (SIPp) and agents (baresip softphones) a newcomer can watch.

It loads the demo site (examples/demo: three agents, two queues, a menu),
speaks the menu prompt with espeak-ng, starts Asterisk and the controller,
registers the agents' softphones, logs them in, and places calls that press
1 (sales) or 2 (support) and stay on the line until the agent hangs up (the
demo hangs each agent's softphone up 12-32 s into the conversation).
Everything it started (Asterisk if it was not running, the controller,
softphones, SIPp) is stopped by PID when it ends.

The terminal tells the calls: who joined which queue, the wait estimate
(core/acd/waits.py) and what the caller heard of it, who answered and how long
the wait really was; at the end, how far the estimates were from the waits.
Log lines go to <state_dir>/demo.log, named when the demo starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import secrets
import signal
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import click

from callcenter.adapters.db.site_config import apply_site
from callcenter.adapters.db.users import UserRepository
from callcenter.adapters.pbx.prompts import PromptError, speak
from callcenter.bootstrap import build_asterisk, build_storage
from callcenter.config import Settings, TrunkSettings
from callcenter.core import events as ev
from callcenter.core.acd.waits import summarize
from callcenter.core.users import UserError
from callcenter.paths import PROJECT_DIR
from callcenter.runtime import Controller
from callcenter.services.site import load_site_file
from callcenter.simulate.procs import stop_process
from callcenter.simulate.sipp import SippCaller, caller_scenario
from callcenter.simulate.softphone import Softphone

DEMO_SITE = PROJECT_DIR / "examples" / "demo" / "site.toml"
WELCOME = "Welcome to the demo call center. For sales, press 1. For support, press 2."
CALLERS = [
    ("Carol Customer", "+15550100"),
    ("Dave Customer", "+15550101"),
    ("Erin Customer", "+15550102"),
    ("Frank Customer", "+15550103"),
    ("Grace Customer", "+15550104"),
    ("Heidi Customer", "+15550105"),
]
CALLER_ADDRESS = "127.0.0.2"
SUPERVISOR = "demo-supervisor"
TRICKLE_SECONDS = 20.0  # while the demo lingers, a new caller this often
# The simulated callers' SIP and media ports, from Asterisk's SIP port (5070 and 6000 for
# 5060): a demo on other ports (CALLCENTER_SIP__PORT) moves its callers along.
CALLER_PORTS, CALLER_MEDIA = 10, 940
TALK_SECONDS = (12.0, 32.0)  # an agent ends each conversation after this long (uniform)
# A caller presses the menu key, then stays on the line until the agent hangs up.
CALLER_STEPS: list[str | int | Path] = [1500]


def demo_settings(settings: Settings) -> Settings:
    """The site's settings plus a trunk for the simulated callers."""
    trunk = TrunkSettings(name="demo-callers", match=[CALLER_ADDRESS])
    others = [t for t in settings.trunks if t.name != trunk.name]
    return settings.model_copy(update={"trunks": [*others, trunk]})


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value < 90 else f"{value / 60:.1f} min"


class Narrator:
    """The events worth watching as lines a person can follow; each caller's wait
    estimates kept to be set against the wait that followed, as the reports do."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self.names = dict(names)  # caller number -> name
        self.callers: dict[str, str] = {}  # call id -> who
        self.estimates: dict[str, list[tuple[float, float]]] = {}  # call id -> (at, estimate)
        self.judged: list[tuple[float, float]] = []  # (estimate, actual wait)

    def who(self, call_id: str) -> str:
        return self.callers.get(call_id, "a caller")

    def describe(self, event: ev.Event) -> str | None:
        match event:
            case ev.CallQueued():
                who = self.names.get(event.caller, event.caller or "a caller")
                self.callers[event.call_id] = who
                self._keep(event.call_id, event.at, event.estimate)
                wait = (
                    "" if event.estimate is None else f", estimated wait {_seconds(event.estimate)}"
                )
                return f"{who} joined {event.queue} (position {event.position}{wait})"
            case ev.WaitAnnounced():
                self._keep(event.call_id, event.at, event.estimate)
                return f"  {self.who(event.call_id)} hears: {self._heard(event)}"
            case ev.CallOffered():
                return (
                    f"  ringing {event.agent} for {self.who(event.call_id)} after {event.wait:.1f}s"
                )
            case ev.CallAnswered():
                return f"  {event.agent} answered {self.who(event.call_id)} " + self._judge(event)
            case ev.CallCompleted():
                return f"  {event.agent} finished a {event.queue} call: talked {event.talk:.1f}s"
            case ev.CallAbandoned():
                self.estimates.pop(event.call_id, None)  # no actual wait to judge against
                return f"  {self.who(event.call_id)} gave up after {event.wait:.1f}s"
            case ev.AgentStateChanged() if event.state in ("ready", "paused"):
                reason = f" ({event.reason})" if event.reason else ""
                return f"  {event.agent} is {event.state}{reason}"
        return None

    def _keep(self, call_id: str, at: float, estimate: float | None) -> None:
        if estimate is not None:
            self.estimates.setdefault(call_id, []).append((at, estimate))

    @staticmethod
    def _heard(event: ev.WaitAnnounced) -> str:
        place = "you are next" if event.position <= 1 else f"position {event.position}"
        if event.estimate is None:
            return f"{place}; no estimate (nobody staffed can take the call)"
        figure = f"estimate {_seconds(event.estimate)}"
        if event.told:
            return f'{place}, "{event.told}" ({figure})'
        if not event.reliable:
            return f"{place}; no figure said ({figure}, not stood by: {event.why_not})"
        return f"{place}; no figure said ({figure}: under a minute, the position says enough)"

    def _judge(self, event: ev.CallAnswered) -> str:
        text = f"({event.queue}) after {event.wait:.1f}s"
        made = self.estimates.pop(event.call_id, [])
        made = [(at, estimate) for at, estimate in made if at <= event.at]
        for at, estimate in made:
            self.judged.append((estimate, event.at - at))
        if made:
            at, estimate = made[0]
            text += f"; estimated {_seconds(estimate)} on joining, it took {event.at - at:.0f} s"
        return text

    def summary(self) -> str:
        found = summarize(self.judged)
        if not found.count:
            return "wait estimates: none to judge (no caller waited)"
        assert found.median is not None and found.p90 is not None
        return (
            f"wait estimates: {found.count} set against the waits that followed: "
            f"|estimate - actual| / actual median {found.median:.0%}, "
            f"90th percentile {found.p90:.0%} (the reports page shows the same, per queue)"
        )


def log_to_file(path: Path) -> None:
    """Every log line into ``path``, none on the terminal (the narration is there)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root.addHandler(handler)
    logging.captureWarnings(True)


class Demo:
    def __init__(self, settings: Settings, calls: int, linger: float | None) -> None:
        self.settings = demo_settings(settings)
        self.calls = calls
        self.linger = linger
        self.workdir = Path(tempfile.mkdtemp(prefix="callcenter-demo-"))
        self.phones: list[Softphone] = []
        self.started = time.monotonic()
        # One password per demo run, shown on screen; never a shipped default.
        self.password = secrets.token_urlsafe(9)
        self.narrator = Narrator({number: name for name, number in CALLERS})
        self.talk = random.Random()
        self.log_path = self.settings.state_dir / "demo.log"

    def _say(self, line: str) -> None:
        click.echo(f"[{time.monotonic() - self.started:6.1f}s] {line}")

    async def run(self) -> int:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log_to_file(self.log_path)
        self._say(f"logs go to {self.log_path}; the calls are told here")
        self._prepare_site()
        pbx = build_asterisk(self.settings)
        started_pbx = pbx.running_pid() is None
        controller: Controller | None = None
        try:
            self._say(await asyncio.to_thread(pbx.up, []))
            controller = Controller(self.settings)
            controller.notifier.subscribe_all(self._show)
            await controller.start()
            await controller.ami.wait_connected(15)
            await controller.reload()
            await asyncio.to_thread(self._start_phones, controller)
            for agent in sorted(controller.agents.statuses):
                if agent.startswith("demo-"):
                    await controller.agents.ready(agent, time.time())
            await asyncio.to_thread(self._console_logins, controller)
            failed = await self._place_calls()
            if self.linger is None or self.linger > 0:
                await self._serve()
            self._say(self.narrator.summary())
            return 1 if failed else 0
        finally:
            for phone in self.phones:
                phone.stop()
            if controller is not None:
                await controller.stop()
            if started_pbx:
                self._say(pbx.down())

    def _prepare_site(self) -> None:
        try:
            speak(self.settings.site_dir, "cc-demo-welcome", WELCOME)
        except PromptError as exc:
            self._say(f"no spoken menu ({exc}); callers will hear silence before the beep")
        storage = build_storage(self.settings)
        try:
            counts = apply_site(load_site_file(DEMO_SITE), storage.sessions)
        finally:
            storage.engine.dispose()
        self._say("demo site loaded: " + ", ".join(f"{n} {k}" for k, n in counts.items()))

    def _console_logins(self, controller: Controller) -> None:
        """A supervisor and one login per demo agent, all with this run's password."""
        users = UserRepository(controller.storage.sessions)
        logins = [(SUPERVISOR, "supervisor", "")] + [
            (name, "agent", name)
            for name in sorted(controller.agents.statuses)
            if name.startswith("demo-")
        ]
        for username, role, agent in logins:
            try:
                users.add(username, self.password, role, agent)
            except UserError:
                users.set_password(username, self.password)
        if controller.web is None:
            return
        self._say(
            f"console: {controller.web.url}/  (wallboard for {SUPERVISOR}, desktop for "
            f"{', '.join(n for n, _, _ in logins[1:])}; password for all: {self.password})"
        )

    def _show(self, event: ev.Event) -> None:
        line = self.narrator.describe(event)
        if line:
            self._say(line)
        if isinstance(event, ev.CallAnswered):
            # The agent talks a while and hangs up: talk times the estimates learn.
            talk = self.talk.uniform(*TALK_SECONDS)
            asyncio.get_running_loop().call_later(talk, self._hang_up, event.agent)

    def _hang_up(self, agent: str) -> None:
        for phone in self.phones:
            if phone.username == agent:
                with contextlib.suppress(OSError, AssertionError):  # the phone is stopping
                    phone.hangup()

    def _start_phones(self, controller: Controller) -> None:
        accounts = [a for a in controller.directory.accounts() if a.username.startswith("demo-")]
        for index, account in enumerate(accounts):
            phone = Softphone(
                account.username,
                account.password,
                f"127.0.0.{21 + index}",
                f"127.0.0.1:{self.settings.sip.port}",
                self.workdir / account.username,
                auto_answer=True,
            )
            self.phones.append(phone)
            phone.start()
            phone.wait_registered()
        self._say(f"softphones registered: {', '.join(a.username for a in accounts)}")

    async def _place_calls(self) -> int:
        self._say(f"placing {self.calls} simulated calls: half press 1 (sales), half 2 (support)")
        callers = (CALLERS * (self.calls // len(CALLERS) + 1))[: self.calls]
        runs = []
        for index, digit in enumerate("12"):
            group = callers[index::2]
            if not group:
                continue
            caller = SippCaller(
                self.workdir / f"callers-{digit}",
                f"127.0.0.1:{self.settings.sip.port}",
                address=CALLER_ADDRESS,
                port=self.settings.sip.port + CALLER_PORTS + 2 * index,
                media_port=self.settings.sip.port + CALLER_MEDIA + 100 * index,
            )
            process = caller.start(
                caller_scenario([*CALLER_STEPS, digit], end="await", await_ms=240_000),
                group,
                rate=0.4,
                timeout=300,
            )
            runs.append((caller, process))
        failed = 0
        for caller, process in runs:
            # finish() waits for SIPp to end its calls (bounded by its own timeout).
            result = await asyncio.to_thread(caller.finish, process, 360)
            failed += result.failed
        await asyncio.sleep(1)
        self._say(f"all calls done: {failed} failed")
        return failed

    async def _serve(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        self._say(
            f"the call center keeps running (SIP on port {self.settings.sip.port}); "
            + ("Ctrl-C stops it" if self.linger is None else f"stopping in {self.linger:.0f}s")
        )
        trickle = asyncio.create_task(self._trickle())
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.linger)
        finally:
            trickle.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await trickle

    async def _trickle(self) -> None:
        """Keep the wallboard moving: one more caller every TRICKLE_SECONDS."""
        caller = SippCaller(
            self.workdir / "trickle",
            f"127.0.0.1:{self.settings.sip.port}",
            address=CALLER_ADDRESS,
            port=self.settings.sip.port + CALLER_PORTS + 4,
            media_port=self.settings.sip.port + CALLER_MEDIA + 200,
        )
        for number, (name, phone) in enumerate(itertools.cycle(CALLERS)):
            await asyncio.sleep(TRICKLE_SECONDS)
            digit = "12"[number % 2]
            process = caller.start(
                caller_scenario([*CALLER_STEPS, digit], end="await", await_ms=240_000),
                [(name, phone)],
                timeout=300,
            )
            try:
                await asyncio.to_thread(caller.finish, process, 360)
            except asyncio.CancelledError:
                stop_process(process)  # the thread waiting on it then returns at once
                raise


def run_demo(settings: Settings, calls: int, linger: float | None) -> int:
    return asyncio.run(Demo(settings, calls, linger).run())
