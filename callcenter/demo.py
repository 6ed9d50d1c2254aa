"""`callcenter demo`: the call center on its embedded defaults, with simulated
callers (SIPp) and agents (baresip softphones) a newcomer can watch.

Everything the demo starts (Asterisk if it was not running, the controller,
softphones, SIPp) is stopped by PID when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import tempfile
import time
from pathlib import Path

import click

from callcenter.bootstrap import Controller, build_pbx
from callcenter.config import Settings, TrunkSettings
from callcenter.core.model import SipAccount
from callcenter.services.calls import CallTrace
from callcenter.simulate.sipp import SippCaller, caller_scenario
from callcenter.simulate.softphone import Softphone

DEMO_AGENTS = (("demo-alice", "Alice (demo)", "1101"), ("demo-bob", "Bob (demo)", "1102"))
DEMO_CALLERS = [
    ("Carol Customer", "+15550100"), ("Dave Customer", "+15550101"),
    ("Erin Customer", "+15550102"), ("Frank Customer", "+15550103"),
    ("Grace Customer", "+15550104"), ("Heidi Customer", "+15550105"),
]  # fmt: skip
CALLER_ADDRESS = "127.0.0.2"


def demo_settings(settings: Settings) -> Settings:
    """The site's settings plus a trunk for the simulated callers."""
    trunk = TrunkSettings(name="demo-callers", match=[CALLER_ADDRESS])
    others = [t for t in settings.trunks if t.name != trunk.name]
    return settings.model_copy(update={"trunks": [*others, trunk]})


def _describe(trace: CallTrace) -> str:
    steps = [f"call {trace.call_id[-6:]} from {trace.caller or 'anonymous'}"]
    if trace.choice:
        steps.append(f"pressed {trace.choice}")
    if trace.target:
        steps.append(f"rang {trace.target}")
    if trace.dial_status:
        steps.append("answered" if trace.dial_status == "ANSWER" else trace.dial_status.lower())
    if trace.ended is not None:
        steps.append(f"ended after {trace.ended - trace.started:.1f}s")
    return " -> ".join(steps)


class Demo:
    def __init__(self, settings: Settings, calls: int, linger: float | None) -> None:
        self.settings = demo_settings(settings)
        self.calls = calls
        self.linger = linger
        self.workdir = Path(tempfile.mkdtemp(prefix="callcenter-demo-"))
        self.phones: list[Softphone] = []
        self.started_pbx = False

    async def run(self) -> int:
        pbx = build_pbx(self.settings)
        self.started_pbx = pbx.running_pid() is None
        controller: Controller | None = None
        try:
            click.echo(await asyncio.to_thread(pbx.up, []))
            controller = Controller(self.settings)
            await controller.start()
            await controller.ami.wait_connected(15)
            accounts = [await self._agent(controller, *agent) for agent in DEMO_AGENTS]
            await asyncio.to_thread(self._start_phones, accounts)
            click.echo(f"agents ready: {', '.join(a.username for a in accounts)} (softphones)")
            failed = await self._place_calls(controller)
            if self.linger is None or self.linger > 0:
                await self._serve(controller)
            return 1 if failed else 0
        finally:
            for phone in self.phones:
                phone.stop()
            if controller is not None:
                await controller.stop()
            if self.started_pbx:
                click.echo(pbx.down())

    @staticmethod
    async def _agent(controller: Controller, username: str, name: str, ext: str) -> SipAccount:
        return controller.directory.get(username) or await controller.directory.add(
            username, name, ext
        )

    def _start_phones(self, accounts: list[SipAccount]) -> None:
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

    async def _place_calls(self, controller: Controller) -> int:
        click.echo(f"placing {self.calls} simulated calls (each presses a key, talks, hangs up)")
        caller = SippCaller(
            self.workdir / "callers", f"127.0.0.1:{self.settings.sip.port}", address=CALLER_ADDRESS
        )
        callers = (DEMO_CALLERS * (self.calls // len(DEMO_CALLERS) + 1))[: self.calls]
        process = caller.start(caller_scenario([800, "1", 3000]), callers, rate=0.5)
        printed: dict[str, str] = {}
        started = time.monotonic()
        while process.poll() is None and time.monotonic() - started < 120:
            self._print_new(controller, printed)
            await asyncio.sleep(0.5)
        result = await asyncio.to_thread(caller.finish, process, 5)
        await asyncio.sleep(0.5)
        self._print_new(controller, printed)
        click.echo(f"done: {result.successful} calls completed, {result.failed} failed")
        return result.failed

    @staticmethod
    def _print_new(controller: Controller, printed: dict[str, str]) -> None:
        for trace in list(controller.calls.traces.values()):
            line = _describe(trace)
            if trace.ended is not None and printed.get(trace.call_id) != line:
                printed[trace.call_id] = line
                click.echo(f"  {time.strftime('%H:%M:%S')} {line}")

    async def _serve(self, controller: Controller) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        click.echo(
            f"the call center keeps running (SIP on port {self.settings.sip.port}); "
            + ("Ctrl-C stops it" if self.linger is None else f"stopping in {self.linger:.0f}s")
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), self.linger)


def run_demo(settings: Settings, calls: int, linger: float | None) -> int:
    return asyncio.run(Demo(settings, calls, linger).run())
