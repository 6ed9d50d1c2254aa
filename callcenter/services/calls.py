"""What happened to each call, as the controller saw it (latest calls in memory).

The FastAGI route opens a trace when a call enters; AMI events fill in what
the dialplan does afterwards (dialling the agent, hang-ups), since a channel
that hangs up never returns to the route.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from callcenter.adapters.ami import events as ev
from callcenter.adapters.ami.client import AmiClient


@dataclass(slots=True)
class CallTrace:
    call_id: str
    unique_id: str
    channel: str
    caller: str
    started: float = field(default_factory=time.time)
    choice: str = ""
    target: str = ""
    dial_status: str = ""
    ended: float | None = None
    hangup_cause: str = ""
    events: list[str] = field(default_factory=list)


class CallLog:
    def __init__(self, ami: AmiClient, keep: int = 1000) -> None:
        self.ami = ami
        self.keep = keep
        self.traces: dict[str, CallTrace] = {}
        self._by_unique_id: dict[str, CallTrace] = {}

    def subscribe(self) -> None:
        self.ami.subscribe(ev.DialEnd, self._on_dial_end)
        self.ami.subscribe(ev.Hangup, self._on_hangup)

    def open(self, call_id: str, unique_id: str, channel: str, caller: str) -> CallTrace:
        trace = CallTrace(call_id, unique_id, channel, caller)
        self.traces[call_id] = trace
        self._by_unique_id[unique_id] = trace
        while len(self.traces) > self.keep:
            old = self.traces.pop(next(iter(self.traces)))
            self._by_unique_id.pop(old.unique_id, None)
        return trace

    def _on_dial_end(self, event: ev.DialEnd) -> None:
        trace = self._by_unique_id.get(event.unique_id)
        if trace is not None:
            trace.dial_status = event.dial_status
            trace.events.append(f"dial {event.dial_status}")

    def _on_hangup(self, event: ev.Hangup) -> None:
        trace = self._by_unique_id.get(event.unique_id)
        if trace is not None:
            trace.ended = time.time()
            trace.hangup_cause = event.cause_txt
            trace.events.append(f"hangup {event.cause_txt}")
