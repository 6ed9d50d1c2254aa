"""The contract with the dialplan: every channel and global variable shared
between the controller and ``dialplan/*.conf``, and every status value.

A test checks that each ``CC_*`` name the dialplan uses is declared here.
"""

from __future__ import annotations

from enum import StrEnum


class Var(StrEnum):
    # Set by every FastAGI route before it ends; the dialplan branches on it.
    STATUS = "CC_STATUS"
    # Our id for the call, set on entry and carried to the agent leg.
    CALL_ID = "CC_CALL_ID"
    # The agent endpoint a caller is connected to (controller-chosen, validated).
    TARGET = "CC_TARGET"
    # Seconds the agent's phone rings before the call returns to the queue.
    RING_TIMEOUT = "CC_RING_TIMEOUT"
    # Caller ID as the controller vetted it (digits and + only).
    CALLER = "CC_CALLER"
    # The digit(s) the caller chose in the IVR.
    CHOICE = "CC_CHOICE"
    # Why a route ended in FAIL, for the logs.
    REASON = "CC_REASON"


class Global(StrEnum):
    """Dialplan [globals] the controller renders or keeps up to date."""

    AGI_URL = "CC_AGI"  # agi://127.0.0.1:4573
    FALLBACK_QUEUE = "CC_FALLBACK_QUEUE"
    HEARTBEAT = "CC_HEARTBEAT"  # epoch seconds, refreshed by the controller


class Status(StrEnum):
    """Values of CC_STATUS; the dialplan has a branch for each."""

    CONNECT = "CONNECT"  # dial CC_TARGET
    HANGUP = "HANGUP"  # the call is over (caller gone, or IVR said goodbye)
    FALLBACK = "FALLBACK"  # send the caller to the plain Asterisk queue
    FAIL = "FAIL"  # the route broke; the dialplan takes its safe path


# Every route and the dialplan extension that invokes it.
class Route(StrEnum):
    INBOUND = "inbound"
    DIAL_RESULT = "dial-result"
