"""The strict-client checker (``tests/strict_client.py``) rejects what a strict EHR
rejects, so that the scenario checks that use it (``test_scenarios.py``) can fail."""

from __future__ import annotations

from typing import Any

import pytest

from tests.strict_client import strict_errors

DRAFTS = {"draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [
    {"resource": {"resourceType": "ServiceRequest", "id": "sr-1", "status": "draft",
                  "intent": "order", "subject": {"reference": "Patient/p"}}}]}}
PROPOSAL = {"resourceType": "ServiceRequest", "status": "draft", "intent": "proposal",
            "subject": {"reference": "Patient/p"}}


def good_card() -> dict[str, Any]:
    return {
        "uuid": "c-1", "summary": "Fine", "indicator": "warning", "detail": "**Why**",
        "source": {"label": "backpain-cds", "url": "https://example.org/guideline",
                   "topic": {"system": "https://example.org/topic", "code": "t"}},
        "overrideReasons": [{"system": "https://example.org/r", "code": "x", "display": "X"}],
        "links": [{"label": "Guideline", "url": "https://example.org/g", "type": "absolute"}],
        "selectionBehavior": "any",
        "suggestions": [
            {"uuid": "s-1", "label": "Order", "isRecommended": True, "actions": [
                {"type": "create", "description": "Order it", "resource": PROPOSAL}]},
            {"uuid": "s-2", "label": "Remove", "actions": [
                {"type": "delete", "description": "Remove it",
                 "resourceId": "ServiceRequest/sr-1"}]},
        ],
    }


def test_checker_accepts_a_conforming_card() -> None:
    assert strict_errors({"cards": [good_card()]}, DRAFTS) == []


