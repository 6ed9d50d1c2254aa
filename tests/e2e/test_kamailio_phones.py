"""One SIP address for carriers and phones: Kamailio before two product Asterisk nodes.

The product's Kamailio runs with ``[kamailio] phones`` in the hub namespace of the
nodes lab (simulate/nodes_lab.py): bob's baresip registers with Kamailio only (digest
against the agent's credentials, as the nodes would check them), and Kamailio copies
the registration to both nodes, so the controller sees bob's phone reachable as it
always did (ContactStatus). SIPp callers send their INVITEs to Kamailio, which shares
them across the nodes; whichever node a call lands on rings bob through Kamailio and
bob answers, audio flowing both ways (RTP counted on the node's caller and agent
legs). Then one node is killed: Kamailio leaves it out, and the next caller lands on
the survivor and still reaches bob. Bounded: each step waits seconds, not minutes.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.migrate import upgrade
from callcenter.adapters.db.models import CallRow
from callcenter.adapters.db.site_config import apply_site
from callcenter.bootstrap import build_storage
from callcenter.core.calls.state import CallState
from callcenter.services.site import parse_site
from callcenter.simulate.kamailio_lab import Namespaces
from callcenter.simulate.loop_thread import ControllerThread
from callcenter.simulate.nodes_lab import CALLERS, KAMAILIO, NODE_NAMES, PHONES, NodesLab
from callcenter.simulate.procs import stop_process, wait_for
from callcenter.simulate.sipp import SippCaller, SippResult, caller_scenario, through_proxy
from callcenter.simulate.softphone import Softphone
from callcenter.simulate.voices import greeting_pcap
from tests.e2e.sites import direct_queue_site, quiet_queue

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        os.geteuid() != 0 or not all(shutil.which(t) for t in ("ip", "sipp", "kamailio")),
        reason="needs root (network namespaces), iproute2, SIPp and kamailio",
    ),
]

PORT_BASE = int(os.environ.get("CALLCENTER_TEST_PORT_BASE", "15000"))
TAG = f"p{PORT_BASE}"  # namespaces of their own per port base: suites never collide
PASSWORD = "kamailio-phones-" + os.urandom(6).hex()
SPEECH = "Hello, I am calling Kamailio and I hope an agent hears me on any node."


def rtp_counts(lab: NodesLab, node: str, prefix: str) -> tuple[int, int]:
    """Packets received and sent on ``node``'s channel whose name starts ``prefix``."""
    for line in lab.node(node).cli("pjsip show channelstats").splitlines():
        fields = line.split()
        # Bridge id, channel, up time, codec, received count...; a channel in no
        # bridge (the echo test) has no bridge id.
        at = next((i for i, f in enumerate(fields[:2]) if f.startswith(prefix)), None)
        if at is not None and len(fields) >= at + 8 and fields[at + 3].isdigit():
            return int(fields[at + 3]), int(fields[at + 7])
    return 0, 0


def invite_status(lab: NodesLab, target: str, headers: str = "") -> int:
    """A bare INVITE as bob's phone (from PHONES, no credentials) to ``target``: the
    status of the first final answer, 0 if none came within 5 s."""
    sock = Namespaces.udp_socket(lab.hub)
    with sock:
        sock.bind((PHONES, 0))
        sock.connect((target, 5060))
        port = sock.getsockname()[1]
        call_id = secrets.token_hex(8)
        sock.send(
            (
                f"INVITE sip:*43@{target}:5060 SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {PHONES}:{port};branch=z9hG4bK{secrets.token_hex(6)};rport\r\n"
                f"From: <sip:bob@{target}>;tag={secrets.token_hex(4)}\r\n"
                f"To: <sip:*43@{target}>\r\n"
                f"Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\n"
                f"Contact: <sip:bob@{PHONES}:{port}>\r\nMax-Forwards: 70\r\n"
                f"{headers}Content-Length: 0\r\n\r\n"
            ).encode()
        )
        deadline = time.monotonic() + 5
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data = sock.recv(65535)
            except OSError:
                return 0
            status = int(data.split(b" ", 2)[1])
            if status >= 200 and call_id.encode() in data:
                return status
        return 0


def call_node(lab: NodesLab, alive: list[str]) -> str:
    """The node the caller's leg (on Kamailio's endpoint) is up on, '' if none yet."""
    for name in alive:
        if "Kamailio-" in lab.node(name).cli("core show channels concise"):
            return name
    return ""


