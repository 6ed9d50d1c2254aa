"""Where Asterisk comes from: the system's own, or a cached Debian unstable root.

The chroot provider runs Asterisk in a private mount namespace
(``unshare --mount``): ``/proc``, ``/dev`` and the PBX state directory are
mounted into the root only inside that namespace, so they disappear with the
Asterisk process and nothing is left mounted on the host, even after a crash.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
from pathlib import Path
from typing import IO, Protocol

from callcenter.adapters.ops.modes import ASTERISK_UMASK
from callcenter.adapters.pbx.render import PbxLayout
from callcenter.config import PbxSettings
from callcenter.paths import DEPLOY_DIR

INNER_DIR = "/srv/callcenter"
SYSTEM_ASTERISK = "/usr/sbin/asterisk"


class ProviderError(Exception):
    pass


class AsteriskProvider(Protocol):
    name: str

    def prepare(self) -> None: ...

    def layout(self, host_dir: Path) -> PbxLayout: ...

    def start(self, layout: PbxLayout, output: IO[bytes]) -> subprocess.Popen[bytes]: ...

    def command(self, layout: PbxLayout) -> list[str]:
        """The command that runs Asterisk in the foreground (its PID is Asterisk's)."""
        ...

    def cli_argv(self, layout: PbxLayout, pid: int, command: str) -> list[str]: ...

    def sounds_folder(self, language: str) -> Path:
        """Where, on this host, Asterisk's sounds for ``language`` are (may not exist)."""
        ...


def _asterisk_argv(conf: str) -> list[str]:
    # -f: stay in the foreground (we own the process); -n: no colours in logs.
    return ["/usr/sbin/asterisk", "-f", "-n", "-C", conf]


class ChrootProvider:
    name = "chroot"

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def ready(self) -> bool:
        return (self.root / ".callcenter-root-ok").exists()

    def prepare(self) -> None:
        if self.ready:
            return
        script = DEPLOY_DIR / "asterisk-root.sh"
        result = subprocess.run(["bash", str(script), str(self.root)], check=False)
        if result.returncode != 0 or not self.ready:
            raise ProviderError(f"building the Asterisk root at {self.root} failed")

    def _user(self) -> tuple[int, int]:
        for line in (self.root / "etc/passwd").read_text().splitlines():
            fields = line.split(":")
            if fields[0] == "asterisk":
                return int(fields[2]), int(fields[3])
        raise ProviderError(f"no asterisk user in {self.root}/etc/passwd")

    def layout(self, host_dir: Path) -> PbxLayout:
        mods = glob.glob(str(self.root / "usr/lib/*/asterisk/modules"))
        if not mods:
            raise ProviderError(f"no Asterisk modules under {self.root}/usr/lib")
        uid, gid = self._user()
        return PbxLayout(
            host_dir=host_dir,
            inner_dir=INNER_DIR,
            mod_dir="/" + str(Path(mods[0]).relative_to(self.root)),
            data_dir="/usr/share/asterisk",
            run_user="asterisk",
            uid=uid,
            gid=gid,
        )

    def command(self, layout: PbxLayout) -> list[str]:
        (self.root / INNER_DIR.lstrip("/")).mkdir(parents=True, exist_ok=True)
        # Each step execs the next, so the PID we get is Asterisk's own.
        script = (
            "set -e; root=$1; pbx=$2; shift 2; "
            'mount --bind /dev "$root/dev"; '
            'mount -t proc proc "$root/proc"; '
            f'mount --bind "$pbx" "$root{INNER_DIR}"; '
            'mkdir -p "$root/usr/share/asterisk/sounds/custom"; '
            'mount --bind "$pbx/sounds" "$root/usr/share/asterisk/sounds/custom"; '
            'exec chroot "$root" "$@"'
        )
        return [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            script,
            "sh",
            str(self.root),
            str(layout.host_dir),
            *_asterisk_argv(f"{INNER_DIR}/etc/asterisk.conf"),
        ]

    def start(self, layout: PbxLayout, output: IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            self.command(layout),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            start_new_session=True,
            umask=ASTERISK_UMASK,  # adapters/ops/modes.py: nothing it writes is world-readable
        )

    def cli_argv(self, layout: PbxLayout, pid: int, command: str) -> list[str]:
        return [
            "nsenter",
            "-t",
            str(pid),
            "-m",
            "chroot",
            str(self.root),
            "/usr/sbin/asterisk",
            "-C",
            f"{INNER_DIR}/etc/asterisk.conf",
            "-rx",
            command,
        ]

    def sounds_folder(self, language: str) -> Path:
        return path_in_root(self.root, f"/usr/share/asterisk/sounds/{language}")


def path_in_root(root: Path, path: str, hops: int = 16) -> Path:
    """``path`` as Asterisk sees it inside ``root``: a link's absolute target (Debian's
    sounds/en -> /etc/alternatives/...) is inside the root, not on the host."""
    current = root
    parts = list(Path(path).parts[1:])
    while parts:
        part = parts.pop(0)
        if part == "..":
            current = current.parent if current != root else root
            continue
        candidate = current / part
        if candidate.is_symlink() and hops > 0:
            hops -= 1
            target = Path(os.readlink(candidate))
            if target.is_absolute():
                current, parts = root, [*target.parts[1:], *parts]
            else:
                parts = [*target.parts, *parts]
            continue
        current = candidate
    return current


class SystemProvider:
    """An Asterisk installed on the host by its package manager."""

    name = "system"

    def prepare(self) -> None:
        if not Path(SYSTEM_ASTERISK).exists():
            raise ProviderError(f"no system Asterisk at {SYSTEM_ASTERISK}")

    @staticmethod
    def _directories() -> dict[str, str]:
        found = {"astmoddir": "", "astdatadir": "/usr/share/asterisk"}
        conf = Path("/etc/asterisk/asterisk.conf")
        if conf.exists():
            for line in conf.read_text(errors="replace").splitlines():
                key, sep, value = line.partition("=>")
                if sep and key.strip() in found:
                    found[key.strip()] = value.strip()
        if not found["astmoddir"]:
            mods = glob.glob("/usr/lib/*/asterisk/modules") + glob.glob("/usr/lib/asterisk/modules")
            found["astmoddir"] = mods[0] if mods else "/usr/lib/asterisk/modules"
        return found

    def layout(self, host_dir: Path) -> PbxLayout:
        try:
            user = pwd.getpwnam("asterisk")
        except KeyError:
            raise ProviderError("the system has no asterisk user") from None
        dirs = self._directories()
        return PbxLayout(
            host_dir=host_dir,
            inner_dir=str(host_dir),
            mod_dir=dirs["astmoddir"],
            data_dir=dirs["astdatadir"],
            run_user="asterisk",
            uid=user.pw_uid,
            gid=user.pw_gid,
        )

    def command(self, layout: PbxLayout) -> list[str]:
        return _asterisk_argv(f"{layout.host_dir}/etc/asterisk.conf")

    def start(self, layout: PbxLayout, output: IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            self.command(layout),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            start_new_session=True,
            umask=ASTERISK_UMASK,  # adapters/ops/modes.py: nothing it writes is world-readable
        )

    def cli_argv(self, layout: PbxLayout, pid: int, command: str) -> list[str]:
        return [SYSTEM_ASTERISK, "-C", f"{layout.host_dir}/etc/asterisk.conf", "-rx", command]

    def sounds_folder(self, language: str) -> Path:
        return Path(self._directories()["astdatadir"]) / "sounds" / language


def choose_provider(settings: PbxSettings) -> AsteriskProvider:
    if settings.provider == "system":
        return SystemProvider()
    if settings.provider == "chroot":
        return ChrootProvider(settings.root)
    if Path(SYSTEM_ASTERISK).exists() and shutil.which("asterisk"):
        return SystemProvider()
    return ChrootProvider(settings.root)
