"""The console's wallboard area: its pages and its /api routes.

(Scaffold: filled in by the wallboard work.)
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import render_template

from callcenter.adapters.web.auth import requires

api = APIBlueprint("wallboard_api", __name__, url_prefix="/api", tag="Wallboard")
pages = APIBlueprint("wallboard", __name__, enable_openapi=False)


@pages.get("/wallboard")
@requires("supervisor", page=True)
def page() -> Any:
    return render_template("wallboard.html")
