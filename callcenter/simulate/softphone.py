"""A real SIP softphone (baresip) driven over its ctrl_tcp JSON netstrings.

Each softphone gets its own loopback address (SIP, RTP and control), so
Asterisk sees distinct peers and audio never goes to eth0 (LAB.md).
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callcenter.simulate.netns import socket_in
from callcenter.simulate.procs import stop_process, wait_for

MODULES = ("g711.so", "ausine.so", "aufile.so", "account.so", "menu.so", "ctrl_tcp.so")


@dataclass
class Softphone:
    username: str
    password: str
    address: str  # e.g. 127.0.0.4
    registrar: str  # host:port of Asterisk
    workdir: Path
    auto_answer: bool = False
    sip_port: int = 5080
    ctrl_port: int = 4444
    # "tls": register to the registrar's TLS port (it is given in ``registrar``);
    # media_encryption "srtp-mand": SRTP with SDES keys, or no call.
    transport: str = "udp"
    media_encryption: str = ""
    # Run inside this network namespace (simulate/nodes_lab.py); its control socket too.
    netns: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    _sock: socket.socket | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _reader: threading.Thread | None = None
    _responses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def recording(self) -> Path:
        return self.workdir / "heard.wav"

    def _write_config(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        lines = [
            "poll_method epoll",
            f"sip_listen {self.address}:{self.sip_port}",
            f"net_interface {self.address}",
            "audio_player aufile," + str(self.recording),
            "audio_source ausine,440",
            "audio_alert aufile,/dev/null",
            "ausrc_srate 48000",
            "ausrc_channels 2",
            "auplay_srate 8000",
            "auplay_channels 1",
            "rtp_ports 30000-30999",
            "module_path /usr/lib/baresip/modules",
            *(f"module {name}" for name in MODULES[:3]),
            *(["module srtp.so"] if self.media_encryption else []),
            *(f"module_app {name}" for name in MODULES[3:]),
            f"ctrl_tcp_listen {self.address}:{self.ctrl_port}",
            "sip_verify_server no",
        ]
        (self.workdir / "config").write_text("\n".join(lines) + "\n")
        answer = "auto" if self.auto_answer else "manual"
        account = (
            f"<sip:{self.username}@{self.registrar};transport={self.transport}>"
            f";auth_pass={self.password};answermode={answer};regint=60"
            ";audio_codecs=PCMU,PCMA"
            + (f";mediaenc={self.media_encryption}" if self.media_encryption else "")
        )
        (self.workdir / "accounts").write_text(account + "\n")
        (self.workdir / "contacts").write_text("")

    def start(self) -> None:
        self._write_config()
        with (self.workdir / "baresip.log").open("wb") as log:
            prefix = ["ip", "netns", "exec", self.netns] if self.netns else []
            self.process = subprocess.Popen(
                [*prefix, "baresip", "-f", str(self.workdir)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._sock = wait_for(self._connect, 10, f"baresip ctrl_tcp on {self.address}")  # type: ignore[assignment]
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    def _connect(self) -> socket.socket | None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"baresip exited: {(self.workdir / 'baresip.log').read_text()}")
        try:
            if not self.netns:
                return socket.create_connection((self.address, self.ctrl_port), timeout=0.5)
            sock = socket_in(self.netns)
            sock.settimeout(0.5)
            try:
                sock.connect((self.address, self.ctrl_port))
            except OSError:
                sock.close()
                raise
            return sock
        except OSError:
            return None

    def _read_loop(self) -> None:
        assert self._sock is not None
        self._sock.settimeout(None)
        buffer = b""
        while True:
            try:
                chunk = self._sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while True:
                colon = buffer.find(b":")
                if colon < 0:
                    break
                length = int(buffer[:colon])
                if len(buffer) < colon + 1 + length + 1:
                    break
                payload = buffer[colon + 1 : colon + 1 + length]
                buffer = buffer[colon + 2 + length :]
                message = json.loads(payload)
                message["_at"] = time.monotonic()
                with self._lock:
                    if message.get("event"):
                        self.events.append(message)
                    else:
                        self._responses.append(message)

    def send(self, command: str, params: str = "") -> None:
        assert self._sock is not None
        body = json.dumps({"command": command, "params": params, "token": command}).encode()
        self._sock.sendall(str(len(body)).encode() + b":" + body + b",")

    def event_types(self) -> list[str]:
        with self._lock:
            return [str(event.get("type")) for event in self.events]

    def wait_event(self, kind: str, timeout: float = 10, after: int = 0) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            with self._lock:
                for event in self.events[after:]:
                    if event.get("type") == kind:
                        return event
            return None

        return wait_for(find, timeout, f"{self.username}: {kind}")  # type: ignore[return-value]

    def request(self, command: str, params: str = "", timeout: float = 5) -> dict[str, Any]:
        with self._lock:
            seen = len(self._responses)
        self.send(command, params)

        def answer() -> dict[str, Any] | None:
            with self._lock:
                for response in self._responses[seen:]:
                    if response.get("token") == command:
                        return response
            return None

        return wait_for(answer, timeout, f"{self.username}: answer to {command}")  # type: ignore[return-value]

    def registered(self) -> bool:
        # Registration may finish before our control socket connects, so ask.
        data = str(self.request("reginfo").get("data", ""))
        return "OK" in data and self.username in data

    def wait_registered(self, timeout: float = 10) -> None:
        wait_for(self.registered, timeout, f"{self.username} registered", step=0.2)

    def accept(self) -> None:
        self.send("accept")

    def hangup(self) -> None:
        self.send("hangup")

    def stop(self) -> None:
        if self._sock is not None:
            # Shut down before closing: close() alone sends nothing while the
            # reader thread is still in recv(), so baresip would close first and
            # its side would sit in TIME_WAIT, keeping the next softphone on
            # this address from listening on the same control port for a minute.
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                self._sock.close()
        if self.process is not None:
            stop_process(self.process)