def talk(
    lab: NodesLab,
    thread: ControllerThread,
    controller: Any,
    phone: Softphone,
    workdir: Path,
    number: str,
    alive: list[str],
    agent: str = "bob",
) -> tuple[str, SippResult, dict[str, int]]:
    """A caller through Kamailio talks to ``agent`` until the agent hangs up: the node
    it landed on, the caller's result, and the RTP counted on that node's legs."""
    speech = greeting_pcap(SPEECH, workdir.parent / "voices" / "speech.pcap")
    caller = SippCaller(
        workdir,
        f"{KAMAILIO}:5060",
        address=CALLERS,
        port=PORT_BASE - 9930,
        media_port=PORT_BASE - 8930,
        prefix=Namespaces.prefix(lab.hub),
    )
    run = caller.start(through_proxy(caller_scenario([speech], end="await")), [("Kam", number)])
    try:
        wait_for(
            lambda: thread.call(lambda: bool(controller.calls.in_state(CallState.TALKING))),
            20,
            f"caller {number} talking to {agent}",
        )
        node = call_node(lab, alive)
        assert node, "no node holds the caller's leg"
        time.sleep(3)  # audio flows meanwhile
        caller_in, caller_out = rtp_counts(lab, node, "Kamailio-")
        agent_in, agent_out = rtp_counts(lab, node, f"{agent}-")
        phone.hangup()  # the agent ends the call from the phone
        result = caller.finish(run, 30)
    finally:
        stop_process(run)
    counts = {"caller_in": caller_in, "caller_out": caller_out}
    counts |= {"agent_in": agent_in, "agent_out": agent_out}
    # Both ways on both legs: the caller's speech reaches bob's phone, and what the
    # phone sends (its tone) comes back to the caller.
    assert all(value > 50 for value in counts.values()), (node, counts)
    return node, result, counts


