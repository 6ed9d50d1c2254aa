"""`callcenter service install` into scratch directories: the files it writes pass
`systemd-analyze verify` and `logrotate`, and the service user is made only once."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from callcenter.adapters.ops import install as install_module
from callcenter.adapters.ops.install import InstallError, ensure_service_user, install
from callcenter.adapters.ops.units import ASTERISK_UNIT, CONTROLLER_UNIT, InstallPaths
from callcenter.adapters.pbx.channel_log import ChannelLogFile

CALLCENTER = Path(sys.executable).parent / "callcenter"


class Recorder:
    def __init__(self, returncode: int = 0) -> None:
        self.calls: list[list[str]] = []
        self.returncode = returncode

    def __call__(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(argv)
        return subprocess.CompletedProcess(argv, self.returncode, "", "no such thing")


def install_paths(tmp_path: Path, config: Path | None = None) -> InstallPaths:
    assert CALLCENTER.exists(), "the venv's callcenter script"
    return InstallPaths(
        command=(str(CALLCENTER),),
        config_file=config,
        state_dir=tmp_path / "state",
        provider="chroot",
        root=tmp_path / "root",
        web_port=8080,
        sip_port=5060,
        user="root",  # a user every machine has: the install's own steps run for real
    )


def test_install_writes_units_that_systemd_verifies(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    run = Recorder()
    prepared: list[bool] = []
    paths = install_paths(tmp_path)
    (paths.state_dir / "secrets").mkdir(parents=True)
    (paths.state_dir / "secrets" / "ami.secret").write_text("x\n")
    report = install(
        paths,
        enable=True,
        unit_dir=tmp_path / "units",
        logrotate_dir=tmp_path / "logrotate.d",
        fail2ban_dir=tmp_path / "no-fail2ban",
        run=run,
        prepare=lambda: prepared.append(True),
    )
    assert prepared == [True]  # Asterisk made ready before the units can start
    # The user exists (no useradd); systemctl only where systemd runs.
    assert len(run.calls) == (2 if install_module.systemd_running() else 0)
    units = [tmp_path / "units" / CONTROLLER_UNIT, tmp_path / "units" / ASTERISK_UNIT]
    assert set(report.written) == {*units, tmp_path / "logrotate.d" / "callcenter"}
    # verify works on unit files without systemd as PID 1; it warns on stderr (unknown
    # keys, bad values) with exit status 0, so both are checked.
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *map(str, units)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr
    if install_module.systemd_running():
        assert run.calls[-2][-1] == "daemon-reload"
        assert run.calls[-1][-3:] == ["--now", ASTERISK_UNIT, CONTROLLER_UNIT]
    else:
        assert run.calls == []
        assert any("systemd is not running" in note for note in report.notes)


def test_systemd_analyze_catches_a_broken_unit(tmp_path: Path) -> None:
    """The check above would see a mistake: a bad value in the same unit is reported."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    install(install_paths(tmp_path), enable=False, unit_dir=tmp_path, run=Recorder(),
            logrotate_dir=tmp_path / "lr", fail2ban_dir=tmp_path / "f2b",
            files_only=True)  # fmt: skip
    unit = tmp_path / CONTROLLER_UNIT
    unit.write_text(unit.read_text().replace("Restart=on-failure", "Restart=sometimes"))
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "sometimes" in result.stderr


