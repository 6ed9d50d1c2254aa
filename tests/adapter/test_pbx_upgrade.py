"""`pbx upgrade` / `--rollback` on tiny roots of the test's own (never the machine's
Asterisk root): the check really runs `asterisk -V` inside the root with chroot; the
build and the restart are the test's."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from callcenter.adapters.pbx.provider import ProviderError
from callcenter.adapters.pbx.upgrade import (
    STAMP,
    RootPaths,
    RootUpgrade,
    UpgradeError,
    check_asterisk,
    exchange,
)
from callcenter.cli import main

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="chroot needs root")


def tiny_root(path: Path, version: str, uid: int = 101, works: bool = True) -> Path:
    """/bin/sh and its libraries, an `asterisk` that prints ``version``, a passwd."""
    for binary in ("/bin/sh",):
        target = path / binary.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(binary, target)
        libraries = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True)
        for line in libraries.stdout.splitlines():
            library = next((part for part in line.split() if part.startswith("/")), None)
            if library:
                copy = path / library.lstrip("/")
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(library, copy)
    asterisk = path / "usr/sbin/asterisk"
    asterisk.parent.mkdir(parents=True, exist_ok=True)
    body = f'echo "Asterisk {version}"' if works else 'echo "libfoo.so: not found" >&2; exit 127'
    asterisk.write_text(f"#!/bin/sh\n{body}\n")
    asterisk.chmod(0o755)
    (path / "etc").mkdir(exist_ok=True)
    (path / "etc/passwd").write_text(f"root:x:0:0::/root:/bin/sh\nasterisk:x:{uid}:{uid}::/:\n")
    (path / STAMP).write_text("2026-12-07T00:00:00Z\n")
    return path


class Restarts:
    """Records what root Asterisk would start on; fails when told to."""

    def __init__(self, root: Path, fail_on: str = "") -> None:
        self.root = root
        self.fail_on = fail_on
        self.seen: list[str] = []

    def __call__(self) -> str:
        version = check_asterisk(self.root)
        self.seen.append(version)
        if self.fail_on and self.fail_on in version:
            raise ProviderError(f"asterisk exited during start-up on {version}")
        return f"restarted on {version}"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tiny_root(tmp_path / "asterisk-root", "22.10.1")


def builder(version: str, **kwargs: object):  # type: ignore[no-untyped-def]
    def build(target: Path) -> None:
        tiny_root(target, version, **kwargs)  # type: ignore[arg-type]

    return build


def test_check_runs_asterisk_inside_the_root(root: Path, tmp_path: Path) -> None:
    assert check_asterisk(root) == "Asterisk 22.10.1"
    broken = tiny_root(tmp_path / "broken", "x", works=False)
    with pytest.raises(UpgradeError, match="libfoo"):
        check_asterisk(broken)


def test_upgrade_swaps_the_new_root_in_keeps_the_old_and_restarts_on_the_new(
    root: Path,
) -> None:
    old_inode = root.stat().st_ino
    restarts = Restarts(root)
    upgrade = RootUpgrade(RootPaths(root), build=builder("22.11.0"))

    said = upgrade.upgrade(running=True, restart=restarts)

    assert check_asterisk(root) == "Asterisk 22.11.0"
    previous = RootPaths(root).previous
    assert previous.stat().st_ino == old_inode  # the very directory, renamed
    assert check_asterisk(previous) == "Asterisk 22.10.1"
    assert not RootPaths(root).new.exists()
    assert restarts.seen == ["Asterisk 22.11.0"]
    assert said[-1] == "restarted on Asterisk 22.11.0"

    back = upgrade.rollback(running=True, restart=restarts)
    assert check_asterisk(root) == "Asterisk 22.10.1"
    assert root.stat().st_ino == old_inode
    assert check_asterisk(previous) == "Asterisk 22.11.0"  # rollback again goes forward
    assert restarts.seen[-1] == "Asterisk 22.10.1"
    assert back[0] == "rolled back to Asterisk 22.10.1; the newer root is now " + str(previous)


def test_a_new_root_failing_its_check_is_thrown_away_and_nothing_restarts(root: Path) -> None:
    restarts = Restarts(root)
    upgrade = RootUpgrade(RootPaths(root), build=builder("23.0.0", works=False))
    with pytest.raises(UpgradeError, match="failed"):
        upgrade.upgrade(running=True, restart=restarts)
    assert check_asterisk(root) == "Asterisk 22.10.1"
    assert not RootPaths(root).new.exists() and not RootPaths(root).previous.exists()
    assert restarts.seen == []


def test_asterisk_failing_on_the_new_root_gets_the_old_one_back(root: Path) -> None:
    restarts = Restarts(root, fail_on="23.0.0")
    upgrade = RootUpgrade(RootPaths(root), build=builder("23.0.0"))
    with pytest.raises(UpgradeError, match="swapped back and restarted on the old one"):
        upgrade.upgrade(running=True, restart=restarts)
    assert check_asterisk(root) == "Asterisk 22.10.1"
    assert restarts.seen == ["Asterisk 23.0.0", "Asterisk 22.10.1"]


def test_not_running_means_not_started(root: Path) -> None:
    restarts = Restarts(root)
    said = RootUpgrade(RootPaths(root), build=builder("22.11.0")).upgrade(False, restarts)
    assert restarts.seen == [] and "not running" in said[-1]


def test_asterisks_files_follow_its_user_when_the_new_root_numbers_it_differently(
    root: Path, tmp_path: Path
) -> None:
    pbx = tmp_path / "state/pbx"
    (pbx / "lib").mkdir(parents=True)
    (pbx / "lib/astdb.sqlite3").write_text("")
    (pbx / "etc").mkdir()
    for path in (pbx / "lib", pbx / "lib/astdb.sqlite3"):
        os.chown(path, 101, 101)
    os.chown(pbx / "etc", 0, 101)  # root's, Asterisk's group
    upgrade = RootUpgrade(RootPaths(root), build=builder("22.11.0", uid=107), pbx_dir=pbx)
    upgrade.upgrade(running=False, restart=Restarts(root))
    owners = {p.name: (p.stat().st_uid, p.stat().st_gid) for p in (pbx / "lib", pbx / "etc")}
    assert owners == {"lib": (107, 107), "etc": (0, 107)}
    assert (pbx / "lib/astdb.sqlite3").stat().st_uid == 107
    upgrade.rollback(running=False, restart=Restarts(root))
    assert (pbx / "lib/astdb.sqlite3").stat().st_uid == 101


def test_one_upgrade_at_a_time_and_no_rollback_without_a_previous_root(root: Path) -> None:
    upgrade = RootUpgrade(RootPaths(root), build=builder("22.11.0"))
    with pytest.raises(UpgradeError, match="no previous"):
        upgrade.rollback(running=False, restart=Restarts(root))
    with open(RootPaths(root).lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(UpgradeError, match="another upgrade"):
            upgrade.upgrade(running=False, restart=Restarts(root))
    assert check_asterisk(root) == "Asterisk 22.10.1"


def test_exchange_is_one_step(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    exchange(a, b)
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"
    with pytest.raises(OSError):
        exchange(a, tmp_path / "missing")


def test_cli_rollback_on_a_root_given_by_path(root: Path, tmp_path: Path) -> None:
    """--root names another root than the configured one: swapped, never restarted."""
    RootUpgrade(RootPaths(root), build=builder("22.11.0")).upgrade(False, Restarts(root))
    config = tmp_path / "cc.toml"
    config.write_text(
        f'state_dir = "{tmp_path}/state"\nsite_dir = "{tmp_path}/site"\n'
        f'[pbx]\nprovider = "chroot"\nroot = "{tmp_path}/unused-root"\n'
    )
    result = CliRunner().invoke(
        main, ["--config", str(config), "pbx", "upgrade", "--rollback", "--root", str(root)]
    )
    assert result.exit_code == 0, result.output
    assert "rolled back to Asterisk 22.10.1" in result.output
    assert "not running" in result.output
    assert check_asterisk(root) == "Asterisk 22.10.1"


def test_a_root_with_something_mounted_in_it_is_never_deleted(root: Path, tmp_path: Path) -> None:
    """If /dev were bind-mounted into the old root on the host, deleting that root would
    delete the host's /dev: the upgrade refuses instead (run in a private namespace)."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    tiny_root(RootPaths(root).previous, "22.9.0")
    mounted = RootPaths(root).previous / "dev"
    mounted.mkdir()
    script = (
        "import sys; from pathlib import Path; "
        "from callcenter.adapters.pbx.upgrade import RootPaths, RootUpgrade, UpgradeError; "
        "from tests.adapter.test_pbx_upgrade import builder, Restarts; "
        f"root = Path({str(root)!r}); "
        "up = RootUpgrade(RootPaths(root), build=builder('22.11.0'))\n"
        "try:\n    up.upgrade(False, Restarts(root))\n"
        "except UpgradeError as e:\n"
        "    print(e); print(Path(root, 'usr/sbin/asterisk').read_text()); sys.exit(3)\n"
    )
    inner = (
        f"mount -t tmpfs none {mounted} && echo keep > {mounted}/host-file && "
        f'{sys.executable} -c "$0"; rc=$?; cat {mounted}/host-file; exit $rc'
    )
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", inner, script],
        capture_output=True, text=True, check=False, timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )  # fmt: skip
    assert result.returncode == 3, result.stdout + result.stderr
    assert "has mounts" in result.stdout and "keep" in result.stdout
    assert "Asterisk 22.10.1" in result.stdout  # refused before anything moved
