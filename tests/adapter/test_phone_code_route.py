"""Call-control codes over FastAGI (adapters/agi/phone_codes.py): the test plays
Asterisk as tests/adapter/test_fastagi.py does. The route checks at once, asks for a
target with GET DATA when the action needs one, answers with a beep or an error tone,
and leaves the action for later (once the leg is back in its bridge)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from callcenter.adapters.agi.phone_codes import PhoneCodeRoute
from callcenter.adapters.agi.server import FastAgiServer
from callcenter.config import AgiSettings
from callcenter.core.dialplan import Route
from callcenter.core.phone_codes import DEFAULT_CODES, PhoneAction, check_codes
from callcenter.services.inbound.call_control import CallControlError
from callcenter.services.inbound.phone_codes import Target
from tests.adapter.test_fastagi import HOST, free_port
from tests.adapter.trace_replay import Step, Trace, replay

LEG = "PJSIP/ann-0000002a"


@dataclass
class Codes:
    """Stands for PhoneCodes: ann talks on LEG; bob (1002) is ready."""

    codes: dict[PhoneAction, str] = field(default_factory=lambda: check_codes(DEFAULT_CODES))
    later_calls: list[tuple[str, str, PhoneAction, Target | None]] = field(default_factory=list)

    def check(self, agent: str, channel: str, action: PhoneAction) -> None:
        if (agent, channel) != ("ann", LEG):
            raise CallControlError("no-call", "no call on this leg")
        if action is PhoneAction.COMPLETE:
            raise CallControlError("no-consult", "no consultation in progress")

    async def target(self, agent: str, action: PhoneAction, keys: str) -> Target:
        if keys == "1002":
            return Target("agent", "bob")
        raise CallControlError("bad-target", keys)

    def later(self, agent: str, channel: str, action: PhoneAction, target: Target | None) -> None:
        self.later_calls.append((agent, channel, action, target))


def code_call(args: list[str], replies: list[tuple[str, bytes]], channel: str = LEG) -> Trace:
    headers = [
        "agi_network: yes",
        "agi_network_script: phone-code",
        f"agi_channel: {channel}",
        "agi_uniqueid: 1732443340.42",
        "agi_context: cc-phone-code",
        *(f"agi_arg_{i}: {arg}" for i, arg in enumerate(args, 1)),
        "",
    ]
    steps = [Step("send", f"{line}\n".encode(), 0) for line in headers]
    for expected, reply in replies:
        steps += [Step("expect", expected, 0), Step("send", reply, 0)]
    steps.append(Step("closed", "", 0))
    return Trace(f"code {args}", steps=steps)


def _ends(prompt: str, status: str) -> list[tuple[str, bytes]]:
    return [
        (f'STREAM FILE "{prompt}" ""', b"200 result=0 endpos=8000\n"),
        (f'SET VARIABLE CC_STATUS "{status}"', b"200 result=1\n"),
    ]


@pytest.fixture
async def served() -> AsyncIterator[tuple[Codes, int]]:
    codes = Codes()
    server = FastAgiServer(AgiSettings(port=free_port()))
    server.add_route(Route.PHONE_CODE, PhoneCodeRoute(codes).handle)  # type: ignore[arg-type]
    await server.start()
    try:
        yield codes, server.settings.port
    finally:
        await server.stop()


async def test_hold_is_taken_on_with_a_beep_and_left_for_later(served: tuple[Codes, int]) -> None:
    codes, port = served
    await replay(code_call(["hold"], _ends("beep", "HANGUP")), HOST, port)
    assert codes.later_calls == [("ann", LEG, PhoneAction.HOLD, None)]


async def test_a_transfer_asks_for_the_target_first(served: tuple[Codes, int]) -> None:
    codes, port = served
    asked = [('GET DATA "beep" 8000 20', b"200 result=1002\n")]
    await replay(code_call(["transfer"], asked + _ends("beep", "HANGUP")), HOST, port)
    assert codes.later_calls == [("ann", LEG, PhoneAction.TRANSFER, Target("agent", "bob"))]


async def test_a_target_that_names_nothing_is_invalid(served: tuple[Codes, int]) -> None:
    codes, port = served
    asked = [('GET DATA "beep" 8000 20', b"200 result=77 (timeout)\n")]
    await replay(code_call(["consult"], asked + _ends("beeperr", "FAIL")), HOST, port)
    assert codes.later_calls == []


async def test_keys_read_on_hold_name_the_action(served: tuple[Codes, int]) -> None:
    codes, port = served
    await replay(code_call(["held", "*1"], _ends("beep", "HANGUP")), HOST, port)
    await replay(code_call(["held", "*9"], _ends("beeperr", "FAIL")), HOST, port)
    assert codes.later_calls == [("ann", LEG, PhoneAction.HOLD, None)]


@pytest.mark.parametrize(
    ("args", "channel"),
    [
        (["complete"], LEG),  # no consultation
        (["hold"], "PJSIP/bob-0000002b"),  # not a leg with a call
        (["park"], LEG),  # no such action
        ([], LEG),
    ],
)
async def test_refused_codes_are_invalid_and_do_nothing(
    served: tuple[Codes, int], args: list[str], channel: str
) -> None:
    codes, port = served
    await replay(code_call(args, _ends("beeperr", "FAIL"), channel), HOST, port)
    assert codes.later_calls == []
