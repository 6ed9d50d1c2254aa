"""Call control for the agent on a call: hold, resume, blind transfer (to a queue or
an agent). Agents act on their own call; supervisors may pass ``agent``.

Views are thin: the CallControl service runs on the controller's loop through the
bridge; its errors (stable codes) are mapped to statuses in errors.py.
"""

from __future__ import annotations

import re
from typing import Literal

from apiflask import APIBlueprint, abort
from pydantic import BaseModel, Field

from callcenter.adapters.web.auth import acting_for, requester, requires
from callcenter.adapters.web.services import services
from callcenter.config import NAME_PATTERN
from callcenter.core.calls.live import LiveCall
from callcenter.services.inbound.call_control import NOTE_MAX, REASON_MAX
from callcenter.services.inbound.conference import ConferenceParties
from callcenter.services.inbound.consult import Consultations

api = APIBlueprint("call_control_api", __name__, url_prefix="/api/desktop", tag="Desktop")


class ActIn(BaseModel):
    # Blank: the user's own agent.
    agent: str = Field("", max_length=32, pattern=r"^$|^[a-z][a-z0-9_-]{1,31}$")


class TransferIn(ActIn):
    to: Literal["queue", "agent", "number"]
    # A queue or an agent (their name), or a phone number (checked by the dial policy).
    target: str = Field(min_length=1, max_length=40)
    reason: str = Field("", max_length=REASON_MAX)
    note: str = Field("", max_length=NOTE_MAX)


class CallControlOut(BaseModel):
    call_id: str
    on_hold: bool
    holds: int
    hold_seconds: float
    transfers: int
    queue: str
    agent: str  # who has the call now ("" while it waits in line)


ANSWERS = {
    400: "This user works as no agent and passed none",
    404: "No such agent or queue",
    409: "The agent is not talking with a caller, the call is (not) on hold, the target "
    "agent is not ready, or there is no outbound trunk",
    422: "Bad input, or the dial policy refuses the number",
    503: "Asterisk could not move the call",
}


def _agent(given: str) -> str:
    agent = given or requester().agent
    if not agent:
        abort(400, "this user works as no agent; pass agent")
    acting_for(agent, "agents may only act on their own call")
    return agent


def _out(call: LiveCall) -> CallControlOut:
    clock = services().clock
    return CallControlOut(
        call_id=call.call_id,
        on_hold=call.holds.on_hold,
        holds=call.holds.count,
        hold_seconds=round(call.holds.total(clock()), 3),
        transfers=call.transfers,
        queue=call.queue,
        agent=call.agent,
    )


@api.post("/hold")
@api.input(ActIn)
@api.output(CallControlOut)
@api.doc(
    summary="Put the caller on hold (they hear music; hold time is counted)", responses=ANSWERS
)
@requires("agent")
def hold(json_data: ActIn) -> CallControlOut:
    console = services()
    agent = _agent(json_data.agent)
    return _out(console.bridge.run(console.call_control.hold(agent)))


@api.post("/hangup")
@api.input(ActIn)
@api.output(CallControlOut)
@api.doc(
    summary="End the call: the caller is hung up",
    description="For an always-connected agent the phone's line stays up for the next "
    "caller (hanging up the phone itself drops the line and pauses the agent).",
    responses=ANSWERS,
)
@requires("agent")
def hangup(json_data: ActIn) -> CallControlOut:
    console = services()
    agent = _agent(json_data.agent)
    return _out(console.bridge.run(console.call_control.end(agent)))


@api.post("/resume")
@api.input(ActIn)
@api.output(CallControlOut)
@api.doc(summary="Take the caller off hold", responses=ANSWERS)
@requires("agent")
def resume(json_data: ActIn) -> CallControlOut:
    console = services()
    agent = _agent(json_data.agent)
    return _out(console.bridge.run(console.call_control.resume(agent)))


