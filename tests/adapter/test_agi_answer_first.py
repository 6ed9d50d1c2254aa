"""cc-entry answers before the inbound route ([agi] answer_first, off by default): the route's
second argument says so, and the line then sends no answer of its own."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from callcenter.adapters.agi.routes import ANSWERED, AgiCallerLine, CallRoutes
from callcenter.adapters.agi.session import AgiSession
from callcenter.adapters.pbx.render import globals_conf
from callcenter.config import Settings
from callcenter.core.dialplan import Global, Status


class FakeInbound:
    def __init__(self) -> None:
        self.lines: list[AgiCallerLine] = []

    async def arrived(self, line: AgiCallerLine, arrival: object) -> Status:
        self.lines.append(line)
        await line.answer()
        return Status.HANGUP


def session(*args: str) -> AgiSession:
    headers = {"agi_channel": "PJSIP/trunk-1", "agi_uniqueid": "1.1"}
    headers |= {f"agi_arg_{i}": arg for i, arg in enumerate(args, start=1)}
    return AgiSession(headers, cast(Any, None), cast(Any, None))


@pytest.mark.parametrize(
    ("args", "answer_due"),
    [(("5551000", ANSWERED), False), (("5551000", ""), True), (("5551000",), True)],
)
def test_the_route_answers_only_a_caller_the_dialplan_did_not(
    args: tuple[str, ...], answer_due: bool
) -> None:
    inbound = FakeInbound()
    routes = CallRoutes(cast(Any, inbound), cast(Any, None))
    agi = session(*args)
    assert asyncio.run(routes.arrived(agi)) is Status.HANGUP
    assert inbound.lines[0].answered is not answer_due
    assert agi.answer_due is answer_due


@pytest.mark.parametrize(("answer_first", "value"), [(True, "1"), (False, "0")])
def test_answer_first_reaches_the_dialplan_as_a_global(answer_first: bool, value: str) -> None:
    rendered = globals_conf(Settings(agi={"answer_first": answer_first}))
    assert f"{Global.ANSWER_FIRST} = {value}\n" in rendered


def test_answer_first_is_off_by_default() -> None:
    assert f"{Global.ANSWER_FIRST} = 0\n" in globals_conf(Settings())
