"""Identifiers the controller hands out (pure)."""

from __future__ import annotations

import secrets
import time


def new_call_id(now: float | None = None) -> str:
    """Sortable and unique: seconds since the epoch in hex + 6 random hex chars."""
    stamp = int((now if now is not None else time.time()) * 1000)
    return f"{stamp:x}{secrets.token_hex(3)}"
