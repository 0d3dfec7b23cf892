"""CDS_HOOKS.md "Response": each card invariant is enforced by :func:`validate_response`
(the tests' oracle for what goes on the wire; the wire objects enforce the same rules
when a card is built: tests/core/test_wire.py, tests/test_invalid_card_fallback.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from cds_rules import Evaluation, wire
from cds_rules.model import TOPIC_SYSTEM
from service import hooks
from service.schemas import validate_response
from tests.helpers import hook_body, make_test_app, required_prefetch


def good_card(topic: str = "imaging-not-indicated") -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid4()),
        "summary": "Lumbar MRI is not indicated before 6 weeks without red flags",
        "detail": "**Why**: back pain for 2 weeks, no red flag recorded.",
        "indicator": "warning",
        "source": {"label": "backpain-cds", "url": "https://www.acponline.org/",
                   "topic": {"system": TOPIC_SYSTEM, "code": topic,
                             "display": "Imaging not indicated"}},
        "suggestions": [
            {"label": "Remove the MRI order", "uuid": str(uuid.uuid4()), "isRecommended": True,
             "actions": [{"type": "delete", "description": "Remove the draft MRI",
                          "resourceId": "ServiceRequest/sr-1"}]},
            {"label": "Refer to physiotherapy", "uuid": str(uuid.uuid4()),
             "actions": [{"type": "create", "description": "Physiotherapy referral",
                          "resource": {"resourceType": "ServiceRequest", "status": "draft",
                                       "intent": "proposal",
                                       "subject": {"reference": "Patient/pat-1"}}}]},
        ],
        "selectionBehavior": "at-most-one",
        "overrideReasons": [{"system": "https://example.org/override", "code": "declined",
                             "display": "Patient declined"}],
        "links": [{"label": "ACP guideline", "url": "https://www.acponline.org/guide",
                   "type": "absolute"},
                  {"label": "Open pathway app", "url": "https://apps.example.org/launch",
                   "type": "smart", "appContext": "{\"pathway\":\"lbp\"}"}],
    }


def test_a_conforming_response_has_no_problems() -> None:
    assert validate_response({"cards": [good_card()]}) == []
    assert validate_response({"cards": []}) == []


Breaker = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Breaker:
    def apply(card: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = card
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is _DELETE:
            del target[int(last) if last.isdigit() else last]
        else:
            target[int(last) if last.isdigit() else last] = value
    return apply


_DELETE = object()

BROKEN: dict[str, Breaker] = {
    "summary 140 characters": _set("summary", "x" * 140),
    "summary missing": _set("summary", _DELETE),
    "indicator unknown": _set("indicator", "urgent"),
    "source missing": _set("source", _DELETE),
    "source label missing": _set("source.label", _DELETE),
    "topic missing": _set("source.topic", _DELETE),
    "topic not ours": _set("source.topic.code", "something-else"),
    "topic system wrong": _set("source.topic.system", "http://example.org"),
    "selectionBehavior missing": _set("selectionBehavior", _DELETE),
    "selectionBehavior unknown": _set("selectionBehavior", "all"),
    "two recommended under at-most-one": _set("suggestions.1.isRecommended", True),
    "override reason without display": _set("overrideReasons.0.display", _DELETE),
    "action without description": _set("suggestions.0.actions.0.description", _DELETE),
    "delete without resourceId": _set("suggestions.0.actions.0.resourceId", _DELETE),
    "delete with absolute resourceId": _set("suggestions.0.actions.0.resourceId",
                                            "https://ehr/fhir/ServiceRequest/1"),
    "create without resource": _set("suggestions.1.actions.0.resource", _DELETE),
    "action type unknown": _set("suggestions.0.actions.0.type", "remove"),
    "appContext on absolute link": _set("links.0.appContext", "x"),
    "link type unknown": _set("links.0.type", "relative"),
    "link url relative": _set("links.0.url", "/guide"),
    "null value": _set("detail", None),
    "empty string": _set("detail", ""),
    "empty list": _set("links", []),
    "empty object": _set("suggestions.1.actions.0.resource.subject", {}),
    "unknown field (typo)": _set("sumary", "typo"),
    "uuid missing": _set("uuid", _DELETE),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_each_invariant_is_enforced(name: str) -> None:
    card = good_card()
    BROKEN[name](card)
    assert validate_response({"cards": [card]}) != [], name


def test_a_topic_appears_at_most_once() -> None:
    problems = validate_response({"cards": [good_card(), good_card()]})
    assert any("same topic" in p for p in problems)


def test_system_actions_must_not_be_empty_when_present() -> None:
    assert validate_response({"cards": [], "systemActions": []}) != []
    action = {"type": "update", "description": "Annotate the order",
              "resource": {"resourceType": "ServiceRequest", "id": "sr-1", "status": "draft",
                           "intent": "order", "subject": {"reference": "Patient/pat-1"}}}
    assert validate_response({"cards": [], "systemActions": [action]}) == []


@pytest.mark.parametrize("body", [None, [], {"cards": None}, {"cards": [1]}, {}])
def test_non_responses_are_reported(body: Any) -> None:
    assert validate_response(body) != []


def test_system_actions_are_sent_only_when_there_are_some(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_test_app().test_client()
    body = hook_body("patient-view", prefetch=required_prefetch())
    response = client.post("/cds-services/back-pain-patient-view", json=body)
    assert "systemActions" not in response.get_json()
    resource = {"resourceType": "ServiceRequest", "id": "sr-1", "status": "draft",
                "intent": "order", "subject": {"reference": "Patient/pat-1"}}
    action = wire.Action(type="update", description="Annotate the order", resource=resource)
    monkeypatch.setattr(hooks, "evaluate", lambda *a, **k: Evaluation(system_actions=[action]))
    answer = client.post("/cds-services/back-pain-patient-view", json=body).get_json()
    assert answer == {"cards": [], "systemActions": [
        {"type": "update", "description": "Annotate the order", "resource": resource}]}
