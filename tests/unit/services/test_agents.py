"""Agents' states as agents and supervisors change them (services/agents.py):
the state table applied, the fallback queue kept in step, and who may be rung."""

from __future__ import annotations

import pytest

from callcenter.core import pbx_events as ev
from callcenter.core.acd.agent_state import AgentStatus
from callcenter.core.acd.model import AgentState
from callcenter.core.dialplan import Decision, Status
from callcenter.core.events import AgentStateChanged
from callcenter.core.pause_reasons import PHONE_OFFLINE
from callcenter.core.queues import Announce, QueueSettings
from callcenter.services.agents import FALLBACK_QUEUE, AgentError
from callcenter.services.ports import QueueMember
from tests.fakes.center import Center


def support() -> QueueSettings:
    return QueueSettings(name="support", announce=Announce(on_entry=False, interval=0))


def fallback(center: Center) -> list[tuple[object, ...]]:
    """What the fallback queue (cc-fallback itself, not the queues' twins) was asked, in order."""
    return [
        a
        for a in center.pbx.actions
        if a[0].startswith("queue_") and a[0] != "queue_log" and a[1] == FALLBACK_QUEUE
    ]


def changes(center: Center) -> list[tuple[str, str, str]]:
    return [(e.previous, e.state, e.reason) for e in center.of(AgentStateChanged)]


@pytest.fixture
def one(center: Center) -> Center:
    center.configure([support()], {"agent1": {}})
    center.register("agent1")
    return center


# -- the state table applied ---------------------------------------------------------------------
async def test_login_pause_ready_logout(one: Center) -> None:
    agents, now = one.agents, one.now
    assert (await agents.login("agent1", now)).state is AgentState.READY
    await one.advance(60)
    paused = await agents.pause("agent1", "lunch", one.now)
    assert (paused.state, paused.reason, paused.since) == (AgentState.PAUSED, "lunch", now + 60)
    await agents.ready("agent1", one.now)
    await agents.logout("agent1", one.now)
    assert changes(one) == [
        ("logged_out", "ready", ""),
        ("ready", "paused", "lunch"),
        ("paused", "ready", ""),
        ("ready", "logged_out", ""),
    ]
    assert one.of(AgentStateChanged)[1].previous_seconds == 60.0
    assert fallback(one) == [
        ("queue_add", FALLBACK_QUEUE, "PJSIP/agent1", "agent1", False),
        ("queue_pause", FALLBACK_QUEUE, "PJSIP/agent1", True, "lunch"),
        ("queue_pause", FALLBACK_QUEUE, "PJSIP/agent1", False, ""),
        ("queue_remove", FALLBACK_QUEUE, "PJSIP/agent1"),
    ]


async def test_a_pause_without_a_reason_is_a_break(one: Center) -> None:
    await one.agents.login("agent1", one.now)
    assert (await one.agents.pause("agent1", "", one.now)).reason == "break"


async def test_ready_logs_a_logged_out_agent_in_and_changes_nothing_when_ready(
    one: Center,
) -> None:
    assert (await one.agents.ready("agent1", one.now)).state is AgentState.READY
    again = await one.agents.ready("agent1", one.now + 5)
    assert again.since == one.now  # the same period of readiness
    assert len(one.of(AgentStateChanged)) == 1


async def test_a_new_pause_reason_starts_a_new_pause_without_touching_the_queue(
    one: Center,
) -> None:
    await one.agents.login("agent1", one.now)
    await one.agents.pause("agent1", "lunch", one.now)
    await one.advance(10)
    status = await one.agents.pause("agent1", "training", one.now)
    assert (status.reason, status.since) == ("training", one.now)
    assert changes(one)[-1] == ("paused", "paused", "training")
    assert [a[0] for a in fallback(one)] == ["queue_add", "queue_pause"]


@pytest.mark.parametrize(
    ("arrange", "request_", "code"),
    [
        ([], "pause", "illegal-transition"),  # logged out
        ([], "logout", "illegal-transition"),  # already logged out: a stale client
        (["login"], "login", "illegal-transition"),
        (["login", "offer"], "logout", "illegal-transition"),  # a caller is ringing
        (["login", "offer", "answered"], "logout", "illegal-transition"),
    ],
)
async def test_refused_requests_raise_with_a_stable_code(
    one: Center, arrange: list[str], request_: str, code: str
) -> None:
    agents, now = one.agents, one.now
    steps = {
        "login": lambda: agents.login("agent1", now),
        "logout": lambda: agents.logout("agent1", now),
        "pause": lambda: agents.pause("agent1", "break", now),
        "offer": lambda: agents.offer("agent1", "call1", now),
        "answered": lambda: agents.answered("agent1", now),
    }
    for step in arrange:
        await steps[step]()
    before = agents.status("agent1")
    published = len(one.published)
    with pytest.raises(AgentError) as refused:
        await steps[request_]()
    assert refused.value.code == code
    assert agents.status("agent1") == before and len(one.published) == published


