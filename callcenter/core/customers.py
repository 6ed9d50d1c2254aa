"""A customer as stored: who they are, their numbers, whether they have a PIN (never the PIN)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Customer:
    id: int
    name: str
    account: str
    tier: str
    numbers: tuple[str, ...]
    has_pin: bool

    def fields(self) -> dict[str, str]:
        """What the IVR may attach to the call (never the PIN hash); the flow's
        lookup node prefixes the keys (e.g. customer_name)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "account": self.account,
            "tier": self.tier,
            "found": "1",
        }
