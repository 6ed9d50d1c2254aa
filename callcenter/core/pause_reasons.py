"""Why an agent pauses: one vocabulary for the console, the agent's phone and reports.

An administrator sets the list in the console (desktop settings,
``pause_reasons``); DEFAULT_PAUSE_REASONS holds until they do. The agent's
phone names a reason by its place in that list: ``*2N`` pauses with the N-th
reason (counted from 1), ``*2`` alone with the first. The dialplan (cc-agents)
passes one digit, so reasons past the ninth are the console's only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

DEFAULT_PAUSE_REASONS = ("break", "lunch", "meeting", "training", "admin")
# Set by the controller, not chosen: the agent's phone stopped answering Asterisk
# (its contact unreachable or gone) while they were ready.
PHONE_OFFLINE = "phone-offline"
PAUSE_CODE = "*2"
_PLACE = re.compile(r"[0-9]{1,2}")


def reason_for_code(code: str, reasons: Sequence[str]) -> str | None:
    """The reason a pause code (``*2``, ``*2N``) picks from ``reasons``; None when it
    picks none (not a pause code, N is 0 or past the end of the list)."""
    if not code.startswith(PAUSE_CODE):
        return None
    place = code.removeprefix(PAUSE_CODE) or "1"
    if not _PLACE.fullmatch(place) or not 1 <= int(place) <= len(reasons):
        return None
    return reasons[int(place) - 1]
