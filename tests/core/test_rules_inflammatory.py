"""SPA-01: NICE NG65 criteria for inflammatory back pain / axial spondyloarthritis."""

from __future__ import annotations

from tests.core.rule_records import card, fact, patient, run, suggested_orders, topics

TOPIC = "inflammatory-back-pain"
FEATURES = ["night_waking_second_half", "alternating_buttock_pain", "improves_with_movement",
            "nsaid_response", "family_history_spa", "arthritis_enthesitis_psoriasis"]


def features(n: int) -> list:
    return [fact(concept, 30) for concept in FEATURES[:n]]


def test_four_features_refer() -> None:
    # onset at 40 (no "onset before 35" feature), 4 coded features
    result = run(patient(*features(4), age=41, back_pain_days=200))
    assert topics(result)[TOPIC] == "info"
    assert any("Rheumatology" in t for t in suggested_orders(card(result, TOPIC)))


def test_early_onset_counts_as_a_feature() -> None:
    assert topics(run(patient(*features(3), age=30, back_pain_days=200)))[TOPIC] == "info"


def test_three_features_without_hla_b27_result_do_not_fire() -> None:
    assert TOPIC not in topics(run(patient(*features(3), age=41, back_pain_days=200)))


def test_three_features_and_positive_hla_b27_refer() -> None:
    b27 = fact("hla_b27", 60, resource_type="Observation", display="HLA-B27 positive")
    result = run(patient(*features(3), b27, age=41, back_pain_days=200))
    assert any("Rheumatology" in t for t in suggested_orders(card(result, TOPIC)))


def test_three_features_and_negative_hla_b27_do_not_fire() -> None:
    b27 = fact("hla_b27", 60, resource_type="Observation", display="HLA-B27 negative")
    assert TOPIC not in topics(run(patient(*features(3), b27, age=41, back_pain_days=200)))


def test_onset_after_45_does_not_qualify() -> None:
    assert TOPIC not in topics(run(patient(*features(5), age=52, back_pain_days=200)))


def test_under_three_months_does_not_qualify() -> None:
    assert TOPIC not in topics(run(patient(*features(5), age=30, back_pain_days=60)))


def test_known_axial_spondyloarthritis() -> None:
    assert topics(run(patient(fact("axial_spondyloarthritis", 900), age=50)))[TOPIC] == "info"


def test_new_neurology_makes_it_a_warning() -> None:
    record = patient(fact("axial_spondyloarthritis", 900),
                     fact("leg_sensory_symptoms", 3, laterality="left"), age=50)
    assert topics(run(record))[TOPIC] == "warning"
