"""Two controllers on two hosts ([ha], [agi] controllers) against one product node.

The nodes lab (simulate/nodes_lab.py) with a second controller host: controller
"ctl-a" runs in the hub namespace (FastAGI 10.213.0.1), "ctl-b" in a namespace of its
own (FastAGI 10.213.9.2), both `callcenter run` processes on one PostgreSQL (reached
over its Unix socket, which no namespace hides). Node alpha's dialplan starts with
ctl-a's FastAGI; ctl-b stands by, listening for nothing. Bob's phone (baresip,
auto-answer) is on alpha; callers are SIPp in the hub. With one caller talking to
bob and one waiting, ctl-a is killed (SIGKILL): ctl-b must hold the lock and run
within 5 s and tell alpha its own FastAGI address (CC_AGI); the waiting caller
then reaches bob, and so does a new caller, whose every FastAGI request ctl-b serves.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.migrate import upgrade
from callcenter.adapters.db.models import CallRow
from callcenter.adapters.db.site_config import apply_site
from callcenter.config import HaSettings
from callcenter.services.site import parse_site
from callcenter.simulate.controller_process import controller_process
from callcenter.simulate.kamailio_lab import Namespaces
from callcenter.simulate.loop_thread import ControllerThread
from callcenter.simulate.nodes_lab import CALLERS, HUB, PHONES, SECOND, NodesLab
from callcenter.simulate.procs import stop_process, wait_for
from callcenter.simulate.sipp import SippCaller, caller_scenario
from callcenter.simulate.softphone import Softphone
from callcenter.simulate.voices import greeting_pcap
from tests.e2e.sites import direct_queue_site, quiet_queue
from tests.e2e.standby_support import log_has
from tests.support.postgres import PostgresCluster

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        os.geteuid() != 0 or not all(shutil.which(t) for t in ("ip", "sipp", "runuser")),
        reason="needs root (network namespaces), iproute2, SIPp and PostgreSQL",
    ),
]

PORT_BASE = int(os.environ.get("CALLCENTER_TEST_PORT_BASE", "15000"))
TAG = f"h{PORT_BASE}"
PASSWORD = "nodes-lab-" + os.urandom(6).hex()
TAKEOVER_LIMIT = 5.0


def agi_global(lab: NodesLab) -> str:
    """CC_AGI as node alpha's dialplan has it now."""
    for line in lab.node("alpha").cli("dialplan show globals").splitlines():
        if "CC_AGI=" in line:
            return line.split("CC_AGI=", 1)[1].strip()
    return ""


