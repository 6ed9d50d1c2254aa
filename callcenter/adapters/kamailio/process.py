"""`callcenter kamailio up|run|down|status`: one Kamailio per state directory.

Like `pbx up`: ``up`` renders the configuration, checks it with ``kamailio -c``,
starts Kamailio in the background (not daemonised: its PID is the one recorded)
and waits until it answers an OPTIONS; ``down`` stops exactly that PID. Started
as root it drops to the ``kamailio`` user that Debian's package creates once its
port is bound. Debian's own ``kamailio`` service is never used (setup.sh masks it).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from callcenter.adapters.kamailio.render import (
    AGENTS_TABLE,
    KamailioLayout,
    agents_table,
    module_dir,
    render_config,
)
from callcenter.adapters.ops.modes import make_state_dir
from callcenter.adapters.pbx.asterisk import pid_alive
from callcenter.adapters.pbx.provider import ProviderError
from callcenter.config import Settings
from callcenter.core.model import SipAccount

KAMAILIO = "/usr/sbin/kamailio"
RUN_USER = "kamailio"


def kamailio_binary() -> str:
    found = shutil.which("kamailio") or (KAMAILIO if Path(KAMAILIO).exists() else None)
    if found is None:
        raise ProviderError("kamailio is not installed (deploy/setup.sh installs it)")
    return found


def sip_ping(
    host: str, port: int, timeout: float, sock: socket.socket | None = None
) -> float | None:
    """Send one OPTIONS; the round trip in ms of its final answer, or None.
    ``sock``: a UDP socket to send it from (closed here), else a new one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    target = f"[{host}]" if family == socket.AF_INET6 else host
    with sock or socket.socket(family, socket.SOCK_DGRAM) as udp:
        udp.connect((host, port))  # picks the local address the Via names
        local, local_port = udp.getsockname()[:2]
        local = f"[{local}]" if family == socket.AF_INET6 else local
        branch = "z9hG4bK" + secrets.token_hex(8)
        call_id = secrets.token_hex(12)
        request = (
            f"OPTIONS sip:{target}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {local}:{local_port};branch={branch};rport\r\n"
            "Max-Forwards: 2\r\n"
            f"From: <sip:status@{local}>;tag={secrets.token_hex(4)}\r\n"
            f"To: <sip:{target}:{port}>\r\n"
            f"Call-ID: {call_id}\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()
        started = time.monotonic()
        deadline = started + timeout
        udp.send(request)
        while (left := deadline - time.monotonic()) > 0:
            udp.settimeout(left)
            try:
                data = udp.recv(65535)
            except (TimeoutError, OSError):
                return None
            status = data.split(b"\r\n", 1)[0].split()
            if len(status) >= 2 and status[1][:1] in b"23456" and call_id.encode() in data:
                return (time.monotonic() - started) * 1000
        return None


def dumped_agents(listing: str) -> dict[str, str]:
    """Agent -> HA1 from `kamcmd htable.dump agents`."""
    return dict(re.findall(r"name: (\S+)\s+value: (\S+)", listing))


def node_flags(listing: str) -> dict[str, str]:
    """Node URI -> flags from `kamcmd dispatcher.list` (first letter A: active, I:
    inactive, D: disabled; a P or X after it: being probed)."""
    return dict(re.findall(r"URI: (sip:\S+)\s+FLAGS: (\w+)", listing))


@dataclass(frozen=True, slots=True)
class KamailioStatus:
    running: bool
    pid: int | None
    rtt_ms: float | None
    nodes: dict[str, str]  # node URI -> the dispatcher's flags (node_flags)

    def lines(self) -> list[str]:
        state = f"running (pid {self.pid})" if self.running else "not running"
        sip = (
            f"answers ({self.rtt_ms:.1f} ms OPTIONS)"
            if self.rtt_ms is not None
            else "does not answer"
        )
        nodes = [
            f"node {uri}: {'up' if flags.startswith('A') else 'down'} ({flags})"
            for uri, flags in self.nodes.items()
        ]
        return [f"kamailio: {state}", f"sip: {sip}", *nodes]


Pinger = Callable[[str, int, float], "float | None"]


class KamailioProcess:
    def __init__(
        self, settings: Settings, prefix: Sequence[str] = (), pinger: Pinger = sip_ping
    ) -> None:
        """``prefix``: a command Kamailio runs under (e.g. `ip netns exec NAME`, which
        execs it: the PID stays Kamailio's); ``pinger`` then sends the OPTIONS from
        where Kamailio can be reached (simulate/kamailio_lab.py)."""
        self.settings = settings
        self.layout = KamailioLayout(settings.state_dir / "kamailio")
        self.prefix = tuple(prefix)
        self.pinger = pinger

    # -- helpers ---------------------------------------------------------------
    def running_pid(self) -> int | None:
        try:
            pid = int(self.layout.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if not pid_alive(pid):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            return None
        # Only our Kamailio (same config file), so a recycled PID is never signalled.
        if str(self.layout.config).encode() not in cmdline:
            return None
        return pid

    def _probe_address(self) -> str:
        bind = self.settings.kamailio.bind
        if bind in ("0.0.0.0", "::"):
            return "127.0.0.1" if bind == "0.0.0.0" else "::1"
        return bind

    def ping(self, timeout: float = 1.0) -> float | None:
        return self.pinger(self._probe_address(), self.settings.kamailio.port, timeout)

    def render(self, accounts: Iterable[SipAccount] = ()) -> bool:
        """Write the configuration; True if a file changed."""
        return bool(self._render(accounts))

    def _render(self, accounts: Iterable[SipAccount]) -> set[Path]:
        """Write the configuration; the files that changed."""
        make_state_dir(self.settings.state_dir)
        owner = self._owner()
        for folder in (self.layout.run_dir, self.layout.db_dir):
            folder.mkdir(parents=True, exist_ok=True)
            if owner is not None:
                os.chown(folder, *owner)
                os.chmod(folder, 0o750)
        files = render_config(self.settings, self.layout, module_dir(), accounts)
        return {path for path, text in files.items() if self._write(path, text)}

    def _write(self, path: Path, text: str) -> bool:
        """Write one file (readable by Kamailio's group only: the agents' digest secrets
        are among them); False if it held that already."""
        try:
            if path.read_text(encoding="utf-8") == text:
                return False
        except FileNotFoundError:
            pass
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.chmod(temporary, 0o640)
        owner = self._owner()
        if owner is not None:
            os.chown(temporary, 0, owner[1])
        temporary.replace(path)
        return True

    def publish_agents(self, accounts: Iterable[SipAccount]) -> str:
        """The agents' digest secrets into the running Kamailio, no restart (the
        controller calls this each time it publishes the agents to the nodes): the
        table file rewritten (what Kamailio reads at its start), and Kamailio's own
        table brought to the same over its RPC: an agent added or given a new password
        set (``htable.sets``), a removed one deleted with its bindings (its phone is
        refused at its next REGISTER). Nothing when Kamailio was never provisioned in
        this state directory; the file alone when it does not run. Raises
        ProviderError when Kamailio runs and its RPC failed (call again: what
        Kamailio holds is read each time, so nothing is missed)."""
        if not self.layout.config.exists():
            return ""
        accounts = list(accounts)
        self._write(self.layout.agents_table, agents_table(accounts))
        if not self.layout.control_socket.exists():
            return "kamailio not running: agents' table written"
        wanted = {a.username: a.ha1.lower() for a in accounts}
        held = dumped_agents(self.rpc("htable.dump", AGENTS_TABLE))
        changed = sorted(name for name, ha1 in wanted.items() if held.get(name) != ha1)
        removed = sorted(set(held) - set(wanted))
        for name in changed:
            # s: makes kamcmd send a string even when it looks like a number.
            self.rpc("htable.sets", AGENTS_TABLE, f"s:{name}", f"s:{wanted[name]}")
        for name in removed:
            self.rpc("htable.delete", AGENTS_TABLE, f"s:{name}")
            # Its bindings here and the copies' expiry times: nothing left to ring.
            self.rpc("ul.rm", "location", f"s:{name}", check=False)
            self.rpc("htable.delete", "phones", f"s:{name}", check=False)
        if not (changed or removed):
            return ""
        parts = []
        if changed:
            parts.append(f"set {', '.join(changed)}")
        if removed:
            parts.append(f"removed {', '.join(removed)} (bindings dropped)")
        return f"kamailio agents: {'; '.join(parts)}"

    def rpc(self, *command: str, check: bool = True, timeout: float = 5) -> str:
        """One RPC to the running Kamailio over its control socket (kamcmd)."""
        kamcmd = shutil.which("kamcmd")
        if kamcmd is None:
            raise ProviderError("kamcmd is not installed (the kamailio package has it)")
        try:
            result = subprocess.run(
                [kamcmd, "-s", f"unix:{self.layout.control_socket}", *command],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ProviderError(f"kamcmd {command[0]}: no answer in {timeout:g}s") from None
        if check and result.returncode != 0:
            said = (result.stdout + result.stderr).strip()
            raise ProviderError(f"kamcmd {' '.join(command)} failed: {said}")
        return result.stdout

    @staticmethod
    def _owner() -> tuple[int, int] | None:
        """The user Kamailio drops to, when started as root."""
        if os.geteuid() != 0:
            return None
        try:
            user = pwd.getpwnam(RUN_USER)
        except KeyError:
            return None
        return user.pw_uid, user.pw_gid

    def check(self) -> None:
        result = subprocess.run(
            [kamailio_binary(), "-c", "-f", str(self.layout.config)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            lines = (result.stdout + result.stderr).strip().splitlines()
            raise ProviderError("kamailio -c refused the configuration:\n" + "\n".join(lines[-15:]))

    def command(self) -> list[str]:
        kam = self.settings.kamailio
        argv = [
            kamailio_binary(),
            "-f",
            str(self.layout.config),
            "-DD",  # no daemon: the PID we record is Kamailio's main process
            "-E",  # log to stderr (our output file, or the journal under systemd)
            "-m",
            str(kam.shared_memory_mb),
            "-M",
            "8",
            "-Y",
            str(self.layout.run_dir),
        ]
        if self._owner() is not None:
            argv += ["-u", RUN_USER, "-g", RUN_USER]
        return argv

    # -- commands --------------------------------------------------------------
    def up(self, accounts: Iterable[SipAccount] = ()) -> str:
        """Start, or restart if the script or the node list changed (read at start
        only; the phones' registrations, in memory, are then asked for again). Changed
        agents alone are changed in place (publish_agents)."""
        accounts = list(accounts)
        changed = self._render(accounts)
        self.check()
        pid = self.running_pid()
        if pid is not None:
            if changed == {self.layout.agents_table}:
                # The agents alone: changed in place, the registrations kept.
                said = self.publish_agents(accounts)
                return f"kamailio running (pid {pid}); agents reloaded ({said})"
            if changed:
                # The script itself is only read at start: a changed file needs a restart.
                self._stop_pid(pid)
                return self._start(f"restarted (configuration changed; was pid {pid}): ")
            return f"kamailio already running (pid {pid}); configuration unchanged"
        return self._start("")

    def exec_foreground(self, accounts: Iterable[SipAccount] = ()) -> None:
        """Render, check and become Kamailio (`callcenter kamailio run`, for systemd)."""
        pid = self.running_pid()
        if pid is not None:
            raise ProviderError(f"kamailio already running (pid {pid}); `kamailio down` stops it")
        self.render(accounts)
        self.check()
        argv = self.command()
        self.layout.pid_file.write_text(f"{os.getpid()}\n")
        os.execv(argv[0], argv)

    def _start(self, prefix: str) -> str:
        started = time.monotonic()
        with open(self.layout.output_file, "ab") as output:
            process = subprocess.Popen(
                [*self.prefix, *self.command()],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                start_new_session=True,
            )
        self.layout.pid_file.write_text(f"{process.pid}\n")
        deadline = started + self.settings.kamailio.start_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.layout.pid_file.unlink(missing_ok=True)
                raise ProviderError(
                    f"kamailio exited with {process.returncode} during start-up:\n" + self._tail()
                )
            if self.ping(0.5) is not None:
                return (
                    f"{prefix}kamailio started (pid {process.pid}) "
                    f"in {time.monotonic() - started:.1f}s"
                )
            time.sleep(0.1)
        self._stop_pid(process.pid)
        self.layout.pid_file.unlink(missing_ok=True)
        raise ProviderError(f"kamailio did not answer OPTIONS in time:\n{self._tail()}")

    def down(self) -> str:
        pid = self.running_pid()
        if pid is None:
            self.layout.pid_file.unlink(missing_ok=True)
            return "kamailio not running"
        self._stop_pid(pid)
        self.layout.pid_file.unlink(missing_ok=True)
        return f"kamailio stopped (pid {pid})"

    def _stop_pid(self, pid: int, grace: float = 10.0) -> None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and pid_alive(pid):
            time.sleep(0.05)
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
            while pid_alive(pid):
                time.sleep(0.05)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)

    def nodes(self) -> str:
        """The dispatcher's view of the nodes (`kamcmd dispatcher.list`), if it answers."""
        kamcmd = shutil.which("kamcmd")
        if kamcmd is None:
            return ""
        socket_path = self.layout.control_socket
        try:
            result = subprocess.run(
                [kamcmd, "-s", f"unix:{socket_path}", "dispatcher.list"],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return ""
        return result.stdout.strip() if result.returncode == 0 else ""

    def status(self) -> KamailioStatus:
        pid = self.running_pid()
        rtt = self.ping(2.0) if pid is not None else None
        nodes = node_flags(self.nodes()) if pid is not None else {}
        return KamailioStatus(pid is not None, pid, rtt, nodes)

    def _tail(self, lines: int = 30) -> str:
        try:
            text = self.layout.output_file.read_text(errors="replace")
        except FileNotFoundError:
            return "(no output)"
        return "\n".join(text.splitlines()[-lines:])
