"""FastAGI routes of an inbound call, and the caller's line they hand over.

Each route translates the request and asks the use case
(services/inbound/arrival.py), which decides; the route returns the Status
the dialplan branches on (the server sets it). ``AgiCallerLine`` is the
CallerLine port over the FastAGI session: what the caller hears and keys.
Nothing here decides. The caller's keys are read as digits only; a number
they key in must read as a phone number (E.164 or national), else they are
asked again, so nothing they type reaches the dialplan; whether it may be
called is the dial policy's (services/dial_guard.py), on the number as keyed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from callcenter.adapters.agi.ivr_runner import IvrRunner
from callcenter.adapters.agi.session import AgiHangup, AgiSession
from callcenter.core.callbacks.policy import CallbackSettings
from callcenter.core.dialplan import Decision, Status, Var, inherited
from callcenter.core.ivr import first
from callcenter.core.ivr.engine import IvrSession
from callcenter.core.ivr.events import Digits
from callcenter.core.outbound.numbers import BadNumber, normalise
from callcenter.core.queues import FEW_MINUTES, Announce, SpokenWait
from callcenter.services.inbound.arrival import Arrival, Inbound
from callcenter.services.ports import IvrEnd

# Several nodes: (the caller's node, the agent) -> the trunk to the agent's node, or ''.
Via = Callable[[str, str], str]


class CallRoutes:
    def __init__(self, inbound: Inbound, runner: IvrRunner, via: Via | None = None) -> None:
        self.inbound = inbound
        self.runner = runner
        self.via = via

    def _line(self, agi: AgiSession) -> AgiCallerLine:
        return AgiCallerLine(agi, self.runner, self.via)

    async def arrived(self, agi: AgiSession) -> Status:
        # The dialled number comes as the route's argument (no round trip); a site
        # dialplan calling the route without it is asked for the variable.
        dialled = agi.args[0] if agi.args else await agi.get_variable(Var.DIALLED)
        # cc-first ran the flow's first menu (its Read answered the caller): what came of
        # it is the second argument, the arrival time the third (a site's own dialplan
        # may send neither: the flow then starts here, and the call now).
        answer = first.parse(agi.args[1]) if len(agi.args) > 1 else None
        arrival = Arrival(
            unique_id=agi.unique_id,
            channel=agi.channel,
            caller_id=agi.header("callerid"),
            caller_name=agi.header("calleridname"),
            dialled=dialled or "",
            node=agi.node,
            arrived_at=_epoch(agi.args[2]) if len(agi.args) > 2 else None,
        )
        line = AgiCallerLine(agi, self.runner, self.via, answer)
        return await self.inbound.arrived(line, arrival)

    async def dial_result(self, agi: AgiSession) -> Status:
        dial_status = agi.args[0] if agi.args else ""
        return await self.inbound.ring_ended(self._line(agi), agi.unique_id, dial_status)

    async def transferred(self, agi: AgiSession) -> Status:
        return await self.inbound.transferred(self._line(agi), agi.unique_id)

    async def announce(self, agi: AgiSession) -> Status:
        return await self.inbound.announce(self._line(agi), agi.unique_id)


# Asterisk's own sounds (core set); the offer and thanks are the queue's settings.
CONFIRM = ("telephone-number",)  # then the digits, then:
IF_CORRECT = ("if-correct-press",)  # 1; any other key: enter another number
ENTER = "vm-enter-num-to-call"  # followed by #
BAD_NUMBER = "check-number-dial-again"
CONFIRM_SECONDS = 8.0


class AgiCallerLine:
    def __init__(
        self,
        agi: AgiSession,
        runner: IvrRunner,
        via: Via | None = None,
        first_menu: first.Answer | None = None,
    ) -> None:
        self.agi = agi
        self.runner = runner
        self.via = via
        # The first menu the dialplan ran (cc-first): its Read() answered the caller.
        self.first_menu = first_menu

    async def identify(self, call_id: str, number: str, name: str) -> None:
        # Sent with the next command, in one MSet where the values allow: before the
        # caller hears anything, and in the same round trip as the first prompt's.
        self.agi.set_later(Var.CALL_ID, call_id)
        # The vetted caller ID replaces what the trunk sent, where they differ.
        if number != self.agi.header("callerid"):
            self.agi.set_later("CALLERID(num)", number)
        if name != self.agi.header("calleridname"):
            self.agi.set_later("CALLERID(name)", name)

    async def answer(self) -> None:
        # cc-first's Read() answered already: nothing to send. Otherwise lazily: the
        # first menu's Read() answers the channel itself, so the caller's first key
        # counts from the very moment the call is answered.
        if self.first_menu is None:
            self.agi.answer_later()

    async def run_ivr(self, ivr: IvrSession) -> IvrEnd:
        run = await self.runner.run(self.agi, ivr, self.first_menu)
        return IvrEnd(run.final, run.customer.id if run.customer else None)

    async def prepare_queue(self, recording: str, moh: str | None, ring_timeout: str) -> None:
        # Sent before the ACD sees the caller: an agent may be rung at once by a
        # Redirect, and cc-connect needs all three (the ring timeout spares that
        # Redirect an AMI Setvar).
        self.agi.set_later(inherited(Var.REC_FILE), recording)
        if moh is not None:
            self.agi.set_later(Var.MOH, moh)
        self.agi.set_later(Var.RING_TIMEOUT, ring_timeout)
        await self.agi.flush()

    async def say_position(self, position: int, wait: SpokenWait, announce: Announce) -> None:
        agi = self.agi
        if announce.position:
            if position <= 1:
                await agi.stream_file("queue-youarenext")
            else:
                await agi.stream_file("queue-thereare")
                await agi.command(f'SAY NUMBER {position - 1} ""')
                await agi.stream_file("queue-callswaiting")
        if wait == FEW_MINUTES:
            await agi.stream_file(announce.few_minutes_prompt)
        elif isinstance(wait, int):
            await agi.stream_file("queue-holdtime")
            await agi.command(f'SAY NUMBER {wait} ""')
            await agi.stream_file("queue-minutes" if wait > 1 else "queue-minute")

    async def wants_callback(self, rules: CallbackSettings) -> bool:
        if await self._prompt(rules.offer_prompts, rules.key) == rules.key:
            return True
        pressed = await self._say_digits(rules.key, rules.key)
        return pressed == rules.key or await self.agi.wait_for_digit(3000) == rules.key

    async def callback_number(self, caller: str, rules: CallbackSettings) -> str | None:
        number = _valid(caller, rules.region)
        if number is not None:
            await self._prompt(CONFIRM, "12")
            key = await self._say_digits(number.lstrip("+"), "12")
            key = key or await self._prompt(IF_CORRECT, "12")
            key = key or await self._say_digits("1", "12")
            key = key or await self._key("12")
            if key == "1":
                return number
        for _ in range(2):  # enter another number: two tries
            typed, _ = await self.agi.get_data(ENTER, int(CONFIRM_SECONDS * 1000), 20)
            keyed = typed.rstrip("#")
            if _valid(keyed, rules.region) is not None:
                return keyed  # as keyed: the dial policy reads it (and audits a refusal)
            await self.agi.stream_file(BAD_NUMBER)
        return None

    async def play(self, prompts: tuple[str, ...]) -> None:
        await self._prompt(prompts, "")

    async def rate(self, prompts: tuple[str, ...], timeout: float) -> str | None:
        # One key, no terminator: GET DATA for one prompt, Read for a retry's two.
        try:
            typed = await self.runner.collect(self.agi, prompts, 1, timeout, None)
        except AgiHangup:
            return None
        if self.agi.hung_up:
            return None
        return typed.value if isinstance(typed, Digits) else ""

    async def record_comment(self, prompt: str, path: str, seconds: int) -> bool | None:
        # Record() beeps, then stops at 3 s of silence, '#' or ``seconds``; `k` keeps
        # what was said when the caller hangs up mid-comment.
        try:
            await self.agi.stream_file(prompt)
            await self.agi.exec("Record", f"{path}.wav,3,{int(seconds)},k")
            status = await self.agi.get_variable("RECORD_STATUS")
        except AgiHangup:
            return None
        if self.agi.hung_up or status == "HANGUP":
            return None
        return status in ("DTMF", "SILENCE", "TIMEOUT")

    async def tag_fallback(self, queue: str, rank: int) -> None:
        # With the next command: an announcement's first prompt, or CC_STATUS.
        self.agi.set_later(Var.QUEUE, queue)
        self.agi.set_later(Var.FALLBACK_RANK, rank)

    async def carry_out(self, decision: Decision) -> Status:
        # Batched with CC_STATUS, which the server sets when the route ends.
        if decision.status is Status.CONNECT:
            self.agi.set_later(Var.TARGET, decision.target)
            self.agi.set_later(Var.RING_TIMEOUT, str(int(decision.ring_timeout)))
            if self.via is not None:  # several nodes: the trunk to the agent's, or ''
                self.agi.set_later(Var.VIA, self.via(self.agi.node, decision.target))
        elif decision.status is Status.VOICEMAIL:
            self.agi.set_later(Var.VM_BOX, decision.target)
        if decision.prompt:
            await self.agi.stream_file(decision.prompt)
        return decision.status

    # -- keys ------------------------------------------------------------------------------
    async def _key(self, wanted: str) -> str:
        """Wait for one of ``wanted``, ignoring other keys, at most CONFIRM_SECONDS."""
        deadline = time.monotonic() + CONFIRM_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            key = await self.agi.wait_for_digit(int(left * 1000))
            if not key or key in wanted:
                return key
        return ""

    async def _prompt(self, prompts: tuple[str, ...], escape: str) -> str:
        for prompt in prompts:
            key = await self.agi.stream_file(prompt, escape)
            if key:
                return key
        return ""

    async def _say_digits(self, digits: str, escape: str) -> str:
        result = await self.agi.command(f'SAY DIGITS {digits} "{escape}"')
        return chr(int(result.result)) if result.result.isdigit() and result.result != "0" else ""


def _epoch(text: str) -> float | None:
    """cc-entry's STRFTIME(,,%s.%3q); None when it is not a time."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 < value < float("inf") else None  # NaN compares false


def _valid(raw: str, region: str) -> str | None:
    try:
        return normalise(raw, region) if raw else None
    except BadNumber:
        return None
