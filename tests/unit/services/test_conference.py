"""More parties in a conference (services/inbound/conference.py) over the fakes: who
is rung into it, the maximum, removing, and each agent party's segment."""

from __future__ import annotations

import pytest

from callcenter.core import pbx_events as ev
from callcenter.core.calls.live import LiveCall
from callcenter.core.dialplan import Context, Var
from callcenter.core.events import CallCompleted, CallSegmentEnded
from callcenter.services.inbound import consult as consult_module
from callcenter.services.inbound.conference import PARTY_REASON, ConferenceParties
from callcenter.services.inbound.consult import Consultations
from callcenter.services.ports import LiveChannel
from tests.fakes.center import Center
from tests.unit.services.test_call_control import queue, refused, talking

SKILLS = {"support": 3}


@pytest.fixture(autouse=True)
def _quick_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consult_module, "SETTLE_SECONDS", 0.05)


def _leg(unique_id: str, name: str, context: str, bridge: str) -> LiveChannel:
    return LiveChannel(
        unique_id=unique_id, name=name, state="Up", context=context, exten="s",
        application="ConfBridge", caller_num="", linked_id="", bridge_id=bridge,
    )  # fmt: skip


async def _conference(
    center: Center, maximum: int = 5
) -> tuple[ConferenceParties, Consultations, LiveCall]:
    agents = {name: SKILLS for name in ("ann", "bob", "cat", "dan", "eve")}
    center.configure([queue("support")], agents)
    await center.ready("ann")
    call, _ = await talking(center, "ann")
    await center.ready("bob", "cat", "dan", "eve")
    consults = Consultations(center.call_control, center.pbx)
    started = await consults.start("ann", "bob")
    center.pbx.live = [_leg(started.channel_id, "PJSIP/bob-000000ff", Context.CONSULT, "b1")]
    await consults.conference("ann")
    center.pbx.originations.clear()
    center.pbx.actions.clear()
    return ConferenceParties(consults, center.pbx, maximum), consults, call


async def test_further_agents_are_rung_into_the_conference_up_to_the_maximum(
    center: Center,
) -> None:
    parties, consults, call = await _conference(center)
    conf = consults.of("ann")
    assert conf is not None
    await refused(parties.add("ann", "agent", "bob"), "agent-busy")  # the target already
    await refused(parties.add("ann", "agent", "ann"), "same-agent")
    cat = await parties.add("ann", "agent", "cat")
    [request] = center.pbx.originations
    assert (request.endpoint, request.context, request.channel_id) == (
        "cat", Context.CONFERENCE_MEMBER.value, cat.channel_id,
    )  # fmt: skip
    assert dict(request.variables) == {
        Var.CONF.value: conf.channel_id,
        Var.CONF_PARTY.value: call.channel,
        Var.CONSULT_TARGET.value: "cat",
        Var.CONSULT_AGENT.value: "ann",
    }
    assert not center.agents.available("cat") or consults._busy("cat")
    await refused(parties.add("ann", "agent", "cat"), "agent-busy")
    await parties.add("ann", "agent", "dan")  # five in all: the caller, ann, bob, cat, dan
    await refused(parties.add("ann", "agent", "eve"), "conference-full")
    assert [p.name for p in parties.of("ann")] == ["cat", "dan"]
    assert call.data["conference_parties"] == "cat,dan"
    # ann cannot leave while the parties she added are there.
    await refused(consults.complete("ann"), "parties-present")


async def test_an_outside_number_joins_through_the_dial_policy(center: Center) -> None:
    parties, _, _ = await _conference(center)
    await refused(parties.add("ann", "number", "911"), "refused")
    party = await parties.add("ann", "number", "+12125550123")
    [request] = center.pbx.originations
    assert (request.endpoint, request.via) == ("+12125550123", center.call_control.trunk())
    assert party.kind == "number"


