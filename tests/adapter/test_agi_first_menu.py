"""The first menu in the dialplan (cc-first): what is rendered, and how the inbound route
takes its result over (no answer sent, no command for the menu the dialplan ran)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, cast

import pytest

from callcenter.adapters.agi.ivr_runner import IvrRunner
from callcenter.adapters.agi.routes import AgiCallerLine, CallRoutes
from callcenter.adapters.agi.session import AgiSession
from callcenter.adapters.pbx.first_menus import first_menus_conf
from callcenter.adapters.pbx.publisher import PbxConfigPublisher
from callcenter.adapters.pbx.render import PbxLayout
from callcenter.config import Settings
from callcenter.core.dialplan import Status
from callcenter.core.ivr import load_flow
from callcenter.core.ivr.engine import IvrSession
from callcenter.core.ivr.events import Enqueue
from callcenter.core.ivr.first import Answer, first_menu, parse
from callcenter.services.inbound.arrival import Arrival

FLOW = load_flow(
    {
        "name": "main",
        "start": "welcome",
        "nodes": {
            "welcome": {
                "type": "menu",
                "prompts": ["welcome", "custom/press-1"],
                "timeout": 2.5,
                "choices": {"1": "sales"},
            },
            "sales": {"type": "queue", "queue": "sales"},
        },
    },
    queues={"sales"},
    schedules=set(),
)
MENU = first_menu(FLOW)
assert MENU is not None


# -- the rendered dialplan ---------------------------------------------------------------------
def test_the_menu_is_one_read_with_the_flows_prompts_and_keys() -> None:
    text = first_menus_conf(MENU, {"5551000": MENU, "+442071234567": None})
    assert "[cc-first]\n" in text
    assert "exten => s,1,Goto(flow-main,1)\n" in text
    assert "exten => 5551000,1,Goto(flow-main,1)\n" in text
    # A number whose flow starts in the controller goes straight back to ask it.
    assert "exten => +442071234567,1,Goto(cc-entry,s,ask)\n" in text
    assert f"exten => flow-main,1,Set(CC_FIRST_MENU={MENU.token})\n" in text
    # The same Read() the controller would send (adapters/agi/keys.py): it answers.
    assert " same => n,Read(CC_KEYS,welcome&custom/press-1,1,t(),1,2.5)\n" in text
    # The caller's keys reach the route FILTERed to the keypad.
    assert "${FILTER(0-9*#,${CC_KEYS})}" in text
    assert "AGI(${CC_AGI}/inbound,${CC_DIALLED},${CC_FIRST_MENU}/HANGUP/,${CC_ARRIVED})" in text


@pytest.mark.parametrize("number", ["555 1000", "5551000,1,System(x)", "", "1" * 40, "++1"])
def test_numbers_that_are_not_plain_digits_are_never_written(number: str) -> None:
    text = first_menus_conf(MENU, {number: MENU})
    assert text == first_menus_conf(MENU, {})


def test_without_menus_every_caller_goes_to_the_controller() -> None:
    text = first_menus_conf(None, {})
    assert "exten => s,1,Goto(cc-entry,s,ask)\n" in text
    assert "Read(" not in text


# -- the route ----------------------------------------------------------------------------------
class FakeInbound:
    def __init__(self) -> None:
        self.lines: list[AgiCallerLine] = []
        self.arrivals: list[Arrival] = []

    async def arrived(self, line: AgiCallerLine, arrival: Arrival) -> Status:
        self.lines.append(line)
        self.arrivals.append(arrival)
        await line.answer()
        return Status.HANGUP


def session(*args: str) -> AgiSession:
    headers = {"agi_channel": "PJSIP/trunk-1", "agi_uniqueid": "1.1"}
    headers |= {f"agi_arg_{i}": arg for i, arg in enumerate(args, start=1)}
    return AgiSession(headers, cast(Any, None), cast(Any, None))


@pytest.mark.parametrize(
    ("args", "answer_due", "arrived_at"),
    [
        (("5551000", f"{MENU.token}/OK/1", "1765150000.125"), False, 1765150000.125),
        (("5551000", f"{MENU.token}/HANGUP/", "x"), False, None),
        (("5551000", "", "1765150000.125"), True, 1765150000.125),  # no first menu ran
        (("5551000", "garbage/OK/1"), True, None),
        (("5551000",), True, None),  # a site's own dialplan: as before
    ],
)
def test_the_route_answers_only_a_caller_no_first_menu_answered(
    args: tuple[str, ...], answer_due: bool, arrived_at: float | None
) -> None:
    inbound = FakeInbound()
    routes = CallRoutes(cast(Any, inbound), cast(Any, None))
    agi = session(*args)
    assert asyncio.run(routes.arrived(agi)) is Status.HANGUP
    assert (inbound.lines[0].first_menu is None) is answer_due
    assert agi.answer_due is answer_due
    assert inbound.arrivals[0].arrived_at == arrived_at


class NoCommands:
    """An AGI session that must not be asked anything."""

    hung_up = False
    channel = "PJSIP/trunk-1"

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the runner sent {name}")


def test_the_runner_sends_nothing_for_the_menu_the_dialplan_ran() -> None:
    runner = IvrRunner(cast(Any, None), cast(Any, None))
    answer = first_menu_answer("OK", "1")
    ivr = IvrSession(FLOW, caller="5551000", open_now=None)
    run = asyncio.run(runner.run(cast(AgiSession, NoCommands()), ivr, answer))
    assert isinstance(run.final, Enqueue) and run.final.queue == "sales"
    assert (ivr.path, ivr.data) == (["welcome", "sales"], {"menu.welcome": "1"})


def first_menu_answer(status: str, keys: str) -> Answer | None:
    return parse(f"{MENU.token}/{status}/{keys}")


# -- publishing: rendered and the dialplan reloaded, only when they changed ----------------------
class Ami:
    connected = True

    def __init__(self) -> None:
        self.reloaded: list[str] = []

    async def reload_module(self, module: str) -> None:
        self.reloaded.append(module)


def publisher(tmp_path: Path, **agi: object) -> tuple[PbxConfigPublisher, Ami]:
    settings = Settings(
        state_dir=tmp_path / "state",
        site_dir=tmp_path / "site",
        agi=agi,  # type: ignore[arg-type]
    )
    layout = PbxLayout(
        host_dir=tmp_path / "state" / "pbx",
        inner_dir="/srv/callcenter",
        mod_dir="/usr/lib/x86_64-linux-gnu/asterisk/modules",
        data_dir="/usr/share/asterisk",
        run_user="asterisk",
        uid=os.getuid(),
        gid=os.getgid(),
    )
    ami = Ami()
    return PbxConfigPublisher(settings, layout, cast(Any, ami)), ami


def test_first_menus_are_published_and_the_dialplan_reloaded_when_they_change(
    tmp_path: Path,
) -> None:
    pub, ami = publisher(tmp_path, first_menu_in_dialplan=True)
    asyncio.run(pub.publish_first_menus(MENU, {"5551000": MENU}))
    asyncio.run(pub.publish_first_menus(MENU, {"5551000": MENU}))
    assert ami.reloaded == ["pbx_config.so"]
    text = (tmp_path / "state/pbx/etc/generated/first_menus.conf").read_text()
    assert text == first_menus_conf(MENU, {"5551000": MENU})
    asyncio.run(pub.publish_first_menus(None, {}))
    assert ami.reloaded == ["pbx_config.so", "pbx_config.so"]


def test_with_the_option_off_the_default_no_menu_is_rendered(tmp_path: Path) -> None:
    pub, _ = publisher(tmp_path)
    asyncio.run(pub.publish_first_menus(MENU, {"5551000": MENU}))
    text = (tmp_path / "state/pbx/etc/generated/first_menus.conf").read_text()
    assert text == first_menus_conf(None, {})
