"""/api/outbound/preview: an agent of a preview campaign takes the next lead, then dials or skips.

Taking a lead (POST) holds the agent for it (no other call reaches them); GET
only reads the lead the agent holds, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from apiflask import APIBlueprint, abort
from pydantic import BaseModel

from callcenter.adapters.web.auth import acting_for, requires
from callcenter.adapters.web.services import services
from callcenter.core.outbound.records import LeadRecord
from callcenter.services.outbound.dialer import Dialer
from callcenter.services.outbound.dialer_model import Campaign

api = APIBlueprint("outbound_api", __name__, url_prefix="/api/outbound", tag="Outbound")

ANSWERS = {
    400: "Refused by a dialing rule (the message says which)",
    404: "No lead to show",
    409: "The agent is busy, or has no lead in preview",
}
T = TypeVar("T")


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


def _act(agent: str, action: Callable[[Dialer], Coroutine[Any, Any, T]]) -> T:
    """Run ``action`` on the dialer for ``agent`` (agents act for themselves only)."""
    acting_for(agent, "agents may only work their own previews")
    console = services()
    return console.bridge.run(action(console.dialer))


def _preview_out(found: tuple[Campaign, LeadRecord]) -> PreviewOut:
    campaign, lead = found
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


@api.get("/preview/<string:agent>")
@api.output(PreviewOut)
@api.doc(
    summary="The lead the agent holds in preview, if any (changes nothing)",
    responses={404: "The agent holds no lead"},
)
@requires("agent")
def shown(agent: str) -> PreviewOut:
    acting_for(agent, "agents may only work their own previews")
    console = services()
    found = console.bridge.call(lambda: console.dialer.shown(agent))
    if found is None:
        abort(404, f"{agent} holds no lead in preview")
    return _preview_out(found)


@api.post("/preview/<string:agent>")
@api.output(PreviewOut)
@api.doc(
    summary="Take the next lead (the next due one of the agent's preview campaigns); "
    "the agent is held for it",
    responses=ANSWERS,
)
@requires("agent")
def preview(agent: str) -> PreviewOut:
    return _preview_out(_act(agent, lambda dialer: dialer.preview(agent)))


@api.post("/preview/<string:agent>/dial")
@api.output(DialOut)
@api.doc(
    summary="Dial the lead in preview (checked again: do-not-call, hours) to the agent",
    responses=ANSWERS,
)
@requires("agent")
def dial(agent: str) -> DialOut:
    return DialOut(call_id=_act(agent, lambda dialer: dialer.dial_preview(agent)))


@api.post("/preview/<string:agent>/skip")
@api.output(DialOut, status_code=200)
@api.doc(summary="Put the lead back (due again) and free the agent", responses=ANSWERS)
@requires("agent")
def skip(agent: str) -> DialOut:
    _act(agent, lambda dialer: dialer.skip_preview(agent))
    return DialOut(call_id="")
