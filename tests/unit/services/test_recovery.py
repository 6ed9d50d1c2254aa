"""After an AMI login (a start, a reconnect, Asterisk restarted): the controller's
picture rebuilt from Asterisk's channels and the stored call records
(services/inbound/recovery.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from callcenter.core.acd.agent_state import AgentStatus
from callcenter.core.acd.model import AgentState
from callcenter.core.calls.outage import CelEvent
from callcenter.core.calls.record import CallRecord
from callcenter.core.calls.state import CallState
from callcenter.core.dialplan import Context, Decision, Status, Var
from callcenter.core.events import (
    CallCompleted,
    CallEnded,
    CallFellBack,
    CallOffered,
    CallOverflowed,
    CallQueued,
)
from callcenter.core.queues import Announce, QueueSettings
from callcenter.services.agents import FALLBACK_QUEUE
from callcenter.services.inbound.recovery import OPEN_CALLS_LOOKBACK, RECOVERED_WRAPUP_SECONDS
from callcenter.services.ports import LiveChannel, QueueMember
from tests.fakes.center import Center


def started(center: Center, statuses: dict[str, AgentStatus] | None = None) -> Center:
    """The controller just started: queue "support", agent1 and agent2 in their stored states."""
    support = QueueSettings(
        name="support", max_wait=300, announce=Announce(on_entry=False, interval=0)
    )
    center.configure([support], {"agent1": {}, "agent2": {}}, statuses=statuses)
    return center


@pytest.fixture
def site(center: Center) -> Center:
    return started(center)


def in_asterisk(
    center: Center,
    call_id: str,
    context: str,
    bridge: str = "",
    number: int = 1,
) -> LiveChannel:
    """A caller's channel Asterisk reports, tagged with our call id (CC_CALL_ID)."""
    channel = LiveChannel(
        unique_id=f"1750170000.{number}",
        name=f"PJSIP/carrier-{number:08x}",
        state="Up",
        context=context,
        exten="s",
        application="",
        caller_num="+12125550100",
        linked_id=f"1750170000.{number}",
        bridge_id=bridge,
    )
    center.pbx.live.append(channel)
    center.pbx.variables[(channel.name, Var.CALL_ID.value)] = call_id
    return channel


def agent_leg(center: Center, agent: str, bridge: str, number: int = 90) -> LiveChannel:
    channel = LiveChannel(
        unique_id=f"1750170000.{number}",
        name=f"PJSIP/{agent}-{number:08x}",
        state="Up",
        context="cc-connect",
        exten="s",
        application="Dial",
        caller_num=agent,
        linked_id="",
        bridge_id=bridge,
    )
    center.pbx.live.append(channel)
    return channel


def stored(center: Center, call_id: str, unique_id: str, **fields: Any) -> CallRecord:
    """The call's record as the last run left it: entered 400 s ago, queued 250 s ago."""
    record = CallRecord(
        id=call_id,
        unique_id=unique_id,
        entered_at=center.now - 400,
        caller_number="+12125550100",
        queue="support",
        enqueued_at=center.now - 250,
    )
    record = replace(record, **fields)
    center.records.add(record)
    return record


async def test_a_caller_found_waiting_is_back_in_line_with_their_place_and_clocks(
    site: Center,
) -> None:
    channel = in_asterisk(site, "early", Context.WAIT.value)
    stored(site, "early", channel.unique_id, priority=0)
    await site.ready("agent1")
    await site.agents.pause("agent1", "break", site.now)
    await site.recovery.run()
    call = site.calls.get("early")
    assert call is not None and call.state is CallState.WAITING
    assert (call.unique_id, call.channel, call.enqueued_at) == (
        channel.unique_id,
        channel.name,
        site.now - 250,
    )
    assert site.recovery.adopted == ["early"]
    later = site.caller()
    assert await site.enqueue(later, "support") == Decision(Status.WAIT)
    await site.agents.ready("agent1", site.now)
    assert site.pbx.redirects == [(channel.name, Context.CONNECT.value, "agent1")]
    assert site.of(CallOffered)[-1].wait == 250.0


async def test_a_recovered_caller_s_maximum_wait_counts_from_when_they_joined(
    site: Center,
) -> None:
    channel = in_asterisk(site, "early", Context.ANNOUNCE.value)
    stored(site, "early", channel.unique_id)
    await site.ready("agent1")
    await site.agents.pause("agent1", "break", site.now)
    await site.recovery.run()
    await site.advance(49)
    assert site.of(CallOverflowed) == []
    await site.advance(1)  # 300 s after they joined, not after the restart
    assert site.of(CallOverflowed)[0].reason == "max-wait"


