"""Days as the site sees them (settings.timezone): recordings searched by date,
an agent's calls today."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from callcenter.adapters.web.services import services


def site_zone() -> dt.tzinfo | None:
    """The site's zone (settings.timezone); None: the machine's own."""
    name = services().timezone
    return zoneinfo.ZoneInfo(name) if name else None


def day_start(day: dt.date, zone: dt.tzinfo | None) -> float:
    """Epoch seconds of local midnight starting ``day``."""
    if zone is None:
        return dt.datetime.combine(day, dt.time()).timestamp()
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).timestamp()


def today(zone: dt.tzinfo | None) -> dt.date:
    return dt.datetime.now(zone).date()