def test_logrotate_rotates_asterisks_logs_and_the_channel_log_stays_readable(
    tmp_path: Path,
) -> None:
    if shutil.which("logrotate") is None:
        pytest.skip("logrotate is not installed")
    paths = install_paths(tmp_path)
    install(paths, enable=False, unit_dir=tmp_path / "units", run=Recorder(),
            logrotate_dir=tmp_path / "logrotate.d", fail2ban_dir=tmp_path / "f2b",
            files_only=True)  # fmt: skip
    logs = paths.state_dir / "pbx" / "log"
    (logs / "cel-custom").mkdir(parents=True)
    (logs / "messages.log").write_text("[2026-12-07 06:00:00] NOTICE hello\n")
    (logs / "queue_log").write_text("1765087200|123.4|support|NONE|ENTERQUEUE||+1|1\n")
    event = {"eventtype": "CHAN_START", "eventtime": "100.5", "uniqueid": "1.1",
             "linkedid": "1.1", "channame": "PJSIP/x-1"}  # fmt: skip
    (logs / "cel-custom" / "events.json").write_text(json.dumps(event) + "\n")
    config = tmp_path / "logrotate.d" / "callcenter"
    status = tmp_path / "logrotate.status"
    dry = subprocess.run(
        ["logrotate", "-d", "-s", str(status), str(config)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    assert "error" not in (dry.stdout + dry.stderr).lower(), dry.stdout + dry.stderr
    forced = subprocess.run(
        ["logrotate", "-f", "-s", str(status), str(config)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert forced.returncode == 0, forced.stderr
    assert (logs / "messages.log.1").read_text().endswith("hello\n")
    assert (logs / "queue_log.1").exists() and not (logs / "queue_log").exists()
    assert (logs / "cel-custom" / "events.json.1").exists()
    # Recovery still finds the event in the rotated copy (read back by number).
    assert [e.unique_id for e in ChannelLogFile(logs).since(100.0)] == ["1.1"]


def test_files_only_touches_nothing_else(tmp_path: Path) -> None:
    run = Recorder()
    (tmp_path / "f2b").mkdir()  # fail2ban is installed
    report = install(install_paths(tmp_path), enable=True, unit_dir=tmp_path / "u",
                     logrotate_dir=tmp_path / "l", fail2ban_dir=tmp_path / "f2b", run=run,
                     prepare=lambda: pytest.fail("prepared"), files_only=True)  # fmt: skip
    assert run.calls == [] and not (tmp_path / "state").exists()
    assert len(report.written) == 5


def test_the_fail2ban_jail_reads_the_security_log_when_fail2ban_is_installed(
    tmp_path: Path,
) -> None:
    paths = install_paths(tmp_path)
    missing = install(paths, enable=False, unit_dir=tmp_path / "u", logrotate_dir=tmp_path / "l",
                      fail2ban_dir=tmp_path / "f2b", run=Recorder(), files_only=True)  # fmt: skip
    assert not (tmp_path / "f2b").exists()
    assert any("apt-get install fail2ban" in note for note in missing.notes)
    (tmp_path / "f2b").mkdir()
    install(paths, enable=False, unit_dir=tmp_path / "u", logrotate_dir=tmp_path / "l",
            fail2ban_dir=tmp_path / "f2b", run=Recorder(), files_only=True)  # fmt: skip
    jail = (tmp_path / "f2b/jail.d/callcenter.conf").read_text()
    assert f"logpath = {paths.state_dir}/pbx/log/security.log" in jail
    assert "[callcenter-asterisk]" in jail and "filter = callcenter-asterisk" in jail
    assert "failregex" in (tmp_path / "f2b/filter.d/callcenter-asterisk.conf").read_text()


def test_service_user_is_made_once_as_a_system_user(tmp_path: Path) -> None:
    run = Recorder()
    assert ensure_service_user("root", tmp_path, run) is False  # exists: nothing run
    assert run.calls == []
    assert ensure_service_user("cc-no-such-user-x", tmp_path / "home", run) is True
    argv = run.calls[0]
    assert argv[0] == "useradd" and argv[-1] == "cc-no-such-user-x"
    assert "--system" in argv and "--user-group" in argv
    assert argv[argv.index("--shell") + 1] == "/usr/sbin/nologin"
    with pytest.raises(InstallError, match="no such thing"):
        ensure_service_user("cc-no-such-user-x", tmp_path, Recorder(returncode=9))
