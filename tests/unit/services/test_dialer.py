"""Outbound campaigns as agents and customers live them (services/outbound/dialer.py
and dialer_calls.py): how many calls go out, which leads are refused, who gets
an answered customer, and what becomes of each lead after its call."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from callcenter.core import pbx_events as ev
from callcenter.core.calls.state import CallState
from callcenter.core.dialplan import Context, Status, Var
from callcenter.core.events import CallAnswered, CallDataChanged, CallEnded, CallOffered
from callcenter.core.outbound import retry
from callcenter.core.outbound.records import LeadRecord, NewDialAttempt
from callcenter.core.outbound.retry import LeadState
from callcenter.core.queues import Announce, QueueSettings
from callcenter.services.outbound.dialer import UNCERTAIN_GRACE, UNOBSERVED_HOLD, DialerError
from callcenter.services.outbound.dialer_calls import ORIGINATE_WAIT
from callcenter.services.outbound.dialer_model import Campaign, OutboundDecision
from callcenter.services.ports import OriginateUncertain, Origination, PbxUnavailable
from tests.fakes.center import RECORDINGS, TRUNK, Center

NUMBERS = ["+12125550100", "+12125550101", "+12125550102", "+12125550103"]
CUSTOMER = "PJSIP/carrier-000000c1"
MINUTE = 60.0


@pytest.fixture
def site(center: Center) -> Center:
    """Queue "sales" (its agents work the campaign): agent1 and agent2; agent3 sells nothing."""
    sales = QueueSettings(
        name="sales", requirements={"sales": 1}, announce=Announce(on_entry=False, interval=0)
    )
    center.configure([sales], {"agent1": {"sales": 1}, "agent2": {"sales": 2}, "agent3": {}})
    return center


def campaign(center: Center, **settings: Any) -> int:
    document = {"queue": "sales", "caller_id": "+12125550000", **settings}
    return center.store.add_campaign("spring", document).id


def leads(center: Center, campaign_id: int, *phones: str, **fields: Any) -> list[int]:
    return [center.store.add_lead(campaign_id, phone, **fields).id for phone in phones]


def lead(center: Center, lead_id: int) -> LeadRecord:
    return center.store.leads[lead_id]


def audit(center: Center) -> list[dict[str, Any]]:
    return list(center.store.attempts.values())


async def running_campaign(center: Center, cid: int) -> Campaign:
    await center.dialer.tick()  # loads the running campaigns (nothing dialled without agents)
    return center.dialer.campaigns[cid]


def placed(center: Center) -> list[Origination]:
    return center.pbx.originations


async def answer(center: Center, dial: Origination, amd: str = "HUMAN") -> OutboundDecision:
    """The customer answers: Originate succeeds, AMD listens, the outbound-answered route."""
    await center.emit(
        ev.OriginateResponse(
            action_id=dial.action_id,
            response="Success",
            channel=CUSTOMER,
            unique_id=dial.channel_id,
        )
    )
    decision = await center.dialer_calls.answered(dial.channel_id, CUSTOMER, amd, "")
    await center.settle()
    return decision


async def unanswered(center: Center, dial: Origination, reason: int, cause: int | None) -> None:
    """Originate fails with Asterisk's reason; the channel's Hangup (if any) gives its cause."""
    await center.emit(
        ev.OriginateResponse(action_id=dial.action_id, response="Failure", reason=reason)
    )
    if cause is not None:
        await center.hangup(CUSTOMER, dial.channel_id, cause=cause)


# -- pacing and placing -------------------------------------------------------------------------
async def test_progressive_places_one_call_per_free_agent_each_agent_held(site: Center) -> None:
    cid = campaign(site)
    first, second, third = leads(site, cid, *NUMBERS[:3])
    await site.ready("agent1")
    await site.advance(1)
    await site.ready("agent2", "agent3")
    await site.dialer.tick()
    assert [(d.endpoint, d.via) for d in placed(site)] == [(NUMBERS[0], TRUNK), (NUMBERS[1], TRUNK)]
    assert site.state("agent1") == "ringing" and site.state("agent2") == "ringing"
    assert site.state("agent3") == "ready"  # not one of the campaign's agents
    dial = placed(site)[0]
    assert (dial.context, dial.exten, dial.ring_seconds) == (Context.OUTBOUND.value, "s", 20)
    assert dial.action_id == dial.channel_id
    assert dial.caller_id == '"spring" <+12125550000>'
    assert dict(dial.variables) == {
        Var.CALL_ID.value: dial.channel_id,
        Var.AMD.value: "1",
        Var.ID_PROMPT.value: "custom/cc-id-spring",
    }
    assert site.agents.status("agent1").call_id == dial.channel_id  # the longest idle first
    assert [lead(site, n).state.status for n in (first, second, third)] == [
        "dialing",
        "dialing",
        "new",
    ]
    assert lead(site, first).attempts == 1
    rows = audit(site)
    assert [(r["dialled"], r["dnc_check"], r["hours_check"]) for r in rows] == [
        (True, "clear", "inside")
    ] * 2
    record = site.store.calls[dial.channel_id]
    assert (record.direction, record.flow, record.agent, record.queue) == (
        "outbound",
        "campaign:spring",
        "agent1",
        "sales",
    )
    await site.dialer.tick()  # nobody free: nothing more
    assert len(placed(site)) == 2


async def test_after_a_takeover_a_lead_the_dead_controller_dialled_is_not_dialled_again(
    site: Center,
) -> None:
    """What a killed controller left: two leads claimed, the first one's call placed (its
    audit row dialled, no end seen), the second's not yet. The next controller (a
    standby taking over, or a restart) dials the second only; the first waits out the
    quiet period, as an abandoned call would."""
    cid = campaign(site)
    first, second = leads(site, cid, *NUMBERS[:2])
    for lead_id in (first, second):
        dialled = retry.dial(lead(site, lead_id).state, site.now)
        assert site.store.claim(lead_id)
        site.store.save_lead(lead_id, dialled)
    site.store.add_attempt(
        NewDialAttempt(cid, first, "old-call", site.now, NUMBERS[0], dialled=True), None
    )
    await site.ready("agent1", "agent2")
    assert placed(site) == []  # both still "dialing": nothing due
    site.dialer.start()
    try:
        for _ in range(200):
            if placed(site):
                break
            await asyncio.sleep(0.01)
    finally:
        await site.dialer.stop()
    assert [d.endpoint for d in placed(site)] == [NUMBERS[1]]
    held = lead(site, first).state
    assert (held.status, held.next_attempt_at, held.last_outcome) == (
        "scheduled",
        site.now + UNOBSERVED_HOLD,
        "unobserved",
    )
    assert audit(site)[0]["outcome"] == "unobserved"


async def test_predictive_places_more_calls_than_free_agents_once_it_has_figures(
    site: Center,
) -> None:
    cid = campaign(site, mode="predictive", max_dial_ratio=3.0)
    leads(site, cid, *[f"+1212555{n:04d}" for n in range(200, 210)])
    for n in range(100):  # yesterday's dials: one in five needed an agent, none abandoned
        outcome = "connected" if n % 5 == 0 else "no-answer"
        row = NewDialAttempt(cid, 0, f"old{n}", site.now - 86400, "+12125559999", dialled=True)
        attempt_id = site.store.add_attempt(row, None)
        site.store.attempts[attempt_id]["outcome"] = outcome
    await site.ready("agent1", "agent2")
    await site.dialer.tick()
    assert 2 < len(placed(site)) <= 6
    assert site.state("agent1") == "ready"  # agents are taken when a customer answers


async def test_a_paused_campaign_and_preview_campaigns_are_not_dialled_by_themselves(
    site: Center,
) -> None:
    paused = site.store.add_campaign("autumn", {"queue": "sales"}, status="paused")
    preview = site.store.add_campaign("winter", {"queue": "sales", "mode": "preview"})
    leads(site, paused.id, NUMBERS[0])
    leads(site, preview.id, NUMBERS[1])
    await site.ready("agent1")
    await site.dialer.tick()
    assert placed(site) == []


async def test_a_campaign_naming_an_unknown_trunk_is_not_dialled(site: Center) -> None:
    cid = campaign(site, trunk="elsewhere")
    leads(site, cid, NUMBERS[0])
    await site.ready("agent1")
    await site.dialer.tick()
    assert placed(site) == [] and site.state("agent1") == "ready"


# -- checked before dialling -------------------------------------------------------------------
async def test_a_lead_on_a_do_not_call_list_is_not_dialled_and_its_agent_takes_the_next(
    site: Center,
) -> None:
    cid = campaign(site)
    listed, clear = leads(site, cid, NUMBERS[0], NUMBERS[1])
    site.store.dnc.add(("campaign:spring", NUMBERS[0]))
    await site.ready("agent1")
    await site.dialer.tick()
    assert [d.endpoint for d in placed(site)] == [NUMBERS[1]]
    assert site.agents.status("agent1").call_id == placed(site)[0].channel_id
    refused = audit(site)[0]
    assert (refused["lead_id"], refused["dialled"], refused["dnc_check"], refused["outcome"]) == (
        listed,
        False,
        "listed-campaign",
        "dnc-campaign",
    )
    assert (lead(site, listed).state.status, lead(site, listed).attempts) == ("dnc", 0)
    assert lead(site, clear).state.status == "dialing"


async def test_a_lead_outside_its_calling_hours_waits_for_them(site: Center) -> None:
    cid = campaign(site)
    [tokyo] = leads(site, cid, "+81312345678")  # midnight there
    await site.ready("agent1")
    await site.dialer.tick()
    assert placed(site) == [] and site.state("agent1") == "ready"
    [row] = audit(site)
    assert (row["dialled"], row["hours_check"], row["lead_local_time"]) == (
        False,
        "outside-calling-hours",
        "2025-06-18T00:00+09:00 JST",
    )
    state = lead(site, tokyo).state
    assert (state.status, state.attempts, state.next_attempt_at) == (
        "scheduled",
        0,
        site.now + 9 * 3600,  # 09:00 in Tokyo, when the campaign's window opens
    )


async def test_an_abandoned_lead_is_left_alone_for_the_quiet_period(site: Center) -> None:
    cid = campaign(site)
    abandoned = LeadState(status="scheduled", attempts=1, last_abandoned_at=site.now - 3600)
    [quiet] = leads(site, cid, NUMBERS[0], state=abandoned)
    await site.ready("agent1")
    await site.dialer.tick()
    assert placed(site) == []
    assert audit(site)[0]["hours_check"] == "quiet-period"
    assert lead(site, quiet).state.next_attempt_at == site.now - 3600 + 72 * 3600


# -- the customer answers ------------------------------------------------------------------------
async def test_a_person_who_answers_is_put_through_to_the_held_agent(site: Center) -> None:
    cid = campaign(site)
    [done] = leads(site, cid, NUMBERS[0], first_name="Ada", last_name="Lovelace")
    await site.ready("agent1")
    await site.dialer.tick()
    dial = placed(site)[0]
    await site.advance(9)
    decision = await answer(site, dial)
    assert (decision.status, decision.target, decision.ring_timeout) == (
        Status.CONNECT,
        "agent1",
        2,
    )
    assert decision.recording == f"{RECORDINGS}/2025/06/17/{dial.channel_id}.wav"
    call = site.calls.get(dial.channel_id)
    assert call is not None and call.state is CallState.RINGING
    assert (call.caller_name, call.data["campaign"], call.data["lead_id"]) == (
        "Ada Lovelace",
        "spring",
        str(done),
    )
    assert site.of(CallOffered)[-1].agent == "agent1"
    # cc-outbound-agent rings the agent, who answers; the customer hangs up later.
    leg = await site.ring(call, "agent1")
    await site.advance(1)
    await site.dial_end(call, leg, "ANSWER")
    assert site.state("agent1") == "on_call"
    assert site.of(CallAnswered)[-1].call_id == dial.channel_id
    await site.advance(120)
    await site.hangup(CUSTOMER, dial.channel_id)
    await site.hangup(*leg)
    assert site.state("agent1") == "ready"
    [row] = audit(site)
    assert (row["outcome"], row["abandoned"], row["agent"], row["amd_result"]) == (
        "connected",
        False,
        "agent1",
        "HUMAN",
    )
    assert row["answer_to_agent_seconds"] == 1.0
    assert lead(site, done).state.status == "done"
    assert site.of(CallEnded)[-1].outcome == "ended"


async def test_predictive_takes_the_longest_idle_agent_at_answer(site: Center) -> None:
    cid = campaign(site, mode="predictive")
    [only] = leads(site, cid, NUMBERS[0])
    running = await running_campaign(site, cid)
    assert await site.dialer.dial(running, lead(site, only))  # as pacing places a call
    await site.ready("agent2")
    await site.advance(1)
    await site.ready("agent1")
    decision = await answer(site, placed(site)[0])
    assert (decision.status, decision.target) == (Status.CONNECT, "agent2")
    assert site.state("agent2") == "ringing"


async def test_nobody_free_for_a_person_who_answers_hears_who_called_and_is_abandoned(
    site: Center,
) -> None:
    # A grace under a second leaves no time to wait for an agent.
    cid = campaign(site, mode="predictive", agent_grace_seconds=1.0)
    [gone] = leads(site, cid, NUMBERS[0])
    running = await running_campaign(site, cid)
    assert await site.dialer.dial(running, lead(site, gone))
    decision = await answer(site, placed(site)[0])
    assert decision == OutboundDecision(Status.HANGUP, prompt="custom/cc-id-spring")
    await site.hangup(CUSTOMER, placed(site)[0].channel_id)
    [row] = audit(site)
    assert (row["outcome"], row["abandoned"]) == ("abandoned", True)
    state = lead(site, gone).state
    assert (state.status, state.last_abandoned_at) == ("scheduled", site.now)
    assert state.next_attempt_at == site.now + 72 * 3600


async def test_a_held_agent_whose_phone_is_busy_at_answer_means_an_abandon(site: Center) -> None:
    cid = campaign(site)
    [busy] = leads(site, cid, NUMBERS[0])
    await site.ready("agent1")
    await site.dialer.tick()
    personal = site.agent_channel("agent1")
    await site.emit(ev.Newchannel(channel=personal[0], unique_id=personal[1]))
    decision = await answer(site, placed(site)[0])
    assert decision.status is Status.HANGUP and decision.prompt == "custom/cc-id-spring"
    await site.hangup(CUSTOMER, placed(site)[0].channel_id)
    assert site.state("agent1") == "ready"  # released
    assert audit(site)[0]["outcome"] == "abandoned"
    assert lead(site, busy).state.last_abandoned_at == site.now


async def test_an_agent_who_does_not_answer_is_paused_and_the_customer_abandoned(
    site: Center,
) -> None:
    cid = campaign(site)
    leads(site, cid, NUMBERS[0])
    await site.ready("agent1")
    await site.dialer.tick()
    dial = placed(site)[0]
    await answer(site, dial)
    decision = await site.dialer_calls.agent_result(dial.channel_id, "NOANSWER")
    assert decision == OutboundDecision(Status.HANGUP, prompt="custom/cc-id-spring")
    status = site.agents.status("agent1")
    assert (status.state.value, status.reason) == ("paused", "ring-no-answer")
    await site.hangup(CUSTOMER, dial.channel_id)
    assert audit(site)[0]["outcome"] == "abandoned"


@pytest.mark.parametrize(
    ("action", "amd", "expected"),
    [
        ("hangup", "MACHINE", OutboundDecision(Status.HANGUP)),
        (
            "message",
            "MACHINE",
            OutboundDecision(Status.HANGUP, prompt="custom/cc-msg-spring", after_greeting=True),
        ),
        ("hangup", "HANGUP", OutboundDecision(Status.HANGUP)),
    ],
)
async def test_an_answering_machine_gets_the_campaign_s_action(
    site: Center, action: str, amd: str, expected: OutboundDecision
) -> None:
    cid = campaign(site, amd_action=action)
    [machine] = leads(site, cid, NUMBERS[0])
    await site.ready("agent1")
    await site.dialer.tick()
    assert await answer(site, placed(site)[0], amd) == expected
    await site.hangup(CUSTOMER, placed(site)[0].channel_id)
    assert site.state("agent1") == "ready"
    outcome = "machine" if amd == "MACHINE" else "no-answer"
    assert audit(site)[0]["outcome"] == outcome
    minutes = 240 if amd == "MACHINE" else 60  # the campaign's retry rules
    assert lead(site, machine).state.next_attempt_at == site.now + minutes * MINUTE


# -- not answered: Asterisk's reason and the hangup cause decide the lead's next try ---------------
@pytest.mark.parametrize(
    ("reason", "cause", "outcome", "status", "retry_minutes"),
    [
        (5, 17, "busy", "scheduled", 10),
        (3, 19, "no-answer", "scheduled", 60),
        (0, 34, "failed", "scheduled", 30),
        (0, 1, "invalid-number", "invalid", None),
        (1, None, "no-answer", "scheduled", 60),  # no Hangup follows: the reason alone
    ],
)
async def test_an_unanswered_call_sets_the_lead_s_next_try(
    site: Center,
    reason: int,
    cause: int | None,
    outcome: str,
    status: str,
    retry_minutes: int | None,
) -> None:
    cid = campaign(site)
    [tried] = leads(site, cid, NUMBERS[0])
    await site.ready("agent1")
    await site.dialer.tick()
    await site.advance(20)
    await unanswered(site, placed(site)[0], reason, cause)
    if cause is None:
        assert audit(site)[0]["outcome"] == ""  # waits for the Hangup a little
        await site.advance(ORIGINATE_WAIT)
    assert site.state("agent1") == "ready"
    [row] = audit(site)
    assert (row["outcome"], row["abandoned"], row["answered_at"]) == (outcome, False, None)
    state = lead(site, tried).state
    assert (state.status, state.last_outcome) == (status, outcome)
    if retry_minutes is not None:
        assert state.next_attempt_at == site.now + retry_minutes * MINUTE


async def test_a_lead_out_of_attempts_is_exhausted(site: Center) -> None:
    cid = campaign(site, retry={"max_attempts": 2})
    [last] = leads(site, cid, NUMBERS[0], state=LeadState(status="scheduled", attempts=1))
    await site.ready("agent1")
    await site.dialer.tick()
    await unanswered(site, placed(site)[0], 3, 19)
    assert lead(site, last).state.status == "exhausted"


async def test_an_originate_asterisk_refuses_fails_the_attempt_at_once(site: Center) -> None:
    cid = campaign(site)
    [refused] = leads(site, cid, NUMBERS[0])
    site.pbx.originate_error = PbxUnavailable("not connected")
    await site.ready("agent1")
    await site.dialer.tick()
    assert site.state("agent1") == "ready"
    assert audit(site)[0]["outcome"] == "failed"
    assert lead(site, refused).state.next_attempt_at == site.now + 30 * MINUTE


async def test_an_originate_nobody_confirms_is_given_up_after_the_ring_time(site: Center) -> None:
    cid = campaign(site)
    leads(site, cid, NUMBERS[0])
    site.pbx.originate_error = OriginateUncertain("no response")
    await site.ready("agent1")
    await site.dialer.tick()
    assert site.state("agent1") == "ringing"
    await site.advance(20 + UNCERTAIN_GRACE - 1)
    assert site.state("agent1") == "ringing"
    await site.advance(1)
    assert site.state("agent1") == "ready"
    assert audit(site)[0]["outcome"] == "failed"


# -- the agent's wrap-up code ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "status", "listed"),
    [
        ("do-not-call", "dnc", True),
        ("wrong-number", "invalid", False),
        ("retry", "scheduled", False),
    ],
)
async def test_the_agent_s_disposition_decides_what_becomes_of_the_lead(
    site: Center, code: str, status: str, listed: bool
) -> None:
    cid = campaign(site)
    [disposed] = leads(site, cid, NUMBERS[0])
    await site.ready("agent1")
    await site.dialer.tick()
    dial = placed(site)[0]
    await answer(site, dial)
    call = site.calls.get(dial.channel_id)
    assert call is not None
    leg = await site.ring(call, "agent1")
    await site.dial_end(call, leg, "ANSWER")
    await site.hangup(CUSTOMER, dial.channel_id)
    assert lead(site, disposed).state.status == "done"
    site.notifier.publish(
        CallDataChanged(at=site.now, call_id=dial.channel_id, changes={"disposition": code})
    )
    await site.settle()
    assert lead(site, disposed).state.status == status
    assert (("campaign:spring", NUMBERS[0]) in site.store.dnc) is listed


# -- preview -------------------------------------------------------------------------------------
async def test_preview_holds_the_agent_while_they_read_then_dials_on_request(
    site: Center,
) -> None:
    cid = campaign(site, mode="preview")
    [shown] = leads(site, cid, NUMBERS[0])
    await site.ready("agent1")
    await site.dialer.tick()
    assert placed(site) == []
    running, record = await site.dialer.preview("agent1")
    assert (running.id, record.id) == (cid, shown)
    assert site.state("agent1") == "ringing"  # held: no inbound caller meanwhile
    assert (await site.dialer.preview("agent1"))[1].id == shown  # the same lead again
    call_id = await site.dialer.dial_preview("agent1")
    assert [d.channel_id for d in placed(site)] == [call_id]
    assert site.agents.status("agent1").call_id == call_id


async def test_a_skipped_preview_frees_the_agent_and_the_lead(site: Center) -> None:
    cid = campaign(site, mode="preview")
    [skipped] = leads(site, cid, NUMBERS[0])
    await site.ready("agent1")
    await site.dialer.tick()
    await site.dialer.preview("agent1")
    await site.dialer.skip_preview("agent1")
    assert site.state("agent1") == "ready"
    assert lead(site, skipped).state.status == "new"
    with pytest.raises(DialerError) as refused:
        await site.dialer.dial_preview("agent1")
    assert refused.value.code == "no-preview"


async def test_preview_is_refused_to_a_busy_agent_and_when_no_lead_is_due(site: Center) -> None:
    campaign(site, mode="preview")
    await site.ready("agent1")
    await site.dialer.tick()
    with pytest.raises(DialerError) as refused:
        await site.dialer.preview("agent1")
    assert refused.value.code == "no-lead"
    await site.agents.pause("agent1", "break", site.now)
    with pytest.raises(DialerError) as refused:
        await site.dialer.preview("agent1")
    assert refused.value.code == "agent-busy"


# -- the staff changes ---------------------------------------------------------------------------
async def test_the_dialer_keeps_pacing_after_an_agent_is_removed(site: Center) -> None:
    cid = campaign(site)
    leads(site, cid, NUMBERS[0])
    await site.ready("agent1")
    site.agents.load({"agent1": {"sales": 1}, "agent3": {}}, {}, set(), site.now)  # agent2 gone
    await site.dialer.tick()
    assert [d.endpoint for d in placed(site)] == [NUMBERS[0]]


async def test_pacing_counts_a_call_on_as_a_connect_and_reads_the_agent_s_time_on_it(
    site: Center,
) -> None:
    cid = campaign(site)
    leads(site, cid, NUMBERS[0])
    await site.ready("agent1")
    await site.dialer.tick()
    running = site.dialer.campaigns[cid]
    dial = placed(site)[0]
    figures = await site.dialer._figures(running, [])
    # Ringing: not yet a dial of the sample (it would read as nobody answering); the
    # agent held for it counts as just begun.
    assert (figures.dials, figures.connects, figures.busy_agents) == (0, 0, 1)
    assert figures.busy_elapsed == (0.0,)
    await site.advance(5)
    assert (await site.dialer._figures(running, [])).in_flight_ages == ()  # held: not in flight
    await answer(site, dial)
    call = site.calls.get(dial.channel_id)
    assert call is not None
    leg = await site.ring(call, "agent1")
    await site.dial_end(call, leg, "ANSWER")
    await site.advance(15)
    figures = await site.dialer._figures(running, [])
    assert (figures.dials, figures.connects, figures.busy_agents) == (1, 1, 1)
    assert figures.busy_elapsed == (pytest.approx(15.0),)
    await site.advance(10)
    await site.hangup(CUSTOMER, dial.channel_id)
    await site.hangup(*leg)
    figures = await site.dialer._figures(running, ["agent1"])
    assert (figures.dials, figures.connects, figures.busy_agents) == (1, 1, 0)


async def test_pacing_reads_how_long_each_predictive_call_has_been_ringing(site: Center) -> None:
    cid = campaign(site, mode="predictive")
    leads(site, cid, *NUMBERS[:2])
    running = await running_campaign(site, cid)
    for record in site.store.due_leads(cid, site.now, 2):
        assert await site.dialer.dial(running, record)
        await site.advance(4)
    _, second = placed(site)
    await unanswered(site, second, 5, 17)  # busy after 4 s: over
    figures = await site.dialer._figures(running, ["agent1"])
    assert figures.in_flight == 1 and figures.in_flight_ages == (pytest.approx(8.0),)
    assert figures.dials == 1 and figures.resolved == ((pytest.approx(4.0), False),)


async def test_with_several_nodes_each_call_is_placed_on_the_node_picked_and_recorded(
    site: Center,
) -> None:
    """[[pbx.nodes]]: the dialer asks which node places each call (the least busy node
    that is up: adapters/ami/nodes.py); the node goes with the Originate, into the call's
    record and the live call; an agent rung over the trunk to another node is on that
    node (the answered event's agent_node)."""
    turns = iter(["alpha", "beta"])
    site.dialer.pick_node = lambda: next(turns)
    cid = campaign(site)
    leads(site, cid, *NUMBERS[:2])
    await site.ready("agent1", "agent2")
    await site.dialer.tick()
    first, second = placed(site)
    assert (first.node, second.node) == ("alpha", "beta")
    assert site.store.calls[first.channel_id].node == "alpha"
    assert site.store.calls[second.channel_id].node == "beta"
    await answer(site, first)
    call = site.calls.get(first.channel_id)
    assert call is not None and call.node == "alpha"
    trunk_leg = ("PJSIP/node-beta-00000007", "alpha-1.7")  # agent1's phone is on beta
    await site.emit(ev.Newchannel(channel=trunk_leg[0], unique_id=trunk_leg[1]))
    await site.emit(
        ev.DialBegin(
            channel=call.channel, unique_id=call.unique_id,
            dest_channel=trunk_leg[0], dest_unique_id=trunk_leg[1],
        )
    )  # fmt: skip
    await site.dial_end(call, trunk_leg, "ANSWER")
    answered = site.of(CallAnswered)[-1]
    assert (answered.agent, answered.agent_node) == ("agent1", "beta")


async def test_a_single_box_dialer_names_no_node(site: Center) -> None:
    cid = campaign(site)
    leads(site, cid, NUMBERS[0])
    await site.ready("agent1")
    await site.dialer.tick()
    [dial] = placed(site)
    assert dial.node == "" and site.store.calls[dial.channel_id].node == ""


async def test_a_node_that_goes_down_gives_up_its_unanswered_calls_after_the_ring_time(
    site: Center,
) -> None:
    """[[pbx.nodes]]: alpha's link is lost with a call ringing there and one on beta;
    alpha's is given up as an Originate nobody confirmed (its agent let go), beta's
    goes on."""
    turns = iter(["alpha", "beta"])
    site.dialer.pick_node = lambda: next(turns)
    cid = campaign(site)
    leads(site, cid, *NUMBERS[:2])
    await site.ready("agent1", "agent2")
    await site.dialer.tick()
    on_alpha, on_beta = placed(site)
    site.dialer.nodes_changed({"alpha": False, "beta": True})
    site.dialer.nodes_changed({"alpha": False, "beta": True})  # told again: one timer
    await site.advance(20 + UNCERTAIN_GRACE)
    holders = {site.agents.status(a).call_id: a for a in ("agent1", "agent2")}
    assert on_alpha.channel_id not in holders  # let go
    assert site.state(holders[on_beta.channel_id]) == "ringing"
    assert [row["outcome"] for row in audit(site) if row["call_id"] == on_alpha.channel_id] == [
        "failed"
    ]
    assert on_beta.channel_id in site.dialer_calls.attempts
