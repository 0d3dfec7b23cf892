"""Building blocks shared by the request, response and discovery schemas."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

# FHIR R4 id: http://hl7.org/fhir/R4/datatypes.html#id
FHIR_ID = r"^[A-Za-z0-9\-.]{1,64}$"
# A relative reference "Type/id" (e.g. "ServiceRequest/abc", "Practitioner/123").
RELATIVE_REFERENCE = r"^[A-Z][A-Za-z]{1,63}/[A-Za-z0-9\-.]{1,64}$"

fhir_id = validate.Regexp(FHIR_ID, error="Must be a FHIR id ([A-Za-z0-9-.], 1-64 characters).")
relative_reference = validate.Regexp(
    RELATIVE_REFERENCE, error="Must be a relative reference such as ServiceRequest/123."
)
non_empty = validate.Length(min=1, error="Must not be empty.")


class Tolerant(Schema):
    """For what we receive: unknown fields are ignored (CDS Hooks extensibility)."""

    class Meta:
        unknown = EXCLUDE


class Strict(Schema):
    """For what we send: an unknown field is a typo in our own code."""

    class Meta:
        unknown = RAISE


def is_resource(value: Any) -> None:
    """A FHIR resource: a JSON object with a non-empty string ``resourceType``."""
    if not isinstance(value, dict):
        raise ValidationError("Must be a FHIR resource (a JSON object).")
    rtype = value.get("resourceType")
    if not isinstance(rtype, str) or not rtype:
        raise ValidationError("A FHIR resource needs a resourceType.")


class FhirResource(fields.Raw):
    """Any FHIR resource as its raw JSON object (validated deeper by the clinical core)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", is_resource)
        kwargs.setdefault("metadata", {
            "description": "A FHIR R4 resource (JSON object).",
            "type": "object",
            "required": ["resourceType"],
            "properties": {"resourceType": {"type": "string", "minLength": 1}},
        })
        super().__init__(**kwargs)


class CodingSchema(Strict):
    """FHIR Coding, as cards carry it (topic, override reasons)."""

    system = fields.String(validate=non_empty)
    version = fields.String(validate=non_empty)
    code = fields.String(validate=non_empty)
    display = fields.String(validate=non_empty)
    userSelected = fields.Boolean()


class ReceivedCodingSchema(Tolerant):
    """FHIR Coding as clients send it (feedback's override reason): ``display`` optional
    (the reference sandbox sends none), widths of the columns it is stored in."""

    system = fields.String(validate=validate.Length(max=300))
    code = fields.String(required=True, validate=validate.Length(min=1, max=100))
    display = fields.String()


def flatten_errors(messages: Any, prefix: str = "", *, root: str = "(body)",
                   brackets: bool = False) -> list[str]:
    """marshmallow's nested error dict as "path: message" lines: paths like a.b.0.c, or
    a.b[0].c with ``brackets``; ``root`` names the body itself."""
    if isinstance(messages, dict):
        lines: list[str] = []
        for key, value in messages.items():
            if key == "_schema":
                path = prefix
            elif brackets and isinstance(key, int):
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            lines.extend(flatten_errors(value, path, root=root, brackets=brackets))
        return lines
    if isinstance(messages, list):
        return [line for m in messages
                for line in flatten_errors(m, prefix, root=root, brackets=brackets)]
    return [f"{prefix or root}: {messages}"]
