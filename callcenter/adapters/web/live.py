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
    """To the console clients it concerns; nothing is built when none would get it
    (most events, most of the time: turning each into JSON was a share of the
    controller's CPU per call)."""
    topic, agent = topic_of(event), getattr(event, "agent", None) or None
    if not hub.wanted(topic, agent):
        return
    payload = {"type": type(event).__name__, **dataclasses.asdict(event)}
    hub.publish(topic, payload, agent=agent)
