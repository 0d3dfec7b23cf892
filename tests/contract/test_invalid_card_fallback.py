"""An emergency is never silently lost when its card cannot be built (safety principle 1).

A card that breaks the CDS Hooks response rules cannot be built: the wire objects check
the rules when constructed (:mod:`cds_rules.wire`). The engine then sends a smaller card
of the same topic and indicator: the minimal card (facts and reasons), or, when that
fails too, the fixed last-resort card of a critical or warning topic (an info card is
left out). The fault is injected into the card builders on a real scenario (urinary
retention: cauda equina critical) POSTed to the real app.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pytest

import fhir_samples
from cds_rules import Card, Topic, engine, to_json
from cds_rules.cards import fallback_card
from cds_rules.model import Indicator
from cds_rules.wire import InvalidWireObject
from service import metrics
from service.schemas import card_errors, validate_response
from tests.helpers import SERVICE_OF_HOOK, make_test_app

SCENARIO = fhir_samples.load("ces-urinary-retention-icd10")
PATIENT_TEXT = "Patient ces-retention " + "x" * 300
REAL_BUILD_CARD, REAL_MINIMAL_CARD, REAL_RUN_RULES = (
    engine.build_card, engine.minimal_card, engine.run_rules)


def _broken(real: Any) -> Any:
    """The real builder, with an invariant broken on its card: a summary far over 140
    characters that carries patient text (it must reach neither the clinician nor the
    log). Building it raises."""
    def build(*args: Any, **kwargs: Any) -> Card:
        return replace(real(*args, **kwargs), summary=PATIENT_TEXT)
    return build


def _call(monkeypatch: pytest.MonkeyPatch, *, minimal_breaks: bool = False,
          indicator: Indicator | None = None) -> dict[str, Any]:
    monkeypatch.setattr(engine, "build_card", _broken(REAL_BUILD_CARD))
    if minimal_breaks:
        monkeypatch.setattr(engine, "minimal_card", _broken(REAL_MINIMAL_CARD))
    if indicator is not None:
        monkeypatch.setattr(engine, "run_rules", lambda *a, **k: [
            replace(f, indicator=indicator) for f in REAL_RUN_RULES(*a, **k)])
    client = make_test_app(clock=lambda: SCENARIO.now).test_client()
    response = client.post(f"/cds-services/{SERVICE_OF_HOOK[SCENARIO.hook]}",
                           json=SCENARIO.request_body())
    assert response.status_code == 200
    answer: dict[str, Any] = response.get_json()
    assert validate_response(answer) == []
    return answer


def _topics(answer: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["source"]["topic"]["code"], c["indicator"]) for c in answer["cards"]]


def test_a_card_that_breaks_the_rules_cannot_be_built() -> None:
    findings, record = _group_and_record()
    assert REAL_MINIMAL_CARD(findings, record).topic == "cauda-equina"
    with pytest.raises(InvalidWireObject) as refused:
        _broken(REAL_MINIMAL_CARD)(findings, record)
    assert "Card.summary" in str(refused.value) and "xxxx" not in str(refused.value)


def _group_and_record() -> tuple[Any, Any]:
    from cds_rules import build_record

    record = build_record(SCENARIO.hook_request(), SCENARIO.now, engine.DEFAULT_SETTINGS)
    findings = REAL_RUN_RULES(record, SCENARIO.hook, engine.DEFAULT_SETTINGS)
    return findings, record


def test_a_broken_critical_card_goes_out_as_the_minimal_card_of_its_topic(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    invalid = metrics.CARDS_INVALID.labels(topic="cauda-equina")
    before = invalid._value.get()
    with caplog.at_level(logging.ERROR, logger="cds_rules.engine"):
        answer = _call(monkeypatch)
    assert _topics(answer) == [("cauda-equina", "critical")]
    card = answer["cards"][0]
    assert "xxxx" not in card["summary"] + card["detail"]
    assert "Condition/" in card["detail"]  # the minimal card still names the facts
    assert invalid._value.get() == before + 1  # counted: a bug to look at
    assert any("cauda-equina" in r.getMessage() for r in caplog.records)
    assert "xxxx" not in caplog.text and "ces-retention" not in caplog.text


@pytest.mark.parametrize("indicator", ["critical", "warning"])
def test_when_the_minimal_card_breaks_too_the_last_resort_card_goes_out(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        indicator: Indicator) -> None:
    with caplog.at_level(logging.ERROR, logger="cds_rules.engine"):
        answer = _call(monkeypatch, minimal_breaks=True, indicator=indicator)
    assert _topics(answer) == [("cauda-equina", indicator)]
    card = answer["cards"][0]
    assert "xxxx" not in card["summary"] + card["detail"]
    assert "CES-01" in card["detail"]
    assert "xxxx" not in caplog.text and "ces-retention" not in caplog.text


def test_a_broken_info_card_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _call(monkeypatch, minimal_breaks=True, indicator="info")["cards"] == []


@pytest.mark.parametrize("topic", list(Topic))
@pytest.mark.parametrize("indicator", ["critical", "warning"])
def test_the_last_resort_card_of_every_topic_conforms(topic: Topic,
                                                      indicator: Indicator) -> None:
    """With or without findings to name (it must never fail to build)."""
    card = to_json(fallback_card(topic, indicator))
    assert card_errors(card) == []
    assert validate_response({"cards": [card]}) == []
