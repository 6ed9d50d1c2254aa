"""Callbacks: a waiting caller keeps their place, or a callback is booked for a time.

Either way the callback becomes a place in the ACD's line with nobody on the
line (a *virtual* call: LiveCall with a callback id and no channel), ordered
with live callers by its enqueue time and priority. When the router gives it
an agent, the dialer (services/callbacks/dialer.py) calls the customer.

The database holds every callback, so a restarted controller puts kept places
back in line and re-arms scheduled ones (``restore``); the scheduler runs the
booked times (APScheduler, ``JobScheduler.once``).

Every number is vetted by the dial policy before anything is stored
(services/dial_guard.py: countries, number types, the booking limits); a
refusal is a CallbackError whose code is the policy's reason (``refused``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

from callcenter.core.callbacks.policy import CallbackSettings, StartAction, on_start
from callcenter.core.callbacks.records import Callback, NewCallback
from callcenter.core.calls.live import CallBook, LiveCall
from callcenter.core.calls.state import CallEvent, CallState, advance
from callcenter.core.dial_policy import REASONS
from callcenter.core.events import CallbackRequested, CallEnded, CallEntered
from callcenter.core.ids import new_call_id
from callcenter.services.dial_guard import DialGuard, DialRefused
from callcenter.services.inbound.acd import Acd
from callcenter.services.notify import Notifier
from callcenter.services.queues import QueueDirectory
from callcenter.services.repositories import CallbackRepository
from callcenter.services.timers import Timers

log = logging.getLogger(__name__)

GRACE_SECONDS = 6 * 3600  # a callback missed by more than this (controller down) expires
MAX_AHEAD_SECONDS = 90 * 86400


class CallbackError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def refused(self) -> bool:
        """The dial policy refused the number (core/dial_policy.py's reasons)."""
        return self.code in REASONS


class Scheduler(Protocol):
    def once(self, job_id: str, job: Callable[[], Awaitable[None]], at: float) -> None: ...

    def cancel(self, job_id: str) -> None: ...


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


class Callbacks:
    def __init__(
        self,
        repo: CallbackRepository,
        acd: Acd,
        calls: CallBook,
        queues: QueueDirectory,
        notifier: Notifier,
        timers: Timers,
        scheduler: Scheduler,
        dnc_scopes: Callable[[str], list[str]],
        recording_path: Callable[[str, float], str],
        guard: DialGuard,
    ) -> None:
        self.guard = guard
        self.repo = repo
        self.acd = acd
        self.calls = calls
        self.queues = queues
        self.notifier = notifier
        self.timers = timers
        self.scheduler = scheduler
        self.dnc_scopes = dnc_scopes
        self.recording_path = recording_path

    # -- keep my place --------------------------------------------------------------------
    async def keep_place(self, call: LiveCall, number: str, now: float) -> Callback:
        """The waiting caller hangs up; their place (time, priority) stays in line."""
        settings = self.queues.get(call.queue)
        if settings is None or call.state is not CallState.WAITING or call.enqueued_at is None:
            raise CallbackError("not-waiting", f"call {call.call_id} is not waiting in a queue")
        origin = ("caller", call.caller or "anonymous")
        number = await self._vetted(number, settings.callback, origin, "keep-place")
        data = {**call.data, "callback": "keep-place", "callback.number": number}
        new = NewCallback(
            kind="keep-place",
            queue=call.queue,
            number=number,
            requested_at=now,
            enqueued_at=call.enqueued_at,
            due_at=now,
            max_attempts=settings.callback.max_attempts,
            origin_call_id=call.call_id,
            priority=call.priority,
            extra=dict(call.extra),
            data=data,
            booked_by="caller",
        )
        try:
            listed = "site" in await asyncio.to_thread(self.dnc_scopes, number)
            callback = None if listed else await asyncio.to_thread(self.repo.add, new)
        except Exception as exc:
            # The database is away: no stored callback, so no promise; the caller keeps
            # waiting on the line (the ACD runs from memory) rather than being hung up on.
            log.warning("call %s: callback not stored (%s); keeps waiting", call.call_id, exc)
            raise CallbackError("storage", "the callback cannot be stored now") from exc
        if callback is None:
            raise CallbackError("dnc", f"{number} is on the do-not-call list")  # no false promise
        if call.state is not CallState.WAITING:  # an agent came while the row was written
            await asyncio.to_thread(self.repo.update, callback.id, status="cancelled")
            raise CallbackError("not-waiting", f"call {call.call_id} is with an agent already")
        call.callback_id, call.data = callback.id, data
        self.acd.keep_place(call)
        self._requested(callback, call.call_id, now)
        log.info("call %s keeps its place: callback %d to %s", call.call_id, callback.id, number)
        return callback

    # -- scheduled ------------------------------------------------------------------------
    async def book(
        self,
        queue: str,
        number: str,
        due_at: float,
        now: float,
        *,
        booked_by: str,
        origin: tuple[str, str],
        where: str,
        origin_call_id: str = "",
        data: dict[str, str] | None = None,
        notes: str = "",
    ) -> Callback:
        """Book a callback at ``due_at`` to ``number`` (E.164, or national in the queue's
        callback region), given by ``origin`` (kind, id) at ``where``."""
        settings = self.queues.get(queue)
        if settings is None:
            raise CallbackError("unknown-queue", f"no queue {queue!r}")
        if not now - 60 <= due_at <= now + MAX_AHEAD_SECONDS:
            raise CallbackError("bad-time", "a callback is booked from now to 90 days ahead")
        number = await self._vetted(number, settings.callback, origin, where)
        if "site" in await asyncio.to_thread(self.dnc_scopes, number):
            raise CallbackError("dnc", f"{number} is on the do-not-call list")
        callback = await asyncio.to_thread(
            self.repo.add,
            NewCallback(
                kind="scheduled",
                queue=queue,
                number=number,
                requested_at=now,
                enqueued_at=due_at,
                due_at=due_at,
                max_attempts=settings.callback.max_attempts,
                origin_call_id=origin_call_id,
                priority=settings.default_priority,
                data={**(data or {}), "callback": "scheduled", "callback.number": number},
                booked_by=booked_by,
                notes=notes[:500],
            ),
        )
        self._arm(callback)
        self._requested(callback, origin_call_id, now)
        return callback

    async def _vetted(
        self, number: str, rules: CallbackSettings, origin: tuple[str, str], where: str
    ) -> str:
        try:
            return await self.guard.book(
                number, rules.region, rules.allowed_countries, origin, where
            )
        except DialRefused as exc:
            raise CallbackError(exc.code, exc.message) from None

    def recent(
        self, status: str = "", limit: int = 100, mine: tuple[str, list[str]] | None = None
    ) -> list[Callback]:
        """The latest callbacks (with ``status``, if given; ``mine``: only those booked by
        that agent or in those queues), newest first; blocking."""
        return self.repo.recent(status, limit, mine)

    async def cancel(self, callback_id: int) -> Callback:
        callback = await asyncio.to_thread(self.repo.get, callback_id)
        if callback is None:
            raise CallbackError("unknown-callback", f"no callback {callback_id}")
        if callback.status != "pending":
            raise CallbackError("not-pending", f"callback {callback_id} is {callback.status}")
        await asyncio.to_thread(self.repo.update, callback_id, status="cancelled")
        self.scheduler.cancel(self._job_id(callback_id))
        self.timers.cancel(("callback", callback_id))
        for call in self.calls.all():
            if call.callback_id == callback_id and call.virtual:
                self.end_place(call, "callback-cancelled", self.timers.clock())
        return callback

    def end_place(self, call: LiveCall, outcome: str, now: float) -> None:
        """The callback is over without a conversation: its place leaves the line."""
        self.acd.leave_line(call)
        self.calls.remove(call.call_id)
        advance(call, CallEvent.END)
        self.notifier.publish(
            CallEnded(at=now, call_id=call.call_id, unique_id="", outcome=outcome)
        )

    def _arm(self, callback: Callback) -> None:
        # A coroutine function (not a lambda): APScheduler awaits it on the loop.
        self.scheduler.once(
            self._job_id(callback.id), functools.partial(self.fire, callback.id), callback.due_at
        )

    @staticmethod
    def _job_id(callback_id: int) -> str:
        return f"callback-{callback_id}"

    async def fire(self, callback_id: int) -> None:
        """A scheduled callback's time has come: it takes its place in line."""
        callback = await asyncio.to_thread(self.repo.get, callback_id)
        if callback is None or callback.status not in ("pending", "dialing"):
            return
        if any(c.callback_id == callback_id for c in self.calls.all()):
            return  # already in line
        now = self.timers.clock()
        call = LiveCall(
            call_id=new_call_id(now),
            unique_id="",
            channel="",
            caller=callback.number,
            caller_name="",
            dialled="",
            entered_at=now,
            data={**callback.data, "callback.booked_for": _iso(callback.due_at)},
            queue=callback.queue,
            priority=callback.priority,
            extra=dict(callback.extra),
            enqueued_at=callback.due_at,
            callback_id=callback.id,
        )
        call.recording = self.recording_path(call.call_id, now)
        self.calls.add(call)
        self.notifier.publish(
            CallEntered(
                at=now,
                call_id=call.call_id,
                unique_id="",
                caller=callback.number,
                caller_name="",
                dialled="",
                flow="callback",
            )
        )
        log.info("callback %d due: call %s in line for %s", callback.id, call.call_id, call.queue)
        await self.acd.line_up(call, now, joined=True)

    # -- after a restart ------------------------------------------------------------------
    async def restore(self) -> None:
        """Pending callbacks from the database: kept places back in line, jobs re-armed."""
        now = self.timers.clock()
        # Callbacks whose call was placed by a controller that died before its end (a
        # standby took over, or a restart): the customer may be talking to an agent
        # now, so never dialled again on a guess; closed for a person to follow up.
        unseen = await asyncio.to_thread(self.repo.close_unobserved)
        if unseen:
            log.warning("callbacks %s: dialled by the last run, end unseen: closed", unseen)
        for callback in await asyncio.to_thread(self.repo.pending):
            action = on_start(callback.kind, callback.due_at, now, GRACE_SECONDS)
            if action is StartAction.EXPIRE:
                await asyncio.to_thread(
                    self.repo.update, callback.id, status="failed", last_outcome="missed"
                )
            elif callback.kind == "scheduled":
                self._arm(callback)  # a past time runs at once (within the grace period)
            else:
                self._restore_place(callback, now, action is StartAction.REQUEUE)
        log.info("callbacks restored")

    def _restore_place(self, callback: Callback, now: float, at_once: bool) -> None:
        call = LiveCall(
            call_id=callback.origin_call_id or new_call_id(now),
            unique_id="",
            channel="",
            caller=callback.number,
            caller_name="",
            dialled="",
            entered_at=callback.requested_at,
            state=CallState.WAITING,
            data=dict(callback.data),
            queue=callback.queue,
            priority=callback.priority,
            extra=dict(callback.extra),
            enqueued_at=callback.enqueued_at,
            callback_id=callback.id,
        )
        call.recording = self.recording_path(call.call_id, call.entered_at)
        self.calls.add(call)
        self.requeue_at(call, now if at_once else callback.due_at)

    def requeue_at(self, call: LiveCall, when: float) -> None:
        """Back in line at ``when`` with the call's original place (a retry, a restart)."""
        assert call.callback_id is not None
        self.timers.at(
            when,
            ("callback", call.callback_id),
            lambda: self.acd.line_up(call, self.timers.clock()),
        )

    def _requested(self, callback: Callback, call_id: str, now: float) -> None:
        self.notifier.publish(
            CallbackRequested(
                at=now,
                call_id=call_id,
                callback_id=callback.id,
                kind=callback.kind,
                queue=callback.queue,
                number=callback.number,
                due_at=callback.due_at,
                booked_by=callback.booked_by,
            )
        )
