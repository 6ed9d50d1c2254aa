"""The console's wallboard: the big-screen page and GET /api/wallboard.

The page loads the whole picture from the API, then follows pushes on the
"wallboard" event topic (services/console/wallboard.py computes each picture once for
every open board). The figures' definitions shown on the page are read from
core/stats.py's docstring, the one place they are written.
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import render_template

from callcenter.adapters.web.auth import requires
from callcenter.adapters.web.definitions import definitions
from callcenter.adapters.web.services import services
from callcenter.services.console.wallboard_snapshot import WallboardOut

api = APIBlueprint("wallboard_api", __name__, url_prefix="/api", tag="Wallboard")
pages = APIBlueprint("wallboard", __name__, enable_openapi=False)


@pages.get("/wallboard")
@requires("supervisor", page=True)
def page() -> Any:
    return render_template("wallboard.html", definitions=definitions())


@api.get("/wallboard")
@api.output(WallboardOut)
@api.doc(
    summary="The live wallboard: queues' figures, agents' states, today's charts",
    description=(
        "The same picture the page shows and the 'wallboard' event topic pushes "
        "(pushes carry only the chart points from series.start on). Rates are 0-1, "
        "times in seconds, instants in epoch seconds. Supervisor role or a token."
    ),
)
@requires("supervisor")
def board() -> WallboardOut:
    console = services()
    return console.bridge.call(console.wallboard)
