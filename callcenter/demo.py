"""`callcenter demo`: the call center on its embedded defaults, with simulated
callers (SIPp) and agents (baresip softphones) a newcomer can watch.

It loads the demo site (examples/demo: three agents, two queues, a menu),
speaks the menu prompt with espeak-ng, starts Asterisk and the controller,
registers the agents' softphones, logs them in, and places calls that press
1 (sales) or 2 (support). Everything it started (Asterisk if it was not
running, the controller, softphones, SIPp) is stopped by PID when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
import signal
import tempfile
import time
from pathlib import Path

import click

from callcenter.adapters.db.site_config import apply_site
from callcenter.adapters.db.users import UserRepository
from callcenter.adapters.pbx.prompts import PromptError, speak
from callcenter.bootstrap import build_asterisk, build_storage
from callcenter.config import Settings, TrunkSettings
from callcenter.core import events as ev
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


def demo_settings(settings: Settings) -> Settings:
    """The site's settings plus a trunk for the simulated callers."""
    trunk = TrunkSettings(name="demo-callers", match=[CALLER_ADDRESS])
    others = [t for t in settings.trunks if t.name != trunk.name]
    return settings.model_copy(update={"trunks": [*others, trunk]})


def describe(event: ev.Event) -> str | None:
    """One line a person can follow, for the events worth watching."""
    if isinstance(event, ev.CallQueued):
        wait = f", expected wait {event.estimate:.0f}s" if event.estimate is not None else ""
        return f"{event.caller} joined {event.queue} (position {event.position}{wait})"
    if isinstance(event, ev.CallOffered):
        return f"  ringing {event.agent} for a {event.queue} call after {event.wait:.1f}s"
    if isinstance(event, ev.CallAnswered):
        return f"  {event.agent} answered ({event.queue}, waited {event.wait:.1f}s)"
    if isinstance(event, ev.CallCompleted):
        return f"  {event.agent} finished a {event.queue} call: talked {event.talk:.1f}s"
    if isinstance(event, ev.CallAbandoned):
        return f"  a caller gave up in {event.queue} after {event.wait:.1f}s"
    if isinstance(event, ev.AgentStateChanged) and event.state in ("ready", "paused"):
        reason = f" ({event.reason})" if event.reason else ""
        return f"  {event.agent} is {event.state}{reason}"
    return None


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

    def _say(self, line: str) -> None:
        click.echo(f"[{time.monotonic() - self.started:6.1f}s] {line}")

    async def run(self) -> int:
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
        host, port = self.settings.web.host, controller.web.port
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        self._say(
            f"console: http://{shown}:{port}/  (wallboard for {SUPERVISOR}, desktop for "
            f"{', '.join(n for n, _, _ in logins[1:])}; password for all: {self.password})"
        )

    def _show(self, event: ev.Event) -> None:
        line = describe(event)
        if line:
            self._say(line)

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
                port=5070 + 2 * index,
                media_port=6000 + 100 * index,
            )
            process = caller.start(
                caller_scenario([1500, digit, 20000], end="bye"), group, rate=0.4, timeout=180
            )
            runs.append((caller, process))
        failed = 0
        for caller, process in runs:
            # finish() waits for SIPp to end its calls (bounded by its own timeout).
            result = await asyncio.to_thread(caller.finish, process, 240)
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
            port=5074,
            media_port=6200,
        )
        for number, (name, phone) in enumerate(itertools.cycle(CALLERS)):
            await asyncio.sleep(TRICKLE_SECONDS)
            digit = "12"[number % 2]
            process = caller.start(
                caller_scenario([1500, digit, 20000], end="bye"), [(name, phone)], timeout=60
            )
            try:
                await asyncio.to_thread(caller.finish, process, 90)
            except asyncio.CancelledError:
                stop_process(process)  # the thread waiting on it then returns at once
                raise


def run_demo(settings: Settings, calls: int, linger: float | None) -> int:
    return asyncio.run(Demo(settings, calls, linger).run())
