"""The skills-based ACD core: agent states, routing decisions, wait estimates.

Pure code: no I/O, no asyncio, no clock. Every function takes ``now`` (seconds)
and returns decisions the services carry out.
"""

from callcenter.core.acd.agent_state import (
    AgentStatus,
    Event,
    IllegalTransition,
    available,
    transition,
)
from callcenter.core.acd.estimate import (
    AgentLoad,
    HandleTimes,
    accuracy,
    estimate_wait,
    load_for,
)
from callcenter.core.acd.model import (
    AgentState,
    QueueConfig,
    RelaxStep,
    Requirements,
    Strategy,
)
from callcenter.core.acd.router import Assignment, Router

__all__ = [
    "AgentLoad",
    "AgentState",
    "AgentStatus",
    "Assignment",
    "Event",
    "HandleTimes",
    "IllegalTransition",
    "QueueConfig",
    "RelaxStep",
    "Requirements",
    "Router",
    "Strategy",
    "accuracy",
    "available",
    "estimate_wait",
    "load_for",
    "transition",
]
