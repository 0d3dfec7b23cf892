"""``/docs``: Swagger UI over ``/openapi.json``, served from the ``swagger-ui-bundle``
package's own files (no CDN: the page works on a hospital network without internet)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

bp = Blueprint("docs", __name__, template_folder="templates")

ASSETS = Path(swagger_ui_path)
_SERVED = frozenset({"swagger-ui.css", "swagger-ui-bundle.js",
                     "swagger-ui-standalone-preset.js", "favicon-32x32.png"})


@bp.get("/docs")
def page() -> str:
    return render_template("docs.html")


@bp.get("/docs/assets/<name>")
def asset(name: str) -> Response:
    if name not in _SERVED:
        abort(404)
    response = send_from_directory(ASSETS, name, max_age=86400)
    return response


@bp.get("/docs/init.js")
def init_js() -> Response:
    """The initialiser as a file, not inline (a strict Content-Security-Policy allows it)."""
    script = ('window.onload = function () { window.ui = SwaggerUIBundle({url: "../openapi.json",'
              ' dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null,'
              ' presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],'
              ' layout: "StandaloneLayout"}); };\n')
    return Response(script, mimetype="text/javascript")
