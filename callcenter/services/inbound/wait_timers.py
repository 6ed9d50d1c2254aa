"""The clocks of a caller in line: maximum wait, announcements, and the next
relaxation of skill requirements (one timer for the whole line).

What happens when one fires is the ACD's (services/inbound/acd.py); it hands
its handlers in each time it arms, so the path from timer to action is read
at the call site.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from callcenter.core.acd.router import Router
from callcenter.core.calls.live import LiveCall
from callcenter.core.queues import QueueSettings
from callcenter.services.timers import Timers

OnCall = Callable[[str], Awaitable[None]]  # a call id


class WaitTimers:
    def __init__(self, timers: Timers, router: Router) -> None:
        self.timers = timers
        self.router = router

    def arm(
        self,
        call: LiveCall,
        settings: QueueSettings,
        now: float,
        on_max_wait: OnCall,
        on_announce: OnCall,
    ) -> None:
        # A customer the call center called back is never turned away for waiting too long.
        joined = call.joined_at or call.enqueued_at
        if settings.max_wait is not None and joined is not None and not call.callback_id:
            self.timers.at(
                joined + settings.max_wait,
                ("max-wait", call.call_id),
                lambda: on_max_wait(call.call_id),
            )
        if settings.announce.interval > 0:
            self.announce_after(call.call_id, settings.announce.interval, now, on_announce)

    def announce_after(
        self, call_id: str, interval: float, now: float, on_announce: OnCall
    ) -> None:
        self.timers.at(now + interval, ("announce", call_id), lambda: on_announce(call_id))

    def answered(self, call_id: str) -> None:
        """The caller is with an agent: no more maximum wait."""
        self.timers.cancel(("max-wait", call_id))

    def ringing(self, call_id: str) -> None:
        """An agent's phone rings for the caller: no announcement over the ring."""
        self.timers.cancel(("announce", call_id))

    def cancel(self, call_id: str) -> None:
        self.timers.cancel(("max-wait", call_id))
        self.timers.cancel(("announce", call_id))

    def arm_relax(self, on_relax: Callable[[], Awaitable[None]]) -> None:
        when = self.router.next_relax_at()
        if when is None:
            self.timers.cancel("relax")
        else:
            self.timers.at(when, "relax", on_relax)
