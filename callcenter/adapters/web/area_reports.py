"""The console's reports area: its pages and its /api routes.

(Scaffold: filled in by the reports work.)
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import render_template

from callcenter.adapters.web.auth import requires

api = APIBlueprint("reports_api", __name__, url_prefix="/api", tag="Reports")
pages = APIBlueprint("reports", __name__, enable_openapi=False)


@pages.get("/reports")
@requires("supervisor", page=True)
def page() -> Any:
    return render_template("reports.html")
