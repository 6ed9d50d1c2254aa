"""The queues' plain twins (services/inbound/fallback.py, core/acd/fallback.py):
who is a member, paused or not, and in what order callers are served there."""

from __future__ import annotations

from callcenter.core.acd.fallback import fallback_queue, fallback_rank
from callcenter.core.queues import Announce, QueueSettings
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
