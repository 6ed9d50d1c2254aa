"""A campaign over two of the product's Asterisk nodes ([[pbx.nodes]]).

The nodes lab (simulate/nodes_lab.py): nodes alpha and beta in namespaces of their
own, the controller in the hub. The simulated customers (one SIPp server, the trunk's
contact) are in the hub; bob's phone is registered on beta. The progressive campaign's
customers are dialled on both nodes in turn (the least busy node that is up); a
customer dialled on alpha is put through to bob on beta over the inter-node trunk.
Then alpha is killed: the next customers are all dialled on beta and still reach bob.
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
from callcenter.adapters.db.models import CallRow, CampaignRow, DialAttemptRow, LeadRow
from callcenter.adapters.db.site_config import apply_site
from callcenter.core.acd.model import AgentState
from callcenter.core.outbound.settings import load_settings
from callcenter.services.site import parse_site
from callcenter.simulate.customers import Customers
from callcenter.simulate.kamailio_lab import Namespaces
from callcenter.simulate.loop_thread import ControllerThread
from callcenter.simulate.nodes_lab import CALLERS, PHONES, NodesLab
from callcenter.simulate.procs import wait_for
from callcenter.simulate.softphone import Softphone
from tests.e2e.outbound_support import window_around, zone_in_hours
from tests.e2e.sites import agent, quiet_queue

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        os.geteuid() != 0 or not all(shutil.which(t) for t in ("ip", "sipp")),
        reason="needs root (network namespaces), iproute2 and SIPp",
    ),
]

PORT_BASE = int(os.environ.get("CALLCENTER_TEST_PORT_BASE", "15000"))
TAG = f"o{PORT_BASE}"  # namespaces of their own per port base: suites never collide
PASSWORD = "nodes-lab-" + os.urandom(6).hex()
# Last digit 0-3: a person who answers after 1-3 s (simulate/customers.py).
FIRST = ["+12125550100", "+12125550111", "+12125550122", "+12125550133"]
AFTER = ["+12125550140", "+12125550151"]


def add_leads(sessions: object, campaign_id: int, numbers: list[str], zone: str) -> None:
    now = time.time()
    with sessions.begin() as session:  # type: ignore[attr-defined]
        for number in numbers:
            session.add(
                LeadRow(
                    campaign_id=campaign_id, phone=number, first_name="Lead",
                    last_name=number[-4:], timezone=zone, data={}, created_at=now,
                )
            )  # fmt: skip


def test_a_campaign_dials_on_both_nodes_and_on_the_survivor_once_one_dies(
    tmp_path: Path,
) -> None:
    zone = zone_in_hours()
    with NodesLab(TAG, PORT_BASE) as lab:
        settings = lab.settings
        upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        sessions = make_sessions(engine)
        site = {
            "agents": [{**agent("bob", 2001, sales=3), "password": PASSWORD}],
            "queues": [quiet_queue("sales", requirements={"sales": 1})],
        }
        apply_site(parse_site(site, Path("."), "nodes lab"), sessions)
        customers = Customers(
            tmp_path / "customers", CALLERS, lab.customer_port, PORT_BASE - 8800,
            prefix=Namespaces.prefix(lab.hub),
        )  # fmt: skip
        customers.start()
        lab.peers.append(customers.process)  # type: ignore[arg-type]
        thread = ControllerThread(settings, netns=lab.hub)
        try:
            controller = thread.start(connect=30)
            assert controller.ami.connected_nodes() == {"alpha": True, "beta": True}
            phone = Softphone(
                "bob", PASSWORD, PHONES, f"{settings.pbx.node_named('beta').address}:5060",
                tmp_path / "bob", auto_answer=True, sip_port=PORT_BASE - 9920,
                ctrl_port=PORT_BASE - 9925, netns=lab.hub,
            )  # fmt: skip
            phone.start()
            try:
                phone.wait_registered(15)
                thread.run(controller.agents.login("bob", time.time()))
                wait_for(
                    lambda: thread.call(lambda: controller.agents.available("bob")), 15, "bob ready"
                )

                def work(numbers: list[str], timeout: float = 120) -> None:
                    """Bob ends each call after a second and a half, until every lead is done."""
                    deadline = time.monotonic() + timeout
                    ended: set[str] = set()
                    while True:
                        with sessions() as session:
                            leads = session.scalars(
                                select(LeadRow).where(LeadRow.phone.in_(numbers))
                            ).all()
                        if leads and all(lead.status == "done" for lead in leads):
                            return
                        assert time.monotonic() < deadline, [(x.phone, x.status) for x in leads]
                        status = thread.call(lambda: controller.agents.status("bob"))
                        call = status.call_id or ""
                        talked = time.time() - status.since > 1.5
                        if status.state is AgentState.ON_CALL and talked and call not in ended:
                            ended.add(call)
                            phone.hangup()
                        time.sleep(0.2)

                document = load_settings(
                    {
                        "queue": "sales", "caller_id": "+12125550199", "mode": "progressive",
                        "amd": False, "windows": window_around(zone),
                    }
                ).document()  # fmt: skip
                with sessions.begin() as session:
                    row = CampaignRow(
                        name="spread", settings=document, status="running", created_at=time.time()
                    )
                    session.add(row)
                    session.flush()
                    campaign_id = row.id
                add_leads(sessions, campaign_id, FIRST, zone)
                work(FIRST)

                # Alpha dies: its link is down, the next customers are dialled on beta.
                pid = lab.node("alpha").running_pid()
                assert pid is not None
                os.kill(pid, signal.SIGKILL)
                wait_for(
                    lambda: (
                        thread.call(controller.ami.connected_nodes)
                        == {"alpha": False, "beta": True}
                    ),
                    10,
                    "alpha's link down",
                )
                wait_for(
                    lambda: thread.call(lambda: controller.agents.available("bob")), 15, "bob free"
                )
                add_leads(sessions, campaign_id, AFTER, zone)
                work(AFTER)
            finally:
                phone.stop()

            assert controller.records.flush(10)
            with sessions() as session:
                attempts = session.scalars(
                    select(DialAttemptRow).where(DialAttemptRow.call_id != "")
                ).all()
                calls = {c.id: c for c in session.scalars(select(CallRow))}
            by_number = {a.number: a for a in attempts}
            assert sorted(by_number) == sorted(FIRST + AFTER), by_number
            assert len(attempts) == len(FIRST + AFTER)  # no lead dialled twice
            for attempt in attempts:
                assert attempt.outcome == "connected" and attempt.agent == "bob", attempt.__dict__
            nodes = {n: calls[by_number[n].call_id].node for n in FIRST + AFTER}
            # Both nodes up: both take calls (one at a time here: in turn); alpha down:
            # beta alone. Bob's phone is on beta: alpha's customers reached him over the trunk.
            in_turn = sorted(FIRST, key=lambda n: by_number[n].at)
            print("nodes in the order dialled:", [(n, nodes[n]) for n in in_turn])
            assert {nodes[n] for n in FIRST} == {"alpha", "beta"}, nodes
            assert [nodes[n] for n in AFTER] == ["beta", "beta"], nodes
            for number in FIRST + AFTER:
                call = calls[by_number[number].call_id]
                assert call.direction == "outbound" and call.agent == "bob"
                assert call.agent_node == "beta", (number, call.node, call.agent_node)
                assert call.answered_at is not None and call.talk_seconds
        finally:
            thread.stop()
            engine.dispose()
