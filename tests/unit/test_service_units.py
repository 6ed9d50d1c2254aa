"""The systemd units and the logrotate config, rendered with an install's paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter.adapters.ops.units import (
    ASTERISK_UNIT,
    CONTROLLER_UNIT,
    InstallPaths,
    UnitError,
    render_logrotate,
    render_units,
)


def paths(**changes: object) -> InstallPaths:
    values: dict[str, object] = {
        "command": ("/opt/callcenter/.venv/bin/callcenter",),
        "config_file": Path("/etc/callcenter/site.toml"),
        "state_dir": Path("/srv/cc-state"),
        "provider": "chroot",
        "root": Path("/var/cache/callcenter/asterisk-root"),
        "web_port": 8080,
        "sip_port": 5060,
        "project_dir": Path("/opt/callcenter"),
    }
    values.update(changes)
    return InstallPaths(**values)  # type: ignore[arg-type]


def directives(text: str, section: str) -> dict[str, list[str]]:
    """Key -> every value given to it in ``[section]``."""
    found: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        if line.startswith("["):
            current = line.strip("[]")
        elif "=" in line and not line.startswith("#") and current == section:
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def test_controller_runs_as_the_service_user_restarts_and_is_confined() -> None:
    unit = directives(render_units(paths())[CONTROLLER_UNIT], "Service")
    assert unit["User"] == ["callcenter"] and unit["Group"] == ["callcenter"]
    assert unit["ExecStart"] == ["/opt/callcenter/.venv/bin/callcenter run"]
    assert unit["Environment"] == ["CALLCENTER_CONFIG=/etc/callcenter/site.toml"]
    assert unit["Restart"] == ["on-failure"]
    assert unit["ProtectSystem"] == ["strict"]
    assert unit["ReadWritePaths"] == ["/srv/cc-state"]
    assert unit["ProtectHome"] == ["yes"]
    assert unit["NoNewPrivileges"] == ["yes"] and unit["PrivateTmp"] == ["yes"]
    # No capability at all for a console on a high port.
    assert unit["CapabilityBoundingSet"] == [""] and unit["AmbientCapabilities"] == [""]


def test_console_on_a_low_port_gets_only_the_bind_capability() -> None:
    unit = directives(render_units(paths(web_port=443))[CONTROLLER_UNIT], "Service")
    assert unit["CapabilityBoundingSet"] == ["CAP_NET_BIND_SERVICE"]
    assert unit["AmbientCapabilities"] == ["CAP_NET_BIND_SERVICE"]


def test_asterisk_unit_runs_pbx_run_with_the_capabilities_its_start_needs() -> None:
    chroot = directives(render_units(paths())[ASTERISK_UNIT], "Service")
    assert chroot["ExecStart"] == ["/opt/callcenter/.venv/bin/callcenter pbx run"]
    assert "User" not in chroot  # root to mount and chroot; Asterisk drops to `asterisk`
    assert chroot["Restart"] == ["on-failure"]
    caps = set(chroot["CapabilityBoundingSet"][0].split())
    assert {"CAP_SYS_ADMIN", "CAP_SYS_CHROOT", "CAP_SETUID", "CAP_SETGID"} <= caps
    assert "CAP_NET_BIND_SERVICE" not in caps and "CAP_SYS_PTRACE" not in caps
    assert chroot["ReadWritePaths"] == ["/srv/cc-state", "-/var/cache/callcenter/asterisk-root"]
    assert chroot["RestrictNamespaces"] == ["mnt"]  # unshare --mount, nothing else
    system = directives(render_units(paths(provider="system"))[ASTERISK_UNIT], "Service")
    system_caps = set(system["CapabilityBoundingSet"][0].split())
    assert "CAP_SYS_ADMIN" not in system_caps and "CAP_SYS_CHROOT" not in system_caps
    low = directives(render_units(paths(sip_port=506))[ASTERISK_UNIT], "Service")
    assert "CAP_NET_BIND_SERVICE" in low["CapabilityBoundingSet"][0].split()


def test_units_order_asterisk_before_the_controller_and_never_give_up() -> None:
    units = render_units(paths())
    for text in units.values():
        assert directives(text, "Unit")["StartLimitIntervalSec"] == ["0"]
    assert directives(units[ASTERISK_UNIT], "Unit")["Before"] == [CONTROLLER_UNIT]
    controller = directives(units[CONTROLLER_UNIT], "Unit")
    assert ASTERISK_UNIT in controller["After"][0].split()
    assert ASTERISK_UNIT in controller["Wants"][0].split()


def test_default_config_file_leaves_no_environment_line() -> None:
    for text in render_units(paths(config_file=None)).values():
        assert "Environment" not in directives(text, "Service")
        assert "@@" not in text


def test_an_install_under_a_home_directory_keeps_it_readable() -> None:
    unit = render_units(paths(command=("/root/cc/.venv/bin/callcenter",)))[CONTROLLER_UNIT]
    assert directives(unit, "Service")["ProtectHome"] == ["read-only"]


@pytest.mark.parametrize(
    "change",
    [
        {"state_dir": Path("/srv/cc state")},
        {"config_file": Path("/etc/cc/%h.toml")},
        {"command": ("callcenter",)},
        {"provider": "docker"},
    ],
)
def test_paths_a_unit_cannot_hold_are_refused(change: dict[str, object]) -> None:
    with pytest.raises(UnitError):
        render_units(paths(**change))


def test_logrotate_names_the_state_dirs_logs_and_reopens_them_through_the_cli() -> None:
    text = render_logrotate(paths())
    logs = "/srv/cc-state/pbx/log"
    assert f"{logs}/messages.log {logs}/queue_log {logs}/security.log {{" in text
    assert "/srv/cc-state/pbx/log/cel-custom/events.json {" in text
    assert (
        "/opt/callcenter/.venv/bin/callcenter --config /etc/callcenter/site.toml pbx cli "
        "logger reload"
    ) in text
    # The controller reads rotated channel logs back by number: never compressed.
    cel = text.split("/srv/cc-state/pbx/log/cel-custom/events.json {", 1)[1].split("}")[0]
    assert "nocompress" in cel and "dateext" not in cel
    assert "@@" not in text
