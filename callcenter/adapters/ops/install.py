"""`callcenter service install`: the service user, the units, log rotation, systemd.

The service user is made by ``ensure_service_user`` alone (one small function, so
another install step that makes it too can replace it); the files the controller
writes in the state directory are handed to it by ``hand_state_to``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from callcenter.adapters.ops.units import (
    ASTERISK_UNIT,
    CONTROLLER_UNIT,
    LOGROTATE_NAME,
    InstallPaths,
    render_fail2ban,
    render_logrotate,
    render_units,
)

UNIT_DIR = Path("/etc/systemd/system")
LOGROTATE_DIR = Path("/etc/logrotate.d")
FAIL2BAN_DIR = Path("/etc/fail2ban")
# The controller's own files at the top of the state directory (pbx/ is Asterisk's).
CONTROLLER_FILES = ("callcenter.db", "callcenter.db-wal", "callcenter.db-shm",
                    "records-journal.jsonl", "secrets", "imports")  # fmt: skip

Run = Callable[[list[str]], subprocess.CompletedProcess[str]]


class InstallError(Exception):
    pass


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def ensure_service_user(name: str, home: Path, run: Run = _run) -> bool:
    """Create the system user and group ``name`` unless it exists; True if created."""
    try:
        pwd.getpwnam(name)
        return False
    except KeyError:
        pass
    argv = ["useradd", "--system", "--user-group", "--home-dir", str(home),
            "--no-create-home", "--shell", "/usr/sbin/nologin", name]  # fmt: skip
    result = run(argv)
    if result.returncode != 0:
        raise InstallError(f"useradd {name} failed: {result.stderr.strip()}")
    return True


def hand_state_to(state_dir: Path, name: str) -> None:
    """The state directory and the controller's files in it belong to ``name``."""
    user = pwd.getpwnam(name)
    state_dir.mkdir(parents=True, exist_ok=True)
    os.chown(state_dir, user.pw_uid, user.pw_gid)
    for entry in CONTROLLER_FILES:
        top = state_dir / entry
        if not top.exists():
            continue
        for path in [top, *(top.rglob("*") if top.is_dir() else [])]:
            os.chown(path, user.pw_uid, user.pw_gid, follow_symlinks=False)


def systemd_running() -> bool:
    """True when systemd is this machine's init (not in most containers)."""
    return Path("/run/systemd/system").is_dir()


@dataclass
class InstallReport:
    written: list[Path] = field(default_factory=list)
    user_created: bool = False
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        said = [f"wrote {path}" for path in self.written]
        if self.user_created:
            said.insert(0, "created the system user")
        return said + self.notes


def write_if_changed(path: Path, content: str) -> bool:
    if path.exists() and path.read_text(encoding="utf-8") == content:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(content, encoding="utf-8")
    tmp.chmod(0o644)
    os.replace(tmp, path)
    return True


def install(
    paths: InstallPaths,
    *,
    enable: bool,
    unit_dir: Path = UNIT_DIR,
    logrotate_dir: Path = LOGROTATE_DIR,
    fail2ban_dir: Path = FAIL2BAN_DIR,
    run: Run = _run,
    prepare: Callable[[], None] = lambda: None,
    files_only: bool = False,
) -> InstallReport:
    """The service user, Asterisk ready to start (``prepare``: its root built, the AMI
    secret made, so neither unit has to write outside the state directory), the state
    directory handed to the user, the files, then systemd. ``files_only``: the files
    and nothing else (packaging into a staging directory)."""
    report = InstallReport()
    start = f"systemctl enable --now {ASTERISK_UNIT} {CONTROLLER_UNIT}"
    if not files_only:
        report.user_created = ensure_service_user(paths.user, paths.state_dir, run)
        prepare()
        hand_state_to(paths.state_dir, paths.user)
    files = {unit_dir / name: text for name, text in render_units(paths).items()}
    files[logrotate_dir / LOGROTATE_NAME] = render_logrotate(paths)
    # fail2ban's jail only where fail2ban is installed (Debian's package makes the folder).
    jail = fail2ban_dir.is_dir()
    if jail:
        files.update({fail2ban_dir / name: text for name, text in render_fail2ban(paths).items()})
    else:
        report.notes.append(
            f"fail2ban is not installed ({fail2ban_dir} is missing): no jail for failed SIP "
            "registrations; `apt-get install fail2ban`, then run this again"
        )
    for path, text in files.items():
        write_if_changed(path, text)
        report.written.append(path)
    if files_only:
        report.notes.append(f"files only: on the target `systemctl daemon-reload`, `{start}`")
        return report
    if not systemd_running():
        report.notes.append(
            "systemd is not running here: units written, not loaded; "
            f"on the target run `systemctl daemon-reload` then `{start}`"
        )
        return report
    _systemctl(run, "daemon-reload")
    if jail and shutil.which("fail2ban-client"):
        reloaded = run(["fail2ban-client", "reload"])
        report.notes.append(
            "fail2ban reloaded: jail callcenter-asterisk"
            if reloaded.returncode == 0
            else f"fail2ban not reloaded ({reloaded.stderr.strip() or 'is it running?'})"
        )
    if enable:
        _systemctl(run, "enable", "--now", ASTERISK_UNIT, CONTROLLER_UNIT)
        report.notes.append(f"enabled and started {ASTERISK_UNIT} and {CONTROLLER_UNIT}")
    else:
        report.notes.append(f"start with `{start}`")
    return report


def _systemctl(run: Run, *args: str) -> None:
    systemctl = shutil.which("systemctl") or "systemctl"
    result = run([systemctl, *args])
    if result.returncode != 0:
        raise InstallError(f"systemctl {' '.join(args)} failed: {result.stderr.strip()}")