async def test_an_unknown_agent_is_refused(one: Center) -> None:
    with pytest.raises(AgentError) as refused:
        await one.agents.login("nobody", one.now)
    assert refused.value.code == "unknown-agent"


async def test_a_pause_asked_during_a_call_is_applied_when_the_call_ends(one: Center) -> None:
    agents = one.agents
    await agents.login("agent1", one.now)
    await agents.offer("agent1", "call1", one.now)
    await agents.answered("agent1", one.now)
    on_call = await agents.pause("agent1", "meeting", one.now)
    assert (on_call.state, on_call.pending_pause) == (AgentState.ON_CALL, "meeting")
    assert [a[0] for a in fallback(one)] == ["queue_add"]  # still taking this call
    await agents.call_ended("agent1", 0.0, one.now)
    assert agents.status("agent1").state is AgentState.PAUSED
    assert changes(one)[-1] == ("on_call", "paused", "meeting")
    assert fallback(one)[-1] == ("queue_pause", FALLBACK_QUEUE, "PJSIP/agent1", True, "meeting")


async def test_a_pause_asked_during_a_call_can_be_taken_back(one: Center) -> None:
    agents = one.agents
    await agents.login("agent1", one.now)
    await agents.offer("agent1", "call1", one.now)
    await agents.pause("agent1", "meeting", one.now)
    await agents.ready("agent1", one.now)
    await agents.call_ended("agent1", 0.0, one.now)
    assert agents.status("agent1").state is AgentState.READY


async def test_wrap_up_ends_by_itself_after_the_queue_s_time(one: Center) -> None:
    agents = one.agents
    await agents.login("agent1", one.now)
    await agents.offer("agent1", "call1", one.now)
    await agents.answered("agent1", one.now)
    wrapping = await agents.call_ended("agent1", 45.0, one.now)
    assert (wrapping.state, wrapping.call_id) == (AgentState.WRAP_UP, "call1")
    await one.advance(44.9)
    assert agents.status("agent1").state is AgentState.WRAP_UP
    await one.advance(0.1)
    assert agents.status("agent1").state is AgentState.READY


async def test_a_wrap_up_found_after_a_restart_ends_at_most_that_long_after_it_began(
    center: Center,
) -> None:
    began = center.now - 10
    center.agents.load({"agent1": {}}, {"agent1": AgentStatus(AgentState.WRAP_UP, began)}, set(), 0)
    center.agents.resume_wrapup("agent1", center.now, 30.0)
    assert center.timers.when(("wrapup", "agent1")) == began + 30
    center.agents.resume_wrapup("agent1", center.now + 5, 300.0)  # a timer runs already
    assert center.timers.when(("wrapup", "agent1")) == began + 30
    await center.advance(20)
    assert center.state("agent1") == "ready"


# -- who may be rung: a registered phone with no call on it -----------------------------------
async def test_a_ready_agent_without_a_registered_phone_is_not_rung(center: Center) -> None:
    center.configure([support()], {"agent1": {}})
    await center.agents.login("agent1", center.now)  # the phone never registered
    assert not center.agents.available("agent1")
    call = center.caller()
    assert await center.enqueue(call, "support") == Decision(Status.WAIT)
    contact = ev.ContactStatus(
        endpoint_name="agent1", aor="agent1", contact_status="Reachable", uri="sip:a@192.0.2.1"
    )
    await center.emit(contact)
    assert center.pbx.redirects == [(call.channel, "cc-connect", "agent1")]
    assert center.state("agent1") == "ringing"


async def test_a_phone_that_goes_away_makes_its_agent_unavailable(one: Center) -> None:
    await one.agents.login("agent1", one.now)
    assert one.agents.available("agent1")
    gone = ev.ContactStatus(
        endpoint_name="agent1", contact_status="Removed", uri="sip:agent1@192.0.2.10:5060"
    )
    await one.emit(gone)
    assert not one.agents.available("agent1")
    # Paused with the reason (the agent and the supervisor see why), not logged out.
    assert one.state("agent1") == "paused"
    assert one.agents.status("agent1").reason == PHONE_OFFLINE
    assert await one.enqueue(one.caller(), "support") == Decision(Status.WAIT)
    back = ev.ContactStatus(
        endpoint_name="agent1", contact_status="Reachable", uri="sip:agent1@192.0.2.10:5060"
    )
    await one.emit(back)  # the pause the controller set ends by itself; the caller rings
    assert one.state("agent1") == "ringing"


