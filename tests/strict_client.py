"""A strict EHR's judgement of our cards: the card checks of the Da Vinci CRD test
kit (``inferno-framework/davinci-crd-test-kit``), re-implemented here in plain Python.

Independence is the point: nothing here imports ``service.schemas`` (our own validators,
which already decide what the service sends). ``tests/contract/test_scenarios.py`` applies
:func:`strict_errors` to every scenario's answer and to the core's own cards (so a card the
service would silently drop is caught too); ``tests/contract/test_strict_client.py`` shows
that the checker rejects what a strict client rejects.

Where each check comes from (Ruby modules of the kit, ``lib/davinci_crd_test_kit/``):

- ``CardsValidation#perform_cards_validation``: ``cards`` present and an Array.
- ``CardsValidation#cards_check`` / ``#card_required_fields``: ``summary`` String,
  ``indicator`` String, ``source`` Hash, each present and not blank.
- ``#card_summary_check``: summary shorter than 140 characters.
- ``#card_indicator_check``: indicator one of info, warning, critical.
- ``#card_source_check`` / ``#source_required_fields``: ``source.label`` String,
  ``source.topic`` Hash; ``#card_source_topic_check``: topic ``code`` and ``system``
  Strings.
- ``#valid_card_with_optionals?`` / ``#card_optional_fields``: ``uuid``, ``detail``
  Strings, ``suggestions``, ``overrideReasons``, ``links`` Arrays, never blank.
- ``#card_selection_behavior_check``: ``selectionBehavior`` present when suggestions
  are, and one of at-most-one, any.
- ``#card_override_reasons_check``: each reason a Coding with ``code``, ``system``,
  ``display`` Strings.
- ``#card_links_check`` / ``#link_required_fields`` / ``ServerHookRequestValidation#
  valid_url?``: ``label``, ``type`` Strings, ``url`` a URL with a host and an http(s)
  scheme; ``#card_link_type_check``: type absolute or smart, no ``appContext`` on an
  absolute link.
- ``#process_suggestion`` / ``#validate_and_process_actions``: suggestion ``label``
  String; ``actions`` a non-empty Array when present.
- ``SuggestionActionsValidation#action_fields_validation`` / ``#action_required_fields``
  / ``#action_type_field_validation``: ``type`` and ``description`` Strings, type one of
  create, update, delete; ``#action_resource_field_validation``: create/update carry a
  ``resource`` that parses as a FHIR resource; ``#action_resource_id_field_validation`` +
  ``ServerHookRequestValidation#resource_reference_check`` / ``#valid_reference_format?``:
  delete carries a String ``resourceId`` of the form ``{resourceType}/{id}`` (an older
  revision of the kit wanted an Array there; the current kit and CDS Hooks 2.0.1 say
  String, and an Array is rejected here).
- ``SuggestionActionsValidation#create_or_update_action_check``: an updated resource is
  one of the request's ``draftOrders``; ``#delete_action_check``: a deleted reference is
  one of the request's ``draftOrders``, and (in a Propose Alternate Request suggestion,
  ``ProposeAlternateRequestCardValidationTest#propose_alternate_request_card?``: one that
  both deletes and creates) a ``create`` of the same resource type goes with it.
- ``ServiceResponseValidationTest#system_actions_check``: each system action passes
  ``action_fields_validation`` (the kit requires ``description`` there too, though the
  spec makes it optional for system actions: we keep the kit's stricter rule).

Stricter than the kit, from CDS Hooks 2.0.1 ``index.md`` (Card Attributes) and our
``CDS_HOOKS.md`` (Response): ``uuid`` on every card and suggestion, unique across the
whole answer; URLs absolute **https**; Coding ``system`` an absolute URI; ``isRecommended``
a boolean, at most one under ``at-most-one``; ``autolaunchable`` a boolean; created and
updated resources validated as R4 with ``fhir.resources.R4B`` by ``resourceType``
(which also enforces the FHIR R4 rule that a date-time with a time has a time zone;
the kit validates against CRD profiles instead); no ``null``, blank string, empty
array or empty object anywhere in the answer (the kit's ``blank?`` on required fields,
applied everywhere).

Left out, because they are CRD-only and say nothing about a general CDS service:
coverage-information system actions and the "``systemActions`` must be present for
order-sign / appointment-book" rule (``ServiceResponseValidationTest#
perform_system_actions_validation``); CRD profile conformance of suggested resources
(``#create_or_update_action_check`` with ``structure_definition_map``); binding of
``source.topic`` to the CRD Card Types value set (a TODO in the kit itself); the
per-hook "at least one External Reference / Instructions / Launch SMART App card" presence
tests (``ExternalReferenceCardValidationTest`` etc.), which ask for CRD card types, not
card validity.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from fhir.resources.R4B import get_fhir_model_class

INDICATORS = ("info", "warning", "critical")
SELECTION_BEHAVIORS = ("at-most-one", "any")
ACTION_TYPES = ("create", "update", "delete")
LINK_TYPES = ("absolute", "smart")
# ProposeAlternateRequestCardValidationTest::EXPECTED_RESOURCE_TYPES
ORDER_RESOURCE_TYPES = frozenset({
    "Device", "DeviceRequest", "Encounter", "Medication", "MedicationRequest",
    "NutritionOrder", "ServiceRequest", "VisionPrescription",
})
RELATIVE_REFERENCE = re.compile(r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}$")


@dataclass
class StrictClient:
    """Checks one hook response the way a strict EHR does; ``errors`` says what failed,
    each message prefixed with where (``cards[0].suggestions[1]...``)."""

    draft_order_refs: frozenset[str] = frozenset()
    errors: list[str] = field(default_factory=list)
    seen_uuids: set[str] = field(default_factory=set)

    def fail(self, where: str, why: str) -> None:
        self.errors.append(f"{where}: {why}")

    # -- ServerHookRequestValidation#validate_presence_and_type ---------------------
    def present(self, obj: dict[str, Any], name: str, kind: type, where: str) -> bool:
        """The field is there, of ``kind``, and not blank (Ruby ``blank?``)."""
        value = obj.get(name)
        if value is None:
            self.fail(where, f"required field `{name}` missing")
            return False
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            self.fail(where, f"`{name}` is not of type {kind.__name__}: {value!r}")
            return False
        if is_blank(value):
            self.fail(where, f"`{name}` is blank")
            return False
        return True

    def optional(self, obj: dict[str, Any], name: str, kind: type, where: str) -> None:
        if name in obj:
            self.present(obj, name, kind, where)

    def url(self, obj: dict[str, Any], name: str, where: str) -> None:
        """``valid_url?`` (host and http(s) scheme), tightened to absolute https."""
        if not self.present(obj, name, str, where):
            return
        parts = urlsplit(obj[name])
        if parts.scheme != "https" or not parts.hostname:
            self.fail(where, f"`{name}` is not an absolute https URL: {obj[name]!r}")

    def coding(self, coding: Any, where: str, *, display: bool) -> None:
        if not isinstance(coding, dict):
            self.fail(where, f"not a Coding object: {coding!r}")
            return
        self.present(coding, "code", str, where)
        if self.present(coding, "system", str, where) and not urlsplit(coding["system"]).scheme:
            self.fail(where, f"Coding system is not an absolute URI: {coding['system']!r}")
        if display:
            self.present(coding, "display", str, where)
        else:
            self.optional(coding, "display", str, where)

    def unique_uuid(self, obj: dict[str, Any], where: str) -> None:
        if self.present(obj, "uuid", str, where):
            if obj["uuid"] in self.seen_uuids:
                self.fail(where, f"uuid {obj['uuid']} is not unique")
            self.seen_uuids.add(obj["uuid"])

    # -- CardsValidation#perform_cards_validation + ServiceResponseValidationTest ----
    def response(self, body: Any) -> list[str]:
        if not isinstance(body, dict):
            self.fail("response", "not a JSON object")
            return self.errors
        cards = body.get("cards")
        for name, value in body.items():
            if not (name == "cards" and value == []):  # "no decision support": allowed
                for where in blank_values(value, f"response.{name}"):
                    self.fail(where, "null or blank value")
        if not isinstance(cards, list):
            self.fail("response", "`cards` missing or not an Array")
        else:
            for index, card in enumerate(cards):
                self.card(card, f"cards[{index}]")
        if "systemActions" in body:
            self.system_actions(body["systemActions"])
        return self.errors

    def system_actions(self, actions: Any) -> None:
        if not isinstance(actions, list):
            self.fail("systemActions", "not an Array")
            return
        for index, action in enumerate(actions):
            self.action(action, f"systemActions[{index}]")

    # -- CardsValidation#cards_check + #valid_card_with_optionals? ------------------
    def card(self, card: Any, where: str) -> None:
        if not isinstance(card, dict):
            self.fail(where, "card is not an object")
            return
        self.unique_uuid(card, where)
        self.summary(card, where)
        if self.present(card, "indicator", str, where) and card["indicator"] not in INDICATORS:
            self.fail(where, f"indicator {card['indicator']!r} not one of {INDICATORS}")
        self.source(card, where)
        self.optional(card, "detail", str, where)
        for name in ("suggestions", "overrideReasons", "links"):
            self.optional(card, name, list, where)
        self.selection_behavior(card, where)
        for index, reason in enumerate(as_list(card.get("overrideReasons"))):
            self.coding(reason, f"{where}.overrideReasons[{index}]", display=True)
        for index, link in enumerate(as_list(card.get("links"))):
            self.link(link, f"{where}.links[{index}]")
        for index, suggestion in enumerate(as_list(card.get("suggestions"))):
            self.suggestion(suggestion, f"{where}.suggestions[{index}]")

    def summary(self, card: dict[str, Any], where: str) -> None:
        """``#card_summary_check``: the spec's "<140-character summary", counted both as
        Ruby does (code points) and as a JavaScript client does (UTF-16 units)."""
        if not self.present(card, "summary", str, where):
            return
        length = max(len(card["summary"]), len(card["summary"].encode("utf-16-le")) // 2)
        if length >= 140:
            self.fail(where, f"summary is {length} characters (limit: < 140)")

    def source(self, card: dict[str, Any], where: str) -> None:
        """``#card_source_check`` / ``#card_source_topic_check``."""
        if not self.present(card, "source", dict, where):
            return
        source = card["source"]
        self.present(source, "label", str, f"{where}.source")
        if self.present(source, "topic", dict, f"{where}.source"):
            self.coding(source["topic"], f"{where}.source.topic", display=False)
        for name in ("url", "icon"):
            if name in source:
                self.url(source, name, f"{where}.source")

    def selection_behavior(self, card: dict[str, Any], where: str) -> None:
        """``#card_selection_behavior_check``, plus: at most one recommended suggestion
        under at-most-one (CDS Hooks 2.0.1 Suggestion.isRecommended)."""
        suggestions = as_list(card.get("suggestions"))
        if not suggestions:
            if "selectionBehavior" in card:
                self.present(card, "selectionBehavior", str, where)
            return
        behavior = card.get("selectionBehavior")
        if behavior not in SELECTION_BEHAVIORS:
            self.fail(where, f"selectionBehavior {behavior!r} with suggestions: must be one "
                             f"of {SELECTION_BEHAVIORS}")
        recommended = [s for s in suggestions if isinstance(s, dict) and s.get("isRecommended")]
        if behavior == "at-most-one" and len(recommended) > 1:
            self.fail(where, f"{len(recommended)} suggestions recommended under at-most-one")

    def link(self, link: Any, where: str) -> None:
        """``#card_links_check`` / ``#card_link_type_check``."""
        if not isinstance(link, dict):
            self.fail(where, "link is not an object")
            return
        self.present(link, "label", str, where)
        self.url(link, "url", where)
        if self.present(link, "type", str, where) and link["type"] not in LINK_TYPES:
            self.fail(where, f"link type {link['type']!r} not one of {LINK_TYPES}")
        if "appContext" in link:
            if link.get("type") != "smart":
                self.fail(where, "appContext on a link that is not a smart link")
            self.present(link, "appContext", str, where)
        self.optional(link, "autolaunchable", bool, where)

    # -- CardsValidation#process_suggestion / #validate_and_process_actions ----------
    def suggestion(self, suggestion: Any, where: str) -> None:
        if not isinstance(suggestion, dict):
            self.fail(where, "suggestion is not an object")
            return
        self.present(suggestion, "label", str, where)
        self.unique_uuid(suggestion, where)
        self.optional(suggestion, "isRecommended", bool, where)
        if "actions" not in suggestion:
            return
        actions = suggestion["actions"]
        if not isinstance(actions, list) or not actions:
            self.fail(where, f"actions must be a non-empty Array: {actions!r}")
            return
        for index, action in enumerate(actions):
            self.action(action, f"{where}.actions[{index}]")
        self.alternate_request(actions, where)

    # -- SuggestionActionsValidation --------------------------------------------------
    def action(self, action: Any, where: str) -> None:
        """``#action_fields_validation`` + ``#create_or_update_action_check`` /
        ``#delete_action_check`` (draftOrders membership)."""
        if not isinstance(action, dict):
            self.fail(where, "action is not an object")
            return
        self.present(action, "description", str, where)
        if not self.present(action, "type", str, where):
            return
        kind = action["type"]
        if kind not in ACTION_TYPES:
            self.fail(where, f"action type {kind!r} not one of {ACTION_TYPES}")
        elif kind == "delete":
            self.delete(action, where)
        else:
            self.create_or_update(action, kind, where)

    def create_or_update(self, action: dict[str, Any], kind: str, where: str) -> None:
        if not self.present(action, "resource", dict, where):
            return
        resource = action["resource"]
        problem = fhir_problem(resource)
        if problem:
            self.fail(where, f"resource is not a valid FHIR R4 resource: {problem}")
            return
        if kind == "update":
            ref = f"{resource['resourceType']}/{resource.get('id')}"
            if ref not in self.draft_order_refs:
                self.fail(where, f"updated resource {ref} is not in context.draftOrders")

    def delete(self, action: dict[str, Any], where: str) -> None:
        if not self.present(action, "resourceId", str, where):
            return
        ref = action["resourceId"]
        if not RELATIVE_REFERENCE.match(ref):
            self.fail(where, f"resourceId {ref!r} is not of the form {{resourceType}}/{{id}}")
        elif ref not in self.draft_order_refs:
            self.fail(where, f"resourceId {ref} is not in context.draftOrders "
                             f"{sorted(self.draft_order_refs)}")

    def alternate_request(self, actions: list[Any], where: str) -> None:
        """``#actions_check`` for a Propose Alternate Request suggestion (one that deletes
        and creates an order): each deleted order's type is also created."""
        typed = [a for a in actions if isinstance(a, dict)]
        created = {a["resource"].get("resourceType") for a in typed
                   if a.get("type") == "create" and isinstance(a.get("resource"), dict)}
        deleted = [a["resourceId"] for a in typed
                   if a.get("type") == "delete" and isinstance(a.get("resourceId"), str)]
        if not (created & ORDER_RESOURCE_TYPES and deleted):
            return
        for ref in deleted:
            if ref.split("/", 1)[0] not in created:
                self.fail(where, f"no create action for the order being replaced: {ref}")


