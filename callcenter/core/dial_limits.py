"""How many callbacks may be booked: per origin, and in all, in a sliding hour (pure).

A caller who keys number after number in the IVR, or a script holding an
agent's token, books callbacks the call center then pays to dial. Each origin
(a caller by caller ID, an agent by name) may book ``per_origin[kind]`` in
any hour, and the whole site ``total``. Refused bookings do not count.
The clock comes in as an argument; the state is memory only (a restart
forgets it, which errs on the side of letting customers book).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from callcenter.core.dial_policy import Reason

HOUR = 3600.0
ALL = ("*", "*")


class BookingLimits:
    def __init__(self, per_origin: Mapping[str, int], total: int, span: float = HOUR) -> None:
        self.per_origin = dict(per_origin)
        self.total = total
        self.span = span
        self._seen: dict[tuple[str, str], deque[float]] = {}

    def take(self, kind: str, origin: str, now: float) -> Reason | None:
        """Count one booking by (kind, origin) at ``now``, or say why it is over a limit."""
        self._forget_idle(now)
        mine, everyone = self._recent((kind, origin), now), self._recent(ALL, now)
        limit = self.per_origin.get(kind)
        if limit is not None and len(mine) >= limit:
            return "rate-limit"
        if len(everyone) >= self.total:
            return "hourly-cap"
        mine.append(now)
        everyone.append(now)
        return None

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._seen.setdefault(key, deque())
        while times and times[0] <= now - self.span:
            times.popleft()
        return times

    def _forget_idle(self, now: float) -> None:
        # Origins with nothing in the last hour are dropped, so memory follows the
        # bookings of one hour and not every caller ever seen.
        if len(self._seen) < 1024:
            return
        for key in [k for k, t in self._seen.items() if not t or t[-1] <= now - self.span]:
            del self._seen[key]
