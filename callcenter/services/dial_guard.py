"""The dial policy applied: every number the call center will dial is vetted here.

``book`` is for callbacks (a caller in the IVR, an agent, the API): the
number's verdict (core/dial_policy.py), then the booking limits
(core/dial_limits.py) of the origin and of the site. ``check`` is for numbers
that are not bookings (leads at import); ``rules`` hands the dialers the rules
they apply again right before they dial (core/outbound/compliance.py). Every
refusal is written to the audit (``DialRefusals``) with who gave the number
and where; a storage failure there is logged and never lets a number through.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from callcenter.core.dial_limits import BookingLimits
from callcenter.core.dial_policy import (
    DialPolicy,
    DialRefusal,
    DialRules,
    Reason,
    Verdict,
    check_number,
)
from callcenter.services.repositories import DialRefusals

log = logging.getLogger(__name__)

Origin = tuple[str, str]  # (kind, id): ("caller", "+12125550100"), ("agent", "alice")

LIMIT_DETAIL: dict[str, str] = {
    "rate-limit": "too many callbacks booked by {who} in the last hour",
    "hourly-cap": "the site's cap on callbacks booked in an hour is reached",
}


class DialRefused(Exception):
    """The number may not be dialled; ``code`` is the policy's reason."""

    def __init__(self, code: Reason, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class DialGuard:
    def __init__(
        self, policy: DialPolicy, refusals: DialRefusals, clock: Callable[[], float]
    ) -> None:
        self.policy = policy
        self.refusals = refusals
        self.clock = clock
        self.limits = BookingLimits(
            {"caller": policy.per_caller_per_hour, "agent": policy.per_agent_per_hour},
            policy.callbacks_per_hour,
        )
        self._observers: list[Callable[[DialRefusal], None]] = []

    def on_refusal(self, observer: Callable[[DialRefusal], None]) -> None:
        """``observer`` hears of every refusal (on whichever thread wrote it)."""
        self._observers.append(observer)

    @property
    def home(self) -> str:
        """The site's own country (the region of caller IDs written without a +)."""
        return self.policy.country

    def rules(self, countries: Sequence[str] = ()) -> DialRules:
        return self.policy.rules(countries)

    async def book(
        self, raw: str, region: str, countries: Sequence[str], origin: Origin, where: str
    ) -> str:
        """The E.164 number a callback may be booked to, or DialRefused (audited)."""
        verdict = check_number(raw, region, self.rules(countries))
        if verdict.ok:
            over = self.limits.take(origin[0], origin[1], self.clock())
            if over is not None:
                who = f"{origin[0]} {origin[1]}"
                verdict = Verdict(verdict.number, over, LIMIT_DETAIL[over].format(who=who))
        if verdict.reason is not None:
            refusal = DialRefusal.of(verdict, raw, origin, where, self.clock())
            await asyncio.to_thread(self.record, refusal)
            raise DialRefused(verdict.reason, verdict.detail)
        return verdict.number

    def check(
        self, raw: str, region: str, countries: Sequence[str], origin: Origin, where: str
    ) -> Verdict:
        """The verdict on a number that is not a booking (blocking: the audit is written)."""
        verdict = check_number(raw, region, self.rules(countries))
        if verdict.reason is not None:
            self.record(DialRefusal.of(verdict, raw, origin, where, self.clock()))
        return verdict

    def record(self, refusal: DialRefusal) -> None:
        """Write one refusal to the audit (blocking); a storage failure is only logged."""
        log.info(
            "dial refused (%s, %s %s, %s): %s",
            refusal.where,
            refusal.origin_kind,
            refusal.origin_id,
            refusal.reason,
            refusal.detail,
        )
        for observer in self._observers:
            observer(refusal)
        try:
            self.refusals.add(refusal)
        except Exception as exc:
            log.warning("dial refusal not written to the audit (%s): %s", exc, refusal)