async def test_a_fixed_contact_needs_no_registration(center: Center) -> None:
    center.configure([support()], {"agent1": {}})
    center.agents.load({"agent1": {}}, {}, {"agent1"}, center.now)
    await center.agents.login("agent1", center.now)
    assert center.agents.available("agent1")


async def test_an_agent_whose_phone_is_on_a_call_is_not_available(one: Center) -> None:
    await one.agents.login("agent1", one.now)
    channel, unique_id = one.agent_channel("agent1")
    await one.emit(ev.Newchannel(channel=channel, unique_id=unique_id))
    assert not one.agents.available("agent1") and not one.router.is_available("agent1")
    await one.hangup(channel, unique_id)
    assert one.agents.available("agent1") and one.router.is_available("agent1")


async def test_a_paused_or_logged_out_agent_is_not_available(one: Center) -> None:
    assert not one.agents.available("agent1")
    await one.agents.login("agent1", one.now)
    await one.agents.pause("agent1", "break", one.now)
    assert not one.agents.available("agent1") and not one.router.is_available("agent1")


# -- the fallback queue ----------------------------------------------------------------------------
async def test_the_state_changes_even_when_the_fallback_queue_cannot_be_told(
    one: Center,
) -> None:
    one.pbx.unavailable.add("queue_add")
    await one.agents.login("agent1", one.now)
    assert one.state("agent1") == "ready"
    assert changes(one) == [("logged_out", "ready", "")]
    one.pbx.unavailable.clear()
    await one.agents.resync_fallback()  # on the next AMI login
    assert one.pbx.members[FALLBACK_QUEUE] == {
        "PJSIP/agent1": QueueMember("PJSIP/agent1", "agent1", False)
    }


async def test_resync_makes_the_fallback_queue_match_the_logged_in_agents(
    center: Center,
) -> None:
    center.configure([support()], {"agent1": {}, "agent2": {}, "agent3": {}, "agent4": {}})
    for agent in ("agent1", "agent2", "agent3"):
        await center.agents.login(agent, center.now)
    await center.agents.pause("agent2", "lunch", center.now)
    center.pbx.members[FALLBACK_QUEUE] = {
        # agent1 missing; agent2 not paused there; agent3 right; agent4 logged out; a stranger.
        "PJSIP/agent2": QueueMember("PJSIP/agent2", "agent2", False),
        "PJSIP/agent3": QueueMember("PJSIP/agent3", "agent3", False),
        "PJSIP/agent4": QueueMember("PJSIP/agent4", "agent4", False),
        "PJSIP/old": QueueMember("PJSIP/old", "old", True),
    }
    center.pbx.actions.clear()
    await center.agents.resync_fallback()
    assert sorted(fallback(center)) == sorted(
        [
            ("queue_add", FALLBACK_QUEUE, "PJSIP/agent1", "agent1", False),
            ("queue_pause", FALLBACK_QUEUE, "PJSIP/agent2", True, "lunch"),
            ("queue_remove", FALLBACK_QUEUE, "PJSIP/agent4"),
            ("queue_remove", FALLBACK_QUEUE, "PJSIP/old"),
        ]
    )
    assert {m.interface: m.paused for m in center.pbx.members[FALLBACK_QUEUE].values()} == {
        "PJSIP/agent1": False,
        "PJSIP/agent2": True,
        "PJSIP/agent3": False,
    }


# -- the directory ---------------------------------------------------------------------------------
async def test_loading_keeps_live_states_and_forgets_removed_agents(center: Center) -> None:
    stored = {"agent2": AgentStatus(AgentState.PAUSED, 5.0, reason="lunch")}
    center.agents.load({"agent1": {"sales": 2}, "agent2": {}}, stored, set(), center.now)
    assert center.state("agent2") == "paused"  # the last known state, from the database
    await center.agents.login("agent1", center.now)
    center.agents.load({"agent1": {"sales": 3}}, {}, set(), center.now)
    assert center.state("agent1") == "ready"
    with pytest.raises(AgentError):
        center.agents.status("agent2")


async def test_an_agent_removed_from_the_configuration_no_longer_staffs_a_queue(
    center: Center,
) -> None:
    billing = QueueSettings(
        name="billing", requirements={"billing": 1}, announce=Announce(on_entry=False, interval=0)
    )
    center.configure([billing], {"agent1": {"billing": 1}, "agent2": {"billing": 1}})
    center.configure([billing], {"agent1": {"billing": 1}})  # agent2 deactivated
    assert center.agents.skills == {"agent1": {"billing": 1}}
    # Nobody logged in: the caller is told so (unstaffed), not left to an error.
    decision = await center.enqueue(center.caller(), "billing")
    assert decision == Decision(Status.HANGUP, prompt="vm-nobodyavail")