def test_phones_register_with_kamailio_and_take_calls_on_any_node(tmp_path: Path) -> None:
    with NodesLab(TAG, PORT_BASE, kamailio=True) as lab:
        settings = lab.settings
        upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        queue = quiet_queue("support", requirements={"support": 1}, wrapup=0.5)
        site = direct_queue_site("bob", queue=queue)
        site["agents"][0]["password"] = PASSWORD
        apply_site(parse_site(site, Path("."), "kamailio phones lab"), make_sessions(engine))
        storage = build_storage(settings)
        try:
            accounts = storage.agents.accounts()
        finally:
            storage.engine.dispose()
        print("\n" + lab.start_kamailio(accounts))

        thread = ControllerThread(settings, netns=lab.hub)
        try:
            controller = thread.start(connect=30)
            assert controller.ami.connected_nodes() == {"alpha": True, "beta": True}
            # The controller published bob to both nodes (an AOR Kamailio's copies reach).
            for name in NODE_NAMES:
                wait_for(
                    lambda name=name: "bob" in lab.node(name).cli("pjsip show aors"),
                    20,
                    f"bob's AOR on {name}",
                )

            # Bob's phone (baresip, answering by itself) registers with Kamailio only.
            phone = Softphone(
                "bob",
                PASSWORD,
                PHONES,
                f"{KAMAILIO}:5060",
                tmp_path / "bob",
                auto_answer=True,
                sip_port=PORT_BASE - 9920,
                ctrl_port=PORT_BASE - 9925,
                netns=lab.hub,
            )
            phone.start()
            try:
                phone.wait_registered(15)
                # Each node has the copy: bob at Kamailio's address, seen reachable.
                for name in NODE_NAMES:
                    wait_for(
                        lambda name=name: (
                            f"bob@{KAMAILIO}" in lab.node(name).cli("pjsip show contacts")
                        ),
                        15,
                        f"bob's registration copied to {name}",
                    )
                # No call without the agent's digest: Kamailio challenges it; and no one
                # but Kamailio may name an agent to a node (the endpoint lets in
                # Kamailio's address only).
                assert invite_status(lab, KAMAILIO) == 407
                alpha = settings.pbx.node_named("alpha").address
                # (Asterisk answers a request its endpoint's ACL refuses with a 401.)
                assert invite_status(lab, alpha, "X-CC-Agent: bob\r\n") == 401
                log = lab.root / "alpha" / "pbx" / "log" / "messages.log"
                assert "Not match Endpoint ACL" in log.read_text(errors="replace")

                # Bob logs in from his phone (*1): the call goes through Kamailio, which
                # checks his digest and names him; the node takes it as bob's.
                seen = len(phone.events)
                phone.send("dial", "*1")
                phone.wait_event("CALL_ESTABLISHED", 10, after=seen)
                phone.wait_event("CALL_CLOSED", 10, after=seen)
                wait_for(
                    lambda: thread.call(lambda: controller.agents.available("bob")),
                    20,
                    "bob ready (logged in from his phone), his phone reachable",
                )

                landed = []
                for number in ("5558001", "5558002"):
                    node, result, counts = talk(
                        lab, thread, controller, phone, tmp_path / number, number, list(NODE_NAMES)
                    )
                    assert result.successful == 1, result.log[-3000:]
                    landed.append(node)
                    print(f"measured: call {number} on {node}, RTP {counts}")
                    wait_for(
                        lambda: thread.call(lambda: controller.agents.available("bob")),
                        15,
                        "bob ready again",
                    )
                # Kamailio shared the calls across the nodes; bob answered on each.
                assert sorted(landed) == ["alpha", "beta"], landed

                # Alpha dies (SIGKILL): Kamailio leaves it out, the next caller lands on
                # beta and still reaches bob through Kamailio.
                pid = lab.node("alpha").running_pid()
                assert pid is not None
                killed = time.monotonic()
                os.kill(pid, signal.SIGKILL)
                wait_for(lambda: alpha not in lab.up_nodes(), 15, "Kamailio leaving alpha out")
                down_after = time.monotonic() - killed
                wait_for(
                    lambda: (
                        thread.call(controller.ami.connected_nodes)
                        == {"alpha": False, "beta": True}
                    ),
                    10,
                    "the controller's link to alpha down",
                )
                wait_for(
                    lambda: thread.call(lambda: controller.agents.available("bob")),
                    15,
                    "bob still ready with alpha gone",
                )
                node, result, counts = talk(
                    lab, thread, controller, phone, tmp_path / "after", "5558003", ["beta"]
                )
                assert node == "beta"
                assert result.successful == 1, result.log[-3000:]
                print(
                    f"measured: alpha out of Kamailio {down_after:.2f}s after SIGKILL; "
                    f"call 5558003 on beta, RTP {counts}"
                )

                # Bob's own call (the echo test, *43) goes to the node left, audio both ways.
                seen = len(phone.events)
                phone.send("dial", "*43")
                phone.wait_event("CALL_ESTABLISHED", 10, after=seen)
                time.sleep(3)
                echo = rtp_counts(lab, "beta", "bob-")
                phone.hangup()
                phone.wait_event("CALL_CLOSED", 10, after=seen)
                assert echo[0] > 50 and echo[1] > 50, echo
                print(f"measured: bob's echo test through Kamailio on beta, RTP {echo}")

                # Alpha comes back (`pbx up` again): Kamailio sees it up and copies bob's
                # live registration to it at once, and callers land there again.
                restarted = time.monotonic()
                lab.pbx_command("alpha", lab.namespaces.nodes[0], "up", timeout=120)
                wait_for(lambda: alpha in lab.up_nodes(), 20, "Kamailio taking alpha back")
                wait_for(
                    lambda: f"bob@{KAMAILIO}" in lab.node("alpha").cli("pjsip show contacts"),
                    10,
                    "bob's registration copied to alpha back up",
                )
                back_after = time.monotonic() - restarted
                assert f"registrations copied to sip:{alpha}:5060" in lab.kamailio_log()
                wait_for(
                    lambda: (
                        thread.call(controller.ami.connected_nodes) == {"alpha": True, "beta": True}
                    ),
                    20,
                    "the controller's link to alpha back",
                )
                wait_for(
                    lambda: thread.call(lambda: controller.agents.available("bob")),
                    15,
                    "bob ready with alpha back",
                )
                again = []
                for number in ("5558004", "5558005"):
                    node, result, counts = talk(
                        lab, thread, controller, phone, tmp_path / number, number, list(NODE_NAMES)
                    )
                    assert result.successful == 1, result.log[-3000:]
                    again.append(node)
                    wait_for(
                        lambda: thread.call(lambda: controller.agents.available("bob")),
                        15,
                        "bob ready again",
                    )
                assert "alpha" in again, again
                landed += ["beta", *again]
                print(
                    f"measured: alpha up and holding bob's copy {back_after:.1f}s after starting "
                    f"`pbx up`; calls then on {again}"
                )
            finally:
                phone.stop()
            # The phone's goodbye (expires 0) reaches the node too.
            wait_for(
                lambda: f"bob@{KAMAILIO}" not in lab.node("beta").cli("pjsip show contacts"),
                10,
                "bob's contact removed from beta",
            )

            assert "copied to the nodes" in lab.kamailio_log()
            assert controller.records.flush(10)
            with make_sessions(engine)() as session:
                calls = list(session.scalars(select(CallRow).order_by(CallRow.entered_at)))
            assert [c.caller_number for c in calls] == [f"555800{n}" for n in range(1, 6)]
            assert [c.node for c in calls] == landed
            for call in calls:
                # Bob was rung on the caller's own node: no inter-node trunk.
                assert (call.agent, call.agent_node, call.outcome) == (
                    "bob",
                    call.node,
                    "completed",
                ), call
        finally:
            thread.stop()
            engine.dispose()
