"""The console's desktop area: its pages and its /api routes.

(Scaffold: filled in by the desktop work.)
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import render_template

from callcenter.adapters.web.auth import requires

api = APIBlueprint("desktop_api", __name__, url_prefix="/api", tag="Desktop")
pages = APIBlueprint("desktop", __name__, enable_openapi=False)


@pages.get("/desktop")
@requires("agent", page=True)
def page() -> Any:
    return render_template("desktop.html")
