"""`callcenter run` as a process of its own (so a kill -9 is real), for tests and benches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from callcenter.config import Settings


def controller_process(
    settings: Settings,
    workdir: Path,
    log_name: str = "controller.log",
    prefix: Sequence[str] = (),
) -> subprocess.Popen[bytes]:
    """`callcenter run` with ``settings`` (passed as CALLCENTER_* variables), the console
    off, its output in ``workdir/log_name``; ``prefix``: inside a network namespace
    (``ip netns exec NAME``: a kill of the process is then a kill of ip's exec'd child,
    the same PID)."""
    env = dict(os.environ)
    for key, value in settings.model_dump(mode="json").items():
        if value is not None:
            text = json.dumps(value) if isinstance(value, dict | list) else str(value)
            env[f"CALLCENTER_{key.upper()}"] = text
    env["CALLCENTER_WEB"] = json.dumps({"enabled": False})
    config = workdir / "controller.toml"
    config.write_text("")
    log = (workdir / log_name).open("wb")
    command = [*prefix, sys.executable, "-m", "callcenter.cli", "--config", str(config), "run"]
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
