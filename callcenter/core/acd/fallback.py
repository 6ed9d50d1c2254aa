"""Asterisk's plain queues that take callers when the controller cannot (pure).

Each of our queues has a plain twin, ``cc-fallback-<queue>``, with the queue's
own wrap-up time; its members are the logged-in agents who could take the
queue's calls. A caller whose queue is not known yet (the IVR never ran) goes
to ``cc-fallback`` itself, which every logged-in agent serves.

An always-connected agent's phone is on their line (cc-nailed) already: ringing it
would offer a second call to a phone that is busy with the line. Their member is
``Local/<agent>@cc-fallback-line/n`` instead, which bridges the caller to the waiting
line as cc-connect does (no ring), and counts as busy while the line is not waiting.

Callers keep their order there: the controller tags each caller with a rank
(Asterisk's QUEUE_PRIO, higher first) made from their priority and the time
they joined our line, so the plain queue serves them in the order our ACD
would, whenever each notices the controller's silence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

FALLBACK_QUEUE = "cc-fallback"
# Ranks must fit Asterisk's int: priority (0-100) weighs 2e7, the arrival second
# the rest. Arrival counts in a window of 2e7 s (231 days): only callers waiting
# across the window's turn can be misordered, once in 231 days.
_WINDOW = 20_000_000


def fallback_queue(queue: str) -> str:
    """The plain queue standing in for ``queue``."""
    return f"{FALLBACK_QUEUE}-{queue}" if queue else FALLBACK_QUEUE


LINE_CONTEXT = "cc-fallback-line"  # dialplan/fallback.conf
_LINE_CHANNEL = re.compile(
    rf"^Local/(?P<agent>[a-z][a-z0-9_-]{{1,31}})@{LINE_CONTEXT}-[0-9a-f]+;[12]$"
)


def member_interface(agent: str, nailed: bool) -> str:
    """The agent's member interface in the plain queues: their phone, or (always
    connected) the Local channel that bridges a caller to their line."""
    return f"Local/{agent}@{LINE_CONTEXT}/n" if nailed else f"PJSIP/{agent}"


def line_member_agent(channel: str) -> str | None:
    """``Local/ann@cc-fallback-line-0000001a;1`` -> ``ann``: the agent a fallback
    queue put a caller through to on their line; None for other channels."""
    match = _LINE_CHANNEL.fullmatch(channel)
    return match.group("agent") if match else None


def fallback_rank(priority: int, enqueued_at: float) -> int:
    """Asterisk's QUEUE_PRIO for a caller: higher priority first, then earlier arrival."""
    priority = min(max(priority, 0), 100)
    return priority * _WINDOW + (_WINDOW - 1 - int(enqueued_at) % _WINDOW)


def eligible(skills: Mapping[str, int], needs: Mapping[str, int]) -> bool:
    """Whether an agent with ``skills`` meets a queue's most relaxed requirements."""
    return all(skills.get(skill, 0) >= level for skill, level in needs.items())


def wrapup_seconds(wrapup: float) -> int:
    return max(0, math.ceil(wrapup))