async def test_a_caller_found_talking_is_attached_to_the_agent(center: Center) -> None:
    site = started(
        center, {"agent2": AgentStatus(AgentState.ON_CALL, center.now - 100, call_id="talk")}
    )
    caller = in_asterisk(site, "talk", Context.CONNECT.value, bridge="b1")
    leg = agent_leg(site, "agent2", "b1")
    stored(site, "talk", caller.unique_id, agent="agent2", answered_at=site.now - 100)
    site.register("agent2")
    await site.recovery.run()
    call = site.calls.get("talk")
    assert call is not None and call.state is CallState.TALKING
    assert (call.agent, call.agent_channel, call.answered_at) == (
        "agent2",
        leg.name,
        site.now - 100,
    )
    assert site.state("agent2") == "on_call"  # their phone is busy with the call
    # The call goes on as if nothing happened: the caller hangs up, the agent is freed.
    await site.advance(20)
    await site.hangup(caller.name, caller.unique_id)
    [completed] = site.of(CallCompleted)
    assert (completed.agent, completed.talk, completed.ended_by) == ("agent2", 120.0, "caller")
    await site.hangup(leg.name, leg.unique_id)
    assert site.state("agent2") == "ready"


async def test_a_talking_call_that_ends_while_recovery_runs_is_recorded_as_ended(
    center: Center,
) -> None:
    site = started(
        center, {"agent2": AgentStatus(AgentState.ON_CALL, center.now - 100, call_id="talk")}
    )
    caller = in_asterisk(site, "talk", Context.CONNECT.value, bridge="b1")
    leg = agent_leg(site, "agent2", "b1")
    stored(site, "talk", caller.unique_id, agent="agent2", answered_at=site.now - 100)
    site.register("agent2")
    start = site.now - 400

    def logged(kind: str, at: float, uid: str, chan: str, **more: Any) -> CelEvent:
        return CelEvent(kind=kind, at=at, unique_id=uid, linked_id=caller.unique_id,
                        channel=chan, **more)  # fmt: skip

    site.channel_log.events += [
        logged("CHAN_START", start, caller.unique_id, caller.name, context="cc-inbound"),
        logged("CHAN_START", site.now - 101, leg.unique_id, leg.name, context="cc-agents"),
        logged("BRIDGE_ENTER", site.now - 100, leg.unique_id, leg.name, extra={"bridge_id": "b1"}),
        logged("BRIDGE_ENTER", site.now - 100, caller.unique_id, caller.name,
               peer=leg.name, extra={"bridge_id": "b1"}),
    ]  # fmt: skip
    listed = site.pbx.channels
    looks = 0

    async def channels() -> list[LiveChannel]:
        nonlocal looks
        looks += 1
        if looks == 2:  # the agent hangs up while the first look's calls are adopted
            site.pbx.live.clear()
            site.channel_log.events += [
                logged("HANGUP", site.now, leg.unique_id, leg.name,
                       extra={"hangupsource": leg.name}),
                logged("HANGUP", site.now, caller.unique_id, caller.name,
                       extra={"hangupsource": leg.name}),
            ]  # fmt: skip
        return await listed()

    site.pbx.channels = channels  # type: ignore[method-assign]
    await site.recovery.run()
    assert looks == 2
    [ended] = [e for e in site.of(CallEnded) if e.call_id == "talk"]
    assert ended.at == site.now
    [completed] = site.of(CallCompleted)
    assert (completed.agent, completed.ended_by) == ("agent2", "agent")
    assert site.state("agent2") != "on_call"


async def test_a_caller_found_ringing_keeps_the_agent_of_the_record(site: Center) -> None:
    caller = in_asterisk(site, "ring", Context.CONNECT.value)
    stored(site, "ring", caller.unique_id, agent="agent1")
    await site.recovery.run()
    call = site.calls.get("ring")
    assert call is not None
    assert (call.state, call.agent, call.offered_at) == (CallState.RINGING, "agent1", site.now)


async def test_a_caller_found_in_the_fallback_queue_is_recorded_as_fallen_back(
    site: Center,
) -> None:
    caller = in_asterisk(site, "fell", Context.FALLBACK.value)
    site.pbx.variables[(caller.name, Var.REASON.value)] = "heartbeat"
    stored(site, "fell", caller.unique_id)
    await site.recovery.run()
    [fell] = site.of(CallFellBack)
    assert (fell.call_id, fell.reason) == ("fell", "heartbeat")
    # Their queue is known: back into the ACD's line, with their original place.
    call = site.calls.get("fell")
    assert call is not None and call.state is CallState.WAITING
    assert site.router.waiting() == ["fell"]
    assert (caller.name, Context.WAIT.value, "s") in site.pbx.redirects


