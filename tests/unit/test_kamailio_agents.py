"""Agents into a running Kamailio without a restart: the controller rewrites the
agents' table and reloads it over Kamailio's RPC each time it publishes the agents."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from callcenter.adapters.kamailio import process as process_module
from callcenter.adapters.kamailio.process import KamailioProcess
from callcenter.adapters.kamailio.publisher import KamailioAgents
from callcenter.adapters.pbx.provider import ProviderError
from callcenter.config import Settings
from callcenter.core.model import SipAccount
from callcenter.core.sip_auth import sip_ha1

ALICE = SipAccount("alice", sip_ha1("alice", "pw-a"), "Alice", "201")
BOB = SipAccount("bob", sip_ha1("bob", "pw-b"), "Bob", "202")
CAROL = SipAccount("carol", sip_ha1("carol", "pw-c"), "Carol", "203")


class RecordingProcess(KamailioProcess):
    """Kamailio's RPC recorded (or failing) instead of sent; its agents' table kept
    here as Kamailio would."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.calls: list[tuple[str, ...]] = []
        self.held: dict[str, str] = {}
        self.fail = False

    def rpc(self, *command: str, check: bool = True, timeout: float = 5) -> str:
        if self.fail and check:
            raise ProviderError(f"kamcmd {command[0]} failed: no answer")
        if command[0] == "htable.dump":
            return "".join(
                f"\t\t\tname: {k}\n\t\t\tvalue: {v}\n\t\t\ttype: str\n"
                for k, v in self.held.items()
            )
        self.calls.append(command)
        if command[:2] == ("htable.sets", "agents"):
            self.held[command[2][2:]] = command[3][2:]
        if command[:2] == ("htable.delete", "agents"):
            self.held.pop(command[2][2:], None)
        return ""


@pytest.fixture
def kam(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RecordingProcess:
    monkeypatch.setattr(process_module, "module_dir", lambda: "/m")
    monkeypatch.setattr(KamailioProcess, "_owner", staticmethod(lambda: None))
    settings = Settings(
        state_dir=tmp_path / "state",
        kamailio={"bind": "192.0.2.1", "nodes": [{"address": "192.0.2.11"}], "phones": True},
    )
    return RecordingProcess(settings)


def running(kam: RecordingProcess, *accounts: SipAccount) -> None:
    """Kamailio started with these agents: its control socket there, its table loaded."""
    kam.render(accounts)
    kam.layout.control_socket.touch()
    kam.held = {a.username: a.ha1 for a in accounts}


def sets(account: SipAccount) -> tuple[str, ...]:
    return ("htable.sets", "agents", f"s:{account.username}", f"s:{account.ha1}")


def dropped(name: str) -> list[tuple[str, ...]]:
    return [
        ("htable.delete", "agents", f"s:{name}"),
        ("ul.rm", "location", f"s:{name}"),
        ("htable.delete", "phones", f"s:{name}"),
    ]


def test_nothing_where_kamailio_was_never_provisioned(kam: RecordingProcess) -> None:
    assert kam.publish_agents([ALICE]) == ""
    assert not kam.layout.agents_table.exists() and kam.calls == []


def test_an_added_agent_reaches_the_running_kamailio(kam: RecordingProcess) -> None:
    running(kam, ALICE)
    script = kam.layout.config.read_text()
    assert ALICE.ha1 not in script  # the secrets live in the table, not the script
    assert f'modparam("htable", "db_url", "text://{kam.layout.db_dir}")' in script
    assert "$sht(agents=>$au)" in script
    said = kam.publish_agents([ALICE, BOB])
    assert kam.calls == [sets(BOB)]
    assert kam.held == {"alice": ALICE.ha1, "bob": BOB.ha1}
    assert "set bob" in said
    table = kam.layout.agents_table
    assert f"bob:0:0:{BOB.ha1}:0" in table.read_text()  # what a restart would read
    assert table.stat().st_mode & 0o077 == 0o040  # group only
    # Unchanged: nothing sent.
    assert kam.publish_agents([BOB, ALICE]) == ""
    assert kam.calls == [sets(BOB)]
    assert kam.layout.config.read_text() == script  # the script itself never rewritten


def test_a_new_password_is_set_in_place(kam: RecordingProcess) -> None:
    running(kam, ALICE, BOB)
    renewed = SipAccount("alice", sip_ha1("alice", "new"), "Alice", "201")
    kam.publish_agents([renewed, BOB])
    assert kam.calls == [sets(renewed)]
    assert kam.held["alice"] == renewed.ha1


def test_a_removed_agent_loses_its_digest_and_bindings(kam: RecordingProcess) -> None:
    running(kam, ALICE, BOB)
    said = kam.publish_agents([ALICE])
    assert kam.calls == dropped("bob")
    assert "removed bob" in said and kam.held == {"alice": ALICE.ha1}


def test_what_kamailio_did_not_take_is_sent_again(kam: RecordingProcess) -> None:
    running(kam, ALICE, BOB)
    kam.fail = True
    with pytest.raises(ProviderError):
        kam.publish_agents([ALICE, CAROL])
    kam.fail = False
    # Same agents again (the file is written already): Kamailio's own table is read.
    kam.publish_agents([ALICE, CAROL])
    assert kam.calls == [sets(CAROL), *dropped("bob")]
    assert kam.publish_agents([ALICE, CAROL]) == ""


def test_kamailio_not_running_gets_the_table_only(kam: RecordingProcess) -> None:
    kam.render([ALICE])
    assert kam.publish_agents([ALICE, BOB]) == "kamailio not running: agents' table written"
    assert kam.calls == []
    assert "\nbob:0:0:" in kam.layout.agents_table.read_text()


def test_up_changes_agents_in_place(kam: RecordingProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    running(kam, ALICE)
    monkeypatch.setattr(kam, "check", lambda: None)
    monkeypatch.setattr(kam, "running_pid", lambda: os.getpid())
    monkeypatch.setattr(kam, "_stop_pid", lambda pid: pytest.fail("restarted"))
    assert "agents reloaded" in kam.up(iter([ALICE, BOB]))
    assert kam.calls == [sets(BOB)]


def test_the_controllers_publisher_never_raises(kam: RecordingProcess) -> None:
    running(kam, ALICE)
    kam.fail = True
    publisher = KamailioAgents(kam)
    asyncio.run(publisher.publish_agents([ALICE, BOB]))  # logged; sent at the next one
    kam.fail = False
    asyncio.run(publisher.publish_agents([ALICE, BOB]))
    assert kam.calls == [sets(BOB)]
