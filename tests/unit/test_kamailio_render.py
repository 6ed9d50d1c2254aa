"""Kamailio's rendered configuration: the nodes, the trunks, the probing numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from callcenter.adapters.kamailio.process import KamailioStatus, node_flags
from callcenter.adapters.kamailio.render import (
    KamailioLayout,
    agents_table,
    dispatcher_list,
    render_config,
    trunk_test,
)
from callcenter.adapters.pbx.render import RenderError
from callcenter.config import KamailioNode, Settings, SipSettings
from callcenter.core.model import SipAccount


def _settings(**kamailio: object) -> Settings:
    return Settings(
        state_dir=Path("/srv/cc"),
        kamailio={"nodes": [{"address": "192.0.2.11"}, {"address": "192.0.2.12", "port": 5070}]}
        | kamailio,
        trunks=[{"name": "carrier", "match": ["198.51.100.0/24", "203.0.113.7"]}],
    )


def test_nodes_become_dispatcher_set_one() -> None:
    text = dispatcher_list(
        [KamailioNode(address="192.0.2.11"), KamailioNode(address="2001:db8::2", port=5070)]
    )
    assert text.splitlines()[1:] == ["1 sip:192.0.2.11:5060 0 0", "1 sip:[2001:db8::2]:5070 0 0"]


def test_no_node_or_twice_the_same_is_refused() -> None:
    with pytest.raises(RenderError):
        dispatcher_list([])
    with pytest.raises(RenderError):
        dispatcher_list([KamailioNode(address="192.0.2.1"), KamailioNode(address="192.0.2.1")])


def test_only_trunk_networks_may_start_calls() -> None:
    assert trunk_test(["203.0.113.7", "198.51.100.9/24"]) == (
        'is_in_subnet("$si", "203.0.113.7/32") || is_in_subnet("$si", "198.51.100.0/24")'
    )
    assert trunk_test([]) == "0"


def test_script_carries_the_settings() -> None:
    layout = KamailioLayout(Path("/srv/cc/kamailio"))
    files = render_config(
        _settings(
            bind="192.0.2.1", port=5080, probe_interval=2, probe_threshold=3, failover_ms=900
        ),
        layout,
        "/usr/lib/kamailio/modules",
    )
    script = files[layout.config]
    assert "@@" not in script
    assert "listen=udp:192.0.2.1:5080" in script
    assert 'modparam("dispatcher", "ds_ping_interval", 2)' in script
    assert 'modparam("dispatcher", "ds_probing_threshold", 3)' in script
    assert 'modparam("tm", "fr_timer", 900)' in script
    assert "t_set_fr(120000, 900)" in script
    assert 'is_in_subnet("$si", "198.51.100.0/24")' in script
    # Kamailio's own 408 (a node that did not answer a probe) never counts as alive.
    codes = script.split('"ds_ping_reply_codes", "')[1].split('"')[0]
    assert "class=4" not in codes and "408" not in codes and "class=5" not in codes
    assert 'list_file", "/srv/cc/kamailio/dispatcher.list"' in script
    assert files[layout.dispatcher_list].count("\n1 sip:") == 2


@pytest.mark.parametrize(
    "bad",
    [
        {"bind": "host.example"},
        {"nodes": [{"address": "node-a"}]},
        {"nodes": [{"address": '1.2.3.4"; exec'}]},
        {"port": 0},
        {"probe_interval": 0},
    ],
)
def test_values_that_could_break_the_script_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        _settings(**bad)


def test_a_state_folder_with_quotes_is_refused() -> None:
    layout = KamailioLayout(Path('/srv/"cc'))
    with pytest.raises(RenderError):
        render_config(_settings(), layout, "/usr/lib/kamailio/modules")


def test_agents_digest_route() -> None:
    accounts = [
        SipAccount("bob", "b" * 32, "Bob", "202"),
        SipAccount("alice", "a" * 32, "Alice", "201"),
    ]
    table = agents_table(accounts)
    assert table.splitlines() == [
        "key_name(str) key_type(int) value_type(int) key_value(str) expires(int)",
        f"alice:0:0:{'a' * 32}:0",
        f"bob:0:0:{'b' * 32}:0",
    ]
    assert len(agents_table([]).splitlines()) == 1  # no agent: the columns, nobody matches


@pytest.mark.parametrize(
    "account",
    [
        SipAccount('x"; exit; "', "a" * 32, "X", "1"),
        SipAccount("alice", 'a" || 1 || "', "A", "1"),
    ],
)
def test_agents_that_could_break_the_script_are_refused(account: SipAccount) -> None:
    with pytest.raises(RenderError):
        agents_table([account])


def test_phones_may_register_from_their_networks_only() -> None:
    layout = KamailioLayout(Path("/srv/cc/kamailio"))
    script = render_config(
        _settings().model_copy(update={"sip": SipSettings(agent_networks=["192.0.2.0/28"])}),
        layout,
        "/m",
    )[layout.config]
    assert 'if (!(is_in_subnet("$si", "192.0.2.0/28")))' in script
    assert 'www_challenge("callcenter", "1")' in script


def test_node_flags_from_the_dispatcher_listing() -> None:
    listing = """{
        NRSETS: 1
        RECORDS: { SET: { ID: 1 TARGETS: {
            DEST: { URI: sip:127.1.1.2:5060
                FLAGS: IP
                PRIORITY: 0 }
            DEST: { URI: sip:[2001:db8::2]:5070
                FLAGS: AP
                PRIORITY: 0 } } } }
    }"""
    assert node_flags(listing) == {"sip:127.1.1.2:5060": "IP", "sip:[2001:db8::2]:5070": "AP"}
    lines = KamailioStatus(True, 7, 0.5, node_flags(listing)).lines()
    assert lines[2:] == [
        "node sip:127.1.1.2:5060: down (IP)",
        "node sip:[2001:db8::2]:5070: up (AP)",
    ]


def test_a_node_of_the_other_address_family_is_refused() -> None:
    settings = _settings(nodes=[{"address": "2001:db8::2"}])
    with pytest.raises(RenderError, match="IPv6"):
        render_config(settings, KamailioLayout(Path("/srv/cc/kamailio")), "/m")
    ipv6 = _settings(bind="::", nodes=[{"address": "2001:db8::2"}])
    script = render_config(ipv6, KamailioLayout(Path("/srv/cc/kamailio")), "/m")
    assert any("listen=udp:[::]:5060" in text for text in script.values())


def _with_pbx_nodes(**kamailio: object) -> Settings:
    """Two product Asterisk nodes ([[pbx.nodes]]) and Kamailio in front."""
    node = {"ami_secret_file": "/etc/cc/ami.secret", "state_dir": "/srv/node"}
    return Settings(
        state_dir=Path("/srv/cc"),
        agi={"host": "10.0.0.1"},
        pbx={
            "controller_networks": ["10.0.0.0/24"],
            "nodes": [
                {"name": "alpha", "address": "10.0.0.11"} | node,
                {"name": "beta", "address": "10.0.0.12", "sip_port": 5070} | node,
            ],
        },
        kamailio=kamailio,
    )


def test_without_kamailio_nodes_the_pbx_nodes_are_dispatched_to() -> None:
    layout = KamailioLayout(Path("/srv/cc/kamailio"))
    listing = render_config(_with_pbx_nodes(), layout, "/m")[layout.dispatcher_list]
    assert listing.splitlines() == [
        "# generated from [[pbx.nodes]]: set 1 holds the Asterisk nodes",
        "1 sip:10.0.0.11:5060 0 0",
        "1 sip:10.0.0.12:5070 0 0",
    ]


def test_kamailio_nodes_override_the_pbx_nodes_with_some_of_them() -> None:
    layout = KamailioLayout(Path("/srv/cc/kamailio"))
    settings = _with_pbx_nodes(nodes=[{"address": "10.0.0.12", "port": 5070}])
    listing = render_config(settings, layout, "/m")[layout.dispatcher_list]
    assert listing.splitlines()[1:] == ["1 sip:10.0.0.12:5070 0 0"]
    assert listing.startswith("# generated from [kamailio] nodes")


@pytest.mark.parametrize(
    ("nodes", "says"),
    [
        ([{"address": "10.0.0.13"}], "10.0.0.13:5060 is not one of"),
        ([{"address": "10.0.0.12"}], "10.0.0.12:5060 is not one of"),  # beta is on 5070
    ],
)
def test_kamailio_nodes_that_are_no_pbx_node_are_refused(
    nodes: list[dict[str, object]], says: str
) -> None:
    with pytest.raises(ValidationError, match=says) as raised:
        _with_pbx_nodes(nodes=nodes)
    assert "alpha 10.0.0.11:5060, beta 10.0.0.12:5070" in str(raised.value)


def test_kamailio_on_a_nodes_own_sip_address_is_refused() -> None:
    with pytest.raises(ValidationError, match="send calls to itself"):
        _with_pbx_nodes(bind="10.0.0.11", port=5060)
    with pytest.raises(ValidationError, match="send calls to itself"):
        _settings(bind="192.0.2.11")  # the same without [[pbx.nodes]]


def test_no_node_anywhere_is_a_clear_render_error() -> None:
    with pytest.raises(RenderError, match=r"\[\[pbx.nodes\]\] or \[kamailio\] nodes"):
        render_config(_settings(nodes=[]), KamailioLayout(Path("/srv/cc/kamailio")), "/m")
