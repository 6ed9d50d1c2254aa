"""IVR menus as data: a validated flow document and a pure stepping engine.

``load_flow`` turns a parsed TOML/JSON document into a Flow (or a FlowError
listing every problem); an ``IvrSession`` steps one call through it.
"""

from callcenter.core.ivr.engine import MAX_STEPS, IvrSession
from callcenter.core.ivr.errors import FlowError, Problem, ProtocolError
from callcenter.core.ivr.events import (
    ANSWERS,
    Action,
    CallerHungUp,
    Collect,
    Digits,
    Done,
    Enqueue,
    Fetch,
    FetchResult,
    Hangup,
    Lookup,
    LookupResult,
    NoInput,
    Play,
    Result,
    Say,
    Verify,
    VerifyResult,
    Voicemail,
)
from callcenter.core.ivr.flow import Flow
from callcenter.core.ivr.schema import load_flow

__all__ = [
    "ANSWERS",
    "MAX_STEPS",
    "Action",
    "CallerHungUp",
    "Collect",
    "Digits",
    "Done",
    "Enqueue",
    "Fetch",
    "FetchResult",
    "Flow",
    "FlowError",
    "Hangup",
    "IvrSession",
    "Lookup",
    "LookupResult",
    "NoInput",
    "Play",
    "Problem",
    "ProtocolError",
    "Result",
    "Say",
    "Verify",
    "VerifyResult",
    "Voicemail",
    "load_flow",
]
