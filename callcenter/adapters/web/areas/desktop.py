"""The agent desktop: its page, the screen pop and wrap-up API, and the CRM settings.

Views are thin: every read or change of live state runs on the controller's
loop through the bridge (the Desktop service does its database reads in a
worker thread from there). Domain errors carry stable codes, mapped to HTTP
statuses here.
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, abort
from flask import make_response, render_template, request
from pydantic import BaseModel, Field, ValidationError

from callcenter.adapters.web.areas.phone import connect_source
from callcenter.adapters.web.auth import acting_for, requester, requires
from callcenter.adapters.web.security import policy
from callcenter.adapters.web.services import services
from callcenter.services.console.desktop import NOTES_MAX, Desk, Desktop, WrapUp
from callcenter.services.console.desktop_pop import ScreenPop
from callcenter.services.console.desktop_settings import (
    DesktopSettings,
    Disposition,
    merge_webhooks,
)
from callcenter.services.inbound.call_control import NOTE_MAX, REASON_MAX

api = APIBlueprint("desktop_api", __name__, url_prefix="/api/desktop", tag="Desktop")
pages = APIBlueprint("desktop", __name__, enable_openapi=False)


class WrapUpIn(BaseModel):
    disposition: str = Field(min_length=1, max_length=32)
    notes: str = Field("", max_length=NOTES_MAX)


class WebhookIn(BaseModel):
    url: str = Field(max_length=500)
    # Blank: keep the secret this URL already has (secrets are never shown back).
    secret: str = Field("", max_length=200)


class CrmIn(BaseModel):
    screen_pop_url: str = Field("", max_length=500)
    webhooks: list[WebhookIn] = Field(default_factory=list, max_length=10)


class SettingsIn(BaseModel):
    pause_reasons: list[str] = Field(min_length=1, max_length=30)
    dispositions: list[Disposition] = Field(min_length=1, max_length=100)
    crm: CrmIn = CrmIn()


class WebhookOut(BaseModel):
    url: str
    has_secret: bool


class CrmOut(BaseModel):
    screen_pop_url: str
    webhooks: list[WebhookOut]


class SettingsOut(BaseModel):
    pause_reasons: list[str]
    dispositions: list[Disposition]
    crm: CrmOut


def _desktop() -> Desktop:
    return services().desktop


# -- the page -----------------------------------------------------------------------
@pages.get("/desktop")
@requires("agent", page=True)
def page() -> Any:
    settings = services().desktop_settings.current
    agent = requester().agent
    webphone = connect_source(agent)  # the browser phone's WebSocket, if this agent has one
    response = make_response(
        render_template(
            "desktop.html",
            agent=agent,
            pause_reasons=settings.pause_reasons,
            dispositions=settings.dispositions,
            notes_max=NOTES_MAX,
            webphone=bool(webphone),
            queue_names=sorted(services().queue_names()),
            phone_codes=services().phone_codes,
            reason_max=REASON_MAX,
            note_max=NOTE_MAX,
        )
    )
    if webphone:
        response.headers["Content-Security-Policy"] = policy(webphone)
    return response


# -- screen pop and wrap-up -----------------------------------------------------------
@api.get("/current")
@api.output(Desk)
@api.doc(
    summary="An agent's state and screen pop (the call ringing, on, or waiting for wrap-up)",
    description="Agents read their own desktop; supervisors may pass ?agent=NAME.",
    responses={400: "This user works as no agent and passed no ?agent=", 404: "No such agent"},
)
@requires("agent")
def current() -> Desk:
    who = requester()
    agent = request.args.get("agent") or who.agent
    if not agent:
        abort(400, "this user works as no agent; pass ?agent=NAME")
    acting_for(agent, "agents may only see their own desktop")
    return services().bridge.run(_desktop().desk(agent))


@api.get("/calls/<string:call_id>")
@api.output(ScreenPop)
@api.doc(summary="One call's screen pop (its agent, or a supervisor)")
@requires("agent")
def call_pop(call_id: str) -> ScreenPop:
    return services().bridge.run(_desktop().pop(call_id, requester()))


@api.post("/calls/<string:call_id>/wrapup")
@api.input(WrapUpIn)
@api.output(WrapUp)
@api.doc(
    summary="Save a call's disposition and notes; ends the agent's wrap-up early",
    description="Only the agent who handled the call, or a supervisor.",
)
@requires("agent")
def wrap_up(call_id: str, json_data: WrapUpIn) -> WrapUp:
    console = services()
    saved = console.bridge.run(
        console.desktop.wrap_up(call_id, requester(), json_data.disposition, json_data.notes)
    )
    # Read-your-writes: the call records are written by a thread of their own,
    # and the page reloads its snapshot from them right after saving.
    console.flush_records(5.0)
    return saved


# -- settings ----------------------------------------------------------------------
def _settings_out(settings: DesktopSettings) -> SettingsOut:
    return SettingsOut(
        pause_reasons=list(settings.pause_reasons),
        dispositions=list(settings.dispositions),
        crm=CrmOut(
            screen_pop_url=settings.crm.screen_pop_url,
            webhooks=[
                WebhookOut(url=h.url, has_secret=bool(h.secret)) for h in settings.crm.webhooks
            ],
        ),
    )


@api.get("/settings")
@api.output(SettingsOut)
@api.doc(summary="Pause reasons, disposition codes and CRM hooks (webhook secrets are hidden)")
@requires("admin")
def get_settings() -> SettingsOut:
    return _settings_out(services().desktop_settings.current)


@api.put("/settings")
@api.input(SettingsIn)
@api.output(SettingsOut)
@api.doc(
    summary="Replace pause reasons, disposition codes and CRM hooks",
    description="A webhook sent with a blank secret keeps the secret its URL already has.",
)
@requires("admin")
def put_settings(json_data: SettingsIn) -> SettingsOut:
    store = services().desktop_settings
    document = json_data.model_dump()
    document["crm"]["webhooks"] = merge_webhooks(
        document["crm"]["webhooks"], store.current.crm.webhooks
    )
    try:
        settings = DesktopSettings.model_validate(document)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors(include_url=False)
        ]
        abort(422, "; ".join(problems), extra_data={"code": "invalid-settings"})
    return _settings_out(store.save(settings))
