"""The shipped logrotate config against the real Asterisk: after a rotation Asterisk
writes to fresh messages.log and queue_log files (told to reopen them through
`callcenter pbx cli logger reload`), not into the renamed ones."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from callcenter.adapters.ops.units import InstallPaths, render_logrotate
from callcenter.simulate.procs import wait_for
from tests.e2e.conftest import Pbx

pytestmark = pytest.mark.e2e


def test_rotation_makes_asterisk_reopen_its_logs(pbx: Pbx, tmp_path: Path) -> None:
    if shutil.which("logrotate") is None:
        pytest.skip("logrotate is not installed")
    settings = pbx.settings
    config = tmp_path / "callcenter.toml"
    config.write_text(
        f'state_dir = "{settings.state_dir}"\nsite_dir = "{settings.site_dir}"\n'
        f'[pbx]\nprovider = "{settings.pbx.provider}"\nroot = "{settings.pbx.root}"\n'
    )
    script = Path(sys.executable).parent / "callcenter"
    paths = InstallPaths(
        command=(str(script),) if script.exists() else (sys.executable, "-m", "callcenter.cli"),
        config_file=config,
        state_dir=settings.state_dir,
        provider=pbx.asterisk.provider.name,
        root=settings.pbx.root,
        web_port=0,
        sip_port=settings.sip.port,
    )
    rotate = tmp_path / "callcenter.logrotate"
    rotate.write_text(render_logrotate(paths))
    logs = settings.pbx_dir / "log"
    pbx.cli("logger reload")  # both files exist (queue_log gets a CONFIGRELOAD line)
    wait_for(lambda: (logs / "queue_log").exists(), 5, "queue_log written")
    for name in ("messages.log", "queue_log"):
        for old in logs.glob(f"{name}.*"):
            old.unlink()  # earlier rotations of this session's logs
    before = (logs / "queue_log").read_text()
    rotated_at = int(time.time())

    result = subprocess.run(
        ["logrotate", "-f", "-v", "-s", str(tmp_path / "status"), str(rotate)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert (logs / "queue_log.1").read_text() == before  # renamed whole
    # Reopened: the reload's own line (CONFIGRELOAD) opens a new file, and lines go
    # there, not to the renamed one.
    wait_for(lambda: (logs / "queue_log").exists(), 5, "a new queue_log after the reload")
    fresh = (logs / "queue_log").read_text().splitlines()
    assert fresh and all(int(line.split("|")[0]) >= rotated_at for line in fresh), fresh
    pbx.cli("queue show")
    wait_for(lambda: (logs / "messages.log").exists(), 5, "a new messages.log")
    assert (logs / "queue_log.1").read_text() == before
