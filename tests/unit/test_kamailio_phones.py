"""[kamailio] phones: phones register with Kamailio, which copies each registration to
every node and relays the phones' calls; what each side renders, and the controller's
reading of a copied registration (docs/SCALING.md)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from callcenter.adapters.ami.commands import AmiPbx
from callcenter.adapters.ami.nodes import NodeLinks
from callcenter.adapters.kamailio.render import (
    KamailioLayout,
    copy_registration_route,
    render_config,
)
from callcenter.adapters.pbx.render import Renderer, RenderError, agents_conf
from callcenter.config import KamailioNode, Settings
from callcenter.core import pbx_events as ev
from callcenter.core.model import SipAccount
from callcenter.core.sip_auth import AGENT_HEADER, PROXY_ENDPOINT, sip_ha1
from callcenter.services.ports import Origination
from tests.unit.test_node_links import Link
from tests.unit.test_render import layout_for, rendered, settings_for

ALICE = SipAccount("alice", sip_ha1("alice", "pw-a"), "Alice", "201")
BOB = SipAccount("bob", sip_ha1("bob", "pw-b"), "Bob", "202")
LAYOUT = KamailioLayout(Path("/srv/cc/kamailio"))


def _settings(phones: bool = True, **kamailio: object) -> Settings:
    return Settings(
        state_dir=Path("/srv/cc"),
        kamailio={
            "bind": "192.0.2.1",
            "phones": phones,
            "nodes": [{"address": "192.0.2.11"}, {"address": "192.0.2.12", "port": 5070}],
        }
        | kamailio,
        trunks=[{"name": "carrier", "match": ["198.51.100.0/24"]}],
    )


def _script(settings: Settings) -> str:
    return render_config(settings, LAYOUT, "/m", [ALICE, BOB])[LAYOUT.config]


# -- Kamailio's side ---------------------------------------------------------------


def test_a_saved_registration_is_copied_to_every_node() -> None:
    script = _script(_settings())
    route = script[script.index("route[COPY_REGISTRATION] {") :]
    route = route[: route.index("\n}\n")]
    sends = re.findall(r'\$var\(node\) = "([^"]+)";\n\troute\(COPY_TO_NODE\);', route)
    assert sends == ["sip:192.0.2.11:5060", "sip:192.0.2.12:5070"]
    assert "$sht(phones=>$au) = $Ts + $var(expires);" in route  # for a node back up
    # The contact is the agent at Kamailio: a node's Dial and qualify come back here.
    copy = script[script.index("route[COPY_TO_NODE] {") :]
    assert '"Contact: <sip:" + $var(agent) + "@192.0.2.1:5060>' in copy
    assert copy.count("uac_req_send();") == 1
    # After the binding is saved, never for a refused one.
    registrar = script[script.index("route[REGISTRAR] {") :]
    assert registrar.index('save("location")') < registrar.index("route(COPY_REGISTRATION);")
    assert 'loadmodule "uac.so"' in script


def test_a_copy_lasts_what_the_phone_asked_within_the_nodes_limits() -> None:
    route = copy_registration_route([KamailioNode(address="192.0.2.11")], "192.0.2.1:5060")
    assert "$var(expires) = $(hdr(Expires){s.int});" in route
    assert '$ct == "*"' in route and "$var(expires) = 0;" in route  # un-registering
    assert "$var(expires) < 60" in route and "$var(expires) > 3600" in route


def test_a_node_back_up_gets_every_live_registration() -> None:
    script = _script(_settings())
    up = script[script.index("event_route[dispatcher:dst-up] {") :]
    assert "route(RECOPY);" in up[: up.index("\n}\n")]
    recopy = script[script.index("route[RECOPY] {") :]
    recopy = recopy[: recopy.index("\n}\n")]
    assert "$var(node) = $ru;" in recopy
    assert 'sht_iterator_next("it")' in recopy and "route(COPY_TO_NODE);" in recopy
    assert "$var(expires) = $shtitval(it) - $Ts;" in recopy


def test_phones_calls_are_digest_checked_and_name_the_agent() -> None:
    script = _script(_settings())
    trunk = script[script.index("route[FROMTRUNK] {") :]
    # Not from a trunk: a phone's call (from anywhere when [sip] agent_networks is empty).
    assert trunk.index("route(FROMPHONE);") < trunk.index('sl_send_reply("403", "Forbidden")')
    phone = script[script.index("route[FROMPHONE] {") :]
    phone = phone[: phone.index("\n}\n")]
    assert 'pv_proxy_authenticate("callcenter", "$var(ha1)", "1")' in phone
    assert "$au != $fU" in phone  # an agent calls as itself only
    assert phone.index("pv_proxy_authenticate") < phone.index(f'append_hf("{AGENT_HEADER}: $au')
    assert 't_on_failure("PHONE_NODE_FAILED")' in phone
    # Nobody else may name an agent: the header is removed from every request first.
    assert script.index(f'remove_hf("{AGENT_HEADER}")') < script.index("route(WITHINDLG);")


def test_phones_calls_from_their_networks_only() -> None:
    settings = _settings().model_copy(
        update={"sip": _settings().sip.model_copy(update={"agent_networks": ["10.5.0.0/16"]})}
    )
    trunk = _script(settings)
    assert 'if (is_in_subnet("$si", "10.5.0.0/16")) {\n\t\t\troute(FROMPHONE);' in trunk


def test_without_phones_nothing_is_copied_and_phones_place_no_calls() -> None:
    script = _script(_settings(phones=False))
    assert "route[COPY_REGISTRATION] {\n\treturn;\n}" in script
    assert "route[RECOPY] {\n\treturn;\n}" in script
    assert "route(FROMPHONE);" not in script
    assert "uac_req_send();" not in script and "route(COPY_TO_NODE)" not in script


def test_phones_need_kamailios_own_address() -> None:
    with pytest.raises(ValidationError, match="phones needs bind"):
        Settings(kamailio={"phones": True})
    assert Settings(kamailio={"bind": "192.0.2.1", "phones": True}).kamailio.phones_via
    assert Settings(kamailio={"bind": "192.0.2.1"}).kamailio.phones_via == ""


# -- the nodes' side -------------------------------------------------------------------


def test_behind_kamailio_agents_are_named_by_it_and_let_in_from_it_only() -> None:
    text = agents_conf([BOB, ALICE], proxy="192.0.2.1")
    alice = text[text.index("[alice](agent-endpoint)") : text.index("[alice](agent-auth)")]
    assert "auth = alice" not in alice  # the digest was checked by Kamailio
    assert "deny = 0.0.0.0/0.0.0.0,::/0\npermit = 192.0.2.1\n" in alice
    assert (
        f"[alice]\ntype = identify\nendpoint = alice\nmatch_header = {AGENT_HEADER}: alice\n"
        in (text)
    )
    # Kamailio's own endpoint: its trunk calls, and its copies for every agent's AOR.
    proxy = text[text.index(f"[{PROXY_ENDPOINT}](trunk-endpoint)") :]
    assert "aors = alice,bob\n" in proxy
    assert f"[{PROXY_ENDPOINT}](trunk-identify)\nendpoint = {PROXY_ENDPOINT}\n" in proxy
    assert "match = 192.0.2.1\n" in proxy


def test_without_kamailio_agents_render_as_before() -> None:
    text = agents_conf([ALICE])
    assert "auth = alice\n" in text
    assert "match_header" not in text and PROXY_ENDPOINT not in text


def test_behind_kamailio_a_node_identifies_by_header_first(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, kamailio={"bind": "192.0.2.1", "phones": True})
    Renderer(settings, layout_for(tmp_path)).render("s", [ALICE])
    pjsip = (rendered(tmp_path) / "pjsip.conf").read_text()
    assert "endpoint_identifier_order = header,ip,username\n" in pjsip
    agents = (rendered(tmp_path) / "generated/pjsip_agents.conf").read_text()
    assert f"[{PROXY_ENDPOINT}](trunk-endpoint)" in agents


def test_one_box_identifies_by_address_then_username(tmp_path: Path) -> None:
    Renderer(settings_for(tmp_path), layout_for(tmp_path)).render("s", [ALICE])
    pjsip = (rendered(tmp_path) / "pjsip.conf").read_text()
    assert "endpoint_identifier_order = ip,username\n" in pjsip


def test_an_invalid_proxy_address_is_refused() -> None:
    with pytest.raises(ValueError):
        agents_conf([ALICE], proxy="not-an-address")
    with pytest.raises(RenderError):
        agents_conf([SipAccount("Kamailio", "a" * 32, "K", "1")], proxy="192.0.2.1")


# -- the controller's side ---------------------------------------------------------------


def test_a_copied_registration_is_the_agents_contact() -> None:
    copied = ev.ContactStatus(aor="bob", endpoint_name=PROXY_ENDPOINT, contact_status="Created")
    assert copied.agent == "bob"
    own = ev.ContactStatus(aor="bob", endpoint_name="bob")
    assert own.agent == "bob"
    assert ev.ContactStatus(aor="carol").agent == "carol"


def test_behind_kamailio_an_agent_is_rung_from_the_callers_own_node() -> None:
    a, b = Link("alpha"), Link("beta")
    nodes = NodeLinks([a, b], phones_via_proxy=True)
    nodes.saw_contact("beta", "bob", "Reachable")
    assert nodes.via("alpha", "bob") == ""  # no inter-node trunk: alpha rings bob itself
    plain = NodeLinks([Link("alpha"), Link("beta")])
    plain.saw_contact("beta", "bob", "Reachable")
    assert plain.via("alpha", "bob") == "node-beta"


def test_behind_kamailio_an_originate_to_a_phone_avoids_a_dead_node() -> None:
    a, b = Link("alpha", up=False), Link("beta")
    nodes = NodeLinks([a, b], phones_via_proxy=True)
    nodes.saw_contact("alpha", "bob", "Reachable")
    assert nodes._node_for("Originate", {"Channel": "PJSIP/bob"}) == "beta"
    plain = NodeLinks([Link("alpha", up=False), Link("beta")])
    plain.saw_contact("alpha", "bob", "Reachable")
    assert plain._node_for("Originate", {"Channel": "PJSIP/bob"}) == "alpha"


def _origination(endpoint: str, near: str, via: str = "") -> Origination:
    return Origination(
        endpoint=endpoint,
        context="cc-consult",
        exten="s",
        action_id="consult-1",
        channel_id="consult-1",
        caller_id="x",
        ring_seconds=30,
        via=via,
        near=near,
    )


def test_behind_kamailio_a_consulted_agent_is_rung_from_the_agents_node() -> None:
    """cc-consult bridges the target's leg with the agent's: one node. Behind Kamailio
    every node rings every phone, so the Originate goes to the agent's leg's node,
    wherever the target's registration was seen last."""
    a, b = Link("alpha"), Link("beta")
    nodes = NodeLinks([a, b], phones_via_proxy=True)
    nodes.saw_contact("alpha", "carol", "Reachable")
    b.feed({"Event": "Newchannel", "Channel": "PJSIP/bob-00000002", "Uniqueid": "beta-1.2"})
    asyncio.run(AmiPbx(nodes).originate(_origination("carol", "PJSIP/bob-00000002")))
    assert [name for name, _ in b.sent] == ["Originate"] and a.sent == []
    # Phones registered with the nodes themselves: where carol's phone is.
    a, b = Link("alpha"), Link("beta")
    plain = NodeLinks([a, b])
    plain.saw_contact("alpha", "carol", "Reachable")
    b.feed({"Event": "Newchannel", "Channel": "PJSIP/bob-00000002", "Uniqueid": "beta-1.2"})
    asyncio.run(AmiPbx(plain).originate(_origination("carol", "PJSIP/bob-00000002")))
    assert [name for name, _ in a.sent] == ["Originate"] and b.sent == []


