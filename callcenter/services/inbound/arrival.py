"""An inbound call, from its arrival to the dialplan's next step: the use case.

Order of things for one caller (the FastAGI routes only translate):
1. a live call is opened and announced (CallEntered), the channel tagged with
   our call id and the vetted caller ID;
2. the IVR flow for the dialled number runs on the line (no flow: fallback);
3. its end decides: a queue (the recording's path and the queue's music set,
   then the ACD: an agent now, or wait, with the position said and the
   keep-my-place offer where the queue makes it), a callback booked,
   voicemail, or goodbye.

While the caller waits, the ``announce`` and ``ring ended`` steps come back here; after
an agent hangs up, ``ring ended`` runs the queue's survey (services/inbound/survey.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from callcenter.core.acd.fallback import fallback_rank
from callcenter.core.callbacks.policy import offer_callback
from callcenter.core.callerid import vet_caller_id
from callcenter.core.calls.live import CallBook, LiveCall
from callcenter.core.calls.state import CallEvent, CallState, advance
from callcenter.core.dialplan import Decision, Status
from callcenter.core.events import CallEntered, IvrFinished
from callcenter.core.ids import new_call_id
from callcenter.core.ivr.engine import IvrSession
from callcenter.core.ivr.events import BookCallback, Enqueue, Voicemail
from callcenter.core.ivr.flow import Flow
from callcenter.services.callbacks.places import CallbackError, Callbacks
from callcenter.services.flows import FlowDirectory
from callcenter.services.inbound.acd import Acd
from callcenter.services.inbound.recording import Recordings
from callcenter.services.inbound.survey import Surveys
from callcenter.services.notify import Notifier
from callcenter.services.ports import CallerLine
from callcenter.services.queues import QueueDirectory

log = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Arrival:
    """A caller as Asterisk presents them (untrusted: the trunk's words)."""

    unique_id: str
    channel: str
    caller_id: str
    caller_name: str
    dialled: str
    node: str = ""  # the node it came from ([[pbx.nodes]]); '' on one box
    # When the dialplan saw the caller (epoch s): before a first menu it ran itself.
    arrived_at: float | None = None


class Inbound:
    def __init__(
        self,
        acd: Acd,
        calls: CallBook,
        flows: FlowDirectory,
        queues: QueueDirectory,
        notifier: Notifier,
        recordings: Recordings,
        callbacks: Callbacks,
        clock: Clock,
        home_region: str,
        surveys: Surveys | None = None,
    ) -> None:
        self.surveys = surveys
        self.home_region = home_region  # caller IDs without a + are national numbers here
        self.acd = acd
        self.calls = calls
        self.flows = flows
        self.queues = queues
        self.notifier = notifier
        self.recordings = recordings
        self.callbacks = callbacks
        self.clock = clock

    async def arrived(self, line: CallerLine, arrival: Arrival) -> Status:
        now = self.clock()
        caller = vet_caller_id(arrival.caller_id, arrival.caller_name, self.home_region)
        dialled = "".join(ch for ch in arrival.dialled if ch in "+0123456789")
        flow = self.flows.for_number(dialled)
        call = self.calls.by_unique_id(arrival.unique_id)
        if call is None or call.state is not CallState.IVR:
            entered = _entered(arrival.arrived_at, now)
            call = self._open(arrival, caller.number, caller.name, dialled, flow, entered)
        # else: a caller who came while the controller was down, sent back here from the
        # fallback queue by recovery: same record, and their arrival keeps their place.
        log.info(
            "call %s from %r on %s (flow %s)",
            call.call_id,
            caller.number,
            arrival.channel,
            flow.name if flow else None,
        )
        await line.identify(
            call.call_id, caller.number or "anonymous", caller.name or caller.number or "anonymous"
        )
        if flow is None:
            log.error("call %s: no IVR flow; falling back", call.call_id)
            advance(call, CallEvent.FALL_BACK)
            return Status.FALLBACK
        await line.answer()
        open_now = self.queues.schedule_open(flow.hours, now) if flow.hours else None
        ivr = IvrSession(
            flow,
            caller=caller.number,
            open_now=open_now,
            data={"dnis": dialled} if dialled else None,
        )
        end = await line.run_ivr(ivr)
        call.data, call.path = dict(ivr.data), tuple(ivr.path)
        call.customer_id = end.customer_id
        self.notifier.publish(
            IvrFinished(
                at=self.clock(),
                call_id=call.call_id,
                path=call.path,
                data=call.data,
                outcome=ivr.outcome or "failed",
                customer_id=call.customer_id,
            )
        )
        final = end.final
        if isinstance(final, Enqueue):
            return await self._queue(line, call, final)
        if isinstance(final, BookCallback):
            advance(call, CallEvent.END)
            return await self._book_callback(line, call, final)
        if isinstance(final, Voicemail):
            advance(call, CallEvent.VOICEMAIL)
            return await line.carry_out(Decision(Status.VOICEMAIL, final.box))
        advance(call, CallEvent.END)
        return Status.HANGUP

    def _open(
        self,
        arrival: Arrival,
        number: str,
        name: str,
        dialled: str,
        flow: Flow | None,
        now: float,
    ) -> LiveCall:
        call = LiveCall(
            call_id=new_call_id(now),
            unique_id=arrival.unique_id,
            channel=arrival.channel,
            caller=number,
            caller_name=name,
            dialled=dialled,
            entered_at=now,
            node=arrival.node,
        )
        self.calls.add(call)
        self.notifier.publish(
            CallEntered(
                at=now,
                call_id=call.call_id,
                unique_id=call.unique_id,
                caller=number,
                caller_name=name,
                dialled=dialled,
                flow=flow.name if flow else "",
                node=arrival.node,
            )
        )
        return call

    async def _queue(self, line: CallerLine, call: LiveCall, final: Enqueue) -> Status:
        call.recording = self.recordings.relative_path(call.call_id, call.entered_at)
        settings = self.queues.get(final.queue)
        if self.surveys is not None and (told := self.surveys.opt_in(final.queue)):
            await line.play(told)  # before any agent can answer
        call.ring_timeout_set = self.acd.ring_timeout(final.queue)
        await line.prepare_queue(
            self.recordings.asterisk_path(call.call_id, call.entered_at),
            settings.moh if settings is not None else None,
            call.ring_timeout_set,
        )
        decision = await self.acd.enqueue(
            call, final.queue, final.priority, dict(final.skills), self.clock()
        )
        if call.state in (CallState.WAITING, CallState.RINGING) and call.enqueued_at is not None:
            # In our line: its plain twin, and the caller's place there, for a fallback.
            await line.tag_fallback(call.queue, fallback_rank(call.priority, call.enqueued_at))
        if decision.status is Status.WAIT and settings is not None and settings.announce.on_entry:
            taken = await self._announce(line, call)
            if taken is not None:
                return taken
        return await line.carry_out(decision)

    # -- while the caller waits ------------------------------------------------------------
    async def announce(self, line: CallerLine, unique_id: str) -> Status:
        """The announcement's turn (cc-announce): position, estimate, keep-my-place."""
        call = self.calls.by_unique_id(unique_id)
        if call is None:
            return Status.FALLBACK
        return await self._announce(line, call) or Status.WAIT

    async def _announce(self, line: CallerLine, call: LiveCall) -> Status | None:
        settings = self.queues.get(call.queue)
        if settings is None or call.state is not CallState.WAITING:
            return None
        position, wait = self.acd.announcement(call, self.clock())
        await line.say_position(position, wait, settings.announce)
        return await self._offer_callback(line, call)

    async def _offer_callback(self, line: CallerLine, call: LiveCall) -> Status | None:
        """Keep my place: offered when the wait is long; HANGUP when the caller took it."""
        settings = self.queues.get(call.queue)
        if settings is None or call.state is not CallState.WAITING:
            return None
        rules = settings.callback
        _, wait = self.acd.position_and_estimate(call, self.clock())
        if not offer_callback(rules, wait.seconds) or not await line.wants_callback(rules):
            return None
        number = await line.callback_number(call.caller, rules)
        if number is None or call.state is not CallState.WAITING:
            return None  # no valid number, or an agent came meanwhile: keep waiting
        try:
            await self.callbacks.keep_place(call, number, self.clock())
        except CallbackError as exc:
            log.info("call %s: callback refused: %s", call.call_id, exc.message)
            if exc.refused:  # the dial policy: the caller is told, and keeps waiting
                await line.play(rules.refused_prompts)
            return None
        await line.play(rules.thanks_prompts)
        return Status.HANGUP

    async def ring_ended(self, line: CallerLine, unique_id: str, dial_status: str) -> Status:
        """The agent's phone rang (cc-connect): answered and over, or not answered."""
        call = self.calls.by_unique_id(unique_id)
        if call is None:
            return Status.HANGUP if dial_status == "ANSWER" else Status.FALLBACK
        decision = await self.acd.dial_result(call, dial_status, self.clock())
        if dial_status == "ANSWER" and self.surveys is not None:
            # The agent hung up; the caller is still here (Dial's `g`): the survey.
            await self.surveys.run(line, call)
        return await line.carry_out(decision)

    async def transferred(self, line: CallerLine, unique_id: str) -> Status:
        """A caller an agent transferred (cc-transfer): their queue's line or the agent."""
        call = self.calls.by_unique_id(unique_id)
        if call is None or call.state is not CallState.WAITING or call.transfer_to is None:
            return Status.FALLBACK
        decision = await self.acd.transferred(call, self.clock())
        if call.state in (CallState.WAITING, CallState.RINGING) and call.enqueued_at is not None:
            await line.tag_fallback(call.queue, fallback_rank(call.priority, call.enqueued_at))
        return await line.carry_out(decision)

    # -- a callback booked in the IVR ----------------------------------------------------------
    async def _book_callback(
        self, line: CallerLine, call: LiveCall, choice: BookCallback
    ) -> Status:
        settings = self.queues.get(choice.queue)
        if settings is None:
            return Status.FALLBACK
        number = await line.callback_number(call.caller, settings.callback)
        if number is None:
            await line.play(("vm-goodbye",))
            return Status.HANGUP
        now = self.clock()
        try:
            await self.callbacks.book(
                choice.queue,
                number,
                now + choice.after_minutes * 60,
                now,
                booked_by="ivr",
                origin=("caller", call.caller or "anonymous"),
                where="ivr-callback",
                origin_call_id=call.call_id,
                data=dict(call.data),
            )
        except CallbackError as exc:
            log.info("call %s: callback not booked: %s", call.call_id, exc.message)
            refused = settings.callback.refused_prompts if exc.refused else ()
            await line.play((*refused, "vm-goodbye"))
            return Status.HANGUP
        await line.play(settings.callback.thanks_prompts)
        return Status.HANGUP


# A first menu the dialplan ran lasts at most its prompts and timeout; an arrival
# time older than this (or later than now) is some other clock's: the route's now.
FIRST_MENU_MAX_SECONDS = 600.0


def _entered(arrived_at: float | None, now: float) -> float:
    if arrived_at is None or not now - FIRST_MENU_MAX_SECONDS <= arrived_at <= now:
        return now
    return arrived_at
