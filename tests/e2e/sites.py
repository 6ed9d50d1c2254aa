"""Site definitions the end-to-end tests load (the same format as `callcenter site load`)."""

from __future__ import annotations

from typing import Any


def menu_flow(
    choices: dict[str, str],
    nodes: dict[str, Any],
    *,
    prompt: str = "beep",
    timeout: float = 4.0,
    retries: int = 1,
) -> dict[str, Any]:
    """A one-menu flow: a beep, then a key picks a node; no key or a wrong one: goodbye."""
    return {
        "name": "main",
        "start": "welcome",
        "provided_keys": ["dnis"],
        "nodes": {
            "welcome": {
                "type": "menu",
                "prompts": [prompt],
                "timeout": timeout,
                "retries": retries,
                "invalid_prompt": "beep",
                "noinput_prompt": "beep",
                "choices": choices,
                "on_fail": "bye",
            },
            "bye": {"type": "hangup", "reason": "no-choice"},
            **nodes,
        },
    }


def queue_node(
    queue: str, priority: int = 0, skills: dict[str, int] | None = None
) -> dict[str, Any]:
    return {"type": "queue", "queue": queue, "priority": priority, "skills": skills or {}}


def quiet_queue(name: str, **settings: Any) -> dict[str, Any]:
    """A queue without announcements (tests time their calls precisely)."""
    return {"name": name, "announce": {"on_entry": False, "interval": 0}, **settings}


def one_queue_site(*agents: str, queue: dict[str, Any] | None = None) -> dict[str, Any]:
    """Agents with skill `support` 3, one queue needing it, and a menu: any of 1-9 joins it."""
    return {
        "agents": [
            {
                "username": name,
                "name": name.title(),
                "extension": str(1001 + i),
                "skills": {"support": 3},
            }
            for i, name in enumerate(agents)
        ],
        "queues": [queue or quiet_queue("support", requirements={"support": 1})],
        "flows": {
            "main": {
                "document": menu_flow(
                    {str(d): "support" for d in range(1, 10)}, {"support": queue_node("support")}
                )
            }
        },
    }


def direct_queue_site(*agents: str, queue: dict[str, Any] | None = None) -> dict[str, Any]:
    """Agents with skill `support` 3 and a flow that puts every caller straight in the
    support queue (no menu: a caller waits from the moment Asterisk answers)."""
    site = one_queue_site(*agents, queue=queue)
    site["flows"] = {
        "main": {
            "document": {
                "name": "main",
                "start": "support",
                "nodes": {"support": {"type": "queue", "queue": "support"}},
            }
        }
    }
    return site


def agent(username: str, extension: int, **skills: int) -> dict[str, Any]:
    return {
        "username": username,
        "name": username.title(),
        "extension": str(extension),
        "skills": skills,
    }


def site(
    agents: list[dict[str, Any]],
    queues: list[dict[str, Any]],
    choices: dict[str, str],
    nodes: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    """Agents, queues and a one-menu flow (see menu_flow)."""
    return {
        "agents": agents,
        "queues": queues,
        "flows": {"main": {"document": menu_flow(choices, nodes)}},
        **extra,
    }
