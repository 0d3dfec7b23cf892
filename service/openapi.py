"""The OpenAPI 3 document of the API, generated from the same marshmallow schemas that
validate requests and responses (so it cannot drift from what the service enforces).

Each service gets its own path (``/cds-services/back-pain-patient-view`` ...) so that its
operation shows its hook's context and its prefetch keys exactly.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, Response

from service.feedback import FeedbackRequestSchema, OverrideReasonSchema
from service.jsonbody import JSON_MEDIA_TYPES, json_response
from service.schemas import CdsResponseSchema, DiscoverySchema
from service.schemas.common import ReceivedCodingSchema
from service.services import SERVICES

bp = Blueprint("openapi", __name__)

OPERATION_OUTCOME: dict[str, Any] = {
    "type": "object",
    "description": "FHIR R4 OperationOutcome: the body of every non-2xx answer.",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
        "issue": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"type": "string",
                                 "enum": ["fatal", "error", "warning", "information"]},
                    "code": {"type": "string"},
                    "diagnostics": {"type": "string"},
                },
            },
        },
    },
}
_ERRORS = {
    "400": "Malformed body, wrong types, or a hook this service does not answer.",
    "401": "Missing or invalid JWT.",
    "412": "Required prefetch data missing and not obtainable from fhirServer.",
    "413": "Body larger than BACKPAIN_CDS_MAX_BODY_BYTES.",
    "415": "Body not declared as JSON (application/json or application/fhir+json, UTF-8).",
}


_FEEDBACK_ERRORS = {
    "400": "Malformed feedback, or an entry inconsistent with the spec or with the card.",
    "401": _ERRORS["401"],
    "404": "Unknown service, or a card this service never issued to this client: "
           "nothing stored.",
    "413": _ERRORS["413"],
    "415": _ERRORS["415"],
    "503": "The database is unavailable; nothing stored. Retry after Retry-After seconds.",
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/"
                                                                 "OperationOutcome"}}}}


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.0 document (built once per process)."""
    try:
        release = version("backpain-cds")
    except PackageNotFoundError:
        release = "0"
    spec = APISpec(
        title="backpain-cds", version=release, openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "CDS Hooks 2.0.1 service: red flags, imaging and EMG/NCS "
                             "appropriateness for back pain with leg symptoms."},
    )
    spec.components.security_scheme("cdsHooksJwt", {"type": "http", "scheme": "bearer",
                                                    "bearerFormat": "JWT"})
    spec.components.schema("OperationOutcome", OPERATION_OUTCOME)
    spec.components.schema("Discovery", schema=DiscoverySchema)
    spec.components.schema("CdsResponse", schema=CdsResponseSchema)
    spec.path("/cds-services", operations={"get": {
        "summary": "Discovery: the CDS services offered",
        "operationId": "discovery",
        "security": [{"cdsHooksJwt": []}],
        "responses": {
            "200": {"description": "The services",
                    "content": {"application/json": {"schema": "Discovery"}}},
            "401": _error(_ERRORS["401"]),
        },
    }})
    for service in SERVICES.values():
        schema_name = service.request_schema.__name__
        spec.components.schema(schema_name, schema=service.request_schema)
        spec.path(f"/cds-services/{service.id}", operations={"post": {
            "summary": service.title,
            "description": service.description,
            "operationId": service.id,
            "security": [{"cdsHooksJwt": []}],
            "requestBody": {"required": True, "content": {
                media: {"schema": schema_name} for media in sorted(JSON_MEDIA_TYPES)
            }},
            "responses": {
                "200": {"description": "Cards (possibly none)",
                        "content": {"application/json": {"schema": "CdsResponse"}}},
                **{status: _error(text) for status, text in _ERRORS.items()},
            },
        }})
    _feedback_path(spec)
    return spec.to_dict()


def _feedback_path(spec: APISpec) -> None:
    """``POST /cds-services/{id}/feedback``: one templated path (the operation is the same
    for every service); ``id`` lists our services, any other id answers 404."""
    # named apart from the card schemas' Coding / OverrideReason (which send, not receive)
    spec.components.schema("FeedbackCoding", schema=ReceivedCodingSchema)
    spec.components.schema("FeedbackOverrideReason", schema=OverrideReasonSchema)
    spec.components.schema("FeedbackRequest", schema=FeedbackRequestSchema)
    spec.path("/cds-services/{id}/feedback", operations={"post": {
        "summary": "Feedback: what the clinician did with the cards",
        "operationId": "feedback",
        "security": [{"cdsHooksJwt": []}],
        "parameters": [{"name": "id", "in": "path", "required": True,
                        "description": "The CDS service that issued the cards.",
                        "schema": {"type": "string", "enum": sorted(SERVICES)}}],
        "requestBody": {"required": True, "content": {
            media: {"schema": "FeedbackRequest"} for media in sorted(JSON_MEDIA_TYPES)
        }},
        "responses": {
            "200": {"description": "Every entry stored (or already stored)",
                    "content": {"application/json": {"schema": {
                        "type": "object", "maxProperties": 0}}}},
            **{status: _error(text) for status, text in _FEEDBACK_ERRORS.items()},
        },
    }})


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return json_response(openapi_document())


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
