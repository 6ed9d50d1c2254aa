"""The Pbx port over AMI: each service-level command is one or two AMI actions."""

from __future__ import annotations

import logging
from collections.abc import Callable

from callcenter.adapters.ami.client import AmiError, AmiNotConnected, AmiTimeout
from callcenter.adapters.ami.nodes import AmiLink, NodeLinks
from callcenter.core import pbx_events as ev
from callcenter.core.dialplan import Context, Var
from callcenter.services.ports import (
    LiveChannel,
    OriginateUncertain,
    Origination,
    PbxUnavailable,
    QueueMember,
)

log = logging.getLogger(__name__)


class AmiPbx:
    def __init__(self, ami: AmiLink) -> None:
        self.ami = ami
        # The standby's fence (callcenter/standby.py): a controller that may not act
        # sends Asterisk nothing that changes a call.
        self.may_act: Callable[[], bool] = lambda: True

    def _fence(self, name: str) -> None:
        if not self.may_act():
            raise PbxUnavailable(f"not the active controller ({name} not sent)")

    async def _do(self, name: str, **headers: str) -> None:
        self._fence(name)
        try:
            await self.ami.action(name, None, **headers)
        except (AmiNotConnected, AmiTimeout) as exc:
            raise PbxUnavailable(str(exc)) from exc

    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> None:
        if context == Context.CONNECT and isinstance(self.ami, NodeLinks):
            # Several nodes: an agent whose phone is on another node is rung over the trunk.
            await self.set_var(channel, Var.VIA.value, self.via(channel, exten))
        await self._do(
            "Redirect", Channel=channel, Context=context, Exten=exten, Priority=str(priority)
        )

    def via(self, channel: str, agent: str) -> str:
        """The inter-node trunk that reaches ``agent``'s phone from ``channel``'s node
        ('' when it is on the same node, or on a single box)."""
        if not isinstance(self.ami, NodeLinks):
            return ""
        return self.ami.via(self.ami.node_of_channel(channel), agent)

    async def redirect_both(
        self, channel: str, context: str, extra_channel: str, extra_context: str
    ) -> None:
        try:
            await self._do(
                "Redirect",
                Channel=channel,
                Context=context,
                Exten="s",
                Priority="1",
                ExtraChannel=extra_channel,
                ExtraContext=extra_context,
                ExtraExten="s",
                ExtraPriority="1",
            )
        except AmiError as exc:  # a leg already gone: the caller's request fails
            raise PbxUnavailable(str(exc)) from exc

    async def set_var(self, channel: str, name: str, value: str) -> None:
        await self._do("Setvar", Channel=channel, Variable=name, Value=value)

    async def get_var(self, channel: str, name: str) -> str | None:
        try:
            response = await self.ami.action("Getvar", Channel=channel, Variable=name)
        except AmiError:
            return None
        return response.get("value") or None

    async def set_global(self, name: str, value: str) -> None:
        await self._do("Setvar", Variable=name, Value=value)

    async def hangup(self, channel: str) -> None:
        self._fence("Hangup")
        try:
            await self.ami.action("Hangup", Channel=channel, Cause="16")
        except AmiError as exc:
            log.info("hangup %s: %s", channel, exc)

    async def channels(self) -> list[LiveChannel]:
        try:
            response = await self.ami.action_list("CoreShowChannels")
        except (AmiNotConnected, AmiTimeout) as exc:
            raise PbxUnavailable(str(exc)) from exc
        return [
            LiveChannel(
                unique_id=item.unique_id,
                name=item.channel,
                state=item.channel_state_desc,
                context=item.context,
                exten=item.exten,
                application=item.application,
                caller_num=item.caller_id_num,
                linked_id=item.linked_id,
                bridge_id=item.bridge_id,
                node=item.node,
            )
            for item in response.events
            if isinstance(item, ev.CoreShowChannel)
        ]

    async def queue_members(self, queue: str) -> list[QueueMember]:
        try:
            response = await self.ami.action_list("QueueStatus", Queue=queue)
        except (AmiNotConnected, AmiTimeout) as exc:
            raise PbxUnavailable(str(exc)) from exc
        members = []
        for item in response.events:
            if isinstance(item, dict) and item.get("event") == "QueueMember":
                members.append(
                    QueueMember(
                        interface=str(item.get("stateinterface") or item.get("location", "")),
                        name=str(item.get("name", "")),
                        paused=str(item.get("paused", "0")) == "1",
                    )
                )
        return members

    async def queue_add(self, queue: str, interface: str, name: str, paused: bool) -> None:
        self._fence("QueueAdd")
        try:
            await self.ami.action(
                "QueueAdd",
                Queue=queue,
                Interface=interface,
                MemberName=name,
                StateInterface=interface,
                Paused="true" if paused else "false",
            )
        except AmiError as exc:
            if "Already there" not in str(exc):
                raise PbxUnavailable(str(exc)) from exc

    async def queue_remove(self, queue: str, interface: str) -> None:
        self._fence("QueueRemove")
        try:
            await self.ami.action("QueueRemove", Queue=queue, Interface=interface)
        except AmiError as exc:
            if "Not there" not in str(exc):
                raise PbxUnavailable(str(exc)) from exc

    async def queue_pause(self, queue: str, interface: str, paused: bool, reason: str) -> None:
        await self._do(
            "QueuePause",
            Queue=queue,
            Interface=interface,
            Paused="true" if paused else "false",
            Reason=reason,
        )

    async def queue_log(
        self, queue: str, unique_id: str, agent: str, event: str, fields: list[str]
    ) -> None:
        # One line of Asterisk's standard queue_log, for the reporting tools that read it.
        await self._do(
            "QueueLog",
            Queue=queue,
            UniqueID=unique_id or "NONE",
            Interface=agent or "NONE",
            Event=event,
            Message="|".join(f.replace("|", "/") for f in fields),
        )

    async def mute_recording(self, channel: str, muted: bool) -> None:
        await self._do(
            "MixMonitorMute", Channel=channel, Direction="both", State="1" if muted else "0"
        )

    async def reload(self, module: str) -> None:
        try:
            await self.ami.reload_module(module)
        except (AmiNotConnected, AmiTimeout, AmiError) as exc:
            raise PbxUnavailable(str(exc)) from exc

    async def originate(self, request: Origination) -> None:
        """One asynchronous Originate, sent at most once.

        The AMI client never re-sends an action after a reconnect; here an
        action whose answer did not come is reported as uncertain rather than
        failed, so nobody retries a call that may already be ringing.
        """
        self._fence("Originate")
        # Several nodes: the node the caller chose places it (a campaign's customer).
        nodes = self.ami if isinstance(self.ami, NodeLinks) and request.node else None
        if nodes is not None and not nodes.connected_nodes().get(request.node, False):
            raise PbxUnavailable(f"node {request.node} is not connected (Originate not sent)")
        if not self.ami.connected:
            raise PbxUnavailable("AMI is not connected (Originate not sent)")
        headers: dict[str, str | list[str]] = {
            "Channel": f"PJSIP/{request.endpoint}" + (f"@{request.via}" if request.via else ""),
            "Context": request.context,
            "Exten": request.exten,
            "Priority": "1",
            "Async": "true",
            "ActionID": request.action_id,
            "ChannelId": request.channel_id,
            "CallerID": request.caller_id,
            "Timeout": str(request.ring_seconds * 1000),
        }
        if request.variables:
            headers["Variable"] = [f"{name}={value}" for name, value in request.variables]
        _no_line_breaks(headers)
        links = self.ami if isinstance(self.ami, NodeLinks) else None
        endpoint = str(headers["Channel"]).removeprefix("PJSIP/")
        node = links.node_beside(request.near, endpoint) if links and request.near else ""
        try:
            if nodes is not None:
                nodes.originating(request.node, request.channel_id)
                await nodes.action_on(request.node, "Originate", None, **headers)
            elif links is not None and node:
                await links.action_on(node, "Originate", None, **headers)
            else:
                await self.ami.action("Originate", None, **headers)
        except (AmiNotConnected, AmiTimeout) as exc:
            raise OriginateUncertain(str(exc)) from exc
        except AmiError as exc:  # Asterisk answered with an error: nothing was placed
            raise PbxUnavailable(str(exc)) from exc


def _no_line_breaks(headers: dict[str, str | list[str]]) -> None:
    """A CR or LF in a value would end the AMI header and start another (a caller ID
    "+12125550100\\nVariable: ..."): such an action is never sent."""
    for name, value in headers.items():
        for item in [value] if isinstance(value, str) else value:
            if "\r" in item or "\n" in item or "\x00" in item:
                raise PbxUnavailable(f"Originate not sent: a line break in its {name}")
