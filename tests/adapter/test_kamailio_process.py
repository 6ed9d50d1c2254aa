"""The rendered configuration passes `kamailio -c`; `up`, `status`, `down` on a real Kamailio."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from callcenter.adapters.kamailio.process import KamailioProcess
from callcenter.adapters.pbx.asterisk import pid_alive
from callcenter.cli import main
from callcenter.config import Settings, load_settings
from callcenter.core.model import SipAccount
from callcenter.core.sip_auth import sip_ha1

pytestmark = pytest.mark.skipif(shutil.which("kamailio") is None, reason="kamailio not installed")

PORT = int(os.environ.get("CALLCENTER_TEST_PORT_BASE", "15000")) + 90


def _settings(tmp_path: Path, phones: bool = False) -> Settings:
    return Settings(
        state_dir=tmp_path / "state",
        kamailio={
            "bind": "127.0.0.1",
            "port": PORT,
            "nodes": [{"address": "127.0.0.1", "port": PORT + 1}, {"address": "127.0.0.3"}],
            "phones": phones,
        },
        trunks=[{"name": "carrier", "match": ["127.0.0.2", "10.9.0.0/16"]}],
    )


ACCOUNTS = [
    SipAccount("alice", sip_ha1("alice", "secret-a"), "Alice", "201"),
    SipAccount("bob", sip_ha1("bob", "secret-b"), "Bob", "202"),
]


@pytest.mark.parametrize("phones", [False, True], ids=["trunks", "phones too"])
@pytest.mark.parametrize("accounts", [[], ACCOUNTS], ids=["no agent", "two agents"])
def test_rendered_configuration_passes_kamailio_check(
    tmp_path: Path, accounts: list[SipAccount], phones: bool
) -> None:
    process = KamailioProcess(_settings(tmp_path, phones))
    assert process.render(accounts)
    process.check()  # raises with Kamailio's own words if refused
    assert not process.render(accounts)  # unchanged the second time
    assert process.layout.config.stat().st_mode & 0o077 == 0o040  # digests: group only


def test_up_status_down(tmp_path: Path) -> None:
    process = KamailioProcess(_settings(tmp_path))
    said = process.up()
    try:
        assert "kamailio started" in said
        pid = process.running_pid()
        assert pid is not None
        status = process.status()
        assert status.running and status.rtt_ms is not None
        assert "already running" in process.up()
        if os.geteuid() == 0 and shutil.which("kamcmd"):
            assert set(status.nodes) == {f"sip:127.0.0.1:{PORT + 1}", "sip:127.0.0.3:5060"}
            owner = Path(f"/proc/{pid}").stat().st_uid
            assert owner != 0  # dropped to the kamailio user
    finally:
        said = process.down()
    assert "stopped" in said
    assert not pid_alive(pid)
    assert process.status().running is False


def test_cli_up_status_down_with_an_agent_from_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`callcenter kamailio up` gives Kamailio the database's agents; an agent added
    later is reloaded in place by the next `up` (no restart); `down` stops it."""
    for key in [k for k in os.environ if k.startswith("CALLCENTER_")]:
        monkeypatch.delenv(key)
    config = tmp_path / "callcenter.toml"
    config.write_text(
        f'state_dir = "{tmp_path / "state"}"\n'
        f'[kamailio]\nbind = "127.0.0.1"\nport = {PORT}\n'
        f'nodes = [{{address = "127.0.0.1", port = {PORT + 1}}}]\n'
        '[[trunks]]\nname = "carrier"\nmatch = ["127.0.0.2"]\n'
    )
    runner = CliRunner()
    base = ["--config", str(config)]
    added = runner.invoke(
        main, [*base, "agent", "add", "carol", "--name", "Carol", "--extension", "1003"]
    )
    assert added.exit_code == 0, added.output
    up = runner.invoke(main, [*base, "kamailio", "up"])
    try:
        assert up.exit_code == 0, up.output
        assert "kamailio started" in up.output
        assert "\ncarol:0:0:" in (tmp_path / "state/kamailio/db/agents").read_text()
        status = runner.invoke(main, [*base, "kamailio", "status"])
        assert status.exit_code == 0 and "answers" in status.output, status.output
        if shutil.which("kamcmd"):
            process = KamailioProcess(load_settings(config))
            pid = process.running_pid()
            assert "carol" in process.rpc("htable.dump", "agents")
            added = runner.invoke(
                main, [*base, "agent", "add", "dave", "--name", "Dave", "--extension", "1004"]
            )
            assert added.exit_code == 0, added.output
            again = runner.invoke(main, [*base, "kamailio", "up"])
            assert again.exit_code == 0 and "agents reloaded" in again.output, again.output
            assert process.running_pid() == pid  # no restart
            dump = process.rpc("htable.dump", "agents")
            assert "carol" in dump and "dave" in dump
    finally:
        down = runner.invoke(main, [*base, "kamailio", "down"])
    assert "stopped" in down.output
    assert runner.invoke(main, [*base, "kamailio", "status"]).exit_code == 1


@pytest.mark.skipif(shutil.which("kamcmd") is None, reason="kamcmd not installed")
def test_agents_published_to_a_running_kamailio(tmp_path: Path) -> None:
    """What the controller does at each publication of the agents: the table rewritten
    and the running Kamailio's changed in place, twice within a second too; a removed
    agent gone from its digests."""
    process = KamailioProcess(_settings(tmp_path, phones=True))
    process.up(ACCOUNTS[:1])
    try:
        pid = process.running_pid()
        carol = SipAccount("carol", sip_ha1("carol", "secret-c"), "Carol", "203")
        assert "set bob, carol" in process.publish_agents([*ACCOUNTS, carol])
        dump = process.rpc("htable.dump", "agents")
        assert all(name in dump for name in ("alice", "bob", "carol")), dump
        assert carol.ha1 in dump
        # Bob removed and carol given a new password in the same second.
        renewed = SipAccount("carol", sip_ha1("carol", "new"), "Carol", "203")
        said = process.publish_agents([ACCOUNTS[0], renewed])
        assert "set carol; removed bob" in said
        dump = process.rpc("htable.dump", "agents")
        assert "bob" not in dump and renewed.ha1 in dump and carol.ha1 not in dump, dump
        assert process.running_pid() == pid
    finally:
        process.down()
