"""The controller's AMI user, on a real Asterisk, can do what the controller does
and nothing more: no CLI command, no Originate of an application such as System(),
no module loading (asterisk/manager.conf, docs/ARCHITECTURE.md "AMI rights")."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter.adapters.ami.client import AmiError
from tests.e2e.conftest import CallCenter


@pytest.mark.e2e
def test_the_controllers_ami_user_holds_no_system_or_command_right(
    callcenter: CallCenter, tmp_path: Path
) -> None:
    ami = callcenter.controller.ami
    run = callcenter.thread.run
    marker = tmp_path / "system-ran"

    # What the controller uses works: a global variable, a function read, a reload.
    run(ami.action("Setvar", Variable="CC_RIGHTS_PROBE", Value="1"))
    assert run(ami.action("Getvar", Variable="CC_RIGHTS_PROBE")).get("value") == "1"
    run(ami.reload_module("res_pjsip.so"))
    run(ami.reload_module("pbx_config.so"))  # the flows' first menus (cc-first)
    run(ami.action("QueueReload", Parameters="yes"))

    refused = []
    for name, headers in [
        ("Command", {"Command": "core show uptime"}),
        (
            "Originate",
            {"Channel": "Local/s@cc-agents", "Application": "System", "Data": f"touch {marker}"},
        ),
        ("ModuleLoad", {"Module": "res_pjsip.so", "LoadType": "unload"}),
        ("PJSIPShowContacts", {}),
    ]:
        with pytest.raises(AmiError) as error:
            run(ami.action(name, **headers))
        refused.append((name, str(error.value)))
    for name, message in refused:
        # "Permission denied"; Originate of an application: "Originate Access Forbidden".
        assert "permission denied" in message.lower() or "forbidden" in message.lower(), (
            name,
            message,
        )
    # And through Getvar, no function that reaches outside Asterisk (live_dangerously).
    with pytest.raises(AmiError, match="Forbidden"):
        run(ami.action("Getvar", Variable=f"SHELL(touch {marker})"))
    assert "res_pjsip.so" in callcenter.pbx.cli("module show like res_pjsip.so")
    assert not marker.exists()
