"""Call control by feature codes from the agent's phone (core/phone_codes.py): the
same CallControl and Consultations methods the desktop's buttons call.

A code runs inside Asterisk's bridge (a dynamic feature's Gosub on the agent's leg)
or, on hold, in cc-hold-agent's key reading. The FastAGI route checks what it can at
once (a call on this very leg, a target that reads as one) so the agent hears a beep
or an error tone; the action itself runs only once the leg has left the code's Gosub
(``CC_IN_CODE`` cleared): a Redirect or a Bridge of a leg that is still running the
feature's application would cut that application short instead of moving the leg.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from callcenter.core.calls.live import LiveCall
from callcenter.core.dialplan import Var
from callcenter.core.phone_codes import KeyedTarget, PhoneAction, keyed_target
from callcenter.services.inbound.call_control import CallControl, CallControlError
from callcenter.services.inbound.consult import Consultations
from callcenter.services.ports import PbxUnavailable

log = logging.getLogger(__name__)

LEAVE_SECONDS = 3.0  # how long the leg may take to leave the code's Gosub
POLL = 0.05


@dataclass(frozen=True, slots=True)
class Target:
    kind: str  # "queue", "agent" or "number"
    value: str


class PhoneCodes:
    def __init__(
        self,
        control: CallControl,
        consults: Consultations | None,
        codes: Mapping[PhoneAction, str],
        agent_with_extension: Callable[[str], str | None],
        queue_names: Callable[[], Sequence[str]],
    ) -> None:
        self.control = control
        self.consults = consults
        self.codes = dict(codes)
        self.agent_with_extension = agent_with_extension
        self.queue_names = queue_names
        self._tasks: set[asyncio.Task[None]] = set()

    # -- checks, at once (the agent hears the verdict) ------------------------------------
    def check(self, agent: str, channel: str, action: PhoneAction) -> LiveCall:
        """The call the code acts on: the agent's, pressed on its agent's leg."""
        call = self.control.call_of(agent)
        if channel != call.agent_channel:
            raise CallControlError("no-call", f"{channel} is not {agent}'s leg of the call")
        consult = self.consults.of(agent) if self.consults is not None else None
        if action in (PhoneAction.COMPLETE, PhoneAction.CANCEL, PhoneAction.CONFERENCE):
            if consult is None:
                raise CallControlError("no-consult", "no consultation in progress")
        elif consult is not None:
            raise CallControlError("consulting", "a consultation is in progress")
        return call

    async def target(self, agent: str, action: PhoneAction, keys: str) -> Target:
        """What the agent keyed, read (an extension becomes its agent) and checked as
        far as it can be before the action (the agent hears the verdict): an agent
        must be ready, a number must pass the dial policy (a refusal is audited once;
        the action's own check of an allowed number writes nothing)."""
        keyed = keyed_target(keys, sorted(self.queue_names()))
        if keyed is None:
            raise CallControlError("bad-target", f"{keys!r} names no queue, agent or number")
        target = await self._resolve(keyed)
        if target.kind == "agent":
            if target.value == agent:
                raise CallControlError("same-agent", "the agent keyed their own extension")
            if not self.control.agents.available(target.value):
                raise CallControlError("agent-busy", f"{target.value} is not ready for a call")
        elif target.kind == "number":
            purpose = "transfer" if action is PhoneAction.TRANSFER else "consult"
            number = await self.control.vet_number(agent, target.value, purpose)
            target = Target("number", number)
        return target

    async def _resolve(self, keyed: KeyedTarget) -> Target:
        if keyed.kind == "queue":
            return Target("queue", keyed.value)
        if keyed.kind == "extension":
            agent = await asyncio.to_thread(self.agent_with_extension, keyed.value)
            if agent is not None:
                return Target("agent", agent)
        return Target("number", keyed.value)  # the dial policy decides

    # -- the action, once the leg is back in its bridge ------------------------------------
    def later(self, agent: str, channel: str, action: PhoneAction, target: Target | None) -> None:
        task = asyncio.get_running_loop().create_task(self._act(agent, channel, action, target))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _act(
        self, agent: str, channel: str, action: PhoneAction, target: Target | None
    ) -> None:
        try:
            await self._left_code(channel)
            await self.act(agent, action, target)
        except CallControlError as exc:
            log.info("phone code %s of %s not carried out: %s", action, agent, exc)
        except Exception:
            log.exception("phone code %s of %s failed", action, agent)

    async def _left_code(self, channel: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LEAVE_SECONDS
        while loop.time() < deadline:
            try:
                if not await self.control.pbx.get_var(channel, Var.IN_CODE):
                    return
            except PbxUnavailable as exc:
                raise CallControlError("pbx", str(exc)) from exc
            await asyncio.sleep(POLL)
        raise CallControlError("pbx", f"{channel} did not leave the code's Gosub")

    async def act(self, agent: str, action: PhoneAction, target: Target | None) -> None:
        """The desktop's own path for each action."""
        control, consults = self.control, self.consults
        if action is PhoneAction.HOLD:
            call = control.call_of(agent)
            await (control.resume(agent) if call.holds.on_hold else control.hold(agent))
            return
        if action in (PhoneAction.TRANSFER, PhoneAction.CONSULT):
            assert target is not None
            await self._to(agent, action, target)
            return
        if consults is None:
            raise CallControlError("no-consult", "consultation is not available")
        if action is PhoneAction.COMPLETE:
            await consults.complete(agent, "")
        elif action is PhoneAction.CANCEL:
            await consults.cancel(agent)
        else:
            await consults.conference(agent)

    async def _to(self, agent: str, action: PhoneAction, target: Target) -> None:
        control = self.control
        if action is PhoneAction.TRANSFER:
            if target.kind == "queue":
                await control.to_queue(agent, target.value, "phone")
            elif target.kind == "agent":
                await control.to_agent(agent, target.value, "phone")
            else:
                await control.to_number(agent, target.value, "phone")
            return
        if self.consults is None:
            raise CallControlError("no-consult", "consultation is not available")
        if target.kind == "agent":
            await self.consults.start(agent, target.value)
        elif target.kind == "number":
            await self.consults.start_number(agent, target.value)
        else:
            await self.consults.start_queue(agent, target.value)
