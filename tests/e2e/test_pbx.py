"""`callcenter pbx up|down|status` through the real command line."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from callcenter.config import load_settings
from tests.e2e.conftest import PORT_BASE

pytestmark = pytest.mark.e2e


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callcenter.cli", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _asterisks_for(conf_dir: Path) -> list[int]:
    """PIDs of Asterisk processes started for this state directory: the system's own
    (its command line names the directory) or one in the Asterisk root, whose private
    mount namespace has this directory bind-mounted (other suites' Asterisks run in the
    same root at the same time, with their own directories)."""
    found = []
    wanted = str(conf_dir).encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            mounts = Path(f"/proc/{entry}/mountinfo").read_bytes()
        except OSError:  # gone meanwhile (a process ending reads as EINVAL), or not ours
            continue
        if (
            cmdline
            and cmdline[0].endswith(b"asterisk")
            and (any(wanted in part for part in cmdline) or wanted + b" " in mounts)
        ):
            found.append(int(entry))
    return found


def test_up_twice_is_fast_and_leaves_one_asterisk_and_down_leaves_nothing(tmp_path: Path) -> None:
    config = tmp_path / "callcenter.toml"
    config.write_text(
        f'state_dir = "{tmp_path / "state"}"\n'
        f'site_dir = "{tmp_path / "site"}"\n'
        f"[ami]\nport = {PORT_BASE + 1038}\n[agi]\nport = {PORT_BASE + 1573}\n"
        f'[sip]\nbind = "127.0.0.1"\nport = {PORT_BASE + 1060}\n'
        f"rtp_start = {PORT_BASE + 8000}\nrtp_end = {PORT_BASE + 8999}\n"
        "[web]\nenabled = false\n"
    )
    settings = load_settings(config)
    before = set(_asterisks_for(settings.pbx_dir))

    started = time.monotonic()
    first = _cli(config, "pbx", "up")
    first_s = time.monotonic() - started
    assert first.returncode == 0, first.stderr
    assert "asterisk started" in first.stdout
    try:
        started = time.monotonic()
        second = _cli(config, "pbx", "up")
        second_s = time.monotonic() - started
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stdout
        ours = set(_asterisks_for(settings.pbx_dir)) - before
        assert len(ours) == 1, ours
        # Mostly the CLI's own start on a loaded machine; restarting Asterisk would add
        # its full boot and the wait for AMI.
        assert second_s < 10.0, f"second up took {second_s:.1f}s (first {first_s:.1f}s)"

        status = _cli(config, "pbx", "status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert "ami: answers" in status.stdout

        # The generated AMI secret is private and not a shipped default.
        secret_file = settings.state_dir / "secrets" / "ami.secret"
        assert oct(secret_file.stat().st_mode & 0o777) == "0o600"
        assert len(secret_file.read_text().strip()) >= 24
    finally:
        down = _cli(config, "pbx", "down")
    assert down.returncode == 0, down.stderr
    assert "stopped" in down.stdout
    assert set(_asterisks_for(settings.pbx_dir)) - before == set()
    mounts = Path("/proc/mounts").read_text()
    assert str(settings.pbx.root) not in mounts
    assert str(settings.pbx_dir) not in mounts
    after = _cli(config, "pbx", "status")
    assert after.returncode == 1
    assert "not running" in after.stdout


def _unit_capabilities(config: Path, tmp_path: Path) -> list[str]:
    """The capability bounding set `service install` writes into Asterisk's unit."""
    units = tmp_path / "units"
    install = _cli(config, "service", "install", "--files-only", "--unit-dir", str(units),
                   "--logrotate-dir", str(tmp_path / "logrotate.d"))  # fmt: skip
    assert install.returncode == 0, install.stderr
    for line in (units / "callcenter-asterisk.service").read_text().splitlines():
        if line.startswith("CapabilityBoundingSet="):
            return line.partition("=")[2].split()
    raise AssertionError("no CapabilityBoundingSet in the Asterisk unit")


def test_pbx_run_starts_asterisk_within_its_units_capabilities(tmp_path: Path) -> None:
    """What systemd does with the unit, short of systemd: `pbx run` under the unit's
    capability bounding set and no_new_privs becomes Asterisk (same PID, recorded),
    answers AMI, runs as its own user, and stops on SIGTERM leaving nothing mounted."""
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is not installed")
    config = tmp_path / "callcenter.toml"
    config.write_text(
        f'state_dir = "{tmp_path / "state"}"\n'
        f'site_dir = "{tmp_path / "site"}"\n'
        # Ports inside this runner's own thousand (others' bases are 1000 apart).
        f"[ami]\nport = {PORT_BASE + 39}\n[agi]\nport = {PORT_BASE + 574}\n"
        f'[sip]\nbind = "127.0.0.1"\nport = {PORT_BASE + 61}\n'
        f"rtp_start = {PORT_BASE + 9000}\nrtp_end = {PORT_BASE + 9499}\n"
        "[web]\nenabled = false\n"
    )
    settings = load_settings(config)
    caps = _unit_capabilities(config, tmp_path)
    bounding = ",".join(["-all", *(f"+{c.removeprefix('CAP_').lower()}" for c in caps)])
    argv = [sys.executable, "-m", "callcenter.cli", "--config", str(config), "pbx", "run"]
    process = subprocess.Popen(
        ["setpriv", "--no-new-privs", "--bounding-set", bounding, "--inh-caps", "-all", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        status = _cli(config, "pbx", "status")
        while status.returncode != 0 and time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.5)
            status = _cli(config, "pbx", "status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert f"running (pid {process.pid})" in status.stdout  # pbx run became Asterisk
        uid = next(
            line.split()[1]
            for line in Path(f"/proc/{process.pid}/status").read_text().splitlines()
            if line.startswith("Uid:")
        )
        assert uid != "0", "Asterisk dropped to its own user"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # what systemd sends on stop
    assert process.wait(timeout=30) is not None
    assert _cli(config, "pbx", "status").returncode == 1
    assert str(settings.pbx_dir) not in Path("/proc/mounts").read_text()
