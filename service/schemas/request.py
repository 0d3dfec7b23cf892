"""What an EHR sends to ``POST /cds-services/{id}`` (CDS Hooks 2.0.1, hook library 1.0.1).

One request schema per service (:func:`request_schema`), so that each service's OpenAPI
operation shows exactly its hook's context and its own prefetch keys. Unknown fields are
ignored everywhere (spec extensibility); the types of the fields we use are checked.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate, validates_schema

from service.schemas.common import (
    FhirResource,
    Tolerant,
    fhir_id,
    non_empty,
    relative_reference,
)


class FhirAuthorizationSchema(Tolerant):
    """The OAuth 2.0 bearer token the service may use on ``fhirServer``."""

    access_token = fields.String(required=True, validate=non_empty)
    token_type = fields.String(required=True, validate=validate.Equal("Bearer"))
    expires_in = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    scope = fields.String(required=True, validate=non_empty)
    subject = fields.String(required=True, validate=non_empty)
    patient = fields.String(validate=fhir_id)


class BundleEntrySchema(Schema):
    class Meta:
        unknown = INCLUDE

    resource = FhirResource(required=True)


class DraftOrdersSchema(Schema):
    """``context.draftOrders``: a FHIR Bundle of the unsigned orders (kept whole)."""

    class Meta:
        unknown = INCLUDE

    resourceType = fields.String(required=True, validate=validate.Equal("Bundle"))
    entry = fields.List(fields.Nested(BundleEntrySchema))


class PatientViewContextSchema(Tolerant):
    userId = fields.String(required=True, validate=relative_reference)
    patientId = fields.String(required=True, validate=fhir_id)
    encounterId = fields.String(validate=fhir_id)


class EncounterStartContextSchema(PatientViewContextSchema):
    encounterId = fields.String(required=True, validate=fhir_id)


class OrderSignContextSchema(PatientViewContextSchema):
    draftOrders = fields.Nested(DraftOrdersSchema, required=True)


class OrderSelectContextSchema(OrderSignContextSchema):
    selections = fields.List(
        fields.String(validate=relative_reference), required=True, validate=non_empty
    )

    @validates_schema
    def selections_are_drafts(self, data: dict[str, Any], **_: Any) -> None:
        """Every selection must name an order in draftOrders (hook library 1.0.1)."""
        drafts = draft_order_ids(data.get("draftOrders"))
        unknown = [s for s in data.get("selections", ()) if s not in drafts]
        if unknown:
            raise ValidationError(
                f"{len(unknown)} selection(s) not found in draftOrders.", "selections"
            )


def draft_order_ids(bundle: Any) -> set[str]:
    """``Type/id`` of every resource in a draftOrders Bundle."""
    ids: set[str] = set()
    if not isinstance(bundle, dict):
        return ids
    for entry in bundle.get("entry") or ():
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and isinstance(resource.get("id"), str):
            ids.add(f"{resource.get('resourceType')}/{resource['id']}")
    return ids


CONTEXT_SCHEMAS: dict[str, type[Schema]] = {
    "patient-view": PatientViewContextSchema,
    "encounter-start": EncounterStartContextSchema,
    "order-select": OrderSelectContextSchema,
    "order-sign": OrderSignContextSchema,
}


class HookRequestBase(Tolerant):
    """Fields common to every hook call; subclasses fix the hook, context and prefetch."""

    expected_hook: str = ""

    hookInstance = fields.UUID(required=True)
    fhirServer = fields.Url(schemes={"http", "https"}, require_tld=False)
    fhirAuthorization = fields.Nested(FhirAuthorizationSchema)
    extension = fields.Dict(keys=fields.String())

    @validates_schema
    def server_with_token(self, data: dict[str, Any], **_: Any) -> None:
        if "fhirAuthorization" in data and "fhirServer" not in data:
            raise ValidationError("fhirServer is required when fhirAuthorization is present.",
                                  "fhirServer")


def request_schema(service_id: str, hook: str, prefetch_keys: Iterable[str]) -> type[Schema]:
    """The request schema of one service: its hook, its context and its prefetch keys.

    A declared prefetch key may be absent (not prefetched), ``null`` (no data) or a FHIR
    resource (a Bundle for searches); undeclared keys are ignored.
    """
    stem = "".join(part.title() for part in service_id.split("-"))
    prefetch = type(
        f"{stem}Prefetch", (Tolerant,),
        {key: FhirResource(allow_none=True) for key in prefetch_keys},
    )
    attrs: dict[str, Any] = {
        "expected_hook": hook,
        "hook": fields.String(
            required=True,
            validate=validate.Equal(hook, error=f"This service answers the {hook} hook only."),
        ),
        "context": fields.Nested(CONTEXT_SCHEMAS[hook], required=True),
        "prefetch": fields.Nested(prefetch),
    }
    return type(f"{stem}Request", (HookRequestBase,), attrs)
