"""The console's Flask (APIFlask) application: pages, JSON API, live events."""

from __future__ import annotations

from apiflask import APIFlask, abort
from flask import Response, request, stream_with_context

from callcenter.adapters.web import auth, docs_assets, errors, security
from callcenter.adapters.web.areas import (
    admin,
    agents,
    call_control,
    callbacks,
    calls,
    campaigns,
    desktop,
    dial_refusals,
    health,
    login,
    outbound,
    phone,
    quality,
    quality_forms,
    quality_reports,
    recordings,
    reports,
    staffing,
    supervisor,
    voicemail,
    wallboard,
)
from callcenter.adapters.web.auth import requester, requires
from callcenter.adapters.web.hub import HubFull
from callcenter.adapters.web.services import ConsoleServices
from callcenter.config import WebSettings

TOPICS = {"agents", "calls", "queues", "wallboard", "desktop"}
# Every area's pages and API (areas/), in the order the API document lists them.
BLUEPRINTS = (
    health.api,  # public: monitoring probes
    login.pages,
    agents.api,
    calls.api,
    outbound.api,  # preview dialing, from the desktop
    callbacks.api,  # booked from the desktop
    voicemail.api,  # messages left in the queues' boxes
    dial_refusals.api,  # numbers the dial policy refused
    wallboard.pages, wallboard.api,
    desktop.pages, desktop.api, call_control.api,
    phone.pages, phone.api,  # the desktop's browser phone
    supervisor.pages, supervisor.api,
    recordings.pages, recordings.api,
    reports.pages, reports.api, staffing.api, quality_reports.api,
    quality.pages, quality.api,  # QA scoring of recordings
    quality_forms.pages, quality_forms.api,  # ...and its forms
    admin.pages, admin.api,
    campaigns.pages, campaigns.api,
)  # fmt: skip


def create_app(
    console: ConsoleServices, secret_key: str, web: WebSettings | None = None
) -> APIFlask:
    web = web if web is not None else WebSettings()
    app = APIFlask(
        __name__,
        title="Call center API",
        version="1",
        docs_path="/api/docs",
        spec_path="/api/openapi.json",
    )
    app.config.update(
        SECRET_KEY=secret_key,
        MAX_CONTENT_LENGTH=1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.security_schemes = {
        "BearerAuth": {"type": "http", "scheme": "bearer"},
        "SessionCookie": {"type": "apiKey", "in": "cookie", "name": "session"},
    }
    app.extensions["callcenter"] = console
    limiter = security.install(app, web)
    auth.install(app, console.users)
    errors.install(app)
    docs_assets.install(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    security.throttle_logins(app, limiter, "pages.login")

    @app.get("/api/events")
    @app.doc(summary="Server-sent events: live changes (topics: agents, calls, queues, wallboard)")
    @requires("agent")
    def events() -> Response:
        who = requester()
        wanted = set(request.args.get("topics", "agents,calls,queues").split(",")) & TOPICS
        try:
            client = console.hub.connect(who.role, who.agent, wanted)
        except HubFull as exc:
            abort(503, str(exc), headers={"Retry-After": "30"})
        response = Response(
            stream_with_context(console.hub.stream(client)), mimetype="text/event-stream"
        )
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Accel-Buffering"] = "no"
        return response

    return app
