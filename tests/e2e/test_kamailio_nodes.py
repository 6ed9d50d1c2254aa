"""Kamailio in front of two Asterisk nodes, each in a network namespace of its own.

SIPp callers send their INVITEs to Kamailio only: the calls are shared across both
nodes; one node is killed (SIGKILL, by PID): the dispatcher marks it down within
seconds, every new call placed from the kill on is answered (by the other node,
after at most one failover), and the calls already up on the surviving node
carry on to their normal end. An agent's phone registers with Kamailio (digest)
and takes calls that land on either node. Bounded: each test under a minute; the
namespaces and every process are removed whatever happens.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from callcenter.core.model import SipAccount
from callcenter.core.sip_auth import sip_ha1
from callcenter.simulate.kamailio_lab import (
    AGENT_SERVICE,
    REFUSED_ON_FIRST,
    KamailioLab,
    read_setup_times,
)
from callcenter.simulate.procs import stop_process, wait_for
from callcenter.simulate.sipp import sipp_result

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(t) for t in ("kamailio", "ip", "sipp")),
    reason="needs root (network namespaces), kamailio, iproute2 and SIPp",
)

PORT_BASE = int(os.environ.get("CALLCENTER_TEST_PORT_BASE", "15000"))
TAG = f"k{PORT_BASE}"  # namespaces of their own per port base: suites never collide
FAILOVER_MS = 1000
LONG_CALLS = 10
LONG_HOLD_MS = 20_000
NEW_CALLS = 60
NEW_RATE = 6  # per second: 10 s of calls from the kill on


def test_calls_are_shared_and_a_dead_node_is_left_out(tmp_path: Path) -> None:
    with KamailioLab(TAG, failover_ms=FAILOVER_MS) as lab:
        first, second = lab.nodes
        assert sorted(lab.up_nodes()) == sorted(n.address for n in lab.nodes)

        # Long calls, shared across both nodes.
        long = lab.start_callers(
            tmp_path, "long", calls=LONG_CALLS, rate=20, hold_ms=LONG_HOLD_MS, timeout=50
        )
        wait_for(
            lambda: sum(node.channels() for node in lab.nodes) == LONG_CALLS,
            15,
            "every long call answered",
            step=0.2,
        )
        on_first, on_second = first.channels(), second.channels()
        assert on_first > 0 and on_second > 0, (on_first, on_second)

        # Kill the first node; new calls start at the same moment.
        killed = first.kill()
        fresh = lab.start_callers(
            tmp_path,
            "fresh",
            calls=NEW_CALLS,
            rate=NEW_RATE,
            hold_ms=500,
            port=5071,
            media_port=6100,
            timeout=40,
        )
        wait_for(
            lambda: not lab.node_flags().get(first.address, "A").startswith("A"),
            15,
            "Kamailio marking the dead node down",
        )
        detected = time.monotonic() - killed
        # The surviving node's calls are all still there.
        assert second.channels() >= on_second

        result = lab.finish_callers(tmp_path, "fresh", fresh, timeout=40)
        assert (result.successful, result.failed) == (NEW_CALLS, 0), result.log[-3000:]
        setup = sorted(read_setup_times(tmp_path, "fresh"))
        assert len(setup) == NEW_CALLS
        # A call that met the dead node waited one failover timeout, no more.
        assert setup[-1] < FAILOVER_MS * 2 + 500, setup[-5:]
        failed_over = sum(1 for ms in setup if ms >= FAILOVER_MS * 0.9)  # SIPp rounds to 4 ms

        long_result = lab.finish_callers(tmp_path, "long", long, timeout=40)
        # The calls on the surviving node ended normally; those on the dead node are lost.
        assert (long_result.successful, long_result.failed) == (on_second, on_first), (
            long_result.log[-3000:]
        )
        assert "down" in lab.kamailio_log()
        print(
            f"\nmeasured: long calls {on_first}+{on_second} across the nodes; node down in "
            f"Kamailio {detected:.2f}s after SIGKILL; {NEW_CALLS} new calls from the kill on: "
            f"0 failed, {failed_over} failed over (INVITE->200 max {setup[-1]:.0f} ms, "
            f"median {setup[len(setup) // 2]:.0f} ms)"
        )


def test_agent_phone_registers_with_kamailio_and_takes_calls_from_both_nodes(
    tmp_path: Path,
) -> None:
    password = "kamailio-e2e-secret"
    agent = SipAccount("alice", sip_ha1("alice", password), "Alice", "201")
    with KamailioLab(TAG, accounts=[agent]) as lab:
        # A wrong password gets no binding; the right one does.
        wrong = lab.register(tmp_path, "wrong", "alice", "not-the-password")
        assert (wrong.successful, wrong.failed) == (0, 1)
        right = lab.register(tmp_path, "right", "alice", password)
        assert (right.successful, right.failed) == (1, 0), right.log[-2000:]

        phone = lab.start_phone(tmp_path)
        try:
            calls = 6
            callers = lab.start_callers(
                tmp_path,
                "toagent",
                calls=calls,
                rate=3,
                hold_ms=1500,
                service=AGENT_SERVICE,
                timeout=40,
            )
            result = lab.finish_callers(tmp_path, "toagent", callers, timeout=40)
            assert (result.successful, result.failed) == (calls, 0), result.log[-3000:]
            # Each node took some of the calls and reached the phone through Kamailio.
            processed = [node.calls_processed() for node in lab.nodes]
            assert all(count > 0 for count in processed), processed
            wait_for(lambda: sum(node.channels() for node in lab.nodes) == 0, 10, "calls ended")
        finally:
            stop_process(phone)
        answered = sipp_result(tmp_path, "phone", phone.returncode)
        assert answered.successful == calls, answered.log[-3000:]
        print(f"\nmeasured: {calls} calls for the agent, nodes processed {processed}")


def test_a_node_answering_5xx_hands_the_call_to_the_next(tmp_path: Path) -> None:
    with KamailioLab(TAG) as lab:
        calls = 6
        callers = lab.start_callers(
            tmp_path, "refused", calls=calls, rate=2, hold_ms=300, service=REFUSED_ON_FIRST
        )
        result = lab.finish_callers(tmp_path, "refused", callers, timeout=40)
        # The first node refuses every one (503); each is answered by the second.
        assert (result.successful, result.failed) == (calls, 0), result.log[-3000:]
        log = lab.kamailio_log()
        assert "(503); trying the next node" in log, log[-2000:]
        first, second = lab.nodes
        assert first.calls_processed() > 0
        assert second.calls_processed() == calls
