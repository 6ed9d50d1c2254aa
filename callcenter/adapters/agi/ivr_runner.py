"""Carry out the IVR engine's actions on a channel over FastAGI.

The engine (core/ivr) decides; this module plays, reads keys, looks customers
up and calls self-service endpoints (through ``fetch``, adapters/http/fetch.py).
A slow or failing endpoint never strands the caller: every fetch has a deadline
(music plays meanwhile) and its failure is a result the flow has a branch for.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from callcenter.adapters.agi import keys
from callcenter.adapters.agi.session import AgiHangup, AgiSession, quote
from callcenter.adapters.db.customers import CustomerRepository
from callcenter.core.customers import Customer
from callcenter.core.ivr import first
from callcenter.core.ivr.engine import IvrSession
from callcenter.core.ivr.events import (
    Action,
    BookCallback,
    CallerHungUp,
    Collect,
    Digits,
    Done,
    Enqueue,
    Fetch,
    FetchResult,
    Hangup,
    Lookup,
    LookupResult,
    NoInput,
    Play,
    Result,
    Say,
    Verify,
    VerifyResult,
    Voicemail,
)

log = logging.getLogger(__name__)

Final = Enqueue | BookCallback | Voicemail | Hangup
# (url, timeout in s) -> the JSON document there, or None without a usable answer.
JsonFetch = Callable[[str, float], Awaitable[object]]


@dataclass
class IvrRun:
    final: Final
    customer: Customer | None = None
    steps: list[str] = field(default_factory=list)


class IvrRunner:
    def __init__(self, customers: CustomerRepository, fetch: JsonFetch) -> None:
        self.customers = customers
        self.fetch = fetch

    async def run(
        self, agi: AgiSession, ivr: IvrSession, answer: first.Answer | None = None
    ) -> IvrRun:
        """Step ``ivr`` to its end. ``answer``: the dialplan ran the flow's first menu
        (cc-first); the session gets its result without running it again."""
        customer: Customer | None = None
        action: Action = ivr.start()
        resumed = first.resume(answer, ivr, action)
        if resumed is not None:
            action = ivr.feed(resumed)
        elif answer is not None:
            log.info(
                "%s: the dialplan ran menu %s, not this flow's; starting over",
                agi.channel,
                answer.token,
            )
        while not isinstance(action, Enqueue | BookCallback | Voicemail | Hangup):
            try:
                result, customer = await self._execute(agi, action, customer)
            except AgiHangup:
                result = CallerHungUp()
            if agi.hung_up:
                # Asterisk said HANGUP while a command that is allowed on a dead
                # channel ran (EXEC, e.g. after a slow fetch): the caller is gone.
                result = CallerHungUp()
            # A ProtocolError here is our bug; the route's FAIL sends the caller
            # to the fallback queue rather than leaving them in silence.
            action = ivr.feed(result)
        return IvrRun(action, customer)

    async def _execute(
        self, agi: AgiSession, action: Action, customer: Customer | None
    ) -> tuple[Result, Customer | None]:
        if isinstance(action, Play):
            for prompt in action.prompts:
                await agi.stream_file(prompt)
            return Done(), customer
        if isinstance(action, Collect):
            result = await self.collect(
                agi, action.prompts, action.max_digits, action.timeout, action.terminator
            )
            return result, customer
        if isinstance(action, Say):
            for prompt in action.prompts:
                await agi.stream_file(prompt)
            await self._say(agi, action)
            return Done(), customer
        if isinstance(action, Lookup):
            return await self._lookup(action)
        if isinstance(action, Verify):
            typed = await self.collect(agi, action.prompts, action.digits, action.timeout)
            ok = (
                isinstance(typed, Digits)
                and customer is not None
                and action.field == "pin"
                and await asyncio.to_thread(self.customers.check_pin, customer.id, typed.value)
            )
            return VerifyResult(ok), customer
        if isinstance(action, Fetch):
            return await self._fetch(agi, action), customer
        raise TypeError(f"not an action the runner knows: {action!r}")

    @staticmethod
    async def collect(
        agi: AgiSession,
        prompts: tuple[str, ...],
        max_digits: int,
        timeout: float,
        terminator: str | None = "#",
    ) -> Result:
        """Prompts and keys in one command inside Asterisk (keys.py): type-ahead."""
        command = keys.plan(
            prompts or ("silence/1",), max_digits, timeout, terminator, answered=not agi.answer_due
        )
        if isinstance(command, keys.GetData):
            result = await agi.command(
                f"GET DATA {quote(command.prompt)} {command.timeout_ms} {command.max_digits}"
            )
            typed = keys.get_data_keys(result.result, result.timed_out, command)
        else:
            await agi.exec("Read", command.args)
            status, typed = keys.read_back(await agi.get_full_variable(keys.READ_BACK) or "")
            if status == "HANGUP":
                raise AgiHangup("channel hung up (Read)")
        if terminator and typed.endswith(terminator):
            typed = typed[: -len(terminator)]
        return Digits(typed) if typed else NoInput()

    @staticmethod
    async def _say(agi: AgiSession, action: Say) -> None:
        if action.kind == "digits":
            await agi.command(f'SAY DIGITS {action.value} ""')
            return
        whole, _, decimals = action.value.partition(".")
        await agi.command(f'SAY NUMBER {whole} ""')
        if decimals:
            await agi.stream_file("letters/dot")
            await agi.command(f'SAY DIGITS {decimals} ""')

    async def _lookup(self, action: Lookup) -> tuple[Result, Customer | None]:
        find = (
            self.customers.by_number
            if action.source == "caller_number"
            else self.customers.by_account
        )
        try:
            customer = await asyncio.to_thread(find, action.key)
        except Exception:
            log.exception("customer lookup failed")
            return LookupResult(False, error=True), None
        if customer is None:
            return LookupResult(False), None
        return LookupResult(True, customer.fields()), customer

    async def _fetch(self, agi: AgiSession, action: Fetch) -> Result:
        await agi.exec("StartMusicOnHold", "")
        try:
            document = await self.fetch(action.url, action.timeout)
        finally:
            await agi.exec("StopMusicOnHold", "")
        if not isinstance(document, dict):
            return FetchResult(False)
        fields = {str(k): str(v) for k, v in document.items() if isinstance(v, str | int | float)}
        return FetchResult(True, fields)
