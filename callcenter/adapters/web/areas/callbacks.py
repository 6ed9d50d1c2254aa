"""/api/callbacks: book a callback at a time (an agent from the desktop), list and cancel them.

The number is read as a phone number (E.164, or national in the queue's
callback region) and vetted by the dial policy (services/dial_guard.py: a
refused number is a 422 naming the reason, too many bookings a 429); the time
must come with its UTC offset, so a booking means one instant whatever the
browser's zone.

Agents see the callbacks they booked and those of the queues they take calls
of; supervisors see all. A booking copies what the caller told the IVR only
from a call the agent is on (supervisors: any call).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from apiflask import APIBlueprint, abort
from flask import request
from pydantic import BaseModel, Field, field_validator

from callcenter.adapters.web.auth import Principal, requester, requires
from callcenter.adapters.web.services import services
from callcenter.services.callbacks.places import CallbackError

api = APIBlueprint("callbacks_api", __name__, url_prefix="/api/callbacks", tag="Callbacks")

STATUSES = ("", "pending", "dialing", "done", "failed", "dnc", "cancelled")


class BookIn(BaseModel):
    queue: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    number: str = Field(min_length=3, max_length=40)
    at: datetime = Field(description="When to call, ISO 8601 with its UTC offset")
    call_id: str = Field("", pattern=r"^[0-9a-f]{0,32}$", description="The call it follows up")
    notes: str = Field("", max_length=500)

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("the time needs its UTC offset, e.g. 2026-11-24T15:30:00+01:00")
        return value


class CallbackOut(BaseModel):
    id: int
    kind: str
    queue: str
    number: str
    due_at: float
    status: str
    attempts: int
    max_attempts: int
    last_outcome: str
    booked_by: str
    origin_call_id: str
    notes: str


class CallbackList(BaseModel):
    callbacks: list[CallbackOut]


def _out(callback: Any) -> CallbackOut:
    return CallbackOut.model_validate(callback.as_dict())


@api.post("")
@api.input(BookIn)
@api.output(CallbackOut, status_code=201)
@api.doc(
    summary="Book a callback at a time",
    description="The call center calls the number at that time, when an agent of the queue "
    "is free, within the number's calling hours and never if it is on the do-not-call list.",
    responses={
        404: "No such queue",
        422: "Bad number, bad time, a do-not-call number, or a number the dial policy "
        "refuses (code: country, number-type, international-network, non-geographic)",
        429: "Too many callbacks booked in the last hour (code: rate-limit, hourly-cap)",
    },
)
@requires("agent")
def book(json_data: BookIn) -> CallbackOut:
    console = services()
    queue = console.queues.get(json_data.queue)
    if queue is None:
        raise CallbackError("unknown-queue", f"no queue {json_data.queue!r}")
    who = requester()
    data = _call_data(json_data.call_id, who)
    callback = console.bridge.run(
        console.callbacks.book(
            json_data.queue,
            json_data.number,
            json_data.at.timestamp(),
            console.clock(),
            booked_by=who.agent or who.name,
            origin=("agent", who.agent) if who.agent else ("user", who.name),
            where="api",
            origin_call_id=json_data.call_id,
            data=data,
            notes=json_data.notes,
        )
    )
    return _out(callback)


def _call_data(call_id: str, who: Principal) -> dict[str, str]:
    """What the caller told the IVR on the call being followed up, for the next screen pop:
    an agent's own call only."""
    if not call_id:
        return {}
    desktop = services().desktop
    facts = services().bridge.call(lambda: desktop.live_facts(call_id))
    if facts is None:
        return {}
    if not who.at_least("supervisor") and (not who.agent or facts.agent != who.agent):
        abort(403, f"call {call_id} is not yours: its details stay with it")
    return dict(facts.data)


def _mine(who: Principal) -> tuple[str, list[str]] | None:
    """What an agent may see: (booked by them, their queues); None: everything."""
    if who.at_least("supervisor"):
        return None
    console = services()
    queues = console.bridge.call(
        lambda: console.queues.served_by(console.agents.skills.get(who.agent, {}))
    )
    return (who.agent or who.name, queues if who.agent else [])


@api.get("")
@api.output(CallbackList)
@api.doc(summary="Recent callbacks, newest first (?status=pending to filter)")
@requires("agent")
def recent() -> CallbackList:
    status = request.args.get("status", "")
    if status not in STATUSES:
        abort(400, f"status must be one of {', '.join(s for s in STATUSES if s)}")
    rows = services().callbacks.recent(status, 200, _mine(requester()))
    return CallbackList(callbacks=[_out(row) for row in rows])


@api.delete("/<int:callback_id>")
@api.output(CallbackOut)
@api.doc(
    summary="Cancel a pending callback", responses={404: "No such callback", 409: "Not pending"}
)
@requires("supervisor")
def cancel(callback_id: int) -> CallbackOut:
    console = services()
    return _out(console.bridge.run(console.callbacks.cancel(callback_id)))