@api.post("/transfer")
@api.input(TransferIn)
@api.output(CallControlOut)
@api.doc(
    summary="Blind transfer: the caller to a queue's line, a ready agent or a phone number",
    description="The agent leaves the call and goes to wrap-up. A caller sent to a queue "
    "keeps their first arrival time for their place ([transfers] keep_arrival). A number "
    "must pass the dial policy (refusals are audited) and goes out over the first "
    "outbound trunk; the call is then complete for the call center.",
    responses=ANSWERS,
)
@requires("agent")
def transfer(json_data: TransferIn) -> CallControlOut:
    console = services()
    agent = _agent(json_data.agent)
    control = console.call_control
    if json_data.to != "number" and not re.fullmatch(NAME_PATTERN, json_data.target):
        abort(422, f"target: not a {json_data.to} name", extra_data={"code": "bad-target"})
    if json_data.to == "number":
        action = control.to_number(agent, json_data.target, json_data.reason)
    elif json_data.to == "queue":
        action = control.to_queue(agent, json_data.target, json_data.reason, json_data.note)
    else:
        action = control.to_agent(agent, json_data.target, json_data.reason, json_data.note)
    return _out(console.bridge.run(action))


# -- consultation transfer (services/inbound/consult.py) ------------------------------------
class ConsultIn(ActIn):
    # Another agent (the default), a queue (its first free agent) or a phone number
    # (the dial policy applies; complete then hands the caller to it).
    to: Literal["agent", "queue", "number"] = "agent"
    target: str = Field(min_length=1, max_length=40)


class CompleteIn(ActIn):
    reason: str = Field("", max_length=REASON_MAX)


class ConsultOut(BaseModel):
    call_id: str
    target: str
    on_hold: bool


def _consults() -> Consultations:
    consults = services().consults
    if consults is None:
        abort(503, "consultation is not available")
    return consults


@api.post("/consult")
@api.input(ConsultIn)
@api.output(ConsultOut)
@api.doc(
    summary="Consultation: hold the caller and call another agent, a queue or a number",
    description="The caller hears music on hold; the target's phone rings and, once "
    "answered, the agent talks with them. Then complete, cancel or conference. A queue: "
    "its first free agent (longest idle, skills meeting the queue's needs). A number: "
    "the dial policy first (422 when it refuses), then the outbound trunk; completing "
    "hands the caller to it and the call is complete for the call center.",
    responses={
        **ANSWERS,
        409: "No call, the target is not ready, no outbound trunk, or already consulting",
    },
)
@requires("agent")
def consult(json_data: ConsultIn) -> ConsultOut:
    console = services()
    agent = _agent(json_data.agent)
    consults = _consults()
    if json_data.to != "number" and not re.fullmatch(NAME_PATTERN, json_data.target):
        abort(422, f"target: not a {json_data.to} name", extra_data={"code": "bad-target"})
    if json_data.to == "number":
        action = consults.start_number(agent, json_data.target)
    elif json_data.to == "queue":
        action = consults.start_queue(agent, json_data.target)
    else:
        action = consults.start(agent, json_data.target)
    started = console.bridge.run(action)
    return ConsultOut(call_id=started.call_id, target=started.target, on_hold=True)


@api.post("/consult/complete")
@api.input(CompleteIn)
@api.output(CallControlOut)
@api.doc(
    summary="Complete the consultation: the caller goes on with the target, the agent leaves",
    description="The agent's segment ends with reason consult-complete; the agent goes to "
    "wrap-up; the target's screen pop says who transferred.",
    responses={**ANSWERS, 409: "No consultation, or the target has not answered yet"},
)
@requires("agent")
def consult_complete(json_data: CompleteIn) -> CallControlOut:
    console = services()
    agent = _agent(json_data.agent)
    return _out(console.bridge.run(_consults().complete(agent, json_data.reason)))


@api.post("/consult/cancel")
@api.input(ActIn)
@api.output(CallControlOut)
@api.doc(
    summary="Cancel the consultation: the target's leg is hung up, the caller is back",
    responses={**ANSWERS, 409: "No consultation in progress"},
)
@requires("agent")
def consult_cancel(json_data: ActIn) -> CallControlOut:
    console = services()
    agent = _agent(json_data.agent)
    return _out(console.bridge.run(_consults().cancel(agent)))


