"""FastAGI route handlers: read the channel, ask the services, tell Asterisk.

Each handler returns the Status the dialplan branches on; the server sets it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from callcenter.adapters.agi.ivr_runner import IvrRunner
from callcenter.adapters.agi.session import AgiSession
from callcenter.adapters.db.customers import CustomerRepository
from callcenter.core.callerid import vet_caller_id
from callcenter.core.calls.live import CallBook, CallState, LiveCall
from callcenter.core.dialplan import Status, Var, inherited
from callcenter.core.events import CallEntered, IvrFinished
from callcenter.core.ids import new_call_id
from callcenter.core.ivr.engine import IvrSession
from callcenter.core.ivr.events import BookCallback, Enqueue, Voicemail
from callcenter.services.flows import FlowDirectory
from callcenter.services.inbound.acd import Acd, Decision
from callcenter.services.inbound.recording import Recordings
from callcenter.services.notify import Notifier
from callcenter.services.queues import QueueDirectory

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class CallRoutes:
    """A caller's path: IVR, then a queue (or voicemail, or goodbye)."""

    def __init__(
        self,
        acd: Acd,
        calls: CallBook,
        flows: FlowDirectory,
        queues: QueueDirectory,
        notifier: Notifier,
        recordings: Recordings,
        customers: CustomerRepository,
        clock: Clock,
    ) -> None:
        self.acd = acd
        self.calls = calls
        self.flows = flows
        self.queues = queues
        self.notifier = notifier
        self.recordings = recordings
        self.runner = IvrRunner(customers)
        self.clock = clock
        # The keep-my-place offer (adapters/agi/callback_routes.py), after announcements.
        self.callback_offer: Callable[[AgiSession, LiveCall], Awaitable[Status | None]] | None = (
            None
        )
        # The IVR's callback node: book the callback, say goodbye.
        self.callback_booking: (
            Callable[[AgiSession, LiveCall, BookCallback], Awaitable[Status]] | None
        ) = None

    async def inbound(self, agi: AgiSession) -> Status:
        now = self.clock()
        caller = vet_caller_id(agi.header("callerid"), agi.header("calleridname"))
        # The dialled number comes as the route's argument (no round trip); a site
        # dialplan calling the route without it is asked for the variable.
        given = agi.args[0] if agi.args else await agi.get_variable(Var.DIALLED)
        dialled = "".join(ch for ch in (given or "") if ch in "+0123456789")
        flow = self.flows.for_number(dialled)
        call = LiveCall(
            call_id=new_call_id(now),
            unique_id=agi.unique_id,
            channel=agi.channel,
            caller=caller.number,
            caller_name=caller.name,
            dialled=dialled,
            entered_at=now,
        )
        self.calls.add(call)
        self.notifier.publish(
            CallEntered(
                at=now,
                call_id=call.call_id,
                unique_id=call.unique_id,
                caller=caller.number,
                caller_name=caller.name,
                dialled=dialled,
                flow=flow.name if flow else "",
            )
        )
        log.info(
            "call %s from %r on %s (flow %s)",
            call.call_id,
            caller.number,
            agi.channel,
            flow.name if flow else None,
        )
        await agi.set_variable(Var.CALL_ID, call.call_id)
        # The vetted caller ID replaces what the trunk sent, where they differ (each
        # SET is a round trip before the caller hears anything).
        number, name = caller.number or "anonymous", caller.name or caller.number or "anonymous"
        if number != agi.header("callerid"):
            await agi.set_variable("CALLERID(num)", number)
        if name != agi.header("calleridname"):
            await agi.set_variable("CALLERID(name)", name)
        if flow is None:
            return self._ivr_failed(call, "no IVR flow")
        await agi.answer()
        open_now = self.queues.schedule_open(flow.hours, now) if flow.hours else None
        ivr = IvrSession(
            flow,
            caller=caller.number,
            open_now=open_now,
            data={"dnis": dialled} if dialled else None,
        )
        run = await self.runner.run(agi, ivr)
        call.data, call.path = dict(ivr.data), tuple(ivr.path)
        call.customer_id = run.customer.id if run.customer else None
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
        final = run.final
        if isinstance(final, Enqueue):
            await agi.set_variable(
                inherited(Var.REC_FILE),
                self.recordings.asterisk_path(call.call_id, call.entered_at),
            )
            call.recording = self.recordings.relative_path(call.call_id, call.entered_at)
            settings = self.queues.get(final.queue)
            if settings is not None:
                await agi.set_variable(Var.MOH, settings.moh)
            decision = await self.acd.enqueue(
                call, final.queue, final.priority, dict(final.skills), self.clock()
            )
            if (
                decision.status is Status.WAIT
                and settings is not None
                and settings.announce.on_entry
            ):
                await self.say_position(agi, call)
                taken = await self._offer_callback(agi, call)
                if taken is not None:
                    return taken
            return await self._apply(agi, call, decision)
        if isinstance(final, BookCallback) and self.callback_booking is not None:
            call.state = CallState.ENDED
            return await self.callback_booking(agi, call, final)
        if isinstance(final, Voicemail):
            call.state = CallState.VOICEMAIL
            await agi.set_variable(Var.VM_BOX, final.box)
            return Status.VOICEMAIL
        call.state = CallState.ENDED
        return Status.HANGUP

    def _ivr_failed(self, call: LiveCall, reason: str) -> Status:
        log.error("call %s: %s; falling back", call.call_id, reason)
        call.state = CallState.FALLBACK
        return Status.FALLBACK

    async def _apply(self, agi: AgiSession, call: LiveCall, decision: Decision) -> Status:
        if decision.status is Status.CONNECT:
            await agi.set_variable(Var.TARGET, decision.target)
            await agi.set_variable(Var.RING_TIMEOUT, str(int(decision.ring_timeout)))
        elif decision.status is Status.VOICEMAIL:
            await agi.set_variable(Var.VM_BOX, decision.target)
        if decision.prompt:
            await agi.stream_file(decision.prompt)
        return decision.status

    async def say_position(self, agi: AgiSession, call: LiveCall) -> None:
        settings = self.queues.get(call.queue)
        if settings is None or call.state is not CallState.WAITING:
            return
        position, estimate = self.acd.announcement(call, self.clock())
        if settings.announce.position:
            if position <= 1:
                await agi.stream_file("queue-youarenext")
            else:
                await agi.stream_file("queue-thereare")
                await agi.command(f'SAY NUMBER {position - 1} ""')
                await agi.stream_file("queue-callswaiting")
        if settings.announce.estimate and estimate is not None and estimate >= 60:
            minutes = max(1, round(estimate / 60))
            await agi.stream_file("queue-holdtime")
            await agi.command(f'SAY NUMBER {minutes} ""')
            await agi.stream_file("queue-minutes" if minutes > 1 else "queue-minute")

    async def dial_result(self, agi: AgiSession) -> Status:
        args = agi.args
        dial_status = args[0] if args else ""
        call = self.calls.by_unique_id(agi.unique_id)
        if call is None:
            return Status.HANGUP if dial_status == "ANSWER" else Status.FALLBACK
        decision = await self.acd.dial_result(call, dial_status, self.clock())
        return await self._apply(agi, call, decision)

    async def announce(self, agi: AgiSession) -> Status:
        call = self.calls.by_unique_id(agi.unique_id)
        if call is None:
            return Status.FALLBACK
        await self.say_position(agi, call)
        return await self._offer_callback(agi, call) or Status.WAIT

    async def _offer_callback(self, agi: AgiSession, call: LiveCall) -> Status | None:
        return await self.callback_offer(agi, call) if self.callback_offer else None
