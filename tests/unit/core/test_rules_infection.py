"""INF-01: fever with a risk factor, or a coded spinal infection; critical with a deficit
or a known abscess."""

from __future__ import annotations

import pytest

from cds_rules.settings import RuleSettings
from tests.unit.core.rule_records import card, fact, obs, patient, run, topics

TOPIC = "infection"
RISKS = [
    fact("iv_drug_use", 400),
    fact("immunosuppression", 400),
    fact("immunosuppressant_drug", 200, resource_type="MedicationStatement"),
    fact("long_term_steroids", 400),
    fact("systemic_corticosteroid", 120, resource_type="MedicationRequest"),
    fact("recent_infection", 20),
    fact("pyelonephritis", 20),
    fact("recent_spinal_procedure", 30, resource_type="Procedure"),
]


@pytest.mark.parametrize("risk", RISKS, ids=lambda f: f.concept)
def test_coded_fever_with_each_risk(risk) -> None:
    assert topics(run(patient(fact("fever", 2), risk)))[TOPIC] == "warning"


@pytest.mark.parametrize("risk", RISKS, ids=lambda f: f.concept)
def test_measured_fever_with_each_risk(risk) -> None:
    record = patient(obs("body_temperature", 38.4, 1, "Cel"), risk)
    assert topics(run(record))[TOPIC] == "warning"


def test_temperature_below_threshold() -> None:
    record = patient(obs("body_temperature", 37.9, 1, "Cel"), fact("iv_drug_use", 400))
    assert TOPIC not in topics(run(record))


def test_fever_threshold_is_configurable_and_disclosed() -> None:
    record = patient(obs("body_temperature", 37.9, 1, "Cel"), fact("iv_drug_use", 400))
    result = run(record, settings=RuleSettings(fever_celsius=37.5))
    assert "BACKPAIN_CDS_FEVER_CELSIUS` = 37.5" in card(result, TOPIC)["detail"]


def test_fever_outside_window() -> None:
    record = patient(fact("fever", 10), fact("iv_drug_use", 400))
    assert TOPIC not in topics(run(record))


def test_fever_alone_or_risk_alone() -> None:
    assert TOPIC not in topics(run(patient(fact("fever", 1))))
    assert TOPIC not in topics(run(patient(fact("iv_drug_use", 1))))


def test_short_steroid_course_is_not_long_term() -> None:
    record = patient(fact("fever", 1), fact("systemic_corticosteroid", 30,
                                            resource_type="MedicationRequest"))
    assert TOPIC not in topics(run(record))


def test_steroid_duration_given_as_value() -> None:
    course = fact("systemic_corticosteroid", 10, value=100, unit="d",
                  resource_type="MedicationRequest")
    assert TOPIC in topics(run(patient(fact("fever", 1), course)))


def test_old_spinal_procedure_is_not_recent() -> None:
    record = patient(fact("fever", 1), fact("recent_spinal_procedure", 400,
                                            resource_type="Procedure"))
    assert TOPIC not in topics(run(record))


def test_coded_discitis_without_fever() -> None:
    assert topics(run(patient(fact("spinal_infection", 5))))[TOPIC] == "warning"


def test_known_abscess_is_critical() -> None:
    assert topics(run(patient(fact("epidural_abscess", 2))))[TOPIC] == "critical"


def test_infection_with_deficit_is_critical() -> None:
    record = patient(fact("fever", 1), fact("iv_drug_use", 400),
                     fact("muscle_weakness", 1, laterality="left"))
    assert topics(run(record))[TOPIC] == "critical"


def test_suggests_labs_and_cultures() -> None:
    labels = [s["label"] for s in card(run(patient(fact("spinal_infection", 5))),
                                       TOPIC)["suggestions"]]
    assert any("CRP" in x for x in labels) and any("ESR" in x for x in labels)
    assert any("Blood cultures" in x for x in labels)