def _set(path: str, value: Any) -> Any:
    """A mutation of the good card: ``path`` (dotted, digits index lists) set to
    ``value``; the value ``DELETE`` removes the key."""
    def mutate(card: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = card
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is DELETE:
            del target[last]
        elif last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value
    return mutate


DELETE = object()


def _two_recommended(card: dict[str, Any]) -> None:
    card["selectionBehavior"] = "at-most-one"
    card["suggestions"][1]["isRecommended"] = True


BAD_CARDS: dict[str, Any] = {
    "summary missing": _set("summary", DELETE),
    "summary 140 characters": _set("summary", "x" * 140),
    "summary blank": _set("summary", "  "),
    "summary 139 code points, 140 UTF-16 units": _set("summary", "x" * 138 + "\U0001F6A8"),
    "indicator success (CDS Hooks 1.0)": _set("indicator", "success"),
    "indicator hard-stop": _set("indicator", "hard-stop"),
    "source missing": _set("source", DELETE),
    "source label missing": _set("source.label", DELETE),
    "source topic missing": _set("source.topic", DELETE),
    "topic without system": _set("source.topic.system", DELETE),
    "topic code not a string": _set("source.topic.code", 7),
    "topic system relative": _set("source.topic.system", "topics"),
    "source url http": _set("source.url", "http://example.org"),
    "uuid missing": _set("uuid", DELETE),
    "detail null": _set("detail", None),
    "detail not a string": _set("detail", ["a"]),
    "overrideReason without display": _set("overrideReasons.0.display", DELETE),
    "overrideReason without system": _set("overrideReasons.0.system", DELETE),
    "overrideReasons empty": _set("overrideReasons", []),
    "link url relative": _set("links.0.url", "/guideline"),
    "link url without host": _set("links.0.url", "https:///g"),
    "link type unknown": _set("links.0.type", "external"),
    "link label missing": _set("links.0.label", DELETE),
    "appContext on absolute link": _set("links.0.appContext", "{}"),
    "autolaunchable not boolean": _set("links.0.autolaunchable", "yes"),
    "selectionBehavior missing": _set("selectionBehavior", DELETE),
    "selectionBehavior unknown": _set("selectionBehavior", "all"),
    "two recommended under at-most-one": lambda card: _two_recommended(card),
    "isRecommended not boolean": _set("suggestions.0.isRecommended", "true"),
    "suggestion label missing": _set("suggestions.0.label", DELETE),
    "suggestion uuid missing": _set("suggestions.0.uuid", DELETE),
    "suggestion uuid equals card uuid": _set("suggestions.0.uuid", "c-1"),
    "suggestion uuids equal": _set("suggestions.1.uuid", "s-1"),
    "actions empty": _set("suggestions.0.actions", []),
    "actions not an array": _set("suggestions.0.actions", {"type": "create"}),
    "action type unknown": _set("suggestions.0.actions.0.type", "replace"),
    "action description missing": _set("suggestions.0.actions.0.description", DELETE),
    "create without resource": _set("suggestions.0.actions.0.resource", DELETE),
    "create without a required element": _set("suggestions.0.actions.0.resource.intent",
                                              DELETE),
    "create with a Reference as a string": _set("suggestions.0.actions.0.resource.subject",
                                                "Patient/p"),
    "create with an unknown field": _set("suggestions.0.actions.0.resource",
                                         {**PROPOSAL, "bogus": 1}),
    "create with an unknown resourceType": _set("suggestions.0.actions.0.resource",
                                                {"resourceType": "Order"}),
    "update of an order not in draftOrders": _set("suggestions.0.actions.0", {
        "type": "update", "description": "Change it",
        "resource": {**PROPOSAL, "id": "elsewhere"}}),
    "delete without resourceId": _set("suggestions.1.actions.0.resourceId", DELETE),
    "delete with a bare id": _set("suggestions.1.actions.0.resourceId", "sr-1"),
    "delete with an absolute URL": _set("suggestions.1.actions.0.resourceId",
                                        "https://ehr/fhir/ServiceRequest/sr-1"),
    "delete of an order not in draftOrders": _set("suggestions.1.actions.0.resourceId",
                                                  "ServiceRequest/sr-9"),
    "delete with resourceId as an array": _set("suggestions.1.actions.0.resourceId",
                                               ["ServiceRequest/sr-1"]),
    "alternate request without a create of the deleted type": _set(
        "suggestions.1.actions", [
            {"type": "delete", "description": "Remove", "resourceId": "ServiceRequest/sr-1"},
            {"type": "create", "description": "Instead",
             "resource": {"resourceType": "MedicationRequest", "status": "draft",
                          "intent": "proposal", "subject": {"reference": "Patient/p"},
                          "medicationCodeableConcept": {"text": "x"}}}]),
    "create with a date-time without time zone": _set(
        "suggestions.0.actions.0.resource.authoredOn", "2026-03-01T10:00:00"),
    "empty object nested in a resource": _set("suggestions.0.actions.0.resource",
                                              {**PROPOSAL, "code": {}}),
}


@pytest.mark.parametrize("mutate", BAD_CARDS.values(), ids=BAD_CARDS)
def test_checker_rejects_what_a_strict_client_rejects(mutate: Any) -> None:
    card = good_card()
    card["suggestions"][0]["actions"][0]["resource"] = dict(PROPOSAL)
    mutate(card)
    assert strict_errors({"cards": [card]}, DRAFTS) != []


def test_checker_rejects_a_delete_when_the_request_has_no_draft_orders() -> None:
    assert strict_errors({"cards": [good_card()]}, {}) != []


@pytest.mark.parametrize("body", [
    {}, {"cards": None}, {"cards": {}}, [],
    {"cards": [], "systemActions": [{"type": "update", "resource": PROPOSAL}]},
    {"cards": [], "systemActions": []},
    {"cards": [], "systemActions": [{"type": "delete", "description": "x",
                                     "resourceId": "ServiceRequest/x"}]},
], ids=["no cards", "cards null", "cards object", "not an object",
        "system action without description", "systemActions empty",
        "system action deleting a non-draft"])
def test_checker_rejects_malformed_responses(body: Any) -> None:
    assert strict_errors(body, DRAFTS) != []


def test_checker_reports_a_shared_uuid_between_two_cards() -> None:
    second = good_card()
    for suggestion in second["suggestions"]:
        suggestion["uuid"] += "-b"
    assert strict_errors({"cards": [good_card(), second]}, DRAFTS) != []
