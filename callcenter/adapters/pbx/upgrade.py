"""`callcenter pbx upgrade [--rollback]`: a new Asterisk root, swapped in whole.

The new root is built beside the current one (``ROOT.new``), checked
(``asterisk -V`` run inside it), then exchanged with the current one in one
``renameat2(RENAME_EXCHANGE)``: at no moment is there no root, or half of one.
The root it replaced stays as ``ROOT.previous`` for ``--rollback``, which
exchanges the two again. A running Asterisk keeps the root it chrooted into
(its directory, whatever its name now) until it is restarted on the new one,
which happens only once the check passed; if the new one then fails to start,
the old root is swapped back and started again.

Every path is a parameter: the root a machine's Asterisk uses is never touched
by the tests, which run the swap on a tiny root of their own.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from callcenter.adapters.pbx.provider import ProviderError
from callcenter.paths import DEPLOY_DIR

STAMP = ".callcenter-root-ok"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100

Build = Callable[[Path], None]
Check = Callable[[Path], str]
Restart = Callable[[], str]


class UpgradeError(Exception):
    """The upgrade did not happen (or was undone); the message says why."""


@dataclass(frozen=True, slots=True)
class RootPaths:
    root: Path

    @property
    def new(self) -> Path:
        return self.root.with_name(self.root.name + ".new")

    @property
    def previous(self) -> Path:
        return self.root.with_name(self.root.name + ".previous")

    @property
    def lock(self) -> Path:
        return self.root.with_name(self.root.name + ".lock")


def build_with_debootstrap(target: Path) -> None:
    """A fresh root with the current packages (deploy/asterisk-root.sh, as at install)."""
    result = subprocess.run(
        ["bash", str(DEPLOY_DIR / "asterisk-root.sh"), str(target)], check=False
    )
    if result.returncode != 0 or not (target / STAMP).exists():
        raise UpgradeError(f"building the new Asterisk root at {target} failed")


def check_asterisk(root: Path) -> str:
    """``asterisk -V`` inside ``root``: its version line, or UpgradeError."""
    try:
        result = subprocess.run(
            ["chroot", str(root), "/usr/sbin/asterisk", "-V"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UpgradeError(f"asterisk -V in {root} did not run: {exc}") from None
    version = result.stdout.strip()
    if result.returncode != 0 or not version.startswith("Asterisk "):
        detail = (result.stderr or result.stdout).strip()[:300]
        raise UpgradeError(f"asterisk -V in {root} failed ({result.returncode}): {detail}")
    return version


def asterisk_ids(root: Path) -> tuple[int, int] | None:
    """The uid and gid of the ``asterisk`` user in ``root``'s /etc/passwd, if any."""
    try:
        lines = (root / "etc/passwd").read_text().splitlines()
    except FileNotFoundError:
        return None
    for line in lines:
        fields = line.split(":")
        if fields[0] == "asterisk" and len(fields) > 3:
            return int(fields[2]), int(fields[3])
    return None


