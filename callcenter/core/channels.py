"""The controller's picture of Asterisk's channels and phones (pure, no I/O).

Fed by events while the AMI link is up; replaced wholesale by a snapshot
after every (re)connect, because events sent while the link was down are
gone (LAB.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from callcenter.core.acd.fallback import line_member_agent

# Contact statuses that mean the phone cannot be reached (pjsip_options.c and
# the contact life cycle); anything else counts as registered.
GONE = frozenset({"Removed", "Unreachable", "NonQualified-Removed", "Unavailable"})

_PJSIP_CHANNEL = re.compile(r"^PJSIP/(?P<endpoint>[^/]+)-[0-9a-f]+$")


def endpoint_of(channel: str) -> str | None:
    """``PJSIP/agent1-0000002a`` -> ``agent1``; a fallback queue's way to an always-
    connected agent's line (``Local/agent1@cc-fallback-line-0000001a;1``, core/acd/
    fallback.py) is that agent's too; None for other channels."""
    match = _PJSIP_CHANNEL.fullmatch(channel)
    if match:
        return match.group("endpoint")
    return line_member_agent(channel) if channel.startswith("Local/") else None


@dataclass(frozen=True, slots=True)
class Channel:
    unique_id: str
    name: str
    state: str
    caller_num: str = ""
    linked_id: str = ""
    bridge_id: str = ""

    @property
    def endpoint(self) -> str | None:
        return endpoint_of(self.name)


class ChannelTable:
    def __init__(self) -> None:
        self._channels: dict[str, Channel] = {}
        # endpoint -> unique ids of its channels (insertion-ordered): asked on every
        # routing decision, so not a scan of every channel.
        self._by_endpoint: dict[str, dict[str, None]] = {}
        self._contacts: dict[str, dict[str, str]] = {}  # endpoint -> contact URI -> status

    # -- channels --------------------------------------------------------------
    def upsert(self, channel: Channel) -> None:
        old = self._channels.get(channel.unique_id)
        if old is not None and not channel.bridge_id:
            channel = replace(channel, bridge_id=old.bridge_id)
        if old is not None and old.endpoint != channel.endpoint:
            self._unindex(old)
        self._channels[channel.unique_id] = channel
        self._index(channel)

    def set_bridge(self, unique_id: str, bridge_id: str) -> None:
        old = self._channels.get(unique_id)
        if old is not None:
            self._channels[unique_id] = replace(old, bridge_id=bridge_id)

    def remove(self, unique_id: str) -> Channel | None:
        channel = self._channels.pop(unique_id, None)
        if channel is not None:
            self._unindex(channel)
        return channel

    def replace_channels(self, channels: Iterable[Channel]) -> None:
        self._channels = {channel.unique_id: channel for channel in channels}
        self._by_endpoint = {}
        for channel in self._channels.values():
            self._index(channel)

    def _index(self, channel: Channel) -> None:
        endpoint = channel.endpoint
        if endpoint is not None:
            self._by_endpoint.setdefault(endpoint, {})[channel.unique_id] = None

    def _unindex(self, channel: Channel) -> None:
        endpoint = channel.endpoint
        if endpoint is None or endpoint not in self._by_endpoint:
            return
        ids = self._by_endpoint[endpoint]
        ids.pop(channel.unique_id, None)
        if not ids:
            del self._by_endpoint[endpoint]

    def get(self, unique_id: str) -> Channel | None:
        return self._channels.get(unique_id)

    def channels(self) -> list[Channel]:
        return list(self._channels.values())

    def in_bridge(self, bridge_id: str) -> list[Channel]:
        """The channels in a bridge (a few; the table is scanned)."""
        if not bridge_id:
            return []
        return [c for c in self._channels.values() if c.bridge_id == bridge_id]

    def on_endpoint(self, endpoint: str) -> list[Channel]:
        """The endpoint's channels (in no particular order)."""
        ids = self._by_endpoint.get(endpoint)
        return [self._channels[u] for u in ids] if ids else []

    # -- phones ------------------------------------------------------------------
    def set_contact(self, endpoint: str, status: str, uri: str = "") -> None:
        # A phone that registers again from a new contact URI (baresip picks a new
        # one each start) leaves the old contact to be removed or to fail its
        # qualify later: only that contact is gone, not the phone.
        contacts = self._contacts.setdefault(endpoint, {})
        if status in GONE:
            contacts.pop(uri, None)
        else:
            contacts[uri] = status
        if not contacts:
            del self._contacts[endpoint]

    def replace_contacts(self, contacts: dict[str, str]) -> None:
        """Every contact at once: endpoint -> status (one contact each)."""
        self._contacts = {e: {"": s} for e, s in contacts.items() if s not in GONE}

    def registered(self, endpoint: str) -> bool:
        return endpoint in self._contacts

    def registered_endpoints(self) -> set[str]:
        return set(self._contacts)

    def idle(self, endpoint: str) -> bool:
        """Registered and with no channel at all (ringing, talking or held)."""
        return self.registered(endpoint) and not self.on_endpoint(endpoint)
