"""The flows' first menus as dialplan: ``[cc-first]`` (core/ivr/first.py).

cc-entry (dialplan/inbound.conf) jumps to the dialled number's extension here,
or to ``s`` (the default flow), before it asks the controller. A flow whose
first menu the dialplan may run gets one extension, ``flow-<name>``: its
``Read()`` answers the caller and plays the prompts while it takes the keys
(the same Read the controller would send, adapters/agi/keys.py), then the
token, Read's status and the FILTERed keys go back to cc-entry's ``ask`` in
CC_FIRST, the inbound route's second argument. A caller who hangs up during
it is reported to the same route from ``h``, so the call is recorded as
before. A number whose flow starts elsewhere (a lookup, business hours) goes
straight back to ``ask``: the controller runs its flow as before.

Everything written here comes from validated flows (names and prompts in a
narrow alphabet, core/ivr/fields.py); dialled numbers are written only when
they are digits with an optional '+', others are left to ``s`` (and the token
check in the controller).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from callcenter.adapters.agi import keys
from callcenter.core.dialplan import Context, Global, Var
from callcenter.core.ivr.first import FirstMenu

_NUMBER = re.compile(r"\+?[0-9]{1,32}")
ASK = f"{Context.ENTRY.value},s,ask"  # back to cc-entry, which asks the controller
FILE = "generated/first_menus.conf"


def _flow_exten(menu: FirstMenu) -> str:
    return f"flow-{menu.flow}"


def _jump(menu: FirstMenu | None) -> str:
    return f"Goto({_flow_exten(menu)},1)" if menu is not None else f"Goto({ASK})"


def first_menus_conf(default: FirstMenu | None, by_number: Mapping[str, FirstMenu | None]) -> str:
    first, status = Var.FIRST.value, Var.FIRST_MENU.value
    keys_filtered = f"${{FILTER(0-9*#,${{{Var.KEYS.value}}})}}"  # the caller's: keypad only
    lines = [
        "; generated from the IVR flows' first menus (adapters/pbx/first_menus.py)",
        f"[{Context.FIRST.value}]",
        f"exten => s,1,{_jump(default)}",
    ]
    menus: dict[str, FirstMenu] = {}
    if default is not None:
        menus[default.flow] = default
    for number, menu in sorted(by_number.items()):
        if not _NUMBER.fullmatch(number):
            continue
        lines.append(f"exten => {number},1,{_jump(menu)}")
        if menu is not None:
            menus[menu.flow] = menu
    for name, menu in sorted(menus.items()):
        collect = menu.collect
        read = keys.plan(
            collect.prompts or ("silence/1",),
            collect.max_digits,
            collect.timeout,
            collect.terminator,
            answered=False,
        )
        assert isinstance(read, keys.ReadApp)  # not answered: always Read()
        lines += [
            f"; flow {name}: node {menu.node}",
            f"exten => {_flow_exten(menu)},1,Set({status}={menu.token})",
            f" same => n,Read({read.args})",
            f" same => n,Set({first}=${{{status}}}/${{READSTATUS}}/{keys_filtered})",
            f" same => n,Goto({ASK})",
        ]
    # Read() ends the dialplan when the caller hangs up: the route still hears of it
    # (a dead channel's AGI), so the call is opened, recorded and ended as before.
    lines += [
        f'exten => h,1,GotoIf($["${{{status}}}" = "" | "${{{first}}}" != ""]?done)',
        f" same => n,AGI(${{{Global.AGI_URL.value}}}/inbound,${{{Var.DIALLED.value}}},"
        f"${{{status}}}/HANGUP/,${{{Var.ARRIVED.value}}})",
        " same => n(done),NoOp()",
    ]
    return "\n".join(lines) + "\n"