async def test_a_caller_of_no_known_queue_goes_back_through_the_ivr_as_the_same_call(
    site: Center,
) -> None:
    caller = in_asterisk(site, "fell", Context.FALLBACK.value)
    stored(site, "fell", caller.unique_id, queue="", enqueued_at=None)
    await site.recovery.run()
    call = site.calls.get("fell")
    assert call is not None and call.state is CallState.IVR
    assert call.enqueued_at == call.entered_at  # their arrival keeps their place
    assert site.router.waiting() == []
    assert site.pbx.redirects == [(caller.name, Context.ENTRY.value, "s")]
    assert site.pbx.variables[(caller.name, Var.CALL_ID.value)] == "fell"


async def test_a_waiting_caller_whose_record_lacks_the_queue_gets_it_from_the_channel(
    site: Center,
) -> None:
    # The last controller was killed before its record of the join was written.
    waiting = in_asterisk(site, "early", Context.WAIT.value)
    stored(site, "early", waiting.unique_id, queue="", enqueued_at=None)
    site.pbx.variables[(waiting.name, Var.QUEUE.value)] = "support"
    await site.recovery.run()
    call = site.calls.get("early")
    assert call is not None and call.state is CallState.WAITING
    assert (call.queue, call.enqueued_at) == ("support", call.entered_at)
    queued = site.of(CallQueued)
    assert [(e.call_id, e.queue, e.recovered) for e in queued] == [("early", "support", True)]


async def test_a_waiting_caller_of_no_queue_at_all_goes_back_through_the_ivr_and_others_are_adopted(
    site: Center,
) -> None:
    lost = in_asterisk(site, "lost", Context.WAIT.value, number=1)
    stored(site, "lost", lost.unique_id, queue="", enqueued_at=None)
    other = in_asterisk(site, "other", Context.WAIT.value, number=2)
    stored(site, "other", other.unique_id)
    await site.recovery.run()
    call = site.calls.get("lost")
    assert call is not None and call.state is CallState.IVR
    assert (lost.name, Context.ENTRY.value, "s") in site.pbx.redirects
    adopted = site.calls.get("other")
    assert adopted is not None and adopted.state is CallState.WAITING


async def test_channels_that_are_not_our_queued_callers_are_left_alone(site: Center) -> None:
    in_asterisk(site, "ivr", "cc-entry", number=1)  # still in the IVR's hands
    untagged = in_asterisk(site, "", Context.WAIT.value, number=2)
    site.pbx.variables.pop((untagged.name, Var.CALL_ID.value))
    in_asterisk(site, "unknown", Context.WAIT.value, number=3)  # no record of it
    in_asterisk(site, "bad id!", Context.WAIT.value, number=4)
    await site.recovery.run()
    assert len(site.calls) == 0 and site.recovery.adopted == []


async def test_calls_that_vanished_while_the_link_was_down_are_closed(site: Center) -> None:
    await site.ready("agent1")
    await site.agents.pause("agent1", "break", site.now)
    gone = site.caller()
    await site.enqueue(gone, "support")
    in_ivr = site.caller()  # still in the IVR: the FastAGI session will tell
    await site.recovery.run()  # Asterisk has neither channel
    assert site.calls.get(gone.call_id) is None
    [ended] = site.of(CallEnded)
    assert (ended.call_id, ended.outcome) == (gone.call_id, "dropped")
    assert site.calls.get(in_ivr.call_id) is in_ivr
    await site.agents.ready("agent1", site.now)
    assert site.pbx.redirects == [] and site.state("agent1") == "ready"


async def test_a_kept_place_with_nobody_on_the_line_is_not_a_vanished_call(site: Center) -> None:
    await site.ready("agent1")
    await site.agents.pause("agent1", "break", site.now)
    call = site.caller()
    await site.enqueue(call, "support")
    call.callback_id = 7
    site.calls.detach(call)
    await site.recovery.run()
    assert site.calls.get(call.call_id) is call and site.of(CallEnded) == []


async def test_at_first_start_records_of_calls_that_ended_meanwhile_are_closed(
    site: Center,
) -> None:
    waiting = in_asterisk(site, "still", Context.WAIT.value)
    stored(site, "still", waiting.unique_id)
    stored(site, "ended", "1750170000.50")
    stored(site, "ancient", "1750000000.1", entered_at=site.now - OPEN_CALLS_LOOKBACK - 1)
    stored(site, "closed", "1750170000.51", ended_at=site.now - 30)
    await site.recovery.run()
    assert [(e.call_id, e.outcome) for e in site.of(CallEnded)] == [("ended", "unobserved")]
    site.published.clear()
    await site.recovery.run()  # a reconnect, later: only the first start looks
    assert site.of(CallEnded) == []


async def test_agents_whose_call_vanished_are_released(center: Center) -> None:
    statuses = {
        "agent1": AgentStatus(AgentState.ON_CALL, center.now - 60, call_id="lost"),
        "agent2": AgentStatus(AgentState.WRAP_UP, center.now - 10, call_id="over"),
    }
    site = started(center, statuses)
    site.register("agent1")
    site.register("agent2")
    await site.recovery.run()
    assert site.state("agent1") == "ready"
    assert site.state("agent2") == "wrap_up"  # its timer was lost: it ends on its own
    await site.advance(RECOVERED_WRAPUP_SECONDS - 10)
    assert site.state("agent2") == "ready"


