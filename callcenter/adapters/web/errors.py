"""Errors every API route shares: unreadable JSON bodies, and their place in the OpenAPI document.

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


def install(app: APIFlask) -> None:
    app.request_class = JsonBodyRequest
    app.url_map.converters["int"] = RowId  # before the blueprints' routes are added

    @app.spec_processor
    def shared_errors(spec: dict[str, Any] | str) -> dict[str, Any] | str:
        return spec if isinstance(spec, str) else document_shared_errors(app, spec)
