"""The console's recordings area: its pages and its /api routes.

(Scaffold: filled in by the recordings work.)
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import render_template

from callcenter.adapters.web.auth import requires

api = APIBlueprint("recordings_api", __name__, url_prefix="/api", tag="Recordings")
pages = APIBlueprint("recordings", __name__, enable_openapi=False)


@pages.get("/recordings")
@requires("supervisor", page=True)
def page() -> Any:
    return render_template("recordings.html")
