"""Callbacks over FastAGI: the keep-my-place offer to a waiting caller, and the
customer's answer when the callback rings them (after AMD in cc-callback).

The caller's keys decide everything here; nothing they type reaches the
dialplan: a number they key in is read as a phone number (E.164 or national)
and refused otherwise.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from callcenter.adapters.agi.session import AgiSession
from callcenter.core.callbacks.policy import CallbackSettings, offer_callback
from callcenter.core.calls.live import CallState, LiveCall
from callcenter.core.dialplan import Status, Var
from callcenter.core.ivr.events import BookCallback
from callcenter.core.outbound.numbers import BadNumber, normalise
from callcenter.services.callbacks.dialer import CallbackDialer
from callcenter.services.callbacks.places import CallbackError, Callbacks
from callcenter.services.inbound.acd import Acd

log = logging.getLogger(__name__)

Clock = Callable[[], float]

# Asterisk's own sounds (core set); the offer and thanks are the queue's settings.
CONFIRM = ("telephone-number",)  # then the digits, then:
IF_CORRECT = ("if-correct-press",)  # 1; any other key: enter another number
ENTER = "vm-enter-num-to-call"  # followed by #
BAD_NUMBER = "check-number-dial-again"
CONFIRM_SECONDS = 8.0


class CallbackRoutes:
    def __init__(
        self,
        callbacks: Callbacks,
        dialer: CallbackDialer,
        acd: Acd,
        clock: Clock,
    ) -> None:
        self.callbacks = callbacks
        self.dialer = dialer
        self.acd = acd
        self.clock = clock

    # -- keep my place ----------------------------------------------------------------------
    async def offer(self, agi: AgiSession, call: LiveCall) -> Status | None:
        """Offer the callback if the wait is long; HANGUP when the caller took it."""
        settings = self.acd.queues.get(call.queue)
        if settings is None or call.state is not CallState.WAITING:
            return None
        rules = settings.callback
        _, estimate = self.acd.position_and_estimate(call, self.clock())
        if not offer_callback(rules, estimate):
            return None
        if await self._prompt(agi, rules.offer_prompts, rules.key) != rules.key:
            pressed = await _say_digits(agi, rules.key, rules.key)
            if pressed != rules.key and await agi.wait_for_digit(3000) != rules.key:
                return None
        number = await self._number(agi, call.caller, rules)
        if number is None or call.state is not CallState.WAITING:
            return None  # no valid number, or an agent came meanwhile: keep waiting
        try:
            await self.callbacks.keep_place(call, number, self.clock())
        except CallbackError as exc:
            log.info("call %s: callback refused: %s", call.call_id, exc.message)
            return None
        await self._prompt(agi, rules.thanks_prompts, "")
        return Status.HANGUP

    async def _number(self, agi: AgiSession, caller: str, rules: CallbackSettings) -> str | None:
        number = _valid(caller, rules.region)
        if number is not None:
            await self._prompt(agi, CONFIRM, "12")
            key = await _say_digits(agi, number.lstrip("+"), "12")
            key = key or await self._prompt(agi, IF_CORRECT, "12")
            key = key or await _say_digits(agi, "1", "12")
            key = key or await self._key(agi, "12")
            if key == "1":
                return number
        for _ in range(2):  # enter another number: two tries
            typed, _ = await agi.get_data(ENTER, int(CONFIRM_SECONDS * 1000), 20)
            entered = _valid(typed.rstrip("#"), rules.region)
            if entered is not None:
                return entered
            await agi.stream_file(BAD_NUMBER)
        return None

    async def _key(self, agi: AgiSession, wanted: str) -> str:
        """Wait for one of ``wanted``, ignoring other keys, at most CONFIRM_SECONDS."""
        deadline = time.monotonic() + CONFIRM_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            key = await agi.wait_for_digit(int(left * 1000))
            if not key or key in wanted:
                return key
        return ""

    @staticmethod
    async def _prompt(agi: AgiSession, prompts: tuple[str, ...], escape: str) -> str:
        for prompt in prompts:
            key = await agi.stream_file(prompt, escape)
            if key:
                return key
        return ""

    # -- booked in the IVR (a callback node) ----------------------------------------------------
    async def book(self, agi: AgiSession, call: LiveCall, choice: BookCallback) -> Status:
        settings = self.acd.queues.get(choice.queue)
        if settings is None:
            return Status.FALLBACK
        number = await self._number(agi, call.caller, settings.callback)
        if number is None:
            await self._prompt(agi, ("vm-goodbye",), "")
            return Status.HANGUP
        now = self.clock()
        try:
            await self.callbacks.book(
                choice.queue,
                number,
                now + choice.after_minutes * 60,
                now,
                booked_by="ivr",
                origin_call_id=call.call_id,
                data=dict(call.data),
            )
        except CallbackError as exc:
            log.info("call %s: callback not booked: %s", call.call_id, exc.message)
            await self._prompt(agi, ("vm-goodbye",), "")
            return Status.HANGUP
        await self._prompt(agi, settings.callback.thanks_prompts, "")
        return Status.HANGUP

    # -- the callback rings the customer -------------------------------------------------------
    async def answered(self, agi: AgiSession) -> Status:
        args = agi.args
        amd_status = args[0] if args else ""
        amd_cause = args[1] if len(args) > 1 else ""
        call_id = await agi.get_variable(Var.CALL_ID) or ""
        answer = await self.dialer.answered(
            agi.unique_id, agi.channel, amd_status, amd_cause, call_id
        )
        if answer.connect_to:
            await agi.set_variable(Var.TARGET, answer.connect_to)
            await agi.set_variable(Var.RING_TIMEOUT, str(int(answer.ring_timeout)))
            return Status.CONNECT
        if answer.wait:
            return Status.WAIT
        return Status.HANGUP

    async def agent_result(self, agi: AgiSession) -> Status:
        """Agent first: the Dial to the customer is over (cc-callback-agent)."""
        args = agi.args
        await self.dialer.agent_result(agi.unique_id, args[0] if args else "")
        return Status.HANGUP


def _valid(raw: str, region: str) -> str | None:
    try:
        return normalise(raw, region) if raw else None
    except BadNumber:
        return None


async def _say_digits(agi: AgiSession, digits: str, escape: str) -> str:
    result = await agi.command(f'SAY DIGITS {digits} "{escape}"')
    return chr(int(result.result)) if result.result.isdigit() and result.result != "0" else ""
