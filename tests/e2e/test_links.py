"""The controller's two links to Asterisk under abuse and failure."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time

import pytest

from callcenter.simulate.procs import wait_for
from callcenter.simulate.sipp import caller_scenario
from tests.e2e.conftest import CALLER_PORT, CallCenter, Pbx
from tests.e2e.sites import one_queue_site

pytestmark = pytest.mark.e2e


def _abuse_fastagi(port: int) -> int:
    """Clients that close at once, send garbage, stall mid-headers or flood."""
    sent = 0
    for _ in range(10):
        with socket.create_connection(("127.0.0.1", port)):
            pass  # connect and close at once
        sent += 1
    for payload in (
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",  # garbage that happens to end in a blank line
        b"\x00\xff\xfe garbage without newline",
        b"agi_network: yes\nagi_channel: PJSIP/x-1\n",  # headers cut short, then close
        b"x" * 20000,  # more than the header limit, no newline
        b"agi_network: yes\nagi_request: agi://x/none\n\n",  # no agi_network_script
    ):
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(payload)
        sent += 1
    return sent


def test_fastagi_garbage_is_dropped_while_ami_keeps_answering(callcenter: CallCenter) -> None:
    controller = callcenter.controller
    stop = asyncio.Event()

    async def ping_loop() -> list[float]:
        rtts = []
        while not stop.is_set():
            rtts.append(await controller.ami.ping(timeout=1.0))
            await asyncio.sleep(0.01)
        return rtts

    pinger = asyncio.run_coroutine_threadsafe(ping_loop(), callcenter.thread.loop)
    # A client that connects and then says nothing must not hold anything up either.
    silent = socket.create_connection(("127.0.0.1", callcenter.pbx.settings.agi.port))
    try:
        sent = _abuse_fastagi(callcenter.pbx.settings.agi.port)
        wait_for(lambda: controller.agi.dropped >= sent, 5, "every bad client dropped")
        # The silent one is dropped at its header deadline.
        wait_for(lambda: controller.agi.dropped >= sent + 1, 5, "the silent client dropped")
    finally:
        silent.close()
        callcenter.thread.loop.call_soon_threadsafe(stop.set)
    rtts = pinger.result(10)
    assert len(rtts) > 20
    assert max(rtts) < 0.100, f"AMI ping took {max(rtts) * 1000:.1f} ms during the abuse"

    # The FastAGI server still serves real calls afterwards.
    callcenter.load_site(one_queue_site("agent1"))
    phone = callcenter.softphone(callcenter.account("agent1"), auto_answer=True)
    callcenter.login("agent1")
    result = callcenter.caller().run(caller_scenario([500, "1", 1500]), [("Eve", "5550001")])
    assert (result.successful, result.failed) == (1, 0), result.log
    assert phone.event_types().count("CALL_ESTABLISHED") == 1


def test_controller_reconnects_and_resynchronises_after_asterisk_restart(
    callcenter: CallCenter, pbx: Pbx
) -> None:
    controller = callcenter.controller
    callcenter.load_site(one_queue_site("agent1"))
    phone = callcenter.softphone(callcenter.account("agent1"), auto_answer=True)
    callcenter.login("agent1")
    view = controller.view
    get = callcenter.thread.call
    wait_for(lambda: get(lambda: controller.agents.available("agent1")), 10, "agent1 ready")
    logins_before = get(lambda: controller.ami.logins)
    resyncs_before = get(lambda: view.resyncs)

    # A call in progress when Asterisk dies.
    caller = callcenter.caller()
    sipp = caller.start(caller_scenario([500, "1"], end="await"), [("Dan", "5550002")])
    phone.wait_event("CALL_ESTABLISHED", 15)
    wait_for(lambda: len(get(lambda: view.table.channels())) == 2, 5, "2 channels seen")
    stale = {c.unique_id for c in get(lambda: view.table.channels())}

    pid = pbx.asterisk.running_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not get(lambda: controller.ami.connected), 10, "the controller to notice")
    caller.finish(sipp, timeout=0)  # its call died with Asterisk; stop it by PID
    phone.hangup()  # the softphone has no media timeout; the agent hangs up
    phone.wait_event("CALL_CLOSED", 10)

    started = time.monotonic()
    pbx.asterisk.up([])
    wait_for(lambda: get(lambda: view.resyncs) > resyncs_before, 15, "a resynchronisation")
    reconnect_s = time.monotonic() - started
    assert get(lambda: controller.ami.logins) == logins_before + 1
    assert reconnect_s < 10

    # The picture was rebuilt from Asterisk: the dead call's channels are gone.
    channels = {c.unique_id for c in get(lambda: view.table.channels())}
    assert not channels & stale
    # And the call center works again, end to end.
    wait_for(lambda: get(lambda: controller.agents.available("agent1")), 70, "agent1 ready again")
    established = phone.event_types().count("CALL_ESTABLISHED")
    result = callcenter.caller(port=CALLER_PORT + 2).run(
        caller_scenario([500, "2", 1500]), [("Dan", "5550002")]
    )
    assert (result.successful, result.failed) == (1, 0), result.log
    assert phone.event_types().count("CALL_ESTABLISHED") == established + 1
