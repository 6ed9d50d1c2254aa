"""Two of the product's Asterisk nodes, one controller driving both ([[pbx.nodes]]).

Each node runs in a network namespace of its own, started by `callcenter pbx up`
with the lab's one configuration file (simulate/nodes_lab.py); the controller runs
on a loop thread inside the hub namespace and holds one AMI link per node. A SIPp
caller on node alpha is answered by an agent whose phone (a SIPp UAS echoing the
audio) is registered on node beta: alpha rings it over the inter-node trunk, audio
flows both ways (RTP counted on both nodes' legs), bob hangs up on beta, and the
records say both nodes. A second caller arrives during bob's wrap-up, waits on alpha,
and is moved to bob later (AMI Redirect, CC_VIA set first): the other way the ACD
puts callers through. Then beta is killed: alpha's link stays up, and the wallboard
(its picture and its pushes) says beta is down.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.migrate import upgrade
from callcenter.adapters.db.models import CallEventRow, CallRow, RecordingRow
from callcenter.adapters.db.site_config import apply_site
from callcenter.adapters.web.hub import Client
from callcenter.core.calls.state import CallState
from callcenter.services.site import parse_site
from callcenter.simulate.kamailio_lab import Namespaces
from callcenter.simulate.loop_thread import ControllerThread
from callcenter.simulate.nodes_lab import CALLERS, PHONES, NodesLab
from callcenter.simulate.procs import stop_process, wait_for
from callcenter.simulate.sipp import SippCaller, SippResult, caller_scenario
from callcenter.simulate.softphone import Softphone
from callcenter.simulate.voices import greeting_pcap
from tests.e2e.sites import direct_queue_site, quiet_queue

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        os.geteuid() != 0 or not all(shutil.which(t) for t in ("ip", "sipp")),
        reason="needs root (network namespaces), iproute2 and SIPp",
    ),
]

PORT_BASE = int(os.environ.get("CALLCENTER_TEST_PORT_BASE", "15000"))
TAG = f"m{PORT_BASE}"  # namespaces of their own per port base: suites never collide
PASSWORD = "nodes-lab-" + os.urandom(6).hex()
WRAPUP = 4.0
SPEECH = "Hello, I am calling node alpha and I hope an agent on node beta hears me."


def rtp_counts(lab: NodesLab, node: str, prefix: str) -> tuple[int, int]:
    """Packets received and sent on ``node``'s channel whose name starts ``prefix``
    (``pjsip show channelstats``: bridge, channel, up time, codec, receive count...)."""
    for line in lab.node(node).cli("pjsip show channelstats").splitlines():
        fields = line.split()
        if len(fields) >= 9 and fields[1].startswith(prefix) and fields[4].isdigit():
            return int(fields[4]), int(fields[8])
    return 0, 0


def talk(
    lab: NodesLab,
    thread: ControllerThread,
    controller: Any,
    phone: Softphone,
    workdir: Path,
    number: str,
) -> SippResult:
    """A caller on alpha (the trunk "sipp") talks to bob, whose phone is on beta, until
    bob hangs up; audio is counted on both nodes meanwhile."""
    speech = greeting_pcap(SPEECH, workdir.parent / "voices" / "speech.pcap")
    seen = len(phone.events)
    caller = SippCaller(
        workdir,
        f"{lab.settings.pbx.node_named('alpha').address}:5060",
        address=CALLERS,
        port=PORT_BASE - 9930,
        media_port=PORT_BASE - 8930,
        prefix=Namespaces.prefix(lab.hub),
    )
    run = caller.start(caller_scenario([speech], end="await"), [("Nodes", number)])
    try:
        wait_for(
            lambda: thread.call(lambda: bool(controller.calls.in_state(CallState.TALKING))),
            20,
            "the caller on alpha talking to bob on beta",
        )
        # The caller's number and name reached the phone on beta through the trunk.
        calls = [e for e in list(phone.events)[seen:] if e.get("peeruri")]
        assert calls and calls[0]["peeruri"].startswith(f"sip:{number}@"), phone.events
        assert calls[0].get("peerdisplayname") == "Nodes", calls[0]
        time.sleep(3)  # audio flows meanwhile
        caller_in, caller_out = rtp_counts(lab, "alpha", "sipp-")
        trunk_in, trunk_out = rtp_counts(lab, "alpha", "node-beta-")
        agent_in, agent_out = rtp_counts(lab, "beta", "bob-")
        # Both ways on every leg: the caller's speech reaches bob's phone on beta, and
        # what the phone sends (its tone) comes back to the caller on alpha.
        assert caller_in > 50 and caller_out > 50, (caller_in, caller_out)
        assert trunk_in > 50 and trunk_out > 50, (trunk_in, trunk_out)
        assert agent_in > 50 and agent_out > 50, (agent_in, agent_out)
        phone.hangup()  # bob ends the call from his phone, on beta
        return caller.finish(run, 30)
    finally:
        stop_process(run)


def next_nodes(
    stream: Client, done: Callable[[dict[str, Any]], bool], timeout: float = 10
) -> dict[str, Any]:
    """The nodes of the first "wallboard" push on ``stream`` for which ``done`` holds."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            frame = stream.messages.get(timeout=left)
        except queue.Empty:
            break
        data = json.loads(frame.split("data: ", 1)[1]) if frame else {}
        nodes = {node["node"]: node for node in data.get("nodes", [])}
        if done(nodes):
            return nodes
    raise AssertionError("no wallboard push said so in time")


