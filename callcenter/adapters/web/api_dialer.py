"""/api/outbound/preview: an agent of a preview campaign sees the next lead, then dials or skips.

While a lead is shown, the agent is held for it (no other call reaches them).
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, abort
from pydantic import BaseModel

from callcenter.adapters.web.auth import principal, requires
from callcenter.adapters.web.context import web
from callcenter.services.dialer import DialerError

api = APIBlueprint("outbound", __name__, url_prefix="/api/outbound", tag="Outbound")

STATUS = {"agent-busy": 409, "no-lead": 404, "no-preview": 409, "not-dialled": 409}


class PreviewOut(BaseModel):
    campaign: str
    lead_id: int
    phone: str
    first_name: str
    last_name: str
    account: str
    timezone: str
    attempts: int
    data: dict[str, Any]


class DialOut(BaseModel):
    call_id: str


def _agent(agent: str) -> None:
    who = principal()
    assert who is not None
    if not who.may_act_for(agent):
        abort(403, "agents may only work their own previews")


def _fail(exc: DialerError) -> None:
    abort(STATUS.get(exc.code, 400), str(exc), extra_data={"code": exc.code})


@api.get("/preview/<string:agent>")
@api.output(PreviewOut)
@api.doc(
    summary="The lead shown to the agent (the next due one of their preview campaigns)",
    responses={
        400: "Refused by a dialing rule (the message says which)",
        404: "No lead to show",
        409: "The agent is busy, or has no lead in preview",
    },
)
@requires("agent")
def preview(agent: str) -> PreviewOut:
    _agent(agent)
    context = web()
    try:
        campaign, lead = context.bridge.run(context.controller.dialer.preview(agent))
    except DialerError as exc:
        _fail(exc)
    return PreviewOut(
        campaign=campaign.name,
        lead_id=lead.id,
        phone=lead.phone,
        first_name=lead.first_name,
        last_name=lead.last_name,
        account=lead.account,
        timezone=lead.timezone,
        attempts=lead.attempts,
        data=lead.data,
    )


@api.post("/preview/<string:agent>/dial")
@api.output(DialOut)
@api.doc(
    summary="Dial the lead in preview (checked again: do-not-call, hours) to the agent",
    responses={
        400: "Refused by a dialing rule (the message says which)",
        404: "No lead to show",
        409: "The agent is busy, or has no lead in preview",
    },
)
@requires("agent")
def dial(agent: str) -> DialOut:
    _agent(agent)
    context = web()
    try:
        call_id = context.bridge.run(context.controller.dialer.dial_preview(agent))
    except DialerError as exc:
        _fail(exc)
    return DialOut(call_id=call_id)


@api.post("/preview/<string:agent>/skip")
@api.output(DialOut, status_code=200)
@api.doc(
    summary="Put the lead back (due again) and free the agent",
    responses={
        400: "Refused by a dialing rule (the message says which)",
        404: "No lead to show",
        409: "The agent is busy, or has no lead in preview",
    },
)
@requires("agent")
def skip(agent: str) -> DialOut:
    _agent(agent)
    context = web()
    try:
        context.bridge.run(context.controller.dialer.skip_preview(agent))
    except DialerError as exc:
        _fail(exc)
    return DialOut(call_id="")
