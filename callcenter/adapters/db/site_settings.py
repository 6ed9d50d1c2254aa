"""Site-wide settings as JSON documents by key; each owner validates its own."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.models import SiteSettingRow


class SiteSettings:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def get(self, key: str) -> dict[str, Any] | None:
        with self._sessions() as session:
            row = session.get(SiteSettingRow, key)
            return dict(row.value) if row is not None else None

    def set(self, key: str, value: dict[str, Any]) -> None:
        with self._sessions.begin() as session:
            row = session.get(SiteSettingRow, key)
            if row is None:
                session.add(SiteSettingRow(key=key, value=value, updated_at=time.time()))
            else:
                row.value, row.updated_at = value, time.time()

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The stored documents among ``keys``, as stored (the owner validates them)."""
        with self._sessions() as session:
            return {
                key: row.value
                for key in keys
                if (row := session.get(SiteSettingRow, key)) is not None
            }

    def set_many(self, values: Mapping[str, dict[str, Any]]) -> None:
        """Every document in one transaction: all are written, or none."""
        with self._sessions.begin() as session:
            now = time.time()
            for key, value in values.items():
                row = session.get(SiteSettingRow, key)
                if row is None:
                    session.add(SiteSettingRow(key=key, value=value, updated_at=now))
                else:
                    row.value, row.updated_at = value, now
