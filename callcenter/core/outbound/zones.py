"""Which clock a lead lives by: its own zone, else its number's, else the campaign's.

A number whose area code spans several zones (or a toll-free number) gives
all of them; the calling-hours check then demands every one be inside hours,
so the call is legal wherever the callee turns out to be.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from callcenter.core.outbound.numbers import zones_of

ZoneSource = Literal["lead", "number", "campaign-default"]


@dataclass(frozen=True, slots=True)
class LeadZones:
    zones: tuple[str, ...]  # never empty
    source: ZoneSource
    note: str = ""  # why the lead's own zone was not used, when it had one

    def describe(self) -> str:
        if self.source == "campaign-default":
            return f"{self.zones[0]} (campaign default: the number's zone is unknown)"
        if len(self.zones) == 1:
            return f"{self.zones[0]} (from the {self.source})"
        return f"{len(self.zones)} zones from the number ({', '.join(self.zones[:3])}...)"


def check_zone(name: str) -> str:
    """``name`` if it is an IANA zone this machine knows; ValueError otherwise."""
    if not _known(name):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name like America/Chicago)")
    return name


def lead_zones(lead_zone: str, number: str, default_zone: str) -> LeadZones:
    if lead_zone and _known(lead_zone):
        return LeadZones((lead_zone,), "lead")
    note = f"the lead's zone {lead_zone[:64]!r} is unknown" if lead_zone else ""
    found = tuple(z for z in zones_of(number).zones if _known(z))
    if found:
        return LeadZones(found, "number", note)
    return LeadZones((default_zone,), "campaign-default", note)


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _known(name: str) -> bool:
    if not name or len(name) > 64:
        return False
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
