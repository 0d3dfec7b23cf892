"""SPA-01 / SPA-02: what the cards offer and cite. Which cards fire (NICE NG65 criteria):
``rule_cases/inflammatory.yaml``."""

from __future__ import annotations

from cds_rules.rules.inflammatory import SPA_02
from tests.unit.core.rule_records import card, fact, patient, run, suggested_orders

TOPIC = "inflammatory-back-pain"
FEATURES = ["night_waking_second_half", "buttock_pain", "improves_with_movement",
            "nsaid_response", "family_history_spa", "arthritis", "enthesitis", "psoriasis"]


def features(n: int) -> list:
    return [fact(concept, 30) for concept in FEATURES[:n]]


def b27_result(value: float) -> object:
    """An HLA-B27 Observation as the record builder keeps it: 1.0 positive, 0.0 negative."""
    return fact("hla_b27", 60, resource_type="Observation", value=value, display="HLA-B27")


def test_four_features_refer_to_rheumatology() -> None:
    result = run(patient(*features(4), age=41, back_pain_days=200))
    assert any("Rheumatology" in t for t in suggested_orders(card(result, TOPIC)))


def test_the_hla_b27_test_is_recommended_and_the_card_names_spa_02() -> None:
    shown = card(run(patient(*features(3), age=41, back_pain_days=200)), TOPIC)
    assert shown["suggestions"][0].get("isRecommended") is True
    assert f"SPA-02 v{SPA_02.version}" in shown["detail"]


def test_three_features_and_positive_hla_b27_refer() -> None:
    result = run(patient(*features(3), b27_result(1.0), age=41, back_pain_days=200))
    orders = suggested_orders(card(result, TOPIC))
    assert any("Rheumatology" in t for t in orders) and "HLA-B27" not in orders


def test_conflicting_hla_b27_results_of_the_same_time_count_as_positive() -> None:
    record = patient(*features(3), b27_result(0.0), b27_result(1.0), age=41,
                     back_pain_days=200)
    reversed_record = patient(*features(3), b27_result(1.0), b27_result(0.0), age=41,
                              back_pain_days=200)
    for each in (record, reversed_record):
        assert any("Rheumatology" in t for t in suggested_orders(card(run(each), TOPIC)))


def test_known_axial_spa_with_three_features_is_not_asked_to_test() -> None:
    record = patient(fact("axial_spondyloarthritis", 900), *features(3), age=41,
                     back_pain_days=200)
    shown = card(run(record), TOPIC)
    assert "HLA-B27" not in suggested_orders(shown) and "SPA-02" not in shown["detail"]


def test_arthritis_enthesitis_psoriasis_with_night_waking_refer() -> None:
    """NICE NG65 (clinical review 2026, finding 11): three separate criteria, current or
    past; with night waking they make four: refer (they were one feature before)."""
    record = patient(fact("night_waking_second_half", 30), fact("arthritis", 3000, history=True),
                     fact("enthesitis", 900, history=True), fact("psoriasis", 2000),
                     age=41, back_pain_days=200)
    assert any("Rheumatology" in t for t in suggested_orders(card(run(record), TOPIC)))
