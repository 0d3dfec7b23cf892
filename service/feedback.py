"""``POST /cds-services/{id}/feedback``: what the clinician did with our cards.

Answers (CDS Hooks 2.0.1 defines no response, so these are our choices):

- **200** with ``{}`` once every entry is committed (or was already stored: the same
  feedback twice is stored once). Nothing answered 200 is ever lost.
- **400** OperationOutcome: malformed body, or an entry inconsistent with the spec
  (``accepted`` without ``acceptedSuggestions``, an ``overrideReason`` with neither
  ``reason`` nor ``userComment``...) or with the card (a suggestion the card never had).
- **404** OperationOutcome: unknown service, or a card this service never issued (also a
  card issued by another of our services, or to another authenticated client: one EHR
  cannot give feedback on another's cards). The batch is refused whole: nothing stored.
- **503** OperationOutcome with ``Retry-After``: the database is unavailable or did not
  answer within ``DB_TIMEOUT_SECONDS``, or a card we issued is not stored yet (still in a
  writer's queue or spool, here or on another replica); retry. Never 404 for such a card.

Free-text ``userComment`` is never stored (it may name the patient); see
:mod:`service.store`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from marshmallow import ValidationError, fields, validate, validates_schema

from service.errors import ServiceError, error_response, service_error_response
from service.jsonbody import json_response, read_json_object
from service.schemas.common import ReceivedCodingSchema, Tolerant, flatten_errors
from service.services import SERVICES
from service.store import FeedbackItem, InvalidFeedback, Store, StoreUnavailable, UnknownCards

MAX_ENTRIES = 500
RETRY_AFTER_SECONDS = "5"

blueprint = Blueprint("feedback", __name__)


class OverrideReasonSchema(Tolerant):
    reason = fields.Nested(ReceivedCodingSchema)
    userComment = fields.String()

    @validates_schema
    def _reason_or_comment(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if "reason" not in data and not data.get("userComment"):
            raise ValidationError("an overrideReason needs a reason or a userComment")


class AcceptedSuggestionSchema(Tolerant):
    id = fields.String(required=True, validate=validate.Length(min=1, max=64))


class FeedbackEntrySchema(Tolerant):
    card = fields.String(required=True, validate=validate.Length(min=1, max=64))
    outcome = fields.String(required=True, validate=validate.OneOf(["accepted", "overridden"]))
    acceptedSuggestions = fields.List(fields.Nested(AcceptedSuggestionSchema))
    overrideReason = fields.Nested(OverrideReasonSchema)
    outcomeTimestamp = fields.AwareDateTime(required=True)

    @validates_schema
    def _outcome_fields(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("outcome") == "accepted":
            if not data.get("acceptedSuggestions"):
                raise ValidationError("required when outcome is accepted",
                                      "acceptedSuggestions")
            if "overrideReason" in data:
                raise ValidationError("only allowed when outcome is overridden",
                                      "overrideReason")
        elif data.get("outcome") == "overridden" and "acceptedSuggestions" in data:
            raise ValidationError("only allowed when outcome is accepted",
                                  "acceptedSuggestions")


class FeedbackRequestSchema(Tolerant):
    feedback = fields.List(fields.Nested(FeedbackEntrySchema), required=True,
                           validate=validate.Length(min=1, max=MAX_ENTRIES))


_REQUEST_SCHEMA = FeedbackRequestSchema()


@blueprint.post("/cds-services/<service_id>/feedback")
def post_feedback(service_id: str) -> Response:
    extensions = current_app.extensions["backpain"]
    if service_id not in SERVICES:
        raise ServiceError(404, f"Unknown CDS service {service_id!r}. "
                                "GET /cds-services lists the CDS services.")
    settings = extensions["settings"]
    body = read_json_object(request, settings.max_body_bytes, settings.max_json_depth)
    items = parse_feedback(body)
    store: Store = extensions["store"]
    try:
        # g.client_iss: the authenticated client (service.trust); None if unauthenticated
        store.add_feedback(service_id, items, g.get("client_iss"))
    except UnknownCards as exc:
        raise ServiceError(404, f"Card(s) never issued by service {service_id!r}: "
                                f"{', '.join(exc.cards)}. Nothing was stored.") from None
    except InvalidFeedback as exc:
        raise ServiceError(400, f"{exc} Nothing was stored.") from None
    except StoreUnavailable:
        return error_response(503, "Feedback cannot be stored right now; nothing was stored. "
                              "Please retry.", headers={"Retry-After": RETRY_AFTER_SECONDS})
    return json_response({})


def parse_feedback(body: dict[str, Any]) -> list[FeedbackItem]:
    """The validated entries, or a 400 naming every problem by its JSON path."""
    try:
        data = _REQUEST_SCHEMA.load(body)
    except ValidationError as exc:
        raise ServiceError(400, "Invalid feedback: " + "; ".join(
            flatten_errors(exc.messages, root="body", brackets=True))) from None
    items = []
    for entry in data["feedback"]:
        override = entry.get("overrideReason") or {}
        reason = override.get("reason") or {}
        items.append(FeedbackItem(
            card=entry["card"],
            outcome=entry["outcome"],
            outcome_timestamp=entry["outcomeTimestamp"],
            accepted_suggestions=tuple(s["id"] for s in entry.get("acceptedSuggestions", ())),
            reason_system=reason.get("system"),
            reason_code=reason.get("code"),
            user_comment=override.get("userComment") or None,
        ))
    return items


@blueprint.errorhandler(ServiceError)
def _service_error(error: ServiceError) -> Response:
    return service_error_response(error)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
