"""``POST /cds-services/{id}/feedback`` over HTTP (Flask test client), on both databases."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from cds_rules import OVERRIDE_REASON_SYSTEM, Card, Topic
from service.db import Feedback, Snooze
from tests.feedback_support import URL, app, issue, overridden, rows, snooze_reason
from tests.helpers import make_test_app
from tests.store_support import *  # noqa: F403  (fixtures)
from tests.store_support import (
    T0,
    FakeClock,
    answer,
    hook_call,
)

__all__ = ["app"]  # the fixture, imported


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def accepted(card: Card, **extra: Any) -> dict[str, Any]:
    return {"card": card.uuid, "outcome": "accepted", "outcomeTimestamp": "2026-03-01T08:05:00Z",
            "acceptedSuggestions": [{"id": card.suggestions[0].uuid}], **extra}


def diagnostics(response: Any) -> str:
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    return str(body["issue"][0]["diagnostics"])


def test_accepted_and_overridden_feedback_answer_200_empty_object(app: Flask,
                                                                  client: FlaskClient) -> None:
    call = issue(app, Topic.FRACTURE, Topic.MALIGNANCY)
    fracture, malignancy = call.evaluation.cards
    response = client.post(URL, json={"feedback": [
        accepted(fracture),
        overridden(malignancy, snooze_reason()),
    ]})
    assert response.status_code == 200
    assert response.get_json() == {}
    assert (rows(app, Feedback), rows(app, Snooze)) == (2, 1)


def test_a_snooze_from_feedback_hides_the_card_on_the_next_call(app: Flask, client: FlaskClient,
                                                                clock: FakeClock) -> None:
    call = issue(app, Topic.FRACTURE)
    clock.now = T0 + timedelta(minutes=5)
    entry = overridden(call.evaluation.cards[0], snooze_reason("managed-elsewhere"))
    assert client.post(URL, json={"feedback": [entry]}).status_code == 200
    again = hook_call(*call.evaluation.findings, at=T0 + timedelta(days=2))
    assert answer(app.extensions["backpain"]["memory"], again) == []


def test_the_same_feedback_twice_is_stored_once(app: Flask, client: FlaskClient) -> None:
    card = issue(app, Topic.FRACTURE).evaluation.cards[0]
    body = {"feedback": [overridden(card, snooze_reason(), comment="seen by ortho"),
                         accepted(card)]}
    assert client.post(URL, json=body).status_code == 200
    assert client.post(URL, json=body).status_code == 200
    # the same instant written in another zone is the same feedback
    shifted = overridden(card, snooze_reason(), comment="seen by ortho",
                         at="2026-03-01T10:05:00+02:00")
    assert client.post(URL, json={"feedback": [shifted]}).status_code == 200
    assert (rows(app, Feedback), rows(app, Snooze)) == (2, 1)


def test_a_comment_alone_is_a_valid_override_and_is_not_stored(app: Flask,
                                                               client: FlaskClient) -> None:
    card = issue(app, Topic.FRACTURE).evaluation.cards[0]
    comment = "discussed with Mrs Example on the ward"
    response = client.post(URL, json={"feedback": [overridden(card, comment=comment)]})
    assert response.status_code == 200
    with app.extensions["backpain"]["store"].engine.connect() as conn:
        stored = conn.execute(select(Feedback)).one()
    assert stored.has_comment is True
    assert comment not in repr(tuple(stored))
    assert rows(app, Snooze) == 0


@pytest.mark.parametrize(("entry_change", "expected"), [
    (lambda e: e.pop("acceptedSuggestions"), "acceptedSuggestions: required when outcome"),
    (lambda e: e.update(acceptedSuggestions=[]), "acceptedSuggestions"),
    (lambda e: e.update(outcome="ignored"), "outcome: Must be one of"),
    (lambda e: e.pop("outcomeTimestamp"), "outcomeTimestamp"),
    (lambda e: e.update(outcomeTimestamp="2026-03-01T08:05:00"), "outcomeTimestamp"),
    (lambda e: e.update(outcomeTimestamp="yesterday"), "outcomeTimestamp"),
    (lambda e: e.pop("card"), "card"),
    (lambda e: e.update(card=42), "card"),
    (lambda e: e.update(overrideReason={"userComment": "x"}), "overrideReason: only allowed"),
], ids=["no-suggestions", "empty-suggestions", "bad-outcome", "no-timestamp",
        "naive-timestamp", "bad-timestamp", "no-card", "card-not-string", "reason-on-accept"])
def test_invalid_accepted_entries_are_400(app: Flask, client: FlaskClient,
                                          entry_change: Any, expected: str) -> None:
    entry = accepted(issue(app, Topic.FRACTURE).evaluation.cards[0])
    entry_change(entry)
    response = client.post(URL, json={"feedback": [entry]})
    assert response.status_code == 400
    assert expected in diagnostics(response)
    assert "feedback[0]" in diagnostics(response)
    assert rows(app, Feedback) == 0


@pytest.mark.parametrize(("override", "expected"), [
    ({}, "needs a reason or a userComment"),
    ({"userComment": ""}, "needs a reason or a userComment"),
    ({"reason": {"system": OVERRIDE_REASON_SYSTEM}}, "reason.code"),
    ({"reason": "already-assessed"}, "reason"),
    ({"reason": {"system": "urn:x:" + "y" * 400, "code": "a"}}, "reason.system"),
])
def test_invalid_override_reasons_are_400(app: Flask, client: FlaskClient,
                                          override: dict[str, Any], expected: str) -> None:
    card = issue(app, Topic.FRACTURE).evaluation.cards[0]
    entry = overridden(card)
    entry["overrideReason"] = override
    response = client.post(URL, json={"feedback": [entry]})
    assert response.status_code == 400
    assert expected in diagnostics(response)


@pytest.mark.parametrize("body", [{}, {"feedback": []}, {"feedback": {"card": "x"}}, [1]])
def test_malformed_bodies_are_400(client: FlaskClient, body: Any) -> None:
    response = client.post(URL, json=body)
    assert response.status_code == 400
    diagnostics(response)


def test_non_json_is_415(client: FlaskClient) -> None:
    response = client.post(URL, data="feedback", content_type="text/plain")
    assert response.status_code == 415
    diagnostics(response)


def test_unknown_service_is_404(client: FlaskClient) -> None:
    response = client.post("/cds-services/no-such-service/feedback", json={"feedback": []})
    assert response.status_code == 404
    assert "no-such-service" in diagnostics(response)


def test_cards_never_issued_by_this_service_are_404_and_nothing_is_stored(
        app: Flask, client: FlaskClient) -> None:
    card = issue(app, Topic.FRACTURE).evaluation.cards[0]
    never = str(uuid.uuid4())
    response = client.post(URL, json={"feedback": [
        accepted(card), overridden(replace(card, uuid=never), snooze_reason())]})
    assert response.status_code == 404
    assert never in diagnostics(response)
    other = client.post("/cds-services/back-pain-order-sign/feedback",
                        json={"feedback": [accepted(card)]})
    assert other.status_code == 404
    assert card.uuid in diagnostics(other)
    assert rows(app, Feedback) == 0


def test_a_suggestion_the_card_never_had_is_400(app: Flask, client: FlaskClient) -> None:
    card = issue(app, Topic.FRACTURE).evaluation.cards[0]
    foreign = str(uuid.uuid4())
    response = client.post(URL, json={"feedback": [
        accepted(card, acceptedSuggestions=[{"id": foreign}])]})
    assert response.status_code == 400
    assert foreign in diagnostics(response)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4),
    max_leaves=20,
)
_ENTRY = st.fixed_dictionaries({}, optional={
    "card": _JSON | st.uuids().map(str),
    "outcome": st.sampled_from(["accepted", "overridden", "", "ACCEPTED"]) | _JSON,
    "acceptedSuggestions": st.lists(st.fixed_dictionaries({"id": _JSON}), max_size=3) | _JSON,
    "overrideReason": st.fixed_dictionaries({}, optional={
        "reason": st.fixed_dictionaries({}, optional={"system": _JSON, "code": _JSON}) | _JSON,
        "userComment": _JSON}) | _JSON,
    "outcomeTimestamp": st.sampled_from(["2026-03-01T08:00:00Z", "2026-03-01", "now"]) | _JSON,
})


@pytest.fixture(scope="module")
def fuzz_client() -> FlaskClient:
    return make_test_app().test_client()  # in-memory SQLite: no card was ever issued


@settings(max_examples=300, deadline=None)
@given(body=st.fixed_dictionaries({"feedback": st.lists(_ENTRY, max_size=3) | _JSON}) | _JSON)
def test_no_body_makes_feedback_fail_with_a_500(fuzz_client: FlaskClient, body: Any) -> None:
    response = fuzz_client.post(URL, data=json.dumps(body), content_type="application/json")
    assert response.status_code in (200, 400, 404)
    if response.status_code != 200:
        diagnostics(response)
