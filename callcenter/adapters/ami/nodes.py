"""One AMI link per Asterisk node ([[pbx.nodes]]), seen by the rest of the controller
as one link (the AmiClient's shape): events from every node, each tagged with its
node; each action sent to the node it concerns.

Which node an action goes to:
- ``Channel`` names a channel: the node that reported it (Newchannel, the channel
  list); an Originate's ``PJSIP/<endpoint>``: the node the phone is registered on;
  an Originate of a number through a trunk: the node the caller chose with
  ``pick_node`` (the least busy node that is up), sent with ``action_on``;
- ``UniqueID``: the node whose system name starts it (each node's ``systemname``
  is its name, so its unique ids are ``<node>-<epoch>.<n>``);
- a global variable, a reload, queue membership: every node;
- anything else: the first node.
A node whose link is down fails its own actions (AmiNotConnected); the others go on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from callcenter.adapters.ami.client import AmiClient, AmiError, AmiNotConnected, AmiResponse
from callcenter.core import pbx_events as ev
from callcenter.core.nodes import pick_node

log = logging.getLogger(__name__)

E = TypeVar("E", bound=ev.AmiEvent)
ConnectHook = Callable[[], Awaitable[None]]

# Actions every node takes (no channel): globals, reloads, the plain queues' members.
_EVERY_NODE = {"Reload", "QueueReload", "QueueAdd", "QueueRemove", "QueuePause"}
# Actions whose answer is a list: the lists of every node, together.
_LISTS = {"CoreShowChannels", "QueueStatus"}
# An Originate sent whose channel has not shown yet counts as a call on its node
# for this long at most (Asterisk reports the channel within milliseconds).
PENDING_SECONDS = 10.0


def node_of_unique_id(unique_id: str) -> str:
    """The node a unique id comes from (``<systemname>-<epoch>.<n>``), or ''."""
    name, dash, _rest = unique_id.rpartition("-")
    return name if dash else ""


class NodeLinks:
    """The AMI links to every node, with AmiClient's interface."""

    def __init__(self, links: Iterable[AmiClient], phones_via_proxy: bool = False) -> None:
        """``phones_via_proxy``: the agents' phones register with Kamailio, which copies
        each registration to every node ([kamailio] phones): any node rings any phone."""
        self.phones_via_proxy = phones_via_proxy
        self.links = {link.node: link for link in links}
        if not self.links or "" in self.links:
            raise ValueError("every node link needs its node's name")
        self.first = next(iter(self.links.values()))
        self.settings = self.first.settings
        # What the controller has learnt about where things are.
        self.channel_nodes: dict[str, str] = {}  # channel name -> node
        self.endpoint_nodes: dict[str, str] = {}  # agent endpoint -> node its phone is on
        # Originates placed by pick_node whose channel has not shown: id -> (node, when).
        self.pending: dict[str, tuple[str, float]] = {}
        self.last_pick = ""
        self.clock: Callable[[], float] = time.monotonic
        # Always-connected agents' lines (cc-nailed's CcNailedUp): agent -> (node, channel).
        self.line_nodes: dict[str, tuple[str, str]] = {}
        for link in self.links.values():
            # Subscribed before anything else: the maps are up to date for every handler.
            link.subscribe(ev.Newchannel, self._on_new_channel)
            link.subscribe(ev.Hangup, self._on_hangup)
            link.subscribe(ev.ContactStatus, self._on_contact)
            link.subscribe(ev.OriginateResponse, self._on_originate_response)
            link.subscribe(ev.UserEvent, self._on_user_event)

    # -- where things are ---------------------------------------------------------------
    @property
    def node_names(self) -> list[str]:
        return list(self.links)

    def node_of_channel(self, channel: str) -> str:
        return self.channel_nodes.get(channel, "")

    def node_of_endpoint(self, endpoint: str) -> str:
        return self.endpoint_nodes.get(endpoint, "")

    def via(self, node: str, agent: str) -> str:
        """The trunk from ``node`` to the node ``agent``'s phone is on ('' if the same).
        An always-connected agent: to the node their line waits on (cc-internode there
        bridges the caller to it), whatever the phones' mode."""
        line = self.line_nodes.get(agent)
        if line is not None:
            there = line[0]
        elif self.phones_via_proxy:
            return ""  # every node rings every phone through Kamailio
        else:
            there = self.endpoint_nodes.get(agent, "")
        return f"node-{there}" if node and there and there != node else ""

    def load(self) -> dict[str, int]:
        """The calls on each node: its channels, and the Originates not yet seen."""
        now = self.clock()
        self.pending = {
            key: (node, at) for key, (node, at) in self.pending.items()
            if now - at < PENDING_SECONDS
        }  # fmt: skip
        load = dict.fromkeys(self.links, 0)
        for node in [*self.channel_nodes.values(), *(n for n, _ in self.pending.values())]:
            if node in load:
                load[node] += 1
        return load

    def pick_node(self) -> str:
        """The node for the next outgoing call (a campaign's customer): of the nodes
        whose link is up, the one with the fewest calls; ties round robin. '' if none."""
        node = pick_node(self.node_names, self.connected_nodes(), self.load(), self.last_pick)
        self.last_pick = node or self.last_pick
        return node

    def originating(self, node: str, channel_id: str) -> None:
        """An Originate with this channel id is being sent to ``node``."""
        self.pending[channel_id] = (node, self.clock())

    def node_beside(self, channel: str, endpoint: str) -> str:
        """The node to place a call to ``endpoint`` from so that it can be bridged with
        ``channel`` (a consultation's target beside the agent's leg): ``channel``'s own
        node when that node can reach ``endpoint`` (a number through a trunk, which every
        node has; a phone behind Kamailio), else '' (where the phone registered)."""
        node = self.channel_nodes.get(channel, "")
        if not node or not self.links[node].connected:
            return ""
        if "@" in endpoint or self.phones_via_proxy:
            return node
        return ""

    def saw_contact(self, node: str, endpoint: str, status: str) -> None:
        """A phone's contact on ``node`` (an event, or read at resynchronisation)."""
        if status == "Removed":
            if self.endpoint_nodes.get(endpoint) == node:
                del self.endpoint_nodes[endpoint]
            return
        self.endpoint_nodes[endpoint] = node

    def _phone_node(self, endpoint: str) -> str:
        """The node to ring ``endpoint`` from: where its phone registered; behind
        Kamailio, any node whose link is up reaches it (that one first)."""
        node = self.endpoint_nodes.get(endpoint, self.first.node)
        if self.phones_via_proxy and not self.links[node].connected:
            return next((n for n, link in self.links.items() if link.connected), node)
        return node

    def _on_new_channel(self, event: ev.Newchannel) -> None:
        self.channel_nodes[event.channel] = event.node
        self.pending.pop(event.unique_id, None)

    def _on_hangup(self, event: ev.Hangup) -> None:
        if self.channel_nodes.get(event.channel) == event.node:
            del self.channel_nodes[event.channel]
        for agent, line in list(self.line_nodes.items()):
            if line == (event.node, event.channel):
                del self.line_nodes[agent]

    def _on_user_event(self, event: ev.UserEvent) -> None:
        if event.user_event == "CcNailedUp" and event.get("Agent"):
            self.line_nodes[event.get("Agent")] = (event.node, event.channel)

    def _on_originate_response(self, event: ev.OriginateResponse) -> None:
        self.pending.pop(event.action_id, None)  # the channel is listed, or never was

    def _on_contact(self, event: ev.ContactStatus) -> None:
        endpoint = event.agent
        log.debug("node %s: contact of %s %s", event.node, endpoint, event.contact_status)
        if endpoint:
            self.saw_contact(event.node, endpoint, event.contact_status)

    def _node_for(self, name: str, headers: dict[str, Any]) -> str:
        channel = str(headers.get("Channel", ""))
        if channel:
            if name == "Originate":
                endpoint = channel.removeprefix("PJSIP/")
                if "@" not in endpoint and "/" not in endpoint:
                    return self._phone_node(endpoint)
                return self.first.node  # a number through a trunk: the first node's
            return self.channel_nodes.get(channel) or self.first.node
        unique = node_of_unique_id(str(headers.get("UniqueID", "")))
        if unique in self.links:
            return unique
        return self.first.node

    # -- wiring (as AmiClient) ----------------------------------------------------------
    def subscribe(
        self, event_type: type[E], handler: Callable[[E], Awaitable[None] | None]
    ) -> None:
        for link in self.links.values():
            link.subscribe(event_type, handler)

    def subscribe_all(self, handler: Callable[[ev.AmiEvent], Awaitable[None] | None]) -> None:
        for link in self.links.values():
            link.subscribe_all(handler)

    def on_connected(self, hook: ConnectHook) -> None:
        """Run ``hook`` after every (re)login of any node."""
        for link in self.links.values():
            link.on_connected(hook)

    # -- life ---------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """Some node's link is up (each node's own state: ``connected_nodes``)."""
        return any(link.connected for link in self.links.values())

    def connected_nodes(self) -> dict[str, bool]:
        return {name: link.connected for name, link in self.links.items()}

    def on_link_change(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` when any node's link logs in or is lost (the wallboard)."""
        for link in self.links.values():
            link.on_link_change(hook)

    @property
    def logins(self) -> int:
        return sum(link.logins for link in self.links.values())

    @property
    def last_ping_rtt(self) -> float | None:
        rtts = [link.last_ping_rtt for link in self.links.values() if link.last_ping_rtt]
        return max(rtts) if rtts else None

    async def start(self) -> None:
        for link in self.links.values():
            await link.start()

    async def wait_connected(self, timeout: float) -> None:
        """Every node logged in and resynchronised."""
        await asyncio.wait_for(
            asyncio.gather(*(link.wait_connected(timeout) for link in self.links.values())),
            timeout,
        )

    async def stop(self) -> None:
        for link in self.links.values():
            await link.stop()

    def drop_link(self) -> None:
        for link in self.links.values():
            link.drop_link()

    # -- actions ------------------------------------------------------------------------
    async def action_on(
        self, node: str, name: str, timeout: float | None = None, **headers: Any
    ) -> AmiResponse:
        return await self.links[node].action(name, timeout, **headers)

    async def action(self, name: str, timeout: float | None = None, **headers: Any) -> AmiResponse:
        if name in _EVERY_NODE or (name == "Setvar" and "Channel" not in headers):
            return await self._every_node(name, timeout, headers)
        return await self.links[self._node_for(name, headers)].action(name, timeout, **headers)

    async def _every_node(
        self, name: str, timeout: float | None, headers: dict[str, Any]
    ) -> AmiResponse:
        """Sent to every connected node at once; the first answer, unless every node
        failed. A node that was down: the heartbeat comes again within a second, the
        agents' endpoints and pending reloads are published at its login; plain-queue
        membership is not re-sent to it (docs/SCALING.md, limits)."""
        links = {name: link for name, link in self.links.items() if link.connected}
        if not links:
            raise AmiNotConnected(f"no node is connected ({name} not sent)")
        results = await asyncio.gather(
            *(link.action(name, timeout, **headers) for link in links.values()),
            return_exceptions=True,
        )
        answers = [r for r in results if isinstance(r, AmiResponse)]
        for node, result in zip(links, results, strict=True):
            if isinstance(result, BaseException) and not isinstance(result, AmiError):
                raise result
            if isinstance(result, AmiError) and answers:
                log.info("%s on node %s: %s", name, node, result)
        if answers:
            return answers[0]
        failed = [r for r in results if isinstance(r, AmiError)]
        raise failed[0] if failed else AmiNotConnected(f"no node took {name}")

    async def action_list(
        self, name: str, timeout: float | None = None, **headers: Any
    ) -> AmiResponse:
        if name not in _LISTS:
            node = self._node_for(name, headers)
            return await self.links[node].action_list(name, timeout, **headers)
        answers = []
        for link in self.links.values():
            if link.connected:
                answers.append(await link.action_list(name, timeout, **headers))
        if not answers:
            raise AmiNotConnected(f"no node is connected ({name} not sent)")
        events = [item for answer in answers for item in answer.events]
        if name == "CoreShowChannels":  # the whole picture: where each channel is
            self.channel_nodes = {
                item.channel: item.node for item in events if isinstance(item, ev.CoreShowChannel)
            }
        return AmiResponse(all(a.success for a in answers), answers[0].headers, events)

    async def reload_module(self, module: str, timeout: float | None = None) -> None:
        await self.action("Reload", timeout, Module=module)

    async def command(self, cli: str, timeout: float | None = None) -> str:
        return await self.first.command(cli, timeout)

    async def ping(self, timeout: float | None = None) -> float:
        return max([await link.ping(timeout) for link in self.links.values()])


# The controller's AMI: one link (a single box) or one per node.
AmiLink = AmiClient | NodeLinks
