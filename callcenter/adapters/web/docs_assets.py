"""The API docs page's scripts and styles, served by the console itself.

APIFlask's Swagger UI page loads its assets from a CDN by default; a console
on a closed network (and its Content-Security-Policy) allows nothing from
elsewhere. The assets come from the ``flask-swagger-ui`` package's copy of
Swagger UI 5 (the console's OpenAPI document is version 3.1, which Swagger UI
4 refuses to render); only the files the page uses are served.
"""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from apiflask import APIBlueprint, APIFlask, abort
from flask import Response, send_from_directory

FILES = (
    "swagger-ui.css",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "favicon-32x32.png",
)
PREFIX = "/api/docs/assets"
FOLDER = Path(flask_swagger_ui.__file__).parent / "dist"

assets = APIBlueprint("docs_assets", __name__, url_prefix=PREFIX, enable_openapi=False)


@assets.get("/<string:name>")
def asset(name: str) -> Response:
    if name not in FILES:
        abort(404, f"no docs asset {name!r}")
    return send_from_directory(FOLDER, name, max_age=86400)


def install(app: APIFlask) -> None:
    app.config.update(
        SWAGGER_UI_CSS=f"{PREFIX}/swagger-ui.css",
        SWAGGER_UI_BUNDLE_JS=f"{PREFIX}/swagger-ui-bundle.js",
        SWAGGER_UI_STANDALONE_PRESET_JS=f"{PREFIX}/swagger-ui-standalone-preset.js",
        DOCS_FAVICON=f"{PREFIX}/favicon-32x32.png",
    )
    app.register_blueprint(assets)
