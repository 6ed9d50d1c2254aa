"""`callcenter pbx up|down|status`: one Asterisk per state directory.

``up`` is idempotent: with our Asterisk already running it only re-renders the
configuration and reloads what changed. ``down`` stops exactly the process
``up`` started (by the PID it recorded) and, because its mounts live in that
process's private namespace, leaves nothing mounted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from callcenter.adapters.ami.client import AmiClient, AmiError
from callcenter.adapters.ops.modes import ASTERISK_UMASK, make_state_dir
from callcenter.adapters.pbx.provider import AsteriskProvider, ProviderError
from callcenter.adapters.pbx.render import PbxLayout, Renderer
from callcenter.adapters.pbx.secrets import ensure_secret
from callcenter.config import Settings
from callcenter.core.model import SipAccount

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PbxStatus:
    running: bool
    pid: int | None
    ami_answers: bool
    ami_rtt_ms: float | None
    detail: str

    def lines(self) -> list[str]:
        state = f"running (pid {self.pid})" if self.running else "not running"
        ami = (
            f"answers ({self.ami_rtt_ms:.1f} ms ping)"
            if self.ami_answers and self.ami_rtt_ms is not None
            else "does not answer"
        )
        return [f"asterisk: {state}", f"ami: {ami}", *([self.detail] if self.detail else [])]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); it is not running.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def probe_ami(settings: Settings, secret: str, timeout: float) -> float | None:
    """Log in and ping once; the round trip in ms, or None if AMI does not answer."""
    client = AmiClient(settings.ami.model_copy(update={"reconnect_max": 0.5}), secret)
    await client.start()
    try:
        await client.wait_connected(timeout)
        return await client.ping(timeout) * 1000
    except (TimeoutError, AmiError):
        return None
    finally:
        await client.stop()


class AsteriskProcess:
    def __init__(self, settings: Settings, provider: AsteriskProvider) -> None:
        self.settings = settings
        self.provider = provider
        self.pid_file = settings.state_dir / "asterisk.pid"
        self.output_file = settings.state_dir / "asterisk.out"

    # -- helpers ---------------------------------------------------------------
    def running_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if not pid_alive(pid):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            return None
        # Only our Asterisk: same config path, so a recycled PID is never killed.
        wanted = b"asterisk.conf"
        if not any(part.endswith(wanted) for part in cmdline):
            return None
        return pid

    def layout(self) -> PbxLayout:
        return self.provider.layout(self.settings.pbx_dir)

    def ami_secret(self) -> str:
        return self.settings.ami.secret or ensure_secret(self.settings.state_dir, "ami")

    def render(self, accounts: Iterable[SipAccount] | None) -> list[str]:
        make_state_dir(self.settings.state_dir)
        return Renderer(self.settings, self.layout()).render(self.ami_secret(), accounts)

    # -- commands --------------------------------------------------------------
    def up(self, accounts: Iterable[SipAccount] | None) -> str:
        self.provider.prepare()
        changed = self.render(accounts)
        pid = self.running_pid()
        if pid is not None:
            if changed:
                self.cli("core reload")
                return (
                    f"asterisk already running (pid {pid}); reloaded {len(changed)} changed files"
                )
            return f"asterisk already running (pid {pid}); configuration unchanged"
        return self._start()

    def exec_foreground(self) -> None:
        """Render the configuration and become Asterisk (`callcenter pbx run`, for a
        service manager): this process's PID is Asterisk's, recorded like `up` does.

        The agents' endpoints are left as last published: the controller publishes
        them on every AMI login, so this process never opens the database (it runs
        as root, the database is the controller's).
        """
        self.provider.prepare()
        pid = self.running_pid()
        if pid is not None:
            raise ProviderError(f"asterisk already running (pid {pid}); `pbx down` stops it")
        self.render(None)
        argv = self.provider.command(self.layout())
        self.pid_file.write_text(f"{os.getpid()}\n")
        os.umask(ASTERISK_UMASK)
        os.execvp(argv[0], argv)

    def _start(self) -> str:
        started = time.monotonic()
        with open(self.output_file, "ab") as output:
            process = self.provider.start(self.layout(), output)
        self.pid_file.write_text(f"{process.pid}\n")
        deadline = started + self.settings.pbx.start_timeout
        secret = self.ami_secret()
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise ProviderError(
                    f"asterisk exited with {process.returncode} during start-up:\n" + self._tail()
                )
            if asyncio.run(probe_ami(self.settings, secret, 1.0)) is not None:
                self.cli("core waitfullybooted")
                return (
                    f"asterisk started (pid {process.pid}, {self.provider.name}) "
                    f"in {time.monotonic() - started:.1f}s"
                )
            time.sleep(0.2)
        self._stop_pid(process.pid)
        raise ProviderError(
            f"asterisk did not answer AMI within the start timeout:\n{self._tail()}"
        )

    def wait_answering(self, timeout: float) -> bool:
        """Wait until our Asterisk runs and AMI answers (one started by systemd too)."""
        deadline = time.monotonic() + timeout
        secret = self.ami_secret()
        while time.monotonic() < deadline:
            if self.running_pid() is not None and (
                asyncio.run(probe_ami(self.settings, secret, 1.0)) is not None
            ):
                return True
            time.sleep(0.2)
        return False

    def down(self) -> str:
        pid = self.running_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return "asterisk not running"
        self._stop_pid(pid)
        self.pid_file.unlink(missing_ok=True)
        return f"asterisk stopped (pid {pid})"

    def _stop_pid(self, pid: int, grace: float = 10.0) -> None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                self._reap(pid)
                return
            time.sleep(0.05)
        log.warning("asterisk (pid %d) ignored SIGTERM; killing it", pid)
        os.kill(pid, signal.SIGKILL)
        while pid_alive(pid):
            time.sleep(0.05)
        self._reap(pid)

    @staticmethod
    def _reap(pid: int) -> None:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)

    def status(self) -> PbxStatus:
        pid = self.running_pid()
        rtt = None
        detail = ""
        if pid is not None:
            rtt = asyncio.run(probe_ami(self.settings, self.ami_secret(), 2.0))
            channels = self.cli("core show channels count").strip().splitlines()
            detail = "; ".join(line for line in channels if line)
        return PbxStatus(pid is not None, pid, rtt is not None, rtt, detail)

    def cli(self, command: str, timeout: float = 30.0) -> str:
        pid = self.running_pid()
        if pid is None:
            raise ProviderError("asterisk is not running")
        result = subprocess.run(
            self.provider.cli_argv(self.layout(), pid, command),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return result.stdout + result.stderr

    def _tail(self, lines: int = 30) -> str:
        try:
            text = self.output_file.read_text(errors="replace")
        except FileNotFoundError:
            return "(no output)"
        return "\n".join(text.splitlines()[-lines:])