def test_a_consulted_number_is_dialled_from_the_agents_node() -> None:
    a, b = Link("alpha"), Link("beta")
    plain = NodeLinks([a, b])
    b.feed({"Event": "Newchannel", "Channel": "PJSIP/bob-00000002", "Uniqueid": "beta-1.2"})
    request = _origination("5550100", "PJSIP/bob-00000002", via="carrier")
    asyncio.run(AmiPbx(plain).originate(request))
    assert [name for name, _ in b.sent] == ["Originate"] and a.sent == []
    assert b.sent[0][1]["Channel"] == "PJSIP/5550100@carrier"


def test_an_always_connected_line_is_reached_over_the_trunk_to_its_node() -> None:
    """A caller on beta for dave, whose line waits on alpha: cc-connect on beta rings
    dave over the trunk to alpha, where cc-internode bridges it to the line."""
    a, b = Link("alpha"), Link("beta")
    nodes = NodeLinks([a, b], phones_via_proxy=True)
    nodes.saw_contact("beta", "dave", "Reachable")
    line = {"Channel": "PJSIP/dave-00000003", "Uniqueid": "alpha-1.3"}
    a.feed({"Event": "UserEvent", "UserEvent": "CcNailedUp", "Agent": "dave", **line})
    assert nodes.via("beta", "dave") == "node-alpha"
    assert nodes.via("alpha", "dave") == ""  # cc-connect bridges it itself
    a.feed({"Event": "Hangup", **line})
    assert nodes.via("beta", "dave") == ""  # no line: rung through Kamailio again
