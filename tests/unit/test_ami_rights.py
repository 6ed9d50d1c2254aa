"""The controller's AMI user holds the rights its actions need, and no more.

Every AMI action the controller sends is found in its source (``action("Name"``,
``action_list("Name"``, ``_do("Name"``, ``reload_module``); each must be in
PRIVILEGES (what Asterisk 22's ``manager show command <Name>`` lists) and allowed
by the write rights of asterisk/manager.conf. ``system`` and ``command`` stay out.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
# Action -> the write classes any one of which allows it (Asterisk 22); "" = none needed.
PRIVILEGES = {
    "CoreShowChannels": {"system", "reporting"},
    "Getvar": {"call", "reporting"},
    "Hangup": {"system", "call"},
    "MixMonitorMute": {"system", "call"},
    "Originate": {"originate"},  # into a dialplan context: no "system" needed
    "Ping": set(),
    "QueueAdd": {"agent"},
    "QueueLog": {"agent"},
    "QueuePause": {"agent"},
    "QueueReload": set(),
    "QueueRemove": {"agent"},
    "QueueStatus": set(),
    "Redirect": {"call"},
    "Reload": {"system", "config"},
    "Setvar": {"call"},
}
_SENT = re.compile(r"""(?:\baction|\baction_list|\b_do|_send)\(\s*["']([A-Z][A-Za-z]+)["']""")


def sent_actions() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "callcenter").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        names |= set(_SENT.findall(text))
        if "reload_module(" in text:
            names.add("Reload")
    return names


def rights(kind: str) -> set[str]:
    text = (ROOT / "asterisk" / "manager.conf").read_text(encoding="utf-8")
    found = re.findall(rf"^{kind}\s*=\s*(\S+)\s*$", text, re.M)
    assert len(found) == 1, found
    return set(found[0].split(","))


def test_every_action_sent_is_known_and_allowed() -> None:
    sent = sent_actions()
    assert {"Originate", "QueueAdd", "Setvar", "Reload", "Getvar"} <= sent  # the scan works
    unknown = sent - set(PRIVILEGES)
    assert not unknown, f"add these actions' privileges to PRIVILEGES: {sorted(unknown)}"
    write = rights("write")
    for name in sorted(sent):
        needed = PRIVILEGES[name]
        assert not needed or needed & write, f"{name} needs one of {sorted(needed)}"


def test_no_right_beyond_those_used() -> None:
    write = rights("write")
    assert not {"system", "command", "all"} & write
    used = set().union(*(PRIVILEGES[name] for name in sent_actions()))
    assert write <= used, f"rights no action needs: {sorted(write - used)}"


def test_the_cli_command_action_is_not_sent() -> None:
    assert "Command" not in sent_actions()
    for path in (ROOT / "callcenter").rglob("*.py"):
        if path.name == "client.py":
            continue  # defines command() for tools with their own AMI user
        assert "ami.command(" not in path.read_text(encoding="utf-8"), path