def test_a_caller_on_one_node_is_answered_by_an_agent_on_the_other(tmp_path: Path) -> None:
    with NodesLab(TAG, PORT_BASE) as lab:
        settings = lab.settings
        upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        # A wrap-up after each call: the second caller waits for bob, and is moved to
        # him later (AMI Redirect) rather than put through from the arrival route.
        queue = quiet_queue("support", requirements={"support": 1}, wrapup=WRAPUP)
        site = direct_queue_site("bob", queue=queue)
        site["agents"][0]["password"] = PASSWORD
        apply_site(parse_site(site, Path("."), "nodes lab"), make_sessions(engine))

        thread = ControllerThread(settings, netns=lab.hub)
        try:
            controller = thread.start(connect=30)
            assert controller.ami.connected_nodes() == {"alpha": True, "beta": True}

            # Bob's phone (baresip, answering by itself) registers on beta.
            phone = Softphone(
                "bob",
                PASSWORD,
                PHONES,
                f"{lab.settings.pbx.node_named('beta').address}:5060",
                tmp_path / "bob",
                auto_answer=True,
                sip_port=PORT_BASE - 9920,
                ctrl_port=PORT_BASE - 9925,
                netns=lab.hub,
            )
            phone.start()
            try:
                phone.wait_registered(15)
                thread.run(controller.agents.login("bob", time.time()))
                wait_for(
                    lambda: thread.call(lambda: controller.agents.available("bob")),
                    15,
                    "bob ready and registered on beta",
                )
                assert thread.call(lambda: controller.ami.node_of_endpoint("bob")) == "beta"
                first = talk(lab, thread, controller, phone, tmp_path / "first", "5557001")
                assert first.successful == 1, first.log
                second = talk(lab, thread, controller, phone, tmp_path / "second", "5557002")
                assert second.successful == 1, second.log
            finally:
                phone.stop()

            # The records: the call entered on alpha, bob's phone was on beta.
            assert controller.records.flush(10)
            with make_sessions(engine)() as session:
                calls = list(session.scalars(select(CallRow).order_by(CallRow.entered_at)))
                ended_by = [
                    e.detail.get("ended_by")
                    for e in session.scalars(select(CallEventRow))
                    if e.kind == "completed"
                ]
                recordings = list(session.scalars(select(RecordingRow)))
            assert [c.caller_number for c in calls] == ["5557001", "5557002"]
            for call in calls:
                assert (call.node, call.agent_node, call.agent) == ("alpha", "beta", "bob")
                assert call.outcome == "completed"
                assert call.answered_at is not None and call.ended_at is not None
                assert re.fullmatch(r"alpha-\d+\.\d+", call.unique_id), call.unique_id
            assert ended_by == ["agent", "agent"], ended_by  # bob's hang-ups on beta, understood
            # It waited (put through at arrival, a wait is some 30 ms), then was moved.
            assert calls[1].wait_seconds is not None and calls[1].wait_seconds > 0.5
            # Each recording was made on the caller's node and is read from its folder.
            assert [r.node for r in recordings] == ["alpha", "alpha"]
            for recording in recordings:
                path = thread.call(
                    lambda recording=recording: controller.recordings.host_path(recording.path)
                )
                assert path.is_relative_to(lab.root / "alpha"), path
                assert path.stat().st_size > 8000  # seconds of audio, both parties
            wait_for(lambda: thread.call(lambda: len(controller.calls)) == 0, 10, "no call left")

            # Both nodes on the wallboard, up; a supervisor's live stream follows it.
            board = thread.call(controller.wallboard.snapshot)
            assert [(n.node, n.up) for n in board.nodes] == [("alpha", True), ("beta", True)]
            stream = controller.hub.connect("supervisor", "", {"wallboard"})

            # Beta dies (SIGKILL): the controller says so for beta alone and keeps alpha.
            pid = lab.node("beta").running_pid()
            assert pid is not None
            killed = time.time()
            os.kill(pid, signal.SIGKILL)
            wait_for(
                lambda: (
                    thread.call(controller.ami.connected_nodes) == {"alpha": True, "beta": False}
                ),
                10,
                "beta's link down, alpha's up",
            )
            assert thread.call(lambda: controller.ami.connected)
            # The wallboard says which node is down: pushed to the open board, and in
            # the picture GET /api/wallboard serves.
            pushed = next_nodes(stream, lambda nodes: nodes.get("beta", {}).get("up") is False)
            assert pushed["alpha"]["up"] is True and pushed["beta"]["since"] >= killed - 1
            board = thread.call(controller.wallboard.snapshot)
            assert [(n.node, n.up) for n in board.nodes] == [("alpha", True), ("beta", False)]
            controller.hub.disconnect(stream)
        finally:
            thread.stop()
            engine.dispose()