def exchange(a: Path, b: Path) -> None:
    """Swap two directories atomically (Linux renameat2 RENAME_EXCHANGE)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    renameat2 = libc.renameat2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]  # fmt: skip
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"exchanging {a} and {b}: {os.strerror(code)}")


def mounts_under(path: Path) -> list[str]:
    """Mount points at or under ``path`` in this mount namespace."""
    prefix = os.path.realpath(path)
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == prefix or point.startswith(prefix + "/"):
            found.append(point)
    return found


def _refuse_mounts(path: Path) -> None:
    mounted = mounts_under(path) if path.exists() else []
    if mounted:
        raise UpgradeError(f"{path} has mounts ({', '.join(mounted)}): not removing it")


def _remove_root(path: Path) -> None:
    """Delete a root, never through a mount (a bind-mounted /dev would go with it)."""
    if not path.exists():
        return
    _refuse_mounts(path)
    shutil.rmtree(path)


@contextlib.contextmanager
def _locked(paths: RootPaths) -> Iterator[None]:
    paths.lock.parent.mkdir(parents=True, exist_ok=True)
    with open(paths.lock, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise UpgradeError(f"another upgrade of {paths.root} is under way") from None
            raise
        yield


def reown(tree: Path, old: tuple[int, int], new: tuple[int, int]) -> int:
    """Files Asterisk's old user owned in ``tree`` go to its new user (a rebuilt root
    may number the user differently); how many were changed."""
    if old == new or not tree.exists():
        return 0
    changed = 0
    for path in [tree, *tree.rglob("*")]:
        info = path.lstat()
        uid = new[0] if info.st_uid == old[0] else -1
        gid = new[1] if info.st_gid == old[1] else -1
        if uid != -1 or gid != -1:
            os.chown(path, uid, gid, follow_symlinks=False)
            changed += 1
    return changed


@dataclass
class RootUpgrade:
    """Build, check, swap, restart: each step a parameter so tests can run it small."""

    paths: RootPaths
    build: Build = build_with_debootstrap
    check: Check = check_asterisk
    pbx_dir: Path | None = None  # Asterisk's files to re-own if its uid changes

    def upgrade(self, running: bool, restart: Restart) -> list[str]:
        with _locked(self.paths):
            if not (self.paths.root / STAMP).exists():
                raise UpgradeError(f"no Asterisk root at {self.paths.root} to upgrade")
            current = self.check(self.paths.root)
            _refuse_mounts(self.paths.previous)  # before anything moves: it is removed later
            new = self.paths.new
            _remove_root(new)
            said = [f"current: {current}"]
            try:
                self.build(new)
                version = self.check(new)
            except Exception:
                _remove_root(new)
                raise
            said.append(f"new root checked: {version}")
            self._swap_in(new)
            said.append(f"swapped in at {self.paths.root}; the old one is {self.paths.previous}")
            said += self._restart(running, restart, undo=self._swap_back)
            return said

    def rollback(self, running: bool, restart: Restart) -> list[str]:
        with _locked(self.paths):
            previous = self.paths.previous
            if not (previous / STAMP).exists():
                raise UpgradeError(f"no previous Asterisk root at {previous} to go back to")
            version = self.check(previous)
            self._swap_back()
            said = [f"rolled back to {version}; the newer root is now {previous}"]
            said += self._restart(running, restart, undo=self._swap_back)
            return said

    def _swap_in(self, new: Path) -> None:
        """ROOT <- new, and the old root becomes ROOT.previous (one before it is gone)."""
        old_ids = asterisk_ids(self.paths.root)
        exchange(new, self.paths.root)
        _remove_root(self.paths.previous)
        os.rename(new, self.paths.previous)
        self._reown(old_ids)

    def _swap_back(self) -> None:
        old_ids = asterisk_ids(self.paths.root)
        exchange(self.paths.previous, self.paths.root)
        self._reown(old_ids)

    def _reown(self, old_ids: tuple[int, int] | None) -> None:
        new_ids = asterisk_ids(self.paths.root)
        if self.pbx_dir is not None and old_ids and new_ids:
            reown(self.pbx_dir, old_ids, new_ids)

    @staticmethod
    def _restart(running: bool, restart: Restart, undo: Callable[[], None]) -> list[str]:
        if not running:
            return ["asterisk is not running: it starts on the new root next time"]
        try:
            return [restart()]
        except (ProviderError, UpgradeError, OSError) as exc:
            undo()
            try:
                again = restart()
            except (ProviderError, UpgradeError, OSError) as second:
                raise UpgradeError(
                    f"asterisk failed on the new root ({exc}); swapped back, but it did "
                    f"not start on the old one either: {second}"
                ) from None
            raise UpgradeError(
                f"asterisk failed on the new root ({exc}); swapped back and restarted on "
                f"the old one: {again}"
            ) from None
