"""One AMI link per node (adapters/ami/nodes.py): events tagged with their node, each
action to the node it concerns; the FastAGI allow-list; which node an agent is on."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from callcenter.adapters.agi.callback_routes import CallbackRoutes
from callcenter.adapters.agi.outbound_routes import OutboundRoutes
from callcenter.adapters.agi.server import FastAgiServer
from callcenter.adapters.ami.client import AmiClient, AmiNotConnected, AmiResponse
from callcenter.adapters.ami.commands import AmiPbx
from callcenter.adapters.ami.nodes import NodeLinks, node_of_unique_id
from callcenter.adapters.ami.parse import parse_event
from callcenter.adapters.pbx.publisher import PbxConfigPublisher
from callcenter.adapters.pbx.render import PbxLayout
from callcenter.bootstrap import CallCenter
from callcenter.config import AgiSettings, AmiSettings, Settings
from callcenter.core import pbx_events as ev
from callcenter.core.dialplan import Status
from callcenter.core.model import SipAccount
from callcenter.core.nodes import agent_node, pick_node
from callcenter.services.callbacks.dialer import Answer
from callcenter.services.outbound.dialer_model import OutboundDecision
from callcenter.services.ports import Origination, PbxUnavailable


class Link(AmiClient):
    """An AMI link that records the actions sent to it."""

    def __init__(self, node: str, up: bool = True) -> None:
        super().__init__(AmiSettings(), "secret", node)
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.up = up

    @property
    def connected(self) -> bool:
        return self.up

    async def action(self, name: str, timeout: float | None = None, **headers: Any) -> AmiResponse:
        if not self.up:
            raise AmiNotConnected("down")
        self.sent.append((name, headers))
        return AmiResponse(True, {"node": self.node})

    def feed(self, headers: dict[str, str]) -> None:
        async def on_loop() -> None:
            self._on_message(None, headers)

        asyncio.run(on_loop())


def links(*up: bool) -> tuple[NodeLinks, Link, Link]:
    a, b = Link("alpha", up[0] if up else True), Link("beta", up[1] if len(up) > 1 else True)
    return NodeLinks([a, b]), a, b


def test_events_carry_their_node() -> None:
    event = parse_event({"Event": "Hangup", "Channel": "PJSIP/x-1"}, "beta")
    assert isinstance(event, ev.Hangup) and event.node == "beta"
    assert parse_event({"Event": "Hangup"}).node == ""  # type: ignore[union-attr]


def test_a_channel_action_goes_to_the_node_that_reported_the_channel() -> None:
    nodes, a, b = links()
    b.feed({"Event": "Newchannel", "Channel": "PJSIP/sipp-00000001", "Uniqueid": "beta-1.1"})
    asyncio.run(nodes.action("Redirect", Channel="PJSIP/sipp-00000001", Context="cc-connect"))
    assert [name for name, _ in b.sent] == ["Redirect"] and a.sent == []
    assert nodes.node_of_channel("PJSIP/sipp-00000001") == "beta"
    b.feed({"Event": "Hangup", "Channel": "PJSIP/sipp-00000001", "Uniqueid": "beta-1.1"})
    assert nodes.node_of_channel("PJSIP/sipp-00000001") == ""


def test_an_originate_goes_where_the_phone_is_registered() -> None:
    nodes, a, b = links()
    b.feed({"Event": "ContactStatus", "EndpointName": "alice", "ContactStatus": "Reachable"})
    asyncio.run(nodes.action("Originate", Channel="PJSIP/alice", Context="cc-nailed"))
    assert b.sent and not a.sent
    assert nodes.node_of_endpoint("alice") == "beta"
    assert nodes.via("alpha", "alice") == "node-beta"
    assert nodes.via("beta", "alice") == "" and nodes.via("alpha", "nobody") == ""
    b.feed({"Event": "ContactStatus", "EndpointName": "alice", "ContactStatus": "Removed"})
    assert nodes.node_of_endpoint("alice") == ""


def test_globals_and_reloads_go_to_every_node_even_with_one_down() -> None:
    nodes, a, _b = links(True, False)
    asyncio.run(nodes.action("Setvar", Variable="CC_HEARTBEAT", Value="1"))
    asyncio.run(nodes.reload_module("res_pjsip.so"))
    assert [name for name, _ in a.sent] == ["Setvar", "Reload"]
    assert nodes.connected and nodes.connected_nodes() == {"alpha": True, "beta": False}
    nodes, _a, _b = links(False, False)
    with pytest.raises(AmiNotConnected):
        asyncio.run(nodes.action("Setvar", Variable="CC_HEARTBEAT", Value="1"))


def test_a_queue_log_line_goes_to_the_node_of_its_unique_id() -> None:
    nodes, a, b = links()
    asyncio.run(nodes.action("QueueLog", UniqueID="beta-1733600000.12", Event="X"))
    assert b.sent and not a.sent
    assert node_of_unique_id("my-node-1733600000.12") == "my-node"
    assert node_of_unique_id("1733600000.12") == ""


def test_the_agent_of_a_call_rung_over_a_trunk_is_on_the_far_node() -> None:
    assert agent_node("alpha", "PJSIP/node-beta-0000002a") == "beta"
    assert agent_node("alpha", "PJSIP/alice-0000002a") == "alpha"
    assert agent_node("", "PJSIP/alice-0000002a") == ""


def test_fastagi_takes_loopback_on_one_box_and_only_the_nodes_with_nodes() -> None:
    asyncio.run(_fastagi_allow_list())


async def _fastagi_allow_list() -> None:
    box = FastAgiServer(AgiSettings())
    assert box._node_of(("127.0.0.1", 5000)) == ""
    assert box._node_of(("10.0.0.9", 5000)) is None
    several = FastAgiServer(AgiSettings(), {"10.9.1.2": "alpha", "10.9.2.2": "beta"})
    assert several._node_of(("10.9.2.2", 40000)) == "beta"
    assert several._node_of(("127.0.0.1", 40000)) is None
    assert several._node_of(("10.9.3.2", 40000)) is None


def test_a_waiting_caller_moved_to_an_agent_on_another_node_goes_over_the_trunk() -> None:
    nodes, a, b = links()
    a.feed({"Event": "Newchannel", "Channel": "PJSIP/sipp-00000001", "Uniqueid": "alpha-1.1"})
    b.feed({"Event": "ContactStatus", "EndpointName": "alice", "ContactStatus": "Reachable"})
    a.feed({"Event": "ContactStatus", "EndpointName": "carol", "ContactStatus": "Reachable"})
    pbx = AmiPbx(nodes)
    asyncio.run(pbx.redirect("PJSIP/sipp-00000001", "cc-connect", "alice"))
    asyncio.run(pbx.redirect("PJSIP/sipp-00000001", "cc-connect", "carol"))
    assert [(n, h.get("Variable"), h.get("Value")) for n, h in a.sent] == [
        ("Setvar", "CC_VIA", "node-beta"),
        ("Redirect", None, None),
        ("Setvar", "CC_VIA", ""),  # the same node: the trunk of an earlier ring cleared
        ("Redirect", None, None),
    ]
    assert b.sent == []


def test_a_single_box_redirect_sends_nothing_more() -> None:
    link = Link("")
    asyncio.run(AmiPbx(link).redirect("PJSIP/sipp-00000001", "cc-connect", "alice"))
    assert [name for name, _ in link.sent] == ["Redirect"]


class FakeAgi:
    """The parts of an AgiSession the callback route uses."""

    def __init__(self, node: str) -> None:
        self.node, self.args, self.unique_id, self.channel = node, ["", ""], "alpha-1.1", "c"
        self.sent: dict[str, str] = {}

    async def get_variable(self, name: object) -> str:
        return "call1"

    async def set_variable(self, name: object, value: str) -> None:
        self.sent[str(name)] = value


class AnsweringDialer:
    async def answered(self, *args: object) -> Answer:
        return Answer(connect_to="alice", ring_timeout=12)


def test_a_callback_customer_is_put_through_to_an_agent_on_another_node() -> None:
    nodes, _a, b = links()
    b.feed({"Event": "ContactStatus", "EndpointName": "alice", "ContactStatus": "Reachable"})
    agi = FakeAgi("alpha")
    routes = CallbackRoutes(AnsweringDialer(), nodes.via)  # type: ignore[arg-type]
    assert asyncio.run(routes.answered(agi)) is Status.CONNECT  # type: ignore[arg-type]
    assert agi.sent["CC_TARGET"] == "alice" and agi.sent["CC_VIA"] == "node-beta"
    single = FakeAgi("")
    asyncio.run(CallbackRoutes(AnsweringDialer()).answered(single))  # type: ignore[arg-type]
    assert "CC_VIA" not in single.sent


def test_a_link_logging_in_or_lost_tells_the_hooks_of_every_node() -> None:
    a, b = AmiClient(AmiSettings(), "s", "alpha"), AmiClient(AmiSettings(), "s", "beta")
    nodes = NodeLinks([a, b])
    seen: list[dict[str, bool]] = []
    nodes.on_link_change(lambda: seen.append(nodes.connected_nodes()))

    async def run() -> None:
        await b._after_login()
        a._on_disconnect()  # never logged in: no change to tell
        b._on_disconnect()

    asyncio.run(run())
    assert seen == [{"alpha": False, "beta": True}, {"alpha": False, "beta": False}]


# -- a campaign's customers spread over the nodes -------------------------------------------
def test_the_least_busy_node_that_is_up_takes_the_next_call() -> None:
    order = ["alpha", "beta", "gamma"]
    up = {"alpha": True, "beta": True, "gamma": True}
    assert pick_node(order, up, {"alpha": 3, "beta": 1, "gamma": 2}) == "beta"
    assert pick_node(order, {**up, "beta": False}, {"alpha": 3, "beta": 1, "gamma": 2}) == "gamma"
    assert pick_node(order, dict.fromkeys(order, False), {}) == ""
    assert pick_node(order, up, {}, last="zeta") == "alpha"  # unknown last: from the start


def test_equally_busy_nodes_take_calls_in_turn() -> None:
    order, up, picks, last = ["alpha", "beta", "gamma"], {"alpha": True, "beta": True}, [], ""
    for _ in range(4):
        last = pick_node(order, {**up, "gamma": True}, {}, last)
        picks.append(last)
    assert picks == ["alpha", "beta", "gamma", "alpha"]
    assert [pick_node(order, up, {}, last=x) for x in order] == ["beta", "alpha", "alpha"]


def origination(call_id: str, node: str = "") -> Origination:
    return Origination(
        endpoint="+12125550100", via="carrier", context="cc-outbound", exten="s",
        action_id=call_id, channel_id=call_id, caller_id="x", ring_seconds=20, node=node,
    )  # fmt: skip


def test_originates_alternate_and_count_as_calls_until_their_channel_shows() -> None:
    nodes, a, b = links()
    pbx = AmiPbx(nodes)
    now = [100.0]
    nodes.clock = lambda: now[0]
    for call_id in ("c1", "c2", "c3"):
        asyncio.run(pbx.originate(origination(call_id, nodes.pick_node())))
    assert [h["ChannelId"] for _, h in a.sent] == ["c1", "c3"]
    assert [h["ChannelId"] for _, h in b.sent] == ["c2"]
    assert nodes.load() == {"alpha": 2, "beta": 1}
    # c1's channel shows on alpha (still a call there); c2 and c3 fail without a channel.
    a.feed({"Event": "Newchannel", "Channel": "PJSIP/carrier-1", "Uniqueid": "c1"})
    b.feed({"Event": "OriginateResponse", "ActionID": "c2", "Response": "Failure"})
    assert nodes.load() == {"alpha": 2, "beta": 0}
    now[0] += 11.0  # c3's channel never showed: no longer counted
    assert nodes.load() == {"alpha": 1, "beta": 0}
    assert nodes.pick_node() == "beta"


def test_a_node_that_goes_down_takes_no_more_calls_and_the_others_go_on() -> None:
    nodes, a, b = links()
    pbx = AmiPbx(nodes)
    b.up = False
    picked = [nodes.pick_node() for _ in range(3)]
    assert picked == ["alpha"] * 3
    b.up, a.up = True, False
    assert nodes.pick_node() == "beta"
    a.up = False
    b.up = False
    assert nodes.pick_node() == ""
    with pytest.raises(PbxUnavailable):  # chosen while up, down by the time it is sent
        asyncio.run(pbx.originate(origination("c9", "alpha")))
    assert a.sent == [] and b.sent == []


def test_without_a_node_an_originate_of_a_number_goes_to_the_first_node() -> None:
    nodes, a, b = links()
    asyncio.run(AmiPbx(nodes).originate(origination("c1")))
    assert len(a.sent) == 1 and b.sent == []
    single = Link("")
    asyncio.run(AmiPbx(single).originate(origination("c2", "alpha")))  # one box: no node
    assert [h["ChannelId"] for _, h in single.sent] == ["c2"]


class ConnectingCalls:
    async def answered(self, *args: object) -> OutboundDecision:
        return OutboundDecision(Status.CONNECT, target="alice", ring_timeout=2)


def test_a_campaign_customer_is_put_through_to_an_agent_on_another_node() -> None:
    nodes, _a, b = links()
    b.feed({"Event": "ContactStatus", "EndpointName": "alice", "ContactStatus": "Reachable"})
    agi = FakeAgi("alpha")
    routes = OutboundRoutes(ConnectingCalls(), nodes.via)  # type: ignore[arg-type]
    assert asyncio.run(routes.answered(agi)) is Status.CONNECT  # type: ignore[arg-type]
    assert agi.sent["CC_TARGET"] == "alice" and agi.sent["CC_VIA"] == "node-beta"
    same = FakeAgi("beta")
    asyncio.run(routes.answered(same))  # type: ignore[arg-type]
    assert same.sent["CC_VIA"] == ""
    single = FakeAgi("")
    asyncio.run(OutboundRoutes(ConnectingCalls()).answered(single))  # type: ignore[arg-type]
    assert "CC_VIA" not in single.sent


def test_the_active_controller_tells_every_node_its_fastagi_and_a_fenced_one_does_not() -> None:
    """Two controllers on two hosts ([agi] controllers): CC_AGI follows the active one."""
    nodes, a, b = links()
    pbx = AmiPbx(nodes)
    agi = AgiSettings(host="10.9.0.2", controllers=["10.9.0.1", "10.9.0.2"])
    center = SimpleNamespace(pbx=pbx, settings=SimpleNamespace(agi=agi))
    asyncio.run(CallCenter.announce_agi(center))  # type: ignore[arg-type]
    told = ("Setvar", {"Variable": "CC_AGI", "Value": "agi://10.9.0.2:4573"})
    assert a.sent == [told] and b.sent == [told]
    a.sent.clear()
    b.sent.clear()
    pbx.may_act = lambda: False  # a standby, or an old leader fenced: nothing said
    asyncio.run(CallCenter.announce_agi(center))  # type: ignore[arg-type]
    assert a.sent == [] and b.sent == []


def test_agents_published_while_a_node_s_link_was_down_are_reloaded_at_its_login(
    tmp_path: Path,
) -> None:
    """Alpha logs in first and publishes the agents to every node; beta's reload cannot
    be sent. At beta's login nothing new is rendered, yet PJSIP is reloaded there."""
    (tmp_path / "pbx" / "etc" / "generated").mkdir(parents=True)
    publisher = PbxConfigPublisher(Settings(state_dir=tmp_path), _layout(tmp_path), Link("beta"))
    link = publisher.ami
    assert isinstance(link, Link)
    link.up = False
    account = SipAccount(username="bob", ha1="0" * 32, display_name="Bob", extension="2001")
    with pytest.raises(AmiNotConnected):
        asyncio.run(publisher.publish_agents([account]))
    link.up = True
    asyncio.run(publisher.publish_agents([account]))  # the same file: reloaded all the same
    asyncio.run(publisher.publish_agents([account]))  # done: nothing more
    assert [h.get("Module") for name, h in link.sent if name == "Reload"] == ["res_pjsip.so"]


def _layout(root: Path) -> PbxLayout:
    return PbxLayout(
        host_dir=root / "pbx", inner_dir=str(root / "pbx"), mod_dir="/usr/lib/asterisk/modules",
        data_dir="/usr/share/asterisk", run_user="nobody", uid=os.getuid(), gid=os.getgid(),
    )  # fmt: skip
