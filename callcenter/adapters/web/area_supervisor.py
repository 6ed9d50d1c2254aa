"""The console's supervisor area: its pages and its /api routes.

(Scaffold: filled in by the supervisor work.)
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import render_template

from callcenter.adapters.web.auth import requires

api = APIBlueprint("supervisor_api", __name__, url_prefix="/api", tag="Supervisor")
pages = APIBlueprint("supervisor", __name__, enable_openapi=False)


@pages.get("/supervisor")
@requires("supervisor", page=True)
def page() -> Any:
    return render_template("supervisor.html")
