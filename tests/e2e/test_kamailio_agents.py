"""Agents reach the product's Kamailio without a restart ([kamailio] phones).

Kamailio starts knowing bob only. Carol is then added to the database and the
controller publishes the agents (as the console's save does): the nodes get her
endpoint and Kamailio her digest, in place (same Kamailio PID). Carol's phone registers
through Kamailio, she logs in from it and answers a caller landing on a node through
Kamailio. Given a new password, her phone's next REGISTER with the old one is refused
and a phone with the new one registers; removed, her phone is refused at its next
REGISTER and her binding is gone from Kamailio. Bounded: each step waits seconds.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.migrate import upgrade
from callcenter.adapters.db.models import CallRow
from callcenter.adapters.db.site_config import apply_site
from callcenter.bootstrap import build_storage
from callcenter.core.calls.state import CallState
from callcenter.services.site import parse_site
from callcenter.simulate.loop_thread import ControllerThread
from callcenter.simulate.nodes_lab import KAMAILIO, NODE_NAMES, PHONES, NodesLab
from callcenter.simulate.procs import wait_for
from callcenter.simulate.softphone import Softphone
from tests.e2e.sites import direct_queue_site, quiet_queue
from tests.e2e.test_kamailio_phones import PORT_BASE, TAG, pytestmark, talk

__all__ = ["pytestmark"]

PASSWORD = "kamailio-agents-bob"
CAROL_FIRST = "kamailio-agents-carol-1"
CAROL_SECOND = "kamailio-agents-carol-2"


def site(carol_password: str | None) -> dict[str, Any]:
    queue = quiet_queue("support", requirements={"support": 1}, wrapup=0.5)
    agents = ("bob", "carol") if carol_password else ("bob",)
    document = direct_queue_site(*agents, queue=queue)
    document["agents"][0]["password"] = PASSWORD
    if carol_password:
        document["agents"][1]["password"] = carol_password
    return document


def phone(lab: NodesLab, workdir: Path, password: str, offset: int) -> Softphone:
    return Softphone(
        "carol",
        password,
        PHONES,
        f"{KAMAILIO}:5060",
        workdir,
        auto_answer=True,
        sip_port=PORT_BASE - 9900 - offset,
        ctrl_port=PORT_BASE - 9890 - offset,
        netns=lab.hub,
    )


def refused(lab: NodesLab, workdir: Path, password: str, offset: int) -> None:
    """Carol's phone with ``password`` registers: Kamailio refuses it."""
    softphone = phone(lab, workdir, password, offset)
    softphone.start()
    try:
        log = workdir / "baresip.log"
        # (Its REGISTER_FAIL event may come before the control socket is connected.)
        wait_for(
            lambda: (
                "REGISTER_FAIL" in softphone.event_types()
                or "401 Unauthorized" in log.read_text(errors="replace")
            ),
            15,
            "carol's REGISTER refused",
        )
        assert not softphone.registered()
    finally:
        softphone.stop()


def test_agents_added_changed_and_removed_reach_kamailio_without_a_restart(
    tmp_path: Path,
) -> None:
    with NodesLab(TAG, PORT_BASE, kamailio=True) as lab:
        settings = lab.settings
        upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        sessions = make_sessions(engine)
        apply_site(parse_site(site(None), Path("."), "kamailio agents lab"), sessions)
        storage = build_storage(settings)
        try:
            print("\n" + lab.start_kamailio(storage.agents.accounts()))
            kamailio = lab.kamailio
            assert kamailio is not None
            pid = kamailio.running_pid()
            assert "carol" not in kamailio.rpc("htable.dump", "agents")

            thread = ControllerThread(settings, netns=lab.hub)
            try:
                controller = thread.start(connect=30)
                # Carol added (as the console's save: the database, then a reload).
                apply_site(parse_site(site(CAROL_FIRST), Path("."), "carol"), sessions)
                added = time.monotonic()
                thread.run(controller.reload())
                wait_for(
                    lambda: "carol" in kamailio.rpc("htable.dump", "agents"),
                    10,
                    "carol's digest in Kamailio",
                )
                in_kamailio = time.monotonic() - added
                for name in NODE_NAMES:
                    wait_for(
                        lambda name=name: "carol" in lab.node(name).cli("pjsip show aors"),
                        20,
                        f"carol's AOR on {name}",
                    )
                first = phone(lab, tmp_path / "carol-1", CAROL_FIRST, 0)
                first.start()
                try:
                    first.wait_registered(15)
                    for name in NODE_NAMES:
                        wait_for(
                            lambda name=name: (
                                f"carol@{KAMAILIO}" in lab.node(name).cli("pjsip show contacts")
                            ),
                            15,
                            f"carol's registration copied to {name}",
                        )
                    seen = len(first.events)
                    first.send("dial", "*1")  # logs in from her phone, through Kamailio
                    first.wait_event("CALL_ESTABLISHED", 10, after=seen)
                    first.wait_event("CALL_CLOSED", 10, after=seen)
                    wait_for(
                        lambda: thread.call(lambda: controller.agents.available("carol")),
                        20,
                        "carol ready",
                    )
                    node, result, counts = talk(
                        lab,
                        thread,
                        controller,
                        first,
                        tmp_path / "5558101",
                        "5558101",
                        list(NODE_NAMES),
                        agent="carol",
                    )
                    assert result.successful == 1, result.log[-3000:]
                    print(
                        f"measured: carol's digest in Kamailio {in_kamailio:.2f}s after the "
                        f"publication; her call on {node}, RTP {counts}"
                    )
                    wait_for(
                        lambda: (
                            not thread.call(
                                lambda: bool(controller.calls.in_state(CallState.TALKING))
                            )
                        ),
                        15,
                        "the call over",
                    )

                finally:
                    first.stop()
                # A new password: a phone with the old one is refused, the new one let in.
                apply_site(parse_site(site(CAROL_SECOND), Path("."), "carol"), sessions)
                thread.run(controller.reload())
                refused(lab, tmp_path / "carol-old", CAROL_FIRST, 10)
                second = phone(lab, tmp_path / "carol-2", CAROL_SECOND, 20)
                second.start()
                try:
                    second.wait_registered(15)
                    assert "carol" in kamailio.rpc("ul.dump")
                    # Removed: her binding dropped at once, her next REGISTER refused.
                    assert storage.agents.remove("carol")
                    thread.run(controller.reload())
                    wait_for(
                        lambda: "carol" not in kamailio.rpc("htable.dump", "agents"),
                        10,
                        "carol's digest gone from Kamailio",
                    )
                    assert "carol" not in kamailio.rpc("ul.dump")
                finally:
                    second.stop()
                refused(lab, tmp_path / "carol-gone", CAROL_SECOND, 30)
                assert kamailio.running_pid() == pid  # never restarted
                log = lab.kamailio_log()
                assert "failed REGISTER for carol" in log

                assert controller.records.flush(10)
                with sessions() as session:
                    calls = list(session.scalars(select(CallRow)))
                assert [(c.caller_number, c.agent, c.outcome) for c in calls] == [
                    ("5558101", "carol", "completed")
                ]
            finally:
                thread.stop()
        finally:
            storage.engine.dispose()
            engine.dispose()
