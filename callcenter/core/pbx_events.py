"""The AMI event table: every Asterisk event the controller consumes, typed.

This is the one place that names AMI events and their headers. Parsing lives
in the AMI adapter (adapters/ami/parse.py); everything past it sees these
frozen dataclasses, never a raw panoramisk ``Message``.
A field's header is its name without underscores, compared case-insensitively
and ignoring ``-`` (``cause_txt`` reads ``Cause-txt``); ``header(...)`` names
it explicitly where that rule does not fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from callcenter.core.sip_auth import PROXY_ENDPOINT

Headers = Mapping[str, "str | list[str]"]


def norm(key: str) -> str:
    return key.lower().replace("-", "").replace("_", "")


def header(name: str, default: Any = "") -> Any:
    return field(default=default, metadata={"header": name})


@dataclass(frozen=True, slots=True, kw_only=True)
class AmiEvent:
    event: ClassVar[str] = ""
    # Every header as received (normalised keys), for logs and rare fields.
    raw: Mapping[str, str | list[str]] = field(default_factory=dict, repr=False, compare=False)
    # The Asterisk node it came from ([[pbx.nodes]]); empty on a single box.
    node: str = field(default="", compare=False)

    def get(self, key: str, default: str = "") -> str:
        value = self.raw.get(norm(key), default)
        return value[-1] if isinstance(value, list) else value


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelEvent(AmiEvent):
    """Events carrying Asterisk's standard channel snapshot."""

    channel: str = ""
    channel_state: int = 0
    channel_state_desc: str = ""
    caller_id_num: str = ""
    caller_id_name: str = ""
    connected_line_num: str = ""
    connected_line_name: str = ""
    context: str = ""
    exten: str = ""
    priority: int = 0
    unique_id: str = ""
    linked_id: str = ""


# -- connection life ---------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class FullyBooted(AmiEvent):
    event = "FullyBooted"
    status: str = ""
    uptime: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Shutdown(AmiEvent):
    event = "Shutdown"
    shutdown: str = ""
    restart: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Reload(AmiEvent):
    event = "Reload"
    module: str = ""
    status: str = ""


# -- channels ------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Newchannel(ChannelEvent):
    event = "Newchannel"


@dataclass(frozen=True, slots=True, kw_only=True)
class Newstate(ChannelEvent):
    event = "Newstate"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewCallerid(ChannelEvent):
    event = "NewCallerid"


@dataclass(frozen=True, slots=True, kw_only=True)
class Hangup(ChannelEvent):
    event = "Hangup"
    cause: int = 0
    cause_txt: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CoreShowChannel(ChannelEvent):
    """One row of the CoreShowChannels list (resynchronisation)."""

    event = "CoreShowChannel"
    application: str = ""
    application_data: str = ""
    duration: str = ""
    bridge_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DialBegin(ChannelEvent):
    event = "DialBegin"
    dest_channel: str = ""
    dest_unique_id: str = ""
    dest_caller_id_num: str = ""
    dial_string: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DialEnd(ChannelEvent):
    event = "DialEnd"
    dest_channel: str = ""
    dest_unique_id: str = ""
    dial_status: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeEnter(ChannelEvent):
    event = "BridgeEnter"
    bridge_unique_id: str = ""
    bridge_num_channels: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeLeave(ChannelEvent):
    event = "BridgeLeave"
    bridge_unique_id: str = ""
    bridge_num_channels: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class DTMFEnd(ChannelEvent):
    event = "DTMFEnd"
    digit: str = ""
    duration_ms: int = 0
    direction: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class UserEvent(ChannelEvent):
    """``UserEvent(Name,key: value)`` from the dialplan; fields via ``get``."""

    event = "UserEvent"
    user_event: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentComplete(ChannelEvent):
    """Asterisk's queue (the fallback) ended a member's call; ``reason`` is who hung up
    (caller, agent or transfer). The channel snapshot is the caller's."""

    event = "AgentComplete"
    queue: str = ""
    member_name: str = ""
    reason: str = ""
    talk_time: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class OriginateResponse(AmiEvent):
    event = "OriginateResponse"
    action_id: str = ""
    response: str = ""
    channel: str = ""
    unique_id: str = ""
    reason: int = 0


# -- devices and endpoints ---------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceStateChange(AmiEvent):
    event = "DeviceStateChange"
    device: str = ""
    state: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactStatus(AmiEvent):
    event = "ContactStatus"
    uri: str = ""
    contact_status: str = ""
    aor: str = ""
    endpoint_name: str = ""

    @property
    def agent(self) -> str:
        """The agent's endpoint the contact is for: a registration Kamailio copied
        arrives on its own endpoint, for the agent its AOR names."""
        if self.endpoint_name == PROXY_ENDPOINT:
            return self.aor
        return self.endpoint_name or self.aor


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactList(AmiEvent):
    """One row of PJSIPShowContacts (resynchronisation)."""

    event = "ContactList"
    uri: str = ""
    aor: str = header("Aor")
    endpoint: str = ""
    status: str = ""


# -- recording -------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class MixMonitorStart(ChannelEvent):
    event = "MixMonitorStart"


@dataclass(frozen=True, slots=True, kw_only=True)
class MixMonitorStop(ChannelEvent):
    event = "MixMonitorStop"


@dataclass(frozen=True, slots=True, kw_only=True)
class MixMonitorMute(ChannelEvent):
    event = "MixMonitorMute"
    direction: str = ""
    state: str = ""


EVENTS: dict[str, type[AmiEvent]] = {
    cls.event: cls
    for cls in (
        FullyBooted,
        Shutdown,
        Reload,
        Newchannel,
        Newstate,
        NewCallerid,
        Hangup,
        CoreShowChannel,
        DialBegin,
        DialEnd,
        BridgeEnter,
        BridgeLeave,
        DTMFEnd,
        UserEvent,
        AgentComplete,
        OriginateResponse,
        DeviceStateChange,
        ContactStatus,
        ContactList,
        MixMonitorStart,
        MixMonitorStop,
        MixMonitorMute,
    )
}
