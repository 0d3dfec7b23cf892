"""``GET /fhir/{PlanDefinition|ActivityDefinition|ValueSet}[/<id>]``: the knowledge as
FHIR R4 (searchset Bundles, and each resource by id). Open, like ``/openapi.json``: no
patient data. A resource is served as exactly the bytes ``export-fhir`` writes."""

from __future__ import annotations

import json

from flask import Blueprint, Response, request

from service import knowledge
from service.errors import ServiceError
from service.pages.render import site_rule_settings

bp = Blueprint("fhir", __name__)
FHIR_JSON = "application/fhir+json"


@bp.get("/fhir/<resource_type>")
def search(resource_type: str) -> Response:
    items = _all(resource_type)
    base = request.url_root + "fhir/"
    # the entries are the same bytes as the single reads: parsed back, not rebuilt
    bundle = knowledge.searchset(resource_type, [json.loads(b) for b in items.values()], base)
    return Response(knowledge.to_bytes(bundle), mimetype=FHIR_JSON)


@bp.get("/fhir/<resource_type>/<resource_id>")
def read(resource_type: str, resource_id: str) -> Response:
    body = _all(resource_type).get(resource_id)
    if body is None:
        raise ServiceError(404, f"{resource_type}/{resource_id} is not known to this service.")
    return Response(body, mimetype=FHIR_JSON)


def _all(resource_type: str) -> dict[str, bytes]:
    if resource_type not in knowledge.TYPES:
        raise ServiceError(404, f"Unknown resource type {resource_type!r}: this service "
                                f"publishes {', '.join(knowledge.TYPES)}.")
    return knowledge.serialised(resource_type, site_rule_settings())
