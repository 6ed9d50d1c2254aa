"""Agent-to-agent features with the phones behind Kamailio, across two nodes.

Consultation: whichever node the caller lands on, the agent who answered consults the
other agent; the target's phone is rung from the caller's node (every node reaches
every phone through Kamailio, and cc-consult bridges the target's leg with the agent's
there), answers, and the consultation is completed: the caller talks with the target,
RTP both ways on that node.

Consulting an always-connected agent: dave's line is lent into cc-consult on its own
node, and reached over the inter-node trunk from the other.

Supervisor: sam's phone (behind Kamailio) listens to bob's call on either node: it is
rung from the node of bob's call, where ChanSpy finds bob's channel.

Always-connected (nailed) agent: dave's line is called once through Kamailio and waits
on one node; callers landing on either node are bridged to it, the other node's over
the inter-node trunk (cc-internode bridges the trunk's leg to the line), with no ring
and the same line throughout.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select

from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.migrate import upgrade
from callcenter.adapters.db.models import CallRow
from callcenter.adapters.db.site_config import apply_site
from callcenter.bootstrap import build_storage
from callcenter.core.calls.live import LiveCall
from callcenter.core.calls.state import CallState
from callcenter.services.console.supervision import SpyMode, SpyState
from callcenter.services.site import parse_site
from callcenter.simulate.kamailio_lab import Namespaces
from callcenter.simulate.loop_thread import ControllerThread
from callcenter.simulate.nodes_lab import CALLERS, KAMAILIO, NODE_NAMES, PHONES, NodesLab
from callcenter.simulate.procs import stop_process, wait_for
from callcenter.simulate.sipp import SippCaller, caller_scenario, through_proxy
from callcenter.simulate.softphone import Softphone
from callcenter.simulate.voices import greeting_pcap
from tests.e2e.sites import direct_queue_site, quiet_queue
from tests.e2e.test_kamailio_phones import (
    PORT_BASE,
    SPEECH,
    TAG,
    call_node,
    pytestmark,
    rtp_counts,
)

__all__ = ["pytestmark"]


def password(agent: str) -> str:
    return f"kamailio-features-{agent}"


@contextmanager
def lab_with(
    tmp_path: Path,
    agents: tuple[str, ...],
    extra: tuple[str, ...] = (),
    login: tuple[str, ...] | None = None,
    skills: dict[str, dict[str, int]] | None = None,
) -> Iterator[tuple[NodesLab, ControllerThread, Any, dict[str, Softphone], Any]]:
    """The nodes lab with Kamailio, these agents (their phones registered through
    Kamailio; those of ``login``, all by default, logged in from them with *1), and
    the controller."""
    with NodesLab(TAG, PORT_BASE, kamailio=True, extra=extra) as lab:
        settings = lab.settings
        upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        queue = quiet_queue("support", requirements={"support": 1}, wrapup=0.5)
        site = direct_queue_site(*agents, queue=queue)
        for entry in site["agents"]:
            entry["password"] = password(entry["username"])
            entry["skills"] = (skills or {}).get(entry["username"], entry["skills"])
        apply_site(parse_site(site, Path("."), "kamailio features lab"), make_sessions(engine))
        storage = build_storage(settings)
        try:
            print("\n" + lab.start_kamailio(storage.agents.accounts()))
        finally:
            storage.engine.dispose()
        thread = ControllerThread(settings, netns=lab.hub)
        phones: dict[str, Softphone] = {}
        try:
            controller = thread.start(connect=30)
            for name in NODE_NAMES:
                for agent in agents:
                    wait_for(
                        lambda name=name, agent=agent: (
                            agent in lab.node(name).cli("pjsip show aors")
                        ),
                        20,
                        f"{agent}'s AOR on {name}",
                    )
            for index, agent in enumerate(agents):
                phone = Softphone(
                    agent,
                    password(agent),
                    PHONES,
                    f"{KAMAILIO}:5060",
                    tmp_path / agent,
                    auto_answer=True,
                    sip_port=PORT_BASE - 9800 - 10 * index,
                    ctrl_port=PORT_BASE - 9795 - 10 * index,
                    netns=lab.hub,
                )
                phone.start()
                phones[agent] = phone
                phone.wait_registered(15)
            for agent, phone in phones.items():
                for name in NODE_NAMES:
                    wait_for(
                        lambda name=name, agent=agent: (
                            f"{agent}@{KAMAILIO}" in lab.node(name).cli("pjsip show contacts")
                        ),
                        15,
                        f"{agent}'s registration copied to {name}",
                    )
                if login is not None and agent not in login:
                    continue
                seen = len(phone.events)
                phone.send("dial", "*1")
                phone.wait_event("CALL_ESTABLISHED", 10, after=seen)
                phone.wait_event("CALL_CLOSED", 10, after=seen)
            yield lab, thread, controller, phones, engine
        finally:
            for phone in phones.values():
                phone.stop()
            thread.stop()
            engine.dispose()


def caller(lab: NodesLab, workdir: Path) -> SippCaller:
    return SippCaller(
        workdir,
        f"{KAMAILIO}:5060",
        address=CALLERS,
        port=PORT_BASE - 9930,
        media_port=PORT_BASE - 8930,
        prefix=Namespaces.prefix(lab.hub),
    )


def talking(thread: ControllerThread, controller: Any) -> LiveCall:
    calls = wait_for(
        lambda: thread.call(lambda: controller.calls.in_state(CallState.TALKING)),
        20,
        "a caller talking",
    )
    assert isinstance(calls, list) and len(calls) == 1, calls
    call = calls[0]
    assert isinstance(call, LiveCall)
    return call


def ready(thread: ControllerThread, controller: Any, *agents: str) -> None:
    for agent in agents:
        wait_for(
            lambda agent=agent: thread.call(lambda: controller.agents.available(agent)),
            20,
            f"{agent} ready",
        )


def test_consultation_across_nodes_behind_kamailio(tmp_path: Path) -> None:
    agents = ("bob", "carol")
    with lab_with(tmp_path, agents) as (lab, thread, controller, phones, engine):
        ready(thread, controller, *agents)
        speech = greeting_pcap(SPEECH, tmp_path / "voices" / "speech.pcap")
        landed = []
        pairs = []
        for number in ("5558201", "5558202"):
            sipp = caller(lab, tmp_path / number)
            run = sipp.start(through_proxy(caller_scenario([speech], end="await")), [("K", number)])
            try:
                call = talking(thread, controller)
                node = call_node(lab, list(NODE_NAMES))
                first = call.agent
                (target,) = [a for a in agents if a != first]
                seen = len(phones[target].events)
                asked = time.monotonic()
                thread.run(controller.consults.start(first, target))
                phones[target].wait_event("CALL_ESTABLISHED", 15, after=seen)
                answered = time.monotonic() - asked

                def complete(first: str = first) -> bool:
                    try:
                        thread.run(controller.consults.complete(first))
                    except Exception as exc:  # not bridged yet: asked again
                        if "not-answered" not in repr(exc) and "answered" not in str(exc):
                            raise
                        return False
                    return True

                wait_for(complete, 10, f"{first}'s consultation completed")
                time.sleep(3)  # the caller and the target talk
                leg = rtp_counts(lab, node, f"{target}-")
                caller_leg = rtp_counts(lab, node, "Kamailio-")
                phones[target].hangup()
                result = sipp.finish(run, 30)
            finally:
                stop_process(run)
            assert result.successful == 1, result.log[-3000:]
            # The target's leg is on the caller's node, audio both ways.
            assert leg[0] > 50 and leg[1] > 50, (node, target, leg)
            assert caller_leg[0] > 50 and caller_leg[1] > 50, (node, caller_leg)
            print(
                f"measured: call {number} on {node}: {first} consulted {target} (answered "
                f"{answered:.2f}s after the request), completed; RTP target {leg}, "
                f"caller {caller_leg}"
            )
            landed.append(node)
            pairs.append((first, target))
            ready(thread, controller, *agents)
        assert sorted(landed) == ["alpha", "beta"], landed

        assert controller.records.flush(10)
        with make_sessions(engine)() as session:
            calls = list(session.scalars(select(CallRow).order_by(CallRow.entered_at)))
        assert [(c.caller_number, c.node, c.outcome) for c in calls] == [
            ("5558201", landed[0], "completed"),
            ("5558202", landed[1], "completed"),
        ]
        assert [c.agent for c in calls] == [target for _, target in pairs]


def test_always_connected_agent_behind_kamailio_takes_callers_from_both_nodes(
    tmp_path: Path,
) -> None:
    extra = ("[sip.agents.dave]", "nailed = true")
    with lab_with(tmp_path, ("dave",), extra) as (lab, thread, controller, phones, engine):
        phone = phones["dave"]
        # Ready: the controller calls dave's phone once (through Kamailio); it answers.
        wait_for(
            lambda: thread.call(lambda: "dave" in controller.nailed.lines),
            20,
            "dave's always-connected line up",
        )
        ready(thread, controller, "dave")
        line = thread.call(lambda: controller.nailed.lines["dave"].channel)
        line_node = thread.call(lambda: controller.ami.line_nodes["dave"][0])
        established = phone.event_types().count("CALL_ESTABLISHED")
        speech = greeting_pcap(SPEECH, tmp_path / "voices" / "speech.pcap")
        landed = []
        for number in ("5558301", "5558302", "5558303"):
            sipp = caller(lab, tmp_path / number)
            run = sipp.start(through_proxy(caller_scenario([speech], end="await")), [("K", number)])
            try:
                call = talking(thread, controller)
                node = call_node(lab, list(NODE_NAMES))
                time.sleep(3)
                caller_leg = rtp_counts(lab, node, "Kamailio-")
                line_leg = rtp_counts(lab, line_node, "dave-")
                thread.run(controller.pbx.hangup(call.channel))  # the call ends here
                result = sipp.finish(run, 30)
            finally:
                stop_process(run)
            assert result.successful == 1, result.log[-3000:]
            assert call.agent == "dave"
            assert caller_leg[0] > 50 and caller_leg[1] > 50, (node, caller_leg)
            print(
                f"measured: call {number} on {node}, dave's line on {line_node}"
                f"{' (over the trunk)' if node != line_node else ''}: RTP caller {caller_leg}, "
                f"line (cumulative) {line_leg}"
            )
            landed.append(node)
            ready(thread, controller, "dave")
            # The same line, never rung again.
            assert thread.call(lambda: controller.nailed.lines["dave"].channel) == line
        assert set(landed) == {"alpha", "beta"}, landed
        assert phone.event_types().count("CALL_ESTABLISHED") == established

        assert controller.records.flush(10)
        with make_sessions(engine)() as session:
            calls = list(session.scalars(select(CallRow).order_by(CallRow.entered_at)))
        assert [(c.caller_number, c.agent, c.node, c.outcome) for c in calls] == [
            (f"555830{n}", "dave", node, "completed") for n, node in enumerate(landed, start=1)
        ]


def test_supervisor_listens_to_calls_on_either_node_behind_kamailio(tmp_path: Path) -> None:
    with lab_with(tmp_path, ("bob", "sam"), login=("bob",)) as (lab, thread, controller, phones, _):
        ready(thread, controller, "bob")
        speech = greeting_pcap(SPEECH, tmp_path / "voices" / "speech.pcap")
        landed = []
        for number in ("5558401", "5558402"):
            sipp = caller(lab, tmp_path / number)
            run = sipp.start(through_proxy(caller_scenario([speech], end="await")), [("K", number)])
            try:
                call = talking(thread, controller)
                assert call.agent == "bob"
                node = call_node(lab, list(NODE_NAMES))
                seen = len(phones["sam"].events)
                now = thread.call(controller.timers.clock)
                session = thread.run(
                    controller.supervision.start("boss", "sam", "bob", SpyMode.LISTEN, now)
                )
                phones["sam"].wait_event("CALL_ESTABLISHED", 15, after=seen)
                spy = session.id

                def state(spy: str = spy) -> SpyState:
                    return thread.call(lambda: controller.supervision.get(spy).state)

                wait_for(lambda: state() is SpyState.ACTIVE, 10, "the spy session active")
                time.sleep(3)  # sam hears the call
                heard = rtp_counts(lab, node, "sam-")
                still = state()
                thread.run(controller.supervision.stop(session.id))
                phones["bob"].hangup()
                result = sipp.finish(run, 30)
            finally:
                stop_process(run)
            assert result.successful == 1, result.log[-3000:]
            # Sam's leg is on the call's node and gets the call's audio.
            assert heard[1] > 50, (node, heard)
            assert still is SpyState.ACTIVE, still
            print(f"measured: call {number} on {node}: sam listening, RTP to sam {heard}")
            landed.append(node)
            ready(thread, controller, "bob")
        assert sorted(landed) == ["alpha", "beta"], landed


def test_consulting_an_always_connected_agent_on_either_node_behind_kamailio(
    tmp_path: Path,
) -> None:
    """Dave (always-connected, no skill: offered no callers) has his line on one node;
    bob answers callers landing on both nodes and consults dave: on the line's node
    the line is lent into cc-consult, on the other it is reached over the inter-node
    trunk (cc-internode bridges the trunk's leg to the line). Completed, the caller
    talks with dave; the line is the same throughout, his phone never rung again."""
    extra = ("[sip.agents.dave]", "nailed = true")
    with lab_with(tmp_path, ("bob", "dave"), extra, skills={"dave": {}}) as (
        lab,
        thread,
        controller,
        phones,
        engine,
    ):
        wait_for(
            lambda: thread.call(lambda: "dave" in controller.nailed.lines),
            20,
            "dave's always-connected line up",
        )
        ready(thread, controller, "bob", "dave")
        line = thread.call(lambda: controller.nailed.lines["dave"].channel)
        line_node = thread.call(lambda: controller.ami.line_nodes["dave"][0])
        established = phones["dave"].event_types().count("CALL_ESTABLISHED")
        speech = greeting_pcap(SPEECH, tmp_path / "voices" / "speech.pcap")
        landed = []
        for number in ("5558501", "5558502"):
            sipp = caller(lab, tmp_path / number)
            run = sipp.start(through_proxy(caller_scenario([speech], end="await")), [("K", number)])
            try:
                call = talking(thread, controller)
                assert call.agent == "bob"
                node = call_node(lab, list(NODE_NAMES))
                thread.run(controller.consults.start("bob", "dave"))

                def complete() -> bool:
                    try:
                        thread.run(controller.consults.complete("bob"))
                    except Exception as exc:  # not bridged yet: asked again
                        if "answered" not in str(exc):
                            raise
                        return False
                    return True

                wait_for(complete, 10, "bob's consultation of dave completed")
                time.sleep(3)  # the caller and dave talk
                caller_leg = rtp_counts(lab, node, "Kamailio-")
                now_with = thread.call(lambda c=call.call_id: controller.calls.get(c).agent)
                thread.run(controller.pbx.hangup(call.channel))  # the call ends here
                result = sipp.finish(run, 30)
            finally:
                stop_process(run)
            assert result.successful == 1, result.log[-3000:]
            assert now_with == "dave"
            assert caller_leg[0] > 50 and caller_leg[1] > 50, (node, caller_leg)
            print(
                f"measured: call {number} on {node}, dave's line on {line_node}"
                f"{' (over the trunk)' if node != line_node else ' (lent)'}: bob consulted "
                f"dave, completed; RTP caller {caller_leg}"
            )
            landed.append(node)
            ready(thread, controller, "bob", "dave")
            assert thread.call(lambda: controller.nailed.lines["dave"].channel) == line
        assert sorted(landed) == ["alpha", "beta"], landed
        assert phones["dave"].event_types().count("CALL_ESTABLISHED") == established

        assert controller.records.flush(10)
        with make_sessions(engine)() as session:
            calls = list(session.scalars(select(CallRow).order_by(CallRow.entered_at)))
        assert [(c.caller_number, c.agent, c.outcome) for c in calls] == [
            ("5558501", "dave", "completed"),
            ("5558502", "dave", "completed"),
        ]
