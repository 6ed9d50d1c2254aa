"""One AMI link per node (adapters/ami/nodes.py): events tagged with their node, each
action to the node it concerns; the FastAGI allow-list; which node an agent is on."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from callcenter.adapters.agi.callback_routes import CallbackRoutes
from callcenter.adapters.agi.server import FastAgiServer
from callcenter.adapters.ami.client import AmiClient, AmiNotConnected, AmiResponse
from callcenter.adapters.ami.commands import AmiPbx
from callcenter.adapters.ami.nodes import NodeLinks, node_of_unique_id
from callcenter.adapters.ami.parse import parse_event
from callcenter.config import AgiSettings, AmiSettings
from callcenter.core import pbx_events as ev
from callcenter.core.dialplan import Status
from callcenter.core.nodes import agent_node
from callcenter.services.callbacks.dialer import Answer


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
