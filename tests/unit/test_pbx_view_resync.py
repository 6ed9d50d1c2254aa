"""The channel table after a re-read: channels that came or went while Asterisk's list
was being read stay as the events left them (the list may predate them)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from callcenter.adapters.ami.client import AmiClient, AmiResponse
from callcenter.adapters.ami.pbx_view import PbxView
from callcenter.core import pbx_events as ev


class SlowList:
    """An AMI link whose CoreShowChannels answers when the test says so."""

    def __init__(self, rows: list[ev.CoreShowChannel]) -> None:
        self.rows = rows
        self.asked = asyncio.Event()
        self.answer = asyncio.Event()

    async def action_list(self, name: str, **_: Any) -> AmiResponse:
        assert name == "CoreShowChannels"
        self.asked.set()
        await self.answer.wait()
        return AmiResponse(True, {}, list(self.rows))


def row(unique_id: str, name: str, bridge: str = "") -> ev.CoreShowChannel:
    return ev.CoreShowChannel(
        unique_id=unique_id, linked_id=unique_id, channel=name, bridge_id=bridge
    )


async def test_a_hangup_during_the_read_is_not_undone_by_the_list() -> None:
    ami = SlowList([row("1.1", "PJSIP/sipp-01", "b1"), row("1.2", "PJSIP/ann-02", "b1")])
    view = PbxView(cast(AmiClient, ami))
    resync = asyncio.create_task(view.resync())
    await ami.asked.wait()
    # The agent hangs up (and a new caller comes) while the list is on its way.
    await view.on_hangup(ev.Hangup(unique_id="1.2", linked_id="1.1", channel="PJSIP/ann-02"))
    await view.on_new_channel(
        ev.Newchannel(unique_id="1.3", linked_id="1.3", channel="PJSIP/sipp-03")
    )
    view.on_bridge_leave(ev.BridgeLeave(unique_id="1.1", channel="PJSIP/sipp-01"))
    ami.answer.set()
    await resync
    table = view.table
    assert table.get("1.2") is None
    assert table.on_endpoint("ann") == []
    assert table.get("1.3") is not None
    found = table.get("1.1")
    assert found is not None and found.bridge_id == ""


async def test_events_after_the_read_apply_as_always() -> None:
    ami = SlowList([row("1.1", "PJSIP/sipp-01", "b1")])
    view = PbxView(cast(AmiClient, ami))
    ami.answer.set()
    await view.resync()
    found = view.table.get("1.1")
    assert found is not None and found.bridge_id == "b1"
    view.on_channel(ev.Newstate(unique_id="1.1", linked_id="1.1", channel="PJSIP/sipp-01"))
    found = view.table.get("1.1")
    assert found is not None and found.bridge_id == "b1"  # a state change keeps the bridge
    await view.on_hangup(ev.Hangup(unique_id="1.1", linked_id="1.1", channel="PJSIP/sipp-01"))
    assert view.table.get("1.1") is None
