"""What we answer to a hook call, with every invariant of CDS_HOOKS.md and DESIGN.md.

:func:`validate_response` checks a whole response body and returns readable problems
(an empty list when it is fine): the pipeline drops a card that has any, and every test
that produces cards asserts it returns none.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from cds_rules import CARD_TOPIC_CODES as TOPIC_CODES
from cds_rules import TOPIC_SYSTEM, empty_values
from service.schemas.common import (
    CodingSchema,
    FhirResource,
    Strict,
    flatten_errors,
    non_empty,
    relative_reference,
)

INDICATORS = ("info", "warning", "critical")
SELECTION_BEHAVIORS = ("at-most-one", "any")


def _url(*, required: bool = False) -> fields.Url:
    return fields.Url(schemes={"http", "https"}, require_tld=False, required=required)


class OverrideReasonSchema(CodingSchema):
    display = fields.String(required=True, validate=non_empty)


class SourceSchema(Strict):
    label = fields.String(required=True, validate=non_empty)
    url = _url()
    icon = _url()
    topic = fields.Nested(CodingSchema)


class ActionSchema(Strict):
    """A suggested (or system) action: create/update carry a resource, delete an id."""

    type = fields.String(required=True, validate=validate.OneOf(("create", "update", "delete")))
    description = fields.String(required=True, validate=non_empty)
    resource = FhirResource()
    resourceId = fields.String(validate=relative_reference)

    @validates_schema
    def payload_matches_type(self, data: dict[str, Any], **_: Any) -> None:
        kind = data.get("type")
        if kind in ("create", "update"):
            if "resource" not in data:
                raise ValidationError(f"A {kind} action needs the resource.", "resource")
            if "resourceId" in data:
                raise ValidationError(f"A {kind} action carries no resourceId.", "resourceId")
        if kind == "delete":
            if "resourceId" not in data:
                raise ValidationError("A delete action needs resourceId.", "resourceId")
            if "resource" in data:
                raise ValidationError("A delete action uses resourceId, not resource.",
                                      "resource")


class SuggestionSchema(Strict):
    label = fields.String(required=True, validate=non_empty)
    uuid = fields.UUID()
    isRecommended = fields.Boolean()
    actions = fields.List(fields.Nested(ActionSchema), validate=non_empty)
    actionSelectionBehavior = fields.String(
        validate=validate.OneOf(("all", "any", "at-most-one"))
    )


class LinkSchema(Strict):
    label = fields.String(required=True, validate=non_empty)
    url = _url(required=True)
    type = fields.String(required=True, validate=validate.OneOf(("absolute", "smart")))
    appContext = fields.String(validate=non_empty)
    autolaunchable = fields.Boolean()

    @validates_schema
    def app_context_only_for_smart(self, data: dict[str, Any], **_: Any) -> None:
        if "appContext" in data and data.get("type") != "smart":
            raise ValidationError("appContext is only allowed on smart links.", "appContext")


class CardSchema(Strict):
    uuid = fields.UUID(required=True)
    summary = fields.String(
        required=True,
        validate=validate.Length(min=1, max=139, error="Must be 1 to 139 characters."),
    )
    detail = fields.String(validate=non_empty)
    indicator = fields.String(required=True, validate=validate.OneOf(INDICATORS))
    source = fields.Nested(SourceSchema, required=True)
    suggestions = fields.List(fields.Nested(SuggestionSchema), validate=non_empty)
    selectionBehavior = fields.String(validate=validate.OneOf(SELECTION_BEHAVIORS))
    overrideReasons = fields.List(fields.Nested(OverrideReasonSchema), validate=non_empty)
    links = fields.List(fields.Nested(LinkSchema), validate=non_empty)
    extension = fields.Dict(keys=fields.String())

    @validates_schema
    def suggestion_rules(self, data: dict[str, Any], **_: Any) -> None:
        suggestions = data.get("suggestions") or []
        if suggestions and "selectionBehavior" not in data:
            raise ValidationError("selectionBehavior is required with suggestions.",
                                  "selectionBehavior")
        recommended = sum(1 for s in suggestions if s.get("isRecommended"))
        if data.get("selectionBehavior") == "at-most-one" and recommended > 1:
            raise ValidationError("At most one suggestion may be recommended under "
                                  "at-most-one.", "suggestions")


class CdsResponseSchema(Strict):
    cards = fields.List(fields.Nested(CardSchema), required=True)
    systemActions = fields.List(fields.Nested(ActionSchema), validate=non_empty)


# One instance of each, built at import: a Schema's __init__ deep-copies its declared
# fields (about 0.3 ms per card), and validate() keeps no state on the instance (marshmallow
# 4 has no schema context), so the instances are shared by every call and thread.
_CARD = CardSchema()
_ACTION = ActionSchema()
_RESPONSE = CdsResponseSchema()


def card_errors(card: Any) -> list[str]:
    """Every problem of one card (schema, empty values, topic); [] when it may be sent."""
    if not isinstance(card, dict):
        return ["card: must be a JSON object"]
    problems = flatten_errors(_CARD.validate(card))
    problems += empty_values(card, "card")
    problems += _topic_errors(card)
    return problems


def action_errors(action: Any) -> list[str]:
    """Every problem of one system action; [] when it may be sent."""
    if not isinstance(action, dict):
        return ["systemAction: must be a JSON object"]
    return flatten_errors(_ACTION.validate(action)) + empty_values(action, "action")


def validate_response(body: Any) -> list[str]:
    """Every problem of a whole hook response body; [] when it conforms.

    Checks the CDS Hooks card/suggestion/action/link invariants, no null/""/[]/{} anywhere
    but ``cards: []``, and our own contract: every card has a ``source.topic`` from the
    topic code system, at most one card per topic.
    """
    if not isinstance(body, dict):
        return ["(body): must be a JSON object"]
    problems = flatten_errors(_RESPONSE.validate(body))
    cards = body.get("cards")
    if isinstance(cards, list):
        for i, card in enumerate(cards):
            problems += empty_values(card, f"cards.{i}")
            problems += [f"cards.{i}: {p}" for p in _topic_errors(card)]
        topics = [card_topic(c) for c in cards]
        seen = [t for t in topics if t]
        if len(seen) != len(set(seen)):
            problems.append("cards: more than one card for the same topic")
    if "systemActions" in body:
        problems += empty_values(body["systemActions"], "systemActions")
    return problems


def _topic(card: Any) -> Any:
    source = card.get("source") if isinstance(card, dict) else None
    return source.get("topic") if isinstance(source, dict) else None


def card_topic(card: Any) -> str | None:
    """The ``source.topic.code`` of a card, if it has one."""
    topic = _topic(card)
    code = topic.get("code") if isinstance(topic, dict) else None
    return code if isinstance(code, str) else None


def _topic_errors(card: Any) -> list[str]:
    topic = _topic(card)
    if not isinstance(topic, dict):
        return ["source.topic: every card needs a topic Coding"]
    problems = []
    if topic.get("system") != TOPIC_SYSTEM:
        problems.append(f"source.topic.system: must be {TOPIC_SYSTEM}")
    if topic.get("code") not in TOPIC_CODES:
        problems.append("source.topic.code: not one of the card topics")
    return problems
