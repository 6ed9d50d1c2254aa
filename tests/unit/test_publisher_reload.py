"""A reload of the agents' endpoints that a node's link could not take is done at its
next publication, though the file is unchanged by then (adapters/pbx/publisher.py)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from callcenter.adapters.ami.client import AmiNotConnected
from callcenter.adapters.pbx.publisher import PbxConfigPublisher
from callcenter.core.model import SipAccount
from callcenter.core.sip_auth import sip_ha1
from tests.unit.test_render import layout_for, settings_for

BOB = SipAccount("bob", sip_ha1("bob", "pw"), "Bob", "202")


class Ami:
    def __init__(self) -> None:
        self.connected = False
        self.reloads: list[str] = []

    async def reload_module(self, module: str) -> None:
        if not self.connected:
            raise AmiNotConnected("down")
        self.reloads.append(module)

    async def action(self, name: str, **headers: Any) -> None:
        pass


def _publisher(tmp_path: Path, ami: Ami) -> PbxConfigPublisher:
    layout = layout_for(tmp_path)
    (layout.host_dir / "etc" / "generated").mkdir(parents=True)
    return PbxConfigPublisher(settings_for(tmp_path), layout, ami)  # type: ignore[arg-type]


def test_a_reload_missed_while_the_link_was_down_is_done_later(tmp_path: Path) -> None:
    ami = Ami()
    publisher = _publisher(tmp_path, ami)
    with contextlib.suppress(AmiNotConnected):
        asyncio.run(publisher.publish_agents([BOB]))
    assert ami.reloads == []
    ami.connected = True
    asyncio.run(publisher.publish_agents([BOB]))  # the file is unchanged: still reloaded
    assert ami.reloads == ["res_pjsip.so"]
    asyncio.run(publisher.publish_agents([BOB]))  # done: nothing more
    assert ami.reloads == ["res_pjsip.so"]


def test_a_missed_reload_is_done_on_resync(tmp_path: Path) -> None:
    ami = Ami()
    publisher = _publisher(tmp_path, ami)
    with contextlib.suppress(AmiNotConnected):
        asyncio.run(publisher.publish_agents([BOB]))
    ami.connected = True
    asyncio.run(publisher.after_resync())
    assert ami.reloads == ["res_pjsip.so"]
