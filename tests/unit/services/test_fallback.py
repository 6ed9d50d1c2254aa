"""The queues' plain twins (services/inbound/fallback.py, core/acd/fallback.py):
who is a member, paused or not, and in what order callers are served there."""

from __future__ import annotations

from callcenter.core.acd.fallback import fallback_queue, fallback_rank, line_member_agent
from callcenter.core.channels import endpoint_of
from callcenter.core.queues import Announce, QueueSettings
from callcenter.services.agents import FALLBACK_QUEUE
from callcenter.services.ports import QueueMember
from tests.fakes.center import Center


def queue(name: str, **requirements: int) -> QueueSettings:
    return QueueSettings(
        name=name, requirements=requirements, announce=Announce(on_entry=False, interval=0)
    )


def twin_members(center: Center, queue: str) -> dict[str, bool]:
    return {i: m.paused for i, m in center.pbx.members.get(fallback_queue(queue), {}).items()}


async def test_each_twin_has_the_logged_in_agents_who_could_take_its_calls(center: Center) -> None:
    center.configure(
        [queue("support", support=2), queue("sales", sales=1)],
        {"ann": {"support": 3}, "bob": {"support": 1, "sales": 2}},
    )
    await center.fallback.resync()
    assert twin_members(center, "support") == {} and twin_members(center, "sales") == {}
    await center.ready("ann")
    await center.ready("bob")
    await center.settle()
    assert twin_members(center, "support") == {"PJSIP/ann": False}  # bob's level is too low
    assert twin_members(center, "sales") == {"PJSIP/bob": False}
    await center.agents.pause("ann", "lunch", center.now)
    await center.settle()
    assert twin_members(center, "support") == {"PJSIP/ann": True}
    await center.agents.logout("ann", center.now)
    await center.settle()
    assert twin_members(center, "support") == {}


async def test_after_a_login_the_twins_are_made_to_match(center: Center) -> None:
    center.configure([queue("support", support=1)], {"ann": {"support": 1}})
    await center.ready("ann")
    await center.settle()
    # Asterisk restarted meanwhile: members gone, a stale one left by hand.
    center.pbx.members[fallback_queue("support")] = {
        "PJSIP/gone": QueueMember("PJSIP/gone", "gone", False)
    }
    await center.fallback.resync()
    assert twin_members(center, "support") == {"PJSIP/ann": False}


def test_ranks_serve_higher_priority_then_earlier_arrival_first() -> None:
    first, second = fallback_rank(0, 1_796_600_000.0), fallback_rank(0, 1_796_600_001.0)
    urgent_late = fallback_rank(5, 1_796_600_100.0)
    assert urgent_late > first > second  # Asterisk serves the highest QUEUE_PRIO first
    assert second > 0 and urgent_late < 2**31  # an int Asterisk takes
    assert fallback_rank(100, 0.0) < 2**31


async def test_an_always_connected_agent_is_a_member_through_their_line_not_their_phone(
    center: Center,
) -> None:
    # Ringing the phone would offer a second call to a phone busy with the line: the
    # member is the Local channel that bridges a caller to the waiting line.
    center.configure([queue("support", support=1)], {"ann": {"support": 1}, "bob": {}})
    center.nailed_agents.add("ann")
    await center.ready("ann", "bob")
    await center.settle()
    line = "Local/ann@cc-fallback-line/n"
    assert twin_members(center, "support") == {line: False}
    assert set(center.pbx.members[FALLBACK_QUEUE]) == {line, "PJSIP/bob"}
    await center.agents.pause("ann", "lunch", center.now)
    await center.settle()
    assert twin_members(center, "support") == {line: True}
    await center.fallback.resync()
    await center.agents.resync_fallback()
    assert twin_members(center, "support") == {line: True}
    assert set(center.pbx.members[FALLBACK_QUEUE]) == {line, "PJSIP/bob"}


def test_the_line_s_local_channels_are_the_agent_s() -> None:
    assert endpoint_of("Local/ann@cc-fallback-line-0000001a;1") == "ann"
    assert endpoint_of("Local/ann@cc-fallback-line-0000001a;2") == "ann"
    assert endpoint_of("Local/ann@elsewhere-0000001a;1") is None
    assert line_member_agent("PJSIP/ann-00000001") is None