def test_the_standby_on_another_host_takes_the_node_s_fastagi_within_5s(
    tmp_path: Path, postgres: tuple[PostgresCluster, str]
) -> None:
    cluster, tcp_url = postgres
    cluster.reset(tcp_url)
    url = f"postgresql+psycopg2://postgres@/callcenter?host={cluster.directory}&port={cluster.port}"
    upgrade(url)
    with NodesLab(TAG, PORT_BASE, database_url=url, controllers=2) as lab:
        settings = lab.settings
        engine = make_engine(url)
        site = direct_queue_site("bob", queue=quiet_queue("support", requirements={"support": 1}))
        site["agents"][0]["password"] = PASSWORD
        apply_site(parse_site(site, Path("."), "two hosts"), make_sessions(engine))
        alpha = settings.pbx.node_named("alpha").address
        phone = Softphone(
            "bob", PASSWORD, PHONES, f"{alpha}:5060", tmp_path / "bob", auto_answer=True,
            sip_port=PORT_BASE - 9920, ctrl_port=PORT_BASE - 9925, netns=lab.hub,
        )  # fmt: skip
        # Bob logs in with a plain controller first (his state is in the database).
        plain = settings.model_copy(
            update={"agi": settings.agi.model_copy(update={"controllers": []}), "ha": HaSettings()}
        )
        thread = ControllerThread(plain, netns=lab.hub)
        controller = thread.start(connect=30)
        phone.start()
        active = standby = None
        callers: list[tuple[SippCaller, object]] = []
        try:
            phone.wait_registered(15)
            thread.run(controller.agents.login("bob", time.time()))
            wait_for(lambda: thread.call(lambda: controller.agents.available("bob")), 15, "bob")
            thread.stop()

            (tmp_path / "a").mkdir()
            (tmp_path / "b").mkdir()
            a_settings = settings.model_copy(
                update={"ha": HaSettings(enabled=True, node="ctl-a"), "state_dir": tmp_path / "a"}
            )
            b_settings = settings.model_copy(
                update={
                    "ha": HaSettings(enabled=True, node="ctl-b"),
                    "state_dir": tmp_path / "b",
                    "agi": settings.agi.model_copy(update={"host": SECOND}),
                }
            )
            active = controller_process(
                a_settings, tmp_path / "a", prefix=Namespaces.prefix(lab.hub)
            )
            wait_for(lambda: log_has(tmp_path / "a", "controller running"), 30, "ctl-a running")
            standby = controller_process(
                b_settings, tmp_path / "b", prefix=Namespaces.prefix(lab.second)
            )
            wait_for(
                lambda: log_has(tmp_path / "b", "active controller is ctl-a"), 30, "ctl-b standby"
            )
            port = settings.agi.port
            wait_for(lambda: agi_global(lab) == f"agi://{HUB}:{port}", 10, "CC_AGI at ctl-a")

            speech = greeting_pcap("Hello, is anybody there?", tmp_path / "voices" / "s.pcap")

            def call(number: str, index: int) -> None:
                caller = SippCaller(
                    tmp_path / number, f"{alpha}:5060", address=CALLERS,
                    port=PORT_BASE - 9930 + 10 * index, media_port=PORT_BASE - 8930 + 10 * index,
                    prefix=Namespaces.prefix(lab.hub),
                )  # fmt: skip
                run = caller.start(caller_scenario([speech], end="await"), [("Caller", number)])
                callers.append((caller, run))

            def talking_to(number: str, after: int, timeout: float = 20) -> int:
                """Bob's phone answered ``number``'s call; the events seen so far."""
                deadline = time.monotonic() + timeout
                while True:
                    event = phone.wait_event(
                        "CALL_ESTABLISHED", max(0.1, deadline - time.monotonic()), after=after
                    )
                    after = phone.events.index(event) + 1
                    if number in str(event.get("peeruri", "")):
                        return after

            seen = talking_to_first = 0
            call("5558001", 0)
            seen = talking_to("5558001", seen)
            call("5558002", 1)  # waits: bob is talking
            time.sleep(2.0)
            talking_to_first = seen

            active.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            active.wait(5)
            wait_for(
                lambda: log_has(tmp_path / "b", "controller running"),
                TAKEOVER_LIMIT, "ctl-b running",
            )  # fmt: skip
            running = time.monotonic() - killed
            wait_for(
                lambda: agi_global(lab) == f"agi://{SECOND}:{port}",
                max(0.5, TAKEOVER_LIMIT - (time.monotonic() - killed)),
                "CC_AGI at ctl-b",
            )
            told = time.monotonic() - killed
            assert told < TAKEOVER_LIMIT, told
            assert "FastAGI listening" in (tmp_path / "b" / "controller.log").read_text()

            # The waiting caller reaches bob once he hangs up on the first.
            time.sleep(1.0)  # ctl-b's resynchronisation: the waiting caller adopted
            phone.hangup()
            seen = talking_to("5558002", talking_to_first)
            phone.hangup()
            # A new caller: every FastAGI request goes to ctl-b now.
            placed = time.monotonic()
            call("5558003", 2)
            talking_to("5558003", seen)
            reached = time.monotonic() - placed
            phone.hangup()
            for caller, run in callers:
                result = caller.finish(run, 20)  # type: ignore[arg-type]
                assert (result.successful, result.failed) == (1, 0), result.log
            print(f"ctl-b running {running:.2f}s, CC_AGI {told:.2f}s after the kill;"
                  f" a new caller reached bob in {reached:.2f}s")  # fmt: skip
        finally:
            for _caller, run in callers:
                stop_process(run)  # type: ignore[arg-type]
            phone.stop()
            thread.stop()
            for process in (active, standby):
                if process is not None:
                    stop_process(process)

        with make_sessions(engine)() as session:
            rows = {row.caller_number: row for row in session.scalars(select(CallRow))}
        engine.dispose()
        assert sorted(rows) == ["5558001", "5558002", "5558003"], sorted(rows)
        for number, row in rows.items():
            assert row.agent == "bob" and row.answered_at is not None, (number, row.outcome)
            assert row.node == "alpha", (number, row.node)
        b_log = (tmp_path / "b" / "controller.log").read_text()
        assert "5558003" in b_log or rows["5558003"].ended_at is not None
