"""SPA-01 / SPA-02: NICE NG65 criteria for inflammatory back pain / axial spondyloarthritis."""

from __future__ import annotations

from cds_rules.rules.inflammatory import SPA_02
from tests.unit.core.rule_records import card, fact, patient, run, suggested_orders, topics

TOPIC = "inflammatory-back-pain"
FEATURES = ["night_waking_second_half", "buttock_pain", "improves_with_movement",
            "nsaid_response", "family_history_spa", "arthritis", "enthesitis", "psoriasis"]


def features(n: int) -> list:
    return [fact(concept, 30) for concept in FEATURES[:n]]


def test_four_features_refer() -> None:
    # onset at 40 (no "onset before 35" feature), 4 coded features
    result = run(patient(*features(4), age=41, back_pain_days=200))
    assert topics(result)[TOPIC] == "info"
    assert any("Rheumatology" in t for t in suggested_orders(card(result, TOPIC)))


def test_early_onset_counts_as_a_feature() -> None:
    assert topics(run(patient(*features(3), age=30, back_pain_days=200)))[TOPIC] == "info"


def b27_result(value: float) -> object:
    """An HLA-B27 Observation as the record builder keeps it: 1.0 positive, 0.0 negative."""
    return fact("hla_b27", 60, resource_type="Observation", value=value, display="HLA-B27")


def test_three_features_without_hla_b27_result_test_hla_b27() -> None:
    # NG65: exactly 3 criteria -> perform an HLA-B27 test (refer if positive)
    result = run(patient(*features(3), age=41, back_pain_days=200))
    shown = card(result, TOPIC)
    assert topics(result) == {TOPIC: "info"}
    assert "test HLA-B27" in shown["summary"]
    assert suggested_orders(shown) == ["HLA-B27", "C-reactive protein (CRP)",
                                       "Erythrocyte sedimentation rate (ESR)"]
    assert shown["suggestions"][0].get("isRecommended") is True
    assert "NICE NG65" in shown["detail"] and f"SPA-02 v{SPA_02.version}" in shown["detail"]


def test_three_features_and_positive_hla_b27_refer() -> None:
    result = run(patient(*features(3), b27_result(1.0), age=41, back_pain_days=200))
    orders = suggested_orders(card(result, TOPIC))
    assert any("Rheumatology" in t for t in orders) and "HLA-B27" not in orders


def test_three_features_and_negative_hla_b27_do_not_fire() -> None:
    record = patient(*features(3), b27_result(0.0), age=41, back_pain_days=200)
    assert topics(run(record)) == {"conservative-care": "info"}


def test_newest_hla_b27_result_decides() -> None:
    old_positive = fact("hla_b27", 400, resource_type="Observation", value=1.0)
    record = patient(*features(3), old_positive, b27_result(0.0), age=41, back_pain_days=200)
    assert TOPIC not in topics(run(record))


def test_conflicting_hla_b27_results_of_the_same_time_count_as_positive() -> None:
    record = patient(*features(3), b27_result(0.0), b27_result(1.0), age=41,
                     back_pain_days=200)
    reversed_record = patient(*features(3), b27_result(1.0), b27_result(0.0), age=41,
                              back_pain_days=200)
    for each in (record, reversed_record):
        assert any("Rheumatology" in t for t in suggested_orders(card(run(each), TOPIC)))


def test_hla_b27_negative_text_without_value_is_negative() -> None:
    # e.g. a coded Condition "HLA-B27 negative": no value, read from its text
    b27 = fact("hla_b27", 60, display="HLA-B27 negative")
    assert TOPIC not in topics(run(patient(*features(3), b27, age=41, back_pain_days=200)))


def test_negative_hla_b27_alone_never_fires() -> None:
    # a negative result is a fact now: it must not count as a feature or a positive
    for n in (0, 1, 2):
        result = run(patient(*features(n), b27_result(0.0), age=41, back_pain_days=200))
        assert TOPIC not in topics(result)


def test_two_features_do_not_prompt_a_test() -> None:
    assert TOPIC not in topics(run(patient(*features(2), age=41, back_pain_days=200)))


def test_known_axial_spa_with_three_features_is_not_asked_to_test() -> None:
    record = patient(fact("axial_spondyloarthritis", 900), *features(3), age=41,
                     back_pain_days=200)
    shown = card(run(record), TOPIC)
    assert "HLA-B27" not in suggested_orders(shown) and "SPA-02" not in shown["detail"]


def test_three_features_test_card_needs_qualifying_back_pain() -> None:
    # NG65: began before 45 and lasting over 3 months
    assert TOPIC not in topics(run(patient(*features(3), age=52, back_pain_days=200)))
    assert TOPIC not in topics(run(patient(*features(3), age=41, back_pain_days=60)))


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


def test_arthritis_enthesitis_psoriasis_are_three_criteria() -> None:
    """NICE NG65 (clinical review 2026, finding 11): three separate criteria, current or
    past. With night waking they make four: refer (they were one feature before)."""
    record = patient(fact("night_waking_second_half", 30), fact("arthritis", 3000, history=True),
                     fact("enthesitis", 900, history=True), fact("psoriasis", 2000),
                     age=41, back_pain_days=200)
    result = run(record)
    assert topics(result)[TOPIC] == "info"
    shown = card(result, TOPIC)
    assert any("Rheumatology" in t for t in suggested_orders(shown))
    assert "4 NICE NG65 features" in shown["detail"]


def test_buttock_pain_counts_not_only_alternating() -> None:
    three = [fact("buttock_pain", 30, display="Buttock pain"), fact("improves_with_movement", 30),
             fact("nsaid_response", 30)]
    result = run(patient(*three, age=41, back_pain_days=200))
    assert "test HLA-B27" in card(result, TOPIC)["summary"]
    two = run(patient(*three[1:], age=41, back_pain_days=200))
    assert TOPIC not in topics(two)