async def test_a_ready_agent_found_free_is_offered_a_recovered_caller(center: Center) -> None:
    site = started(center, {"agent1": AgentStatus(AgentState.READY, center.now - 500)})
    channel = in_asterisk(site, "early", Context.WAIT.value)
    stored(site, "early", channel.unique_id)
    site.register("agent1")
    await site.recovery.run()
    assert site.pbx.redirects == [(channel.name, Context.CONNECT.value, "agent1")]


async def test_the_fallback_queue_is_resynchronised(site: Center) -> None:
    await site.ready("agent1")
    site.pbx.members[FALLBACK_QUEUE] = {"PJSIP/gone": QueueMember("PJSIP/gone", "gone", False)}
    await site.recovery.run()
    assert set(site.pbx.members[FALLBACK_QUEUE]) == {"PJSIP/agent1"}


async def test_with_asterisk_unreachable_recovery_waits_for_the_next_login(site: Center) -> None:
    gone = site.caller()
    await site.enqueue(gone, "support")
    site.pbx.unavailable.add("channels")
    await site.recovery.run()
    assert site.calls.get(gone.call_id) is gone and site.recovery.runs == 0


async def test_a_caller_found_on_hold_is_the_agent_s_held_call_and_can_be_resumed(
    center: Center,
) -> None:
    site = started(
        center, {"agent2": AgentStatus(AgentState.ON_CALL, center.now - 100, call_id="held")}
    )
    caller = in_asterisk(site, "held", Context.HOLD.value)
    leg = agent_leg(site, "agent2", "")
    site.pbx.variables[(caller.name, Var.HOLD_PEER.value)] = leg.name
    stored(site, "held", caller.unique_id, agent="agent2", answered_at=site.now - 100)
    site.register("agent2")
    await site.recovery.run()
    call = site.calls.get("held")
    assert call is not None and call.state is CallState.TALKING and call.holds.on_hold
    assert (call.agent, call.agent_channel) == ("agent2", leg.name)
    await site.call_control.resume("agent2")
    assert site.pbx.redirects[-1] == (caller.name, Context.RESUME.value, "s")


async def test_with_several_nodes_a_caller_talking_over_the_trunk_keeps_its_agent_and_node(
    center: Center,
) -> None:
    """[[pbx.nodes]]: the caller on alpha is bridged with the trunk to beta, where the
    agent's phone is; the agent is the record's, the node the channel's."""
    site = started(
        center, {"agent2": AgentStatus(AgentState.ON_CALL, center.now - 100, call_id="talk")}
    )
    caller = replace(in_asterisk(site, "talk", Context.CONNECT.value, bridge="b1"), node="alpha")
    site.pbx.live[-1] = caller
    trunk = replace(agent_leg(site, "node-beta", "b1"), node="alpha")
    site.pbx.live[-1] = trunk
    beta_leg = replace(agent_leg(site, "agent2", "b9", number=91), node="beta")
    site.pbx.live[-1] = beta_leg
    stored(site, "talk", caller.unique_id, agent="agent2", answered_at=site.now - 100)
    site.register("agent2")
    await site.recovery.run()
    call = site.calls.get("talk")
    assert call is not None and call.state is CallState.TALKING
    assert (call.agent, call.agent_channel, call.node) == ("agent2", trunk.name, "alpha")
    assert site.state("agent2") == "on_call"


async def test_a_call_adopted_without_a_node_keeps_its_record_s(site: Center) -> None:
    channel = in_asterisk(site, "early", Context.WAIT.value)
    stored(site, "early", channel.unique_id, node="beta")
    await site.recovery.run()
    call = site.calls.get("early")
    assert call is not None and call.node == "beta"


async def test_a_caller_found_in_a_conference_is_the_agent_s_call_not_on_hold(
    center: Center,
) -> None:
    site = started(
        center, {"agent2": AgentStatus(AgentState.ON_CALL, center.now - 100, call_id="conf")}
    )
    caller = in_asterisk(site, "conf", Context.CONFERENCE.value)
    leg = agent_leg(site, "agent2", "")
    site.pbx.variables[(caller.name, Var.HOLD_PEER.value)] = leg.name
    stored(site, "conf", caller.unique_id, agent="agent2", answered_at=site.now - 100)
    site.register("agent2")
    await site.recovery.run()
    call = site.calls.get("conf")
    assert call is not None and call.state is CallState.TALKING and not call.holds.on_hold
    assert (call.agent, call.agent_channel) == ("agent2", leg.name)
    assert site.state("agent2") == "on_call"
