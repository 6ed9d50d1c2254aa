"""Helpers of the tests where the controller dies: a controller of its own process
(so a kill is real), what Asterisk shows, and agents answering on their phones."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from callcenter.adapters.db.models import CallRow
from callcenter.services.agents import FALLBACK_QUEUE
from callcenter.simulate.controller_process import (
    controller_process as controller_process,  # the outage tests import it from here
)
from callcenter.simulate.procs import wait_for
from callcenter.simulate.softphone import Softphone
from tests.e2e.conftest import CallCenter, Pbx


def wait_running(workdir: Path, process: subprocess.Popen[bytes]) -> None:
    log = workdir / "controller.log"
    wait_for(
        lambda: process.poll() is None and "controller running" in log.read_text(errors="replace"),
        30,
        "the controller process running",
    )
    time.sleep(2.0)  # its AMI login and first resynchronisation


def channels(pbx: Pbx) -> dict[str, str]:
    """Asterisk's channels: name -> dialplan context."""
    found = {}
    for line in pbx.cli("core show channels concise").splitlines():
        fields = line.split("!")
        if len(fields) > 2:
            found[fields[0]] = fields[1]
    return found


def fallback_callers(pbx: Pbx) -> int:
    """Callers waiting in the fallback queues (cc-fallback and the queues' twins)."""
    found = re.findall(rf"^{FALLBACK_QUEUE}\S* has (\d+) call", pbx.cli("queue show"), re.M)
    return sum(int(n) for n in found)


def answer(phone: Softphone, *numbers: str, timeout: float = 15, after: int | None = None) -> str:
    """Take the next call, which must be from one of ``numbers``; returns which.
    ``after``: count events from there (a call may ring before the last one closed)."""
    seen = len(phone.events) if after is None else after
    event = phone.wait_event("CALL_INCOMING", timeout, after=seen)
    found = [number for number in numbers if f"sip:{number}@" in event["peeruri"]]
    assert found, (numbers, event)
    phone.accept()
    phone.wait_event("CALL_ESTABLISHED", 5, after=seen)
    return found[0]


def hang_up_then_answer(phone: Softphone, *numbers: str, timeout: float = 15) -> str:
    """The agent ends the call in progress, then takes the next one ringing."""
    seen = len(phone.events)
    phone.hangup()
    phone.wait_event("CALL_CLOSED", 5, after=seen)
    return answer(phone, *numbers, timeout=timeout, after=seen)


def call_row(center: CallCenter, number: str) -> CallRow:
    (row,) = center.rows(CallRow, CallRow.caller_number == number)
    assert isinstance(row, CallRow)
    return row
