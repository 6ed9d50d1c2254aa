"""Errors as HTTP answers: the services' refusals, unreadable JSON bodies, the OpenAPI document.

Services refuse with errors that carry a stable ``code`` and know nothing of
HTTP. ``STATUS`` is the one table of the status each answers with; views let
those errors through and the handlers registered by ``install`` answer them,
in the shape of every other API error (message, detail) plus the code and,
where the error has them, its problems or the spy session it concerns.

A body that is not JSON gets a 400 that says so (Flask's own answer is a bare
"Bad Request"). The document lists, for every operation, the answers the
console's own layers can give besides the route's: 401/403 where ``requires``
guards it, 400 where it takes a body (not JSON, or a session's CSRF token
missing). Statuses a route's own logic gives (404, 409...) its ``@api.doc`` lists.
An id in a URL too large for the database's integers matches no route (404).
"""

from __future__ import annotations

import re
from typing import Any

from apiflask import APIFlask, HTTPError
from flask import Request
from werkzeug.routing import IntegerConverter, Map

from callcenter.adapters.web.auth import access_of
from callcenter.core.quality import QualityError
from callcenter.core.voicemail import VoicemailError
from callcenter.services.agents import AgentError
from callcenter.services.callbacks.places import CallbackError
from callcenter.services.console.admin import AdminError
from callcenter.services.console.desktop import DesktopError
from callcenter.services.console.reports import ReportInputError
from callcenter.services.console.retention import RetentionError
from callcenter.services.console.supervision import SpyError
from callcenter.services.inbound.call_control import CallControlError
from callcenter.services.inbound.recording import RecordingError
from callcenter.services.outbound.campaigns import CampaignError
from callcenter.services.outbound.dialer import DialerError

# Each service error's status by its code; "*" answers the codes not listed.
STATUS: dict[type[Exception], dict[str, int]] = {
    AgentError: {"unknown-agent": 404, "illegal-transition": 409, "*": 400},
    DesktopError: {
        "unknown-agent": 404, "unknown-call": 404, "not-yours": 403,
        "unknown-disposition": 422, "notes-too-long": 422, "*": 400,
    },
    CallControlError: {
        "unknown-agent": 404, "unknown-queue": 404, "no-call": 409, "on-hold": 409,
        "not-on-hold": 409, "agent-busy": 409, "pbx": 503, "same-agent": 422,
        "reason-too-long": 422, "note-too-long": 422, "refused": 422, "no-trunk": 409,
        "consulting": 409, "no-consult": 409, "not-answered": 409,
        "in-conference": 409, "no-conference": 409, "conference-full": 409,
        "parties-present": 409, "no-party": 404, "bad-target": 422, "bad-code": 422, "*": 400,
    },
    RecordingError: {"not-talking": 409, "bad-path": 404, "*": 400},
    DialerError: {"no-lead": 404, "agent-busy": 409, "no-preview": 409, "not-dialled": 409,
                  "*": 400},
    CallbackError: {
        "unknown-queue": 404, "unknown-callback": 404, "not-pending": 409, "not-waiting": 409,
        "bad-time": 422, "bad-number": 422, "dnc": 422, "storage": 503, "*": 400,
        # The dial policy's reasons (core/dial_policy.py).
        "country": 422, "number-type": 422, "international-network": 422,
        "non-geographic": 422, "rate-limit": 429, "hourly-cap": 429,
    },
    SpyError: {
        "no-phone": 400, "self": 400, "unknown-phone": 400,
        "unknown-agent": 404, "unknown-session": 404,
        "busy": 409, "phone-busy": 409, "phone-offline": 409, "not-on-call": 409,
        "uncertain": 502, "pbx-unavailable": 503, "*": 400,
    },
    RetentionError: {"bad-settings": 422, "running": 409, "*": 400},
    CampaignError: {"not-found": 404, "exists": 409, "busy": 409, "invalid": 422, "*": 400},
    AdminError: {"unknown": 404, "exists": 409, "conflict": 409, "invalid": 422, "*": 422},
    ReportInputError: {"*": 422},  # a query field at fault: answered as a validation error
    VoicemailError: {"not-found": 404, "taken": 409, "handled": 409, "no-number": 409, "*": 400},
    QualityError: {"not-found": 404, "not-yours": 404, "retired": 409, "evaluated": 409,
                   "acknowledged": 409, "conflict": 409, "self": 403, "invalid": 422, "*": 400},
}  # fmt: skip

ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPError"}}}
SHARED = {
    400: "The body is not JSON, or (with a session) the CSRF token is missing",
    401: "Not logged in, or an unknown or revoked token",
    403: "The role (or the agent) may not do this",
}
CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


# Ids are INTEGER columns: 32 bits on PostgreSQL; a larger one must not reach the driver.
LARGEST_ID = 2**31 - 1


class RowId(IntegerConverter):
    def __init__(self, url_map: Map, fixed_digits: int = 0, min: int | None = None) -> None:
        super().__init__(url_map, fixed_digits, min, LARGEST_ID)


class JsonBodyRequest(Request):
    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if not self.get_data(cache=True):
            raise HTTPError(400, "this request needs a JSON body (Content-Type: application/json)")
        raise HTTPError(400, f"the body is not valid JSON: {e}")


def _add(operation: dict[str, Any], status: int) -> None:
    responses = operation.setdefault("responses", {})
    responses.setdefault(str(status), {"description": SHARED[status], "content": ERROR})


def document_shared_errors(app: APIFlask, spec: dict[str, Any]) -> dict[str, Any]:
    for rule in app.url_map.iter_rules():
        path = spec.get("paths", {}).get(CONVERTER.sub(r"{\1}", rule.rule))
        if path is None:
            continue
        guarded = access_of(app.view_functions[rule.endpoint]) is not None
        for method in rule.methods or ():
            operation = path.get(method.lower())
            if operation is None:
                continue
            if guarded:
                _add(operation, 401)
                _add(operation, 403)
            if "requestBody" in operation:
                _add(operation, 400)
    return spec


def refusal(exc: Exception) -> HTTPError:
    """The HTTP answer to a service's error (``STATUS``)."""
    statuses = next(found for kind, found in STATUS.items() if isinstance(exc, kind))
    code: str = getattr(exc, "code", "")
    status = statuses.get(code, statuses["*"])
    if isinstance(exc, ReportInputError):
        return HTTPError(status, "Validation error", detail={"query": {exc.field: [exc.message]}})
    message = str(exc)
    extra: dict[str, Any] = {"code": code}
    if isinstance(exc, AdminError):
        # One problem per line: a schedule's checks come back as lines of one problem.
        lines = [line for problem in exc.problems for line in problem.splitlines() if line]
        message, extra["problems"] = "; ".join(lines), lines
    elif isinstance(exc, CampaignError | QualityError):
        extra["problems"] = exc.problems
    elif isinstance(exc, SpyError) and exc.session is not None:
        extra["session"] = exc.session.as_dict()
    return HTTPError(status, message, extra_data=extra)


def install(app: APIFlask) -> None:
    app.request_class = JsonBodyRequest

    def refused(exc: Exception) -> Any:
        return app.error_callback(refusal(exc))

    for kind in STATUS:
        app.register_error_handler(kind, refused)
    app.url_map.converters["int"] = RowId  # before the blueprints' routes are added

    @app.spec_processor
    def shared_errors(spec: dict[str, Any] | str) -> dict[str, Any] | str:
        return spec if isinstance(spec, str) else document_shared_errors(app, spec)
