"""Agents' accounts: the database is the truth, Asterisk's PJSIP endpoints follow.

Adding or removing an agent re-renders the generated endpoints file and
reloads PJSIP, so a change takes effect without restarting anything.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable

from callcenter.core.model import SipAccount
from callcenter.services.repositories import AgentRepository

log = logging.getLogger(__name__)

Publisher = Callable[[list[SipAccount]], Awaitable[None]]


class AgentDirectory:
    def __init__(self, repository: AgentRepository) -> None:
        self._repository = repository
        self._accounts: dict[str, SipAccount] = {}
        self._publishers: list[Publisher] = []

    def on_change(self, publisher: Publisher) -> None:
        self._publishers.append(publisher)

    def load(self) -> None:
        self._accounts = {a.username: a for a in self._repository.accounts()}

    def accounts(self) -> list[SipAccount]:
        return list(self._accounts.values())

    def endpoints(self) -> list[str]:
        return list(self._accounts)

    def get(self, username: str) -> SipAccount | None:
        return self._accounts.get(username)

    async def add(
        self, username: str, display_name: str, extension: str, password: str | None = None
    ) -> SipAccount:
        account = self._repository.add(
            username, display_name, extension, password or secrets.token_urlsafe(12)
        )
        self._accounts[username] = account
        await self._publish()
        return account

    async def _publish(self) -> None:
        for publisher in self._publishers:
            await publisher(self.accounts())