def is_blank(value: Any) -> bool:
    """Ruby's ``blank?`` for JSON values: null, whitespace-only string, empty [] or {}."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | dict) and not value


def blank_values(value: Any, where: str) -> Iterator[str]:
    """Where in ``value`` a null or blank value sits (a strict client rejects all)."""
    if is_blank(value):
        yield where
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from blank_values(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from blank_values(item, f"{where}[{index}]")


def fhir_problem(resource: dict[str, Any]) -> str | None:
    """Why ``resource`` is not a valid R4 resource of its own ``resourceType`` (or None)."""
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str):
        return "no resourceType"
    try:
        model = get_fhir_model_class(resource_type)
    except (KeyError, ValueError):
        return f"unknown resourceType {resource_type!r}"
    try:
        model.model_validate(resource)
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        return str(exc).splitlines()[0] + ": " + "; ".join(str(exc).splitlines()[1:4])
    return None


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def draft_order_refs(context: dict[str, Any]) -> frozenset[str]:
    """``SuggestionActionsValidation#draft_orders_bundle_entry_refs`` of one request."""
    bundle = context.get("draftOrders") or {}
    return frozenset(
        f"{entry['resource']['resourceType']}/{entry['resource']['id']}"
        for entry in bundle.get("entry") or ()
        if isinstance(entry.get("resource"), dict) and entry["resource"].get("id")
    )


def strict_errors(body: Any, context: dict[str, Any] | None = None) -> list[str]:
    return StrictClient(draft_order_refs(context or {})).response(body)
