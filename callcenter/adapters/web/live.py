"""Domain events as live messages for the console (topics and who they concern)."""

from __future__ import annotations

import dataclasses

from callcenter.adapters.web.hub import Hub
from callcenter.core import events as ev


def topic_of(event: ev.Event) -> str:
    if isinstance(event, ev.AgentStateChanged):
        return "agents"
    return "calls"


def publish_event(hub: Hub, event: ev.Event) -> None:
    payload = {"type": type(event).__name__, **dataclasses.asdict(event)}
    agent = getattr(event, "agent", None) or None
    hub.publish(topic_of(event), payload, agent=agent)
