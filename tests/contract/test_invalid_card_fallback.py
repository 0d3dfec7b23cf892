"""An emergency is never silently lost by the shell (safety principle 1).

The shell drops a card that breaks the CDS Hooks response rules. When the dropped card
was critical or warning, a compliant minimal card of the same topic and indicator goes
out instead. The fault is injected into the card builder's output on a real scenario
(urinary retention: cauda equina critical) POSTed to the real app.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

import fhir_samples
from cds_rules import engine
from cds_rules.cards import fallback_card
from cds_rules.model import Indicator, Topic
from service.schemas import card_errors, validate_response
from tests.helpers import SERVICE_OF_HOOK, make_test_app

SCENARIO = fhir_samples.load("ces-urinary-retention-icd10")
REAL_BUILD_CARD = engine.build_card


def _broken_build_card(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """The real card with an invariant broken: a summary far over 140 characters that
    carries patient text (it must reach neither the clinician nor the log)."""
    card = REAL_BUILD_CARD(*args, **kwargs)
    card["summary"] = "Patient ces-retention " + "x" * 300
    return card


def _call(monkeypatch: pytest.MonkeyPatch, indicator: str | None = None) -> dict[str, Any]:
    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        card = _broken_build_card(*args, **kwargs)
        if indicator is not None:
            card["indicator"] = indicator
        return card

    monkeypatch.setattr(engine, "build_card", broken)
    client = make_test_app(clock=lambda: SCENARIO.now).test_client()
    response = client.post(f"/cds-services/{SERVICE_OF_HOOK[SCENARIO.hook]}",
                           json=SCENARIO.request_body())
    assert response.status_code == 200
    answer: dict[str, Any] = response.get_json()
    return answer


def test_a_broken_critical_card_is_replaced_by_a_compliant_one(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="service.hooks"):
        answer = _call(monkeypatch)
    assert validate_response(answer) == []
    got = [(c["source"]["topic"]["code"], c["indicator"]) for c in answer["cards"]]
    assert got == [("cauda-equina", "critical")]
    card = answer["cards"][0]
    assert "xxxx" not in card["summary"] + card["detail"]
    assert "CES-01" in card["detail"]
    messages = [r.getMessage() for r in caplog.records if r.name == "service.hooks"]
    assert any("cauda-equina" in m for m in messages)
    assert not any("ces-retention" in m or "xxxx" in m for m in messages)


def test_a_broken_warning_card_is_replaced_too(monkeypatch: pytest.MonkeyPatch) -> None:
    answer = _call(monkeypatch, indicator="warning")
    assert validate_response(answer) == []
    got = [(c["source"]["topic"]["code"], c["indicator"]) for c in answer["cards"]]
    assert got == [("cauda-equina", "warning")]


def test_a_broken_info_card_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _call(monkeypatch, indicator="info")["cards"] == []


@pytest.mark.parametrize("topic", list(Topic))
@pytest.mark.parametrize("indicator", ["critical", "warning"])
def test_the_minimal_card_of_every_topic_conforms(topic: Topic, indicator: Indicator) -> None:
    """With or without findings to name (the replacement must never be dropped too)."""
    assert card_errors(fallback_card(topic, indicator)) == []
    assert validate_response({"cards": [fallback_card(topic, indicator)]}) == []
