"""Call-control codes pressed on an agent's phone (dialplan cc-phone-code, cc-hold-agent).

``phone-code,<action>``: a dynamic feature's Gosub, the agent's leg in its bridge.
``phone-code,held,<keys>``: keys the agent's leg read while the caller is on hold.
A transfer or consultation then asks for the target here (GET DATA, ended by #), so
keyed digits never reach a dialplan application. The agent hears a beep when the
action is taken on, an error tone when not; the action runs once the leg is back
(services/inbound/phone_codes.py).
"""

from __future__ import annotations

import logging

from callcenter.adapters.agi.session import AgiSession
from callcenter.core.channels import endpoint_of
from callcenter.core.dialplan import Status
from callcenter.core.phone_codes import NEEDS_TARGET, PhoneAction, action_for_keys
from callcenter.services.inbound.call_control import CallControlError
from callcenter.services.inbound.phone_codes import PhoneCodes, Target

log = logging.getLogger(__name__)

TARGET_PROMPT = "beep"
# Short tones: the agent is in the middle of a call (and the caller hears silence
# while the code runs), so no sentence such as pbx-invalid (4.4 s).
TAKEN = "beep"
REFUSED = "beeperr"
TARGET_TIMEOUT_MS = 8000
TARGET_MAX_KEYS = 20
HELD = "held"


class PhoneCodeRoute:
    def __init__(self, codes: PhoneCodes) -> None:
        self.codes = codes

    def _action(self, args: list[str]) -> PhoneAction | None:
        word = args[0] if args else ""
        if word == HELD:
            return action_for_keys(args[1] if len(args) > 1 else "", self.codes.codes)
        try:
            return PhoneAction(word)
        except ValueError:
            return None

    async def handle(self, agi: AgiSession) -> Status:
        agent = endpoint_of(agi.channel) or ""
        action = self._action(agi.args)
        try:
            if action is None:
                raise CallControlError("bad-code", f"no call-control code {agi.args!r}")
            self.codes.check(agent, agi.channel, action)
            target: Target | None = None
            if action in NEEDS_TARGET:
                keys, _ = await agi.get_data(TARGET_PROMPT, TARGET_TIMEOUT_MS, TARGET_MAX_KEYS)
                target = await self.codes.target(agent, action, keys)
                self.codes.check(agent, agi.channel, action)  # still on after the keys
        except CallControlError as exc:
            log.info("phone code %s from %s refused: %s", agi.args, agent, exc)
            await agi.stream_file(REFUSED)
            return Status.FAIL
        log.info("phone code %s from %s: %s %s", agi.args, agent, action, target or "")
        self.codes.later(agent, agi.channel, action, target)
        await agi.stream_file(TAKEN)
        return Status.HANGUP
