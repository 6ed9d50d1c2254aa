"""The console's admin area: its pages and its /api routes.

(Scaffold: filled in by the admin work.)
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import render_template

from callcenter.adapters.web.auth import requires

api = APIBlueprint("admin_api", __name__, url_prefix="/api", tag="Admin")
pages = APIBlueprint("admin", __name__, enable_openapi=False)


@pages.get("/admin")
@requires("admin", page=True)
def page() -> Any:
    return render_template("admin.html")