async def test_removing_a_party_hangs_up_their_leg_and_ends_their_segment(
    center: Center,
) -> None:
    parties, consults, _ = await _conference(center)
    cat = await parties.add("ann", "agent", "cat")
    await center.advance(12)
    cat_leg = _leg(cat.channel_id, "PJSIP/cat-000000aa", Context.CONFERENCE_MEMBER, "conf")
    center.pbx.live = [cat_leg]
    await refused(parties.remove("ann", "zed"), "no-party")
    await parties.remove("ann", "cat")
    assert ("hangup", cat_leg.name) in center.pbx.actions
    [segment] = center.of(CallSegmentEnded)
    assert (segment.agent, segment.reason, segment.talk) == ("cat", PARTY_REASON, 12.0)
    assert parties.of("ann") == [] and not consults._busy("cat")


async def test_parties_still_there_end_their_part_with_the_call(center: Center) -> None:
    parties, _, call = await _conference(center)
    center.notifier.subscribe(CallCompleted, parties.on_completed)
    await parties.add("ann", "agent", "cat")
    await parties.add("ann", "number", "+12125550123")
    await center.advance(20)
    await center.caller_hangs_up(call)
    party_segments = [s for s in center.of(CallSegmentEnded) if s.reason == PARTY_REASON]
    assert [(s.agent, s.talk) for s in party_segments] == [("cat", 20.0)]  # numbers: none
    assert parties.of("ann") == []


async def test_no_parties_without_a_conference(center: Center) -> None:
    center.configure([queue("support")], {"ann": SKILLS, "cat": SKILLS})
    await center.ready("ann")
    await talking(center, "ann")
    await center.ready("cat")
    parties = ConferenceParties(Consultations(center.call_control, center.pbx), center.pbx)
    await refused(parties.add("ann", "agent", "cat"), "no-conference")


async def test_after_a_restart_the_added_parties_are_carried_on(center: Center) -> None:
    parties, consults, call = await _conference(center)
    cat = await parties.add("ann", "agent", "cat")
    conf = consults.of("ann")
    assert conf is not None
    conf.parties.clear()  # as a controller started again knows them: not at all
    cat_leg = _leg(cat.channel_id, "PJSIP/cat-000000aa", Context.CONFERENCE_MEMBER, "conf")
    center.pbx.variables[(cat_leg.name, Var.CONF_PARTY.value)] = call.channel
    center.pbx.variables[(cat_leg.name, Var.CONSULT_TARGET.value)] = "cat"
    await parties.recover([cat_leg])
    assert [(p.name, p.kind, p.channel_id) for p in parties.of("ann")] == [
        ("cat", "agent", cat.channel_id)
    ]
    center.pbx.live = [cat_leg]
    await parties.remove("ann", "cat")
    assert ("hangup", cat_leg.name) in center.pbx.actions


async def test_a_party_hanging_up_leaves_the_conference_then(center: Center) -> None:
    parties, _, call = await _conference(center)
    cat = await parties.add("ann", "agent", "cat")
    await center.advance(7)
    parties.on_hangup(ev.Hangup(unique_id=cat.channel_id, channel="PJSIP/cat-000000aa"))
    assert parties.of("ann") == [] and call.data["conference_parties"] == ""
    [segment] = [s for s in center.of(CallSegmentEnded) if s.reason == PARTY_REASON]
    assert (segment.agent, segment.talk) == ("cat", 7.0)
    parties.on_hangup(ev.Hangup(unique_id=cat.channel_id, channel="PJSIP/cat-000000aa"))
    assert len(center.of(CallSegmentEnded)) == 1  # once


async def test_a_party_s_hang_up_heard_while_removing_them_ends_their_part_once(
    center: Center,
) -> None:
    parties, _, _ = await _conference(center)
    cat = await parties.add("ann", "agent", "cat")
    cat_leg = _leg(cat.channel_id, "PJSIP/cat-000000aa", Context.CONFERENCE_MEMBER, "conf")
    center.pbx.live = [cat_leg]
    hangup = center.pbx.hangup

    async def heard_at_once(channel: str) -> None:
        await hangup(channel)
        parties.on_hangup(ev.Hangup(unique_id=cat.channel_id, channel=channel))

    center.pbx.hangup = heard_at_once  # type: ignore[method-assign]
    await parties.remove("ann", "cat")
    assert parties.of("ann") == []
    assert len([s for s in center.of(CallSegmentEnded) if s.reason == PARTY_REASON]) == 1
