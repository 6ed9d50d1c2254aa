"""What the call center creates, by owner and mode: nothing world-readable.

Run as root (as `pbx up` and `service install` are), with the state directory
handed to a controller user of its own (uid/gid 4242 here) and Asterisk's user
another (4343): the configuration is root's and readable by Asterisk's group,
what the controller publishes is its own, what Asterisk writes for the controller
(recordings, voicemail, logs) lands in the controller's group.
"""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text

from callcenter.adapters.db.engine import make_engine
from callcenter.adapters.db.migrate import upgrade
from callcenter.adapters.ops.modes import ASTERISK_UMASK, CONTROLLER_UMASK, make_state_dir
from callcenter.adapters.pbx.render import Renderer
from callcenter.adapters.pbx.secrets import ensure_secret
from callcenter.config import Settings
from callcenter.core.model import SipAccount
from callcenter.core.sip_auth import sip_ha1
from tests.unit.test_render import layout_for

CONTROLLER = 4242
ASTERISK = 4343

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="owners can only be set as root")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def state(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    make_state_dir(state)
    os.chown(state, CONTROLLER, CONTROLLER)  # `service install` hands it over
    return state


def test_the_state_directory_secrets_and_database(state: Path) -> None:
    assert mode(state) == 0o711
    ensure_secret(state, "ami")
    assert mode(state / "secrets") == 0o700
    assert mode(state / "secrets" / "ami.secret") == 0o600
    url = f"sqlite:///{state / 'callcenter.db'}"
    old = os.umask(0o022)  # even with a lax umask
    try:
        upgrade(url)
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE probe (x INTEGER)"))
            connection.execute(text("INSERT INTO probe VALUES (1)"))
        with engine.connect():  # WAL files exist while a connection is open
            for suffix in ("", "-wal", "-shm"):
                assert mode(state / f"callcenter.db{suffix}") == 0o600, suffix
        engine.dispose()
    finally:
        os.umask(old)


def test_a_database_left_world_readable_is_tightened(state: Path) -> None:
    database = state / "callcenter.db"
    database.touch()
    database.chmod(0o644)
    make_engine(f"sqlite:///{database}").dispose()
    assert mode(database) == 0o600


def test_the_pbx_tree_by_owner_and_mode(state: Path, tmp_path: Path) -> None:
    settings = Settings(state_dir=state, site_dir=tmp_path / "site")
    layout = replace(layout_for(tmp_path), uid=ASTERISK, gid=ASTERISK)
    old = os.umask(CONTROLLER_UMASK)
    try:
        Renderer(settings, layout).render("s", [SipAccount("ann", sip_ha1("ann", "pw"), "A", "1")])
    finally:
        os.umask(old)
    pbx = layout.host_dir
    expected = {
        "": (0, 0, 0o711),
        "etc": (0, ASTERISK, 0o750),
        "etc/dialplan": (0, ASTERISK, 0o750),
        "etc/generated": (CONTROLLER, ASTERISK, 0o2750),
        "sounds": (CONTROLLER, ASTERISK, 0o2750),
        "lib": (ASTERISK, ASTERISK, 0o750),
        "spool/recordings": (ASTERISK, CONTROLLER, 0o2770),
        "log": (ASTERISK, CONTROLLER, 0o2750),
        "log/cel-custom": (ASTERISK, CONTROLLER, 0o2750),
    }
    for name, (uid, gid, wanted) in expected.items():
        info = (pbx / name).stat()
        assert (info.st_uid, info.st_gid, mode(pbx / name)) == (uid, gid, wanted), name
    manager = (pbx / "etc/manager.conf").stat()
    assert (manager.st_uid, manager.st_gid, mode(pbx / "etc/manager.conf")) == (0, ASTERISK, 0o640)
    agents = pbx / "etc/generated/pjsip_agents.conf"
    assert (agents.stat().st_uid, agents.stat().st_gid, mode(agents)) == (
        CONTROLLER,
        ASTERISK,
        0o640,
    )
    assert "pw" not in agents.read_text().split("md5_cred")[1].splitlines()[0]

    # A recording as Asterisk writes it (its umask, its user): the controller's group
    # reads it (and retention may delete it), nobody else can.
    day = pbx / "spool/recordings/2026/12/07"
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.chdir(pbx / "spool/recordings")  # pytest's folders above are root's 0700
            os.setgid(ASTERISK)
            os.setuid(ASTERISK)
            os.umask(ASTERISK_UMASK)
            Path("2026/12/07").mkdir(parents=True)
            Path("2026/12/07/call.wav").write_bytes(b"RIFF")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    recording = (day / "call.wav").stat()
    assert (recording.st_uid, recording.st_gid) == (ASTERISK, CONTROLLER)
    assert mode(day / "call.wav") == 0o660 and mode(day) & 0o7070 == 0o2070

    for path in [state, *state.rglob("*")]:
        assert not path.stat().st_mode & 0o006 or (path.is_dir() and mode(path) & 0o7 == 0o1), path


def test_every_command_runs_with_the_controllers_umask() -> None:
    from click.testing import CliRunner

    from callcenter.cli import main

    old = os.umask(0o022)
    try:
        CliRunner().invoke(main, ["pbx", "--help"])
        seen = os.umask(0o022)
    finally:
        os.umask(old)
    assert seen == CONTROLLER_UMASK


def test_the_controller_started_as_root_becomes_the_state_directory_s_owner(
    state: Path,
) -> None:
    from callcenter.adapters.ops.modes import drop_to_state_owner

    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            drop_to_state_owner(state)
            ids = (os.getuid(), os.geteuid(), os.getgid(), os.getegid())
            code = 0 if ids == (CONTROLLER,) * 4 and os.getgroups() == [] else 2
        finally:
            os._exit(code)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    os.chown(state, 0, 0)
    assert drop_to_state_owner(state) is None and os.geteuid() == 0  # root's own: stays
