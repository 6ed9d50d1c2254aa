"""The console's supervisor area: every agent and their call; listen, whisper, barge.

A supervisor spies from their own phone: their console user's ``agent``
field names a PJSIP endpoint (an agent account of its own, with a softphone
registered to it). The controller calls that phone, which then runs ChanSpy
on the agent's call. Agents' states are forced through /api/agents/<a>/state.
"""

from __future__ import annotations

from typing import Any, Literal

from apiflask import APIBlueprint, abort
from flask import render_template
from pydantic import BaseModel, Field

from callcenter.adapters.web.areas.agents import AgentSeen, seen
from callcenter.adapters.web.auth import requester, requires
from callcenter.adapters.web.days import day_start, site_zone, today
from callcenter.adapters.web.services import services
from callcenter.config import NAME_PATTERN
from callcenter.core.calls.live import LiveCall
from callcenter.core.calls.state import CallState
from callcenter.services.console.supervision import SpyError, SpyMode, SpySession

api = APIBlueprint("supervisor_api", __name__, url_prefix="/api/supervisor", tag="Supervisor")
pages = APIBlueprint("supervisor", __name__, enable_openapi=False)


class CallNow(BaseModel):
    call_id: str
    state: str
    caller: str
    caller_name: str
    queue: str
    since: float | None  # answered (talking) or offered (ringing)


class BoardAgent(AgentSeen):
    on_phone: bool  # any channel on the agent's phone (a call the controller did not route too)
    call: CallNow | None


class SpyOut(BaseModel):
    id: str
    supervisor: str
    phone: str
    agent: str
    mode: str
    call_id: str
    state: str
    started_at: float
    answered_at: float | None
    ended_at: float | None
    reason: str


class BoardOut(BaseModel):
    now: float
    phone: str  # this user's phone for listening ("" if none)
    agents: list[BoardAgent]
    spy: list[SpyOut]


class SpyIn(BaseModel):
    agent: str = Field(pattern=NAME_PATTERN)
    mode: Literal["listen", "whisper", "barge"]


class SpyList(BaseModel):
    sessions: list[SpyOut]


class AgentCallOut(BaseModel):
    call_id: str
    entered_at: float
    answered_at: float | None
    ended_at: float | None
    caller: str
    caller_name: str
    queue: str
    outcome: str
    wait: float | None
    talk: float | None
    disposition: str
    recording_id: int | None


class AgentCallsOut(BaseModel):
    agent: str
    day: str
    calls: list[AgentCallOut]


def _spy_out(session: SpySession) -> SpyOut:
    return SpyOut.model_validate(session.as_dict())


def _call_now(call: LiveCall | None) -> CallNow | None:
    if call is None:
        return None
    return CallNow(
        call_id=call.call_id,
        state=call.state.value,
        caller=call.caller,
        caller_name=call.caller_name,
        queue=call.queue,
        since=call.answered_at or call.offered_at,
    )


def _board(phone: str) -> BoardOut:
    """Read on the controller's loop: agents, their calls and open spy sessions."""
    console = services()
    calls = {c.agent: c for c in console.calls.in_state(CallState.RINGING, CallState.TALKING)}
    board = [
        BoardAgent(
            **seen(name, status),
            on_phone=bool(console.phones.on_endpoint(name)),
            call=_call_now(calls.get(name)),
        )
        for name, status in sorted(console.agents.statuses.items())
    ]
    sessions = [_spy_out(s) for s in console.supervision.sessions()]
    return BoardOut(now=services().clock(), phone=phone, agents=board, spy=sessions)


# -- the page -----------------------------------------------------------------------------
@pages.get("/supervisor")
@requires("supervisor", page=True)
def page() -> Any:
    who = requester()
    # The administrator's pause reasons, the same an agent's phone picks from (*2N).
    reasons = list(services().desktop_settings.current.pause_reasons)
    return render_template("supervisor.html", reasons=reasons, phone=who.agent)


# -- agents and their calls -----------------------------------------------------------------
@api.get("/agents")
@api.output(BoardOut)
@api.doc(summary="Every agent with state, reason, time in state and the call they are on")
@requires("supervisor")
def board() -> BoardOut:
    who = requester()
    return services().bridge.call(lambda: _board(who.agent))


@api.get("/agents/<string:agent>/calls")
@api.output(AgentCallsOut)
@api.doc(summary="An agent's calls today (site time), newest first")
@requires("supervisor")
def agent_calls(agent: str) -> AgentCallsOut:
    console = services()
    if console.directory.get(agent) is None:
        abort(404, f"no agent {agent!r}")
    zone = site_zone()
    day = today(zone)
    calls = console.recording_archive.agent_calls(agent, day_start(day, zone))
    return AgentCallsOut(
        agent=agent,
        day=day.isoformat(),
        calls=[
            AgentCallOut(
                call_id=c.call_id,
                entered_at=c.entered_at,
                answered_at=c.answered_at,
                ended_at=c.ended_at,
                caller=c.caller_number,
                caller_name=c.caller_name,
                queue=c.queue,
                outcome=c.outcome,
                wait=c.wait_seconds,
                talk=c.talk_seconds,
                disposition=c.disposition,
                recording_id=c.recording_id,
            )
            for c in calls
        ],
    )


# -- listen, whisper, barge -------------------------------------------------------------------
@api.post("/spy")
@api.input(SpyIn)
@api.output(SpyOut, status_code=202)
@api.doc(
    summary="Ring your own phone; once answered it listens, whispers or barges in",
    responses={
        404: "No such agent",
        409: "The agent is not on a call, or a phone is busy or offline",
        502: "Asterisk did not confirm the call (it may still ring)",
        503: "Asterisk is not connected",
    },
)
@requires("supervisor")
def start_spy(json_data: SpyIn) -> SpyOut:
    who = requester()
    console = services()
    supervision = console.supervision
    mode = SpyMode(json_data.mode)
    try:
        session = console.bridge.run(
            supervision.start(who.name, who.agent, json_data.agent, mode, console.clock())
        )
    except SpyError as exc:
        if exc.session is not None and exc.code == "uncertain":
            _audit_spy(who.name, exc.session)  # it may ring: the attempt is on record
        raise
    _audit_spy(who.name, session)
    return _spy_out(session)


def _audit_spy(actor: str, session: SpySession) -> None:
    services().users.audit(
        actor, "spy.started", f"agent:{session.agent}", mode=session.mode, session=session.id
    )


@api.get("/spy")
@api.output(SpyList)
@api.doc(summary="Spy sessions: open ones and the latest ended")
@requires("supervisor")
def list_spy() -> SpyList:
    supervision = services().supervision
    return SpyList(
        sessions=services().bridge.call(lambda: [_spy_out(s) for s in supervision.sessions()])
    )


@api.delete("/spy/<string:session_id>")
@api.output(SpyOut, status_code=202)
@api.doc(
    summary="Hang up the supervisor's phone of a spy session",
    responses={502: "Asterisk did not confirm the hangup", 503: "Asterisk is not connected"},
)
@requires("supervisor")
def stop_spy(session_id: str) -> SpyOut:
    console = services()
    return _spy_out(console.bridge.run(console.supervision.stop(session_id)))
