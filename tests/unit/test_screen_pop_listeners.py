"""A screen pop costs database reads: it is assembled only when a desktop would get it."""

from __future__ import annotations

import time
from typing import Any, cast

from callcenter.adapters.web.hub import Hub
from callcenter.core.events import CallOffered
from callcenter.services.console.desktop import Desktop


class Untouchable:
    """Anything the pop would need: touching it fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the screen pop was assembled ({name})")


def test_no_pop_is_assembled_when_no_desktop_listens() -> None:
    asked: list[tuple[str, str | None]] = []

    def listening(topic: str, agent: str | None) -> bool:
        asked.append((topic, agent))
        return False

    nothing = cast(Any, Untouchable())
    desktop = Desktop(
        nothing, nothing, nothing, nothing, nothing, nothing, time.time, listening=listening
    )
    offered = CallOffered(at=1.0, call_id="c1", unique_id="u1", queue="q", agent="ann", wait=2.0)
    assert desktop.on_call_offered(offered) is None
    assert asked == [("desktop", "ann")]


def test_the_hub_says_who_would_get_a_push() -> None:
    hub = Hub()
    assert not hub.wanted("desktop", "ann")
    client = hub.connect("agent", "ann", {"desktop"})
    assert hub.wanted("desktop", "ann")
    assert not hub.wanted("desktop", "bob")  # an agent gets only their own
    supervisor = hub.connect("supervisor", "", {"desktop", "queues"})
    assert hub.wanted("desktop", "bob")
    hub.disconnect(client)
    hub.disconnect(supervisor)
    assert not hub.wanted("desktop", "ann")
