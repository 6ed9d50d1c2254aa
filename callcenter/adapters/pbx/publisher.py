"""Configuration that follows the database into the running Asterisk: agents'
PJSIP endpoints and the queues' voicemail boxes, rendered and reloaded.

A reload due while the AMI link is down is done on the next resynchronisation
(``after_resync`` is called then).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from callcenter.adapters.ami.client import AmiError
from callcenter.adapters.ami.nodes import AmiLink
from callcenter.adapters.pbx.render import PbxLayout, Renderer
from callcenter.adapters.pbx.secrets import ensure_secret
from callcenter.config import Settings
from callcenter.core.ivr.first import FirstMenu
from callcenter.core.model import SipAccount

log = logging.getLogger(__name__)


class PbxConfigPublisher:
    def __init__(self, settings: Settings, layout: PbxLayout, ami: AmiLink) -> None:
        self.settings = settings
        self.layout = layout
        self.ami = ami
        self._voicemail_reload_due = False
        self._queues_reload_due = False
        self._agents_reload_due = False
        self._dialplan_reload_due = False

    async def publish_agents(self, accounts: list[SipAccount]) -> None:
        """Agents' endpoints into Asterisk (PJSIP reloaded when they changed, or when
        an earlier reload could not be sent: a node whose link was not up yet when
        another node's login published them renders nothing new at its own login)."""
        changed = self._renderer().render_agents(accounts)
        self._agents_reload_due = self._agents_reload_due or changed
        if self._agents_reload_due:
            await self.ami.reload_module("res_pjsip.so")
            self._agents_reload_due = False

    async def publish_voicemail(self, boxes: set[str]) -> None:
        """The queues' voicemail boxes into Asterisk (reloaded now, or once AMI is back)."""
        secret = ensure_secret(self.settings.state_dir, "voicemail")
        changed = await asyncio.to_thread(self._renderer().render_voicemail, boxes, secret)
        self._voicemail_reload_due = self._voicemail_reload_due or changed
        await self.after_resync()

    def _renderer(self) -> Renderer:
        # One per change: a renderer collects what it changed, and changes may overlap.
        return Renderer(self.settings, self.layout)

    async def publish_fallback_queues(self, wrapups: Mapping[str, float]) -> None:
        """The queues' plain twins into Asterisk (core/acd/fallback.py): new ones made,
        wrap-up times updated; the members (added over AMI) stay."""
        changed = await asyncio.to_thread(self._renderer().render_fallback_queues, wrapups)
        self._queues_reload_due = self._queues_reload_due or changed
        await self.after_resync()

    async def publish_first_menus(
        self, default: FirstMenu | None, by_number: Mapping[str, FirstMenu | None]
    ) -> None:
        """The flows' first menus into the dialplan (cc-first): reloaded when they changed."""
        if not self.settings.agi.first_menu_in_dialplan:
            default, by_number = None, {}  # cc-first only sends callers back to cc-entry
        renderer = self._renderer()
        changed = await asyncio.to_thread(renderer.render_first_menus, default, by_number)
        self._dialplan_reload_due = self._dialplan_reload_due or changed
        await self.after_resync()

    async def after_resync(self) -> None:
        """Reloads that could not be done while the AMI link was down."""
        if not self.ami.connected:
            return  # after the next (re)connect: the resync calls this again
        try:
            if self._agents_reload_due:
                await self.ami.reload_module("res_pjsip.so")
                self._agents_reload_due = False
            if self._voicemail_reload_due:
                await self.ami.reload_module("app_voicemail.so")
                self._voicemail_reload_due = False
            if self._dialplan_reload_due:
                # The whole dialplan is re-read; runtime globals (the heartbeat) stay
                # (clearglobalvars = no), and calls in progress keep their place.
                await self.ami.reload_module("pbx_config.so")
                self._dialplan_reload_due = False
            if self._queues_reload_due:
                # QueueReload needs no AMI right; parameters only, as `queue reload parameters`.
                await self.ami.action("QueueReload", Parameters="yes")
                self._queues_reload_due = False
        except Exception as exc:  # the link dropped meanwhile: retried on resync
            log.warning("Asterisk configuration not reloaded yet: %s", exc)


class NodePublishers:
    """Several nodes ([[pbx.nodes]]): each change published into every node's state
    directory (mounted on the controller) and reloaded over that node's own link."""

    def __init__(self, publishers: list[PbxConfigPublisher]) -> None:
        self.publishers = publishers

    async def publish_agents(self, accounts: list[SipAccount]) -> None:
        for publisher in self.publishers:
            try:
                await publisher.publish_agents(accounts)
            except AmiError as exc:  # that node's link is down: published at its next login
                log.warning("agents not reloaded on node %s: %s", publisher.settings.pbx.node, exc)

    async def publish_voicemail(self, boxes: set[str]) -> None:
        for publisher in self.publishers:
            await publisher.publish_voicemail(boxes)

    async def publish_fallback_queues(self, wrapups: Mapping[str, float]) -> None:
        for publisher in self.publishers:
            await publisher.publish_fallback_queues(wrapups)

    async def publish_first_menus(
        self, default: FirstMenu | None, by_number: Mapping[str, FirstMenu | None]
    ) -> None:
        for publisher in self.publishers:
            await publisher.publish_first_menus(default, by_number)

    async def after_resync(self) -> None:
        for publisher in self.publishers:
            await publisher.after_resync()