@api.post("/consult/conference")
@api.input(ActIn)
@api.output(CallControlOut)
@api.doc(
    summary="Turn the consultation into a three-way conference (the caller, agent, target)",
    description="All three talk in one conference (ConfBridge); the caller's hold ends. "
    "The agent may then leave it (conference/leave): the caller and the target go on.",
    responses={**ANSWERS, 409: "No consultation, already a conference, or not answered"},
)
@requires("agent")
def consult_conference(json_data: ActIn) -> CallControlOut:
    console = services()
    agent = _agent(json_data.agent)
    return _out(console.bridge.run(_consults().conference(agent)))


@api.post("/conference/leave")
@api.input(CompleteIn)
@api.output(CallControlOut)
@api.doc(
    summary="The agent leaves the three-way conference: the caller and the target go on",
    description="The agent's segment ends with reason conference-left; the target has "
    "the call from then on (their segment begins).",
    responses={**ANSWERS, 409: "No conference in progress"},
)
@requires("agent")
def conference_leave(json_data: CompleteIn) -> CallControlOut:
    console = services()
    agent = _agent(json_data.agent)
    consults = _consults()
    found = console.bridge.run(_conference_of(consults, agent))
    if not found:
        abort(409, "no conference in progress", extra_data={"code": "no-conference"})
    return _out(console.bridge.run(consults.complete(agent, json_data.reason)))


async def _conference_of(consults: Consultations, agent: str) -> bool:
    consult = consults.of(agent)
    return consult is not None and consult.conference


class PartyIn(ActIn):
    to: Literal["agent", "number"]
    target: str = Field(min_length=1, max_length=40)  # an agent's name or a phone number


class RemoveIn(ActIn):
    party: str = Field(min_length=1, max_length=40)  # as listed: a name or an E.164 number


class ConferenceOut(BaseModel):
    call_id: str
    agent: str
    target: str  # the consultation's target, in the conference from its start
    parties: list[str]  # added since, in order
    maximum: int  # parties in all at most, the caller counted


def _parties() -> ConferenceParties:
    conference = services().conference
    if conference is None:
        abort(503, "conferences are not available")
    return conference


async def _conference_out(conference: ConferenceParties, agent: str) -> ConferenceOut:
    consult = conference.consults.of(agent)
    if consult is None or not consult.conference:
        abort(409, "no conference in progress", extra_data={"code": "no-conference"})
    return ConferenceOut(
        call_id=consult.call_id, agent=consult.agent, target=consult.target,
        parties=[p.name for p in consult.parties], maximum=conference.maximum,
    )  # fmt: skip


@api.post("/conference/add")
@api.input(PartyIn)
@api.output(ConferenceOut)
@api.doc(
    summary="Add a party to the conference: another agent, or a number (dial policy)",
    description="The agent's phone rings into the conference (an always-connected agent's "
    "line joins it without a ring); a number goes out over the trunk once the dial policy "
    "allowed it. At most [transfers] conference_max parties, the caller counted.",
    responses={
        **ANSWERS,
        409: "No conference, the conference is full, the agent is not ready, or no trunk",
    },
)
@requires("agent")
def conference_add(json_data: PartyIn) -> ConferenceOut:
    console = services()
    agent = _agent(json_data.agent)
    conference = _parties()
    if json_data.to == "agent" and not re.fullmatch(NAME_PATTERN, json_data.target):
        abort(422, "target: not an agent name", extra_data={"code": "bad-target"})
    console.bridge.run(conference.add(agent, json_data.to, json_data.target))
    return console.bridge.run(_conference_out(conference, agent))


@api.post("/conference/remove")
@api.input(RemoveIn)
@api.output(ConferenceOut)
@api.doc(
    summary="Remove an added party from the conference (their leg is hung up)",
    description="An agent party's part of the call ends as a segment (conference-party).",
    responses={**ANSWERS, 404: "No such party", 409: "No conference in progress"},
)
@requires("agent")
def conference_remove(json_data: RemoveIn) -> ConferenceOut:
    console = services()
    agent = _agent(json_data.agent)
    conference = _parties()
    console.bridge.run(conference.remove(agent, json_data.party))
    return console.bridge.run(_conference_out(conference, agent))
