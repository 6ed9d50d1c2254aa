"""Keeps the ChannelTable in step with Asterisk: events, then a full re-read
after every AMI login (events sent while the link was down are lost)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace

from callcenter.adapters.ami.client import AmiClient, AmiError, AmiNotConnected, AmiTimeout
from callcenter.adapters.ami.nodes import NodeLinks
from callcenter.core import pbx_events as ev
from callcenter.core.channels import Channel, ChannelTable, endpoint_of

log = logging.getLogger(__name__)


def _channel(event: ev.ChannelEvent) -> Channel:
    return Channel(
        unique_id=event.unique_id,
        name=event.channel,
        state=event.channel_state_desc,
        caller_num=event.caller_id_num,
        linked_id=event.linked_id,
    )


class PbxView:
    def __init__(
        self, ami: AmiClient | NodeLinks, endpoints: Callable[[], Iterable[str]] = lambda: ()
    ) -> None:
        self.ami = ami
        self._endpoints = endpoints  # the agents' PJSIP endpoints, re-read on each resync
        self.table = ChannelTable()
        self.resyncs = 0
        self.last_resync: float | None = None
        self._endpoint_listeners: list[Callable[[str], Awaitable[None]]] = []
        self._resync_listeners: list[Callable[[], Awaitable[None]]] = []
        # While a re-read is under way: what events said of each channel meanwhile (the
        # channel as last seen; None: hung up). The read's list may predate them.
        self._meanwhile: dict[str, Channel | None] | None = None
        self._bridges: dict[str, str] | None = None  # and the bridges they entered or left

    def on_endpoint_change(self, listener: Callable[[str], Awaitable[None]]) -> None:
        """Called when a phone's channels or registration change (it may have become free)."""
        self._endpoint_listeners.append(listener)

    def on_resync(self, listener: Callable[[], Awaitable[None]]) -> None:
        """Called after each full re-read of Asterisk, in registration order."""
        self._resync_listeners.append(listener)

    async def _endpoint_changed(self, endpoint: str | None) -> None:
        if endpoint:
            for listener in self._endpoint_listeners:
                await listener(endpoint)

    def _note(self, unique_id: str) -> None:
        """During a re-read: the channel as events leave it (None: hung up)."""
        if self._meanwhile is not None:
            self._meanwhile[unique_id] = self.table.get(unique_id)

    def on_channel(self, event: ev.ChannelEvent) -> None:
        self.table.upsert(_channel(event))
        self._note(event.unique_id)

    def on_new_channel(self, event: ev.Newchannel) -> Awaitable[None]:
        self.table.upsert(_channel(event))
        self._note(event.unique_id)
        return self._endpoint_changed(endpoint_of(event.channel))

    def on_hangup(self, event: ev.Hangup) -> Awaitable[None]:
        self.table.remove(event.unique_id)
        self._note(event.unique_id)
        return self._endpoint_changed(endpoint_of(event.channel))

    def _set_bridge(self, unique_id: str, bridge_id: str) -> None:
        self.table.set_bridge(unique_id, bridge_id)
        if self._bridges is not None:
            self._bridges[unique_id] = bridge_id

    def on_bridge_enter(self, event: ev.BridgeEnter) -> None:
        self._set_bridge(event.unique_id, event.bridge_unique_id)

    def on_bridge_leave(self, event: ev.BridgeLeave) -> None:
        self._set_bridge(event.unique_id, "")

    def on_contact(self, event: ev.ContactStatus) -> Awaitable[None]:
        endpoint = event.agent
        self.table.set_contact(endpoint, event.contact_status, event.uri)
        return self._endpoint_changed(endpoint)

    async def _function(self, expression: str, node: str = "") -> str:
        if node and isinstance(self.ami, NodeLinks):
            response = await self.ami.action_on(node, "Getvar", Variable=expression)
        else:
            response = await self.ami.action("Getvar", Variable=expression)
        return str(response.get("value") or "")

    async def _contacts(self, endpoint: str) -> list[tuple[str, str, str]]:
        """An agent's contacts as (endpoint, status, URI), read with dialplan functions
        over ``Getvar`` (the ``call`` right): PJSIPShowContacts would need ``system``.
        Several nodes: each connected node's, and where the phone is is noted."""
        if not isinstance(self.ami, NodeLinks):
            return await self._contacts_on("", endpoint)
        found = []
        for node, up in self.ami.connected_nodes().items():
            if up:
                for contact in await self._contacts_on(node, endpoint):
                    self.ami.saw_contact(node, endpoint, contact[1])
                    found.append(contact)
        return found

    async def _contacts_on(self, node: str, endpoint: str) -> list[tuple[str, str, str]]:
        try:
            names = await self._function(f"PJSIP_AOR({endpoint},contact)", node)
            found = []
            for name in filter(None, (n.strip() for n in names.split(","))):
                status = await self._function(f"PJSIP_CONTACT({name},status)", node)
                uri = await self._function(f"PJSIP_CONTACT({name},uri)", node)
                found.append((endpoint, status, uri))
            return found
        except (AmiNotConnected, AmiTimeout):
            raise
        except AmiError as exc:  # no such AOR (an agent not published yet)
            log.info("contacts of %s not read: %s", endpoint, exc)
            return []

    async def resync(self) -> None:
        self._meanwhile, self._bridges = {}, {}
        try:
            channels = await self.ami.action_list("CoreShowChannels")
            snapshot = []
            for item in channels.events:
                if isinstance(item, ev.CoreShowChannel):
                    snapshot.append(replace(_channel(item), bridge_id=item.bridge_id))
            self.table.replace_channels(snapshot)
            # Channels that came or went while the list was read and sent: events are
            # newer than the list (a phone hanging up as a standby takes over would stay
            # in the table for good, its agent never offered another call).
            for unique_id, channel in self._meanwhile.items():
                if channel is None:
                    self.table.remove(unique_id)
                else:  # its bridge: the list's, unless a bridge event said otherwise
                    self.table.upsert(replace(channel, bridge_id=""))
            for unique_id, bridge_id in self._bridges.items():
                self.table.set_bridge(unique_id, bridge_id)
        finally:
            self._meanwhile = self._bridges = None
        contacts = [contact for name in self._endpoints() for contact in await self._contacts(name)]
        self.table.replace_contacts({})  # then each contact by its URI, as events name them
        for endpoint, status, uri in contacts:
            self.table.set_contact(endpoint, status, uri)
        found = self.table.registered_endpoints()
        self.resyncs += 1
        self.last_resync = time.time()
        log.info("resynchronised: %d channels, %d registered phones", len(snapshot), len(found))
        for listener in self._resync_listeners:
            try:
                await listener()
            except Exception:
                log.exception("after-resync listener %r failed", listener)
