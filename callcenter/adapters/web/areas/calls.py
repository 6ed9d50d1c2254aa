"""/api/calls: calls in progress, and pausing a call's recording (card payments)."""

from __future__ import annotations

from apiflask import APIBlueprint, abort
from pydantic import BaseModel

from callcenter.adapters.web.auth import acting_for, requester, requires
from callcenter.adapters.web.services import services

api = APIBlueprint("calls_api", __name__, url_prefix="/api/calls", tag="Calls")


class LiveCallOut(BaseModel):
    call_id: str
    state: str
    caller: str
    caller_name: str
    queue: str
    priority: int
    agent: str
    entered_at: float
    enqueued_at: float | None
    answered_at: float | None
    wait: float
    data: dict[str, str]
    recording_paused: bool


class LiveCallList(BaseModel):
    calls: list[LiveCallOut]


class RecordingChange(BaseModel):
    paused: bool


def _calls() -> list[LiveCallOut]:
    console = services()
    now = console.clock()
    return [
        LiveCallOut(
            call_id=c.call_id,
            state=c.state.value,
            caller=c.caller,
            caller_name=c.caller_name,
            queue=c.queue,
            priority=c.priority,
            agent=c.agent,
            entered_at=c.entered_at,
            enqueued_at=c.enqueued_at,
            answered_at=c.answered_at,
            wait=c.wait(now),
            data=dict(c.data),
            recording_paused=c.muted_since is not None,
        )
        for c in console.calls.all()
    ]


@api.get("")
@api.output(LiveCallList)
@api.doc(summary="Calls in progress (agents see only their own)")
@requires("agent")
def list_calls() -> LiveCallList:
    who = requester()
    calls = services().bridge.call(_calls)
    if not who.at_least("supervisor"):
        calls = [c for c in calls if c.agent == who.agent]
    return LiveCallList(calls=calls)


@api.post("/<string:call_id>/recording")
@api.input(RecordingChange)
@api.output(LiveCallOut)
@api.doc(
    summary="Pause or resume a call's recording (e.g. while a card number is read)",
    responses={409: "The call is not in conversation"},
)
@requires("agent")
def pause_recording(call_id: str, json_data: RecordingChange) -> LiveCallOut:
    console = services()
    calls = {c.call_id: c for c in console.bridge.call(_calls)}
    call = calls.get(call_id)
    if call is None:
        abort(404, f"no call {call_id!r} in progress")
    acting_for(call.agent, "only the agent on the call, or a supervisor")
    console.bridge.run(console.recordings.mute(call_id, json_data.paused, console.clock()))
    return {c.call_id: c for c in console.bridge.call(_calls)}[call_id]
