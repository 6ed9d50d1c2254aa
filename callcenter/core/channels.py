"""The controller's picture of Asterisk's channels and phones (pure, no I/O).

Fed by events while the AMI link is up; replaced wholesale by a snapshot
after every (re)connect, because events sent while the link was down are
gone (LAB.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

# Contact statuses that mean the phone cannot be reached (pjsip_options.c and
# the contact life cycle); anything else counts as registered.
GONE = frozenset({"Removed", "Unreachable", "NonQualified-Removed", "Unavailable"})

_PJSIP_CHANNEL = re.compile(r"^PJSIP/(?P<endpoint>[^/]+)-[0-9a-f]+$")


def endpoint_of(channel: str) -> str | None:
    """``PJSIP/agent1-0000002a`` -> ``agent1``; None for other technologies."""
    match = _PJSIP_CHANNEL.match(channel)
    return match.group("endpoint") if match else None


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
        self._contacts: dict[str, dict[str, str]] = {}  # endpoint -> contact URI -> status

    # -- channels --------------------------------------------------------------
    def upsert(self, channel: Channel) -> None:
        old = self._channels.get(channel.unique_id)
        if old is not None and not channel.bridge_id:
            channel = replace(channel, bridge_id=old.bridge_id)
        self._channels[channel.unique_id] = channel

    def set_bridge(self, unique_id: str, bridge_id: str) -> None:
        old = self._channels.get(unique_id)
        if old is not None:
            self._channels[unique_id] = replace(old, bridge_id=bridge_id)

    def remove(self, unique_id: str) -> Channel | None:
        return self._channels.pop(unique_id, None)

    def replace_channels(self, channels: Iterable[Channel]) -> None:
        self._channels = {channel.unique_id: channel for channel in channels}

    def get(self, unique_id: str) -> Channel | None:
        return self._channels.get(unique_id)

    def channels(self) -> list[Channel]:
        return list(self._channels.values())

    def on_endpoint(self, endpoint: str) -> list[Channel]:
        return [c for c in self._channels.values() if c.endpoint == endpoint]

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
