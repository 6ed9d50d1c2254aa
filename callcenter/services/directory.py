"""Agents' accounts: the database is the truth, Asterisk's PJSIP endpoints follow.

The controller's reload reads them again and re-renders the generated
endpoints file (reloading PJSIP), so a change takes effect without a restart.
"""

from __future__ import annotations

from callcenter.core.model import SipAccount
from callcenter.services.repositories import AgentRepository


class AgentDirectory:
    def __init__(self, repository: AgentRepository) -> None:
        self._repository = repository
        self._accounts: dict[str, SipAccount] = {}

    def load(self) -> None:
        self._accounts = {a.username: a for a in self._repository.accounts()}

    def accounts(self) -> list[SipAccount]:
        return list(self._accounts.values())

    def get(self, username: str) -> SipAccount | None:
        return self._accounts.get(username)
