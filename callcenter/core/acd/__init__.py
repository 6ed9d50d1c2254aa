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
from callcenter.core.acd.waits import AgentNow, Doing, WaitEstimate, WaitHistory

__all__ = [
    "AgentLoad",
    "AgentNow",
    "AgentState",
    "AgentStatus",
    "Assignment",
    "Doing",
    "Event",
    "IllegalTransition",
    "QueueConfig",
    "RelaxStep",
    "Requirements",
    "Router",
    "Strategy",
    "WaitEstimate",
    "WaitHistory",
    "accuracy",
    "available",
    "estimate_wait",
    "load_for",
    "transition",
]
