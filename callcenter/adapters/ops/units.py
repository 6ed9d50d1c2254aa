"""The service units and the log rotation config, rendered with an install's paths.

Templates: ``deploy/systemd/*.service.in`` and ``deploy/logrotate/callcenter``
(placeholders between double at-signs, filled by ``adapters/pbx/render.fill``).
Everything here is text in, text out; writing the files and calling systemctl is
``adapters/ops/install.py``'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from callcenter.adapters.pbx.render import fill
from callcenter.paths import DEPLOY_DIR, PROJECT_DIR

CONTROLLER_UNIT = "callcenter.service"
ASTERISK_UNIT = "callcenter-asterisk.service"
LOGROTATE_NAME = "callcenter"
# fail2ban (deploy/fail2ban): failures within FINDTIME seconds that get a source banned.
FAIL2BAN_JAIL = "callcenter-asterisk"
FAIL2BAN_MAXRETRY = 5
FAIL2BAN_FINDTIME = 600
FAIL2BAN_BANTIME = 3600

# What the Asterisk unit's start needs, by provider: the chroot provider mounts
# /proc, /dev and the PBX directory into the root (SYS_ADMIN) and chroots
# (SYS_CHROOT); both render the configuration as root into directories owned by
# Asterisk's user (CHOWN, FOWNER, DAC_OVERRIDE); Asterisk drops to its own user
# (SETUID, SETGID) and keeps NET_ADMIN for the TOS bits of its packets.
_ASTERISK_CAPABILITIES = {
    "system": ["CAP_CHOWN", "CAP_FOWNER", "CAP_DAC_OVERRIDE", "CAP_SETUID", "CAP_SETGID",
               "CAP_NET_ADMIN"],
    "chroot": ["CAP_SYS_ADMIN", "CAP_SYS_CHROOT", "CAP_CHOWN", "CAP_FOWNER",
               "CAP_DAC_OVERRIDE", "CAP_SETUID", "CAP_SETGID", "CAP_NET_ADMIN"],
}  # fmt: skip
_HOMES = (Path("/home"), Path("/root"), Path("/run/user"))
# systemd reads whitespace, quotes, backslashes and % (its specifiers) in paths.
_WHOLE_LINE = re.compile(r"@@([A-Z_]+)@@")
_UNSAFE = re.compile(r"[\s\"'\\%$;]")


class UnitError(Exception):
    """The install cannot be described in a unit file; the message says why."""


@dataclass(frozen=True, slots=True)
class InstallPaths:
    """Where this install's parts are, as the units and logrotate must name them."""

    command: tuple[str, ...]  # how to run `callcenter` (the venv's script)
    config_file: Path | None  # None: the default /etc/callcenter/callcenter.toml
    state_dir: Path
    provider: str  # "chroot" or "system": how Asterisk is run
    root: Path  # the Asterisk root (chroot provider)
    web_port: int
    sip_port: int
    user: str = "callcenter"
    project_dir: Path = PROJECT_DIR

    def check(self) -> None:
        if self.provider not in _ASTERISK_CAPABILITIES:
            raise UnitError(f"unknown Asterisk provider {self.provider!r}")
        for path in (*self.command, self.config_file, self.state_dir, self.root):
            if path is None:
                continue
            text = str(path)
            if _UNSAFE.search(text):
                raise UnitError(f"{text!r}: a path in a unit may not hold spaces, quotes or %")
            if not text.startswith("/"):
                raise UnitError(f"{text!r}: units need absolute paths")


def _under_home(paths: list[Path]) -> bool:
    return any(path == home or home in path.parents for path in paths for home in _HOMES)


def _values(paths: InstallPaths) -> dict[str, str]:
    paths.check()
    command = " ".join(paths.command)
    environment = f"Environment=CALLCENTER_CONFIG={paths.config_file}" if paths.config_file else ""
    # An install living under a home directory still needs to read it.
    homes = [Path(paths.command[0]), paths.project_dir, paths.state_dir]
    protect_home = "read-only" if _under_home(homes) else "yes"
    controller_caps = ["CAP_NET_BIND_SERVICE"] if 0 < paths.web_port < 1024 else []
    asterisk_caps = list(_ASTERISK_CAPABILITIES[paths.provider])
    if paths.sip_port < 1024:
        asterisk_caps.append("CAP_NET_BIND_SERVICE")
    return {
        "PROJECT_DIR": str(paths.project_dir),
        "CALLCENTER": command,
        # Outside the units (logrotate's postrotate), the config file is named.
        "CALLCENTER_CLI": command + (f" --config {paths.config_file}" if paths.config_file else ""),
        "ENVIRONMENT": environment,
        "STATE_DIR": str(paths.state_dir),
        "PBX_DIR": str(paths.state_dir / "pbx"),
        "ROOT": str(paths.root),
        "PROVIDER": paths.provider,
        "SERVICE_USER": paths.user,
        "PROTECT_HOME": protect_home,
        "CONTROLLER_CAPABILITIES": " ".join(controller_caps),
        "ASTERISK_CAPABILITIES": " ".join(asterisk_caps),
        "CONTROLLER_UNIT": CONTROLLER_UNIT,
        "ASTERISK_UNIT": ASTERISK_UNIT,
        "MAXRETRY": str(FAIL2BAN_MAXRETRY),
        "FINDTIME": str(FAIL2BAN_FINDTIME),
        "BANTIME": str(FAIL2BAN_BANTIME),
    }


def _render(template: Path, values: dict[str, str]) -> str:
    # A line that is only a placeholder rendering empty (no config file) is left out.
    lines = [
        line
        for line in template.read_text(encoding="utf-8").splitlines()
        if not ((m := _WHOLE_LINE.fullmatch(line)) and values.get(m.group(1)) == "")
    ]
    return fill("\n".join(lines) + "\n", values, template.name)


def render_units(paths: InstallPaths) -> dict[str, str]:
    """The two systemd units, by file name."""
    values = _values(paths)
    folder = DEPLOY_DIR / "systemd"
    return {
        CONTROLLER_UNIT: _render(folder / f"{CONTROLLER_UNIT}.in", values),
        ASTERISK_UNIT: _render(folder / f"{ASTERISK_UNIT}.in", values),
    }


def render_logrotate(paths: InstallPaths) -> str:
    """The logrotate config for Asterisk's logs in the state directory."""
    return _render(DEPLOY_DIR / "logrotate" / LOGROTATE_NAME, _values(paths))


def render_fail2ban(paths: InstallPaths) -> dict[str, str]:
    """The fail2ban filter and jail, by path under fail2ban's folder (/etc/fail2ban)."""
    values = _values(paths)
    folder = DEPLOY_DIR / "fail2ban"
    filter_name = f"filter.d/{FAIL2BAN_JAIL}.conf"
    jail_name = "jail.d/callcenter.conf"
    return {
        filter_name: (folder / filter_name).read_text(encoding="utf-8"),
        jail_name: _render(folder / jail_name, values),
    }
