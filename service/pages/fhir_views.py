"""``GET /fhir/{PlanDefinition|ActivityDefinition|ValueSet}[/<id>]``: the knowledge as
FHIR R4 (searchset Bundles, and each resource by id). Open, like ``/openapi.json``: no
patient data. A resource is served as exactly the bytes ``export-fhir`` writes."""

from __future__ import annotations

import json
from functools import lru_cache

from flask import Blueprint, Response, request

from cds_rules import RuleSettings
from service import knowledge
from service.errors import ServiceError
from service.pages.render import site_rule_settings

bp = Blueprint("fhir", __name__)
FHIR_JSON = "application/fhir+json"


SEARCH_PARAMS = ("_id", "url", "version")


@bp.get("/fhir/metadata")
def metadata() -> Response:
    """The CapabilityStatement: what a FHIR client may ask of this knowledge server."""
    statement = knowledge.capability_statement(request.url_root + "fhir", SEARCH_PARAMS)
    return Response(knowledge.to_bytes(statement), mimetype=FHIR_JSON)


@bp.get("/fhir/<resource_type>")
def search(resource_type: str) -> Response:
    """All resources of a type, or those matching ``_id``, ``url`` (a canonical, with an
    optional ``|version``) and ``version``: how a client resolves a canonical reference."""
    items = _all(resource_type)  # 404 for an unknown type
    base = request.url_root + "fhir/"
    wanted = {k: v for k, v in request.args.items() if k in SEARCH_PARAMS}
    if not wanted:
        body = _searchset(resource_type, base, site_rule_settings(), knowledge.site_code_key())
        return Response(body, mimetype=FHIR_JSON)
    matching = [r for r in (json.loads(b) for b in items.values()) if _matches(r, wanted)]
    bundle = knowledge.searchset(resource_type, matching, base)
    bundle["link"][0]["url"] = request.url
    return Response(knowledge.to_bytes(bundle), mimetype=FHIR_JSON)


def _matches(resource: dict[str, object], wanted: dict[str, str]) -> bool:
    url, _, pinned = wanted.get("url", "").partition("|")
    version = pinned or wanted.get("version")
    return ((not wanted.get("_id") or resource.get("id") == wanted["_id"])
            and (not url or resource.get("url") == url)
            and (not version or resource.get("version") == version))


@lru_cache(maxsize=32)
def _searchset(resource_type: str, base: str, site: RuleSettings,
               _codes: tuple[tuple[str, str, str], ...]) -> bytes:
    """The searchset, built once per type, base URL, site thresholds and site codes; its
    entries are the single reads' bytes parsed back, not rebuilt."""
    items = knowledge.serialised(resource_type, site)
    bundle = knowledge.searchset(resource_type, [json.loads(b) for b in items.values()], base)
    return knowledge.to_bytes(bundle)


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
