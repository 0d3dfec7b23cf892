"""CONS-01 2.15.0: a fever or a weight loss that met no rule is named, never reassured over.

Before, coded back pain beside a temperature of 38.6 °C yesterday, with no risk factor for
spinal infection, got "No red flag recorded in the last 14 days (coded data)" and the advice
"Reassure". Which records are named: ``rule_cases/conservative_care.yaml``. Here, through
the record builder (FHIR in, cards out): what the card says of them is true to the record
(the independent review of the first version: a converted temperature printed as
"38.611 Cel", "no risk factor recorded" where one was, the malignancy age of the site's
settings ignored, a fever named over a cauda equina sign, "Reassure" over a fever)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cds_rules import HookRequest, evaluate, to_json
from cds_rules.settings import DEFAULT_SETTINGS, RuleSettings
from tests.unit.core.local_entries import LOINC, SNOMED, SUBJECT, UCUM

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)
BACK_PAIN = {"resourceType": "Condition", "id": "lbp", "subject": SUBJECT,
             "code": {"coding": [{"system": SNOMED, "code": "279039007"}]},
             "onsetDateTime": "2026-02-20"}


def _patient(born: str = "1990-05-01") -> dict[str, Any]:
    return {"resourceType": "Patient", "id": "p", "birthDate": born}


def _measured(resource_id: str, loinc: str, when: str, value: float, unit: str,
              comparator: str | None = None) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": value, "unit": unit, "system": UCUM, "code": unit}
    if comparator:
        quantity["comparator"] = comparator
    return {"resourceType": "Observation", "id": resource_id, "status": "final",
            "subject": SUBJECT, "effectiveDateTime": when,
            "code": {"coding": [{"system": LOINC, "code": loinc}]}, "valueQuantity": quantity}


def _temperature(value: float, unit: str = "Cel", when: str = "2026-02-28T18:00:00Z"
                 ) -> dict[str, Any]:
    return _measured("temp", "8310-5", when, value, unit)


def _weights(first: float, last: float, unit: str = "kg",
             comparator: str | None = None) -> tuple[dict[str, Any], ...]:
    return (_measured("w1", "29463-7", "2025-11-02T09:00:00Z", first, unit),
            _measured("w2", "29463-7", "2026-02-28T09:00:00Z", last, unit, comparator))


def _cards(*entries: dict[str, Any], born: str = "1990-05-01",
           settings: RuleSettings = DEFAULT_SETTINGS) -> dict[str, dict[str, Any]]:
    request = HookRequest(hook="patient-view", patient_id="p",
                          resources=(_patient(born), BACK_PAIN, *entries))
    return {c["source"]["topic"]["code"]: c
            for c in to_json(evaluate(request, NOW, settings).cards)}


def _advice(card: dict[str, Any]) -> str:
    return str(card["detail"]).split("**What to do**", 1)[1].split("**Thresholds", 1)[0]


def test_a_fever_in_fahrenheit_is_named_in_the_unit_it_was_read_rounded() -> None:
    card = _cards(_temperature(101.5, "[degF]"))["conservative-care"]
    assert "re-assess: fever (38.6 Cel) recorded, no red-flag rule met" in card["summary"]


def test_weights_in_pounds_are_named_in_kilograms_rounded() -> None:
    card = _cards(*_weights(180, 170, "[lb_av]"))["conservative-care"]
    assert "re-assess: weight loss (81.6 to 77.1 kg) recorded" in card["summary"]


def test_a_latest_weight_bounded_above_keeps_its_bound() -> None:
    # "<76 kg": the loss is at least what is named
    card = _cards(*_weights(82, 76, comparator="<"))["conservative-care"]
    assert "weight loss (82 to <76 kg)" in card["summary"]


def test_over_a_fever_the_advice_does_not_open_with_reassurance() -> None:
    advice = _advice(_cards(_temperature(40.2))["conservative-care"])
    assert "Reassure" not in advice
    assert advice.lstrip("\n- ").startswith("Fever with back pain: re-assess today")
    assert "Safety-net for cauda equina syndrome" in advice


def test_over_a_weight_loss_the_advice_asks_whether_it_is_explained() -> None:
    advice = _advice(_cards(*_weights(82, 76))["conservative-care"])
    assert "Reassure" not in advice
    assert "Weight loss with back pain: ask whether it is intended" in advice


def test_over_night_pain_alone_the_advice_is_the_rules_as_before() -> None:
    night = {"resourceType": "Condition", "id": "np", "subject": SUBJECT,
             "code": {"coding": [{"system": "https://backpain-cds.org/fhir/CodeSystem/"
                                            "local-finding", "code": "night-pain"}]},
             "onsetDateTime": "2026-02-27"}
    advice = _advice(_cards(night)["conservative-care"])
    assert advice.lstrip("\n- ").startswith("Reassure; advise staying active")


def test_what_malignancy_counts_follows_the_sites_settings() -> None:
    site = RuleSettings(malignancy_age=60, no_improvement_days=42)
    detail = _cards(*_weights(82, 76), born="1971-01-01", settings=site)["conservative-care"][
        "detail"]
    assert "MAL-01 counts it with a second factor (age over 60, no improvement after 42 " \
           "days, night pain)" in detail


def test_a_hidden_infection_card_is_not_contradicted() -> None:
    """The review's F1: the infection family switched off, INF-01 fires unseen on the fever
    and the drug use, and CONS-01 speaks over an unreadable entry; its line says what INF-01
    counts, never that no risk factor is recorded."""
    ivdu = {"resourceType": "Condition", "id": "ivdu", "subject": SUBJECT,
            "code": {"coding": [{"system": SNOMED, "code": "228388006"}]},
            "onsetDateTime": "2025-01-01"}
    unreadable = {"resourceType": "Observation", "id": "ret", "status": "final",
                  "subject": SUBJECT, "effectiveDateTime": "2026-02-30T10:00:00Z",
                  "code": {"coding": [{"system": SNOMED, "code": "267064002"}]}}
    site = RuleSettings(disabled_topics=frozenset({"infection"}))
    card = _cards(_temperature(38.6), ivdu, unreadable, settings=site)["conservative-care"]
    assert card["summary"].startswith("Check Urinary retention")
    assert "INF-01 counts one in the last 7 days, with a risk factor" in card["detail"]
    assert "no risk factor" not in card["detail"].lower()


def test_a_cauda_equina_sign_alone_is_named_beside_the_fever() -> None:
    """The review's F8: sexual dysfunction alone (a cauda equina sign that counts only with
    another) stays named; the fever is named with it, not over it."""
    sexual = {"resourceType": "Condition", "id": "sd", "subject": SUBJECT,
              "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                   "code": "R37"}]},
              "onsetDateTime": "2026-02-26"}
    summary = _cards(sexual, _temperature(38.6))["conservative-care"]["summary"]
    assert "re-assess: " in summary and " and fever (38.6 Cel) recorded" in summary
    assert summary.index("fever") > summary.index("re-assess: ") + len("re-assess: ")


def test_an_undated_coded_weight_loss_is_not_said_to_be_dated() -> None:
    lost = {"resourceType": "Condition", "id": "wl", "subject": SUBJECT,
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                 "code": "R63.4"}]}}
    card = _cards(lost)["conservative-care"]
    assert "re-assess: " in card["summary"]
    assert "A weight loss (coded, or weights falling by 5 % or more in the last 182 days)" \
        in card["detail"]


def test_a_fever_and_a_weight_loss_are_both_named_and_self_management_does_not_lead() -> None:
    """The second review: over both, the summary named the fever only, after
    "Self-management, stay active"."""
    summary = _cards(_temperature(40.2), *_weights(82, 76))["conservative-care"]["summary"]
    assert summary == ("Safety-net and re-assess: fever (40.2 Cel) and weight loss (82 to "
                       "76 kg) recorded, no red-flag rule met")


def test_a_coded_weight_loss_and_falling_weights_are_named_once() -> None:
    """The third review: "Re-assess Unintentional weight loss (coded) and Unintentional
    weight loss ..." named one weight loss twice."""
    lost = {"resourceType": "Condition", "id": "wl", "subject": SUBJECT,
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                 "code": "R63.4"}]}, "onsetDateTime": "2026-02-27"}
    old = {**lost, "id": "wl-old", "onsetDateTime": "2026-01-01"}
    summary = _cards(lost, old)["conservative-care"]["summary"]
    assert summary.count("eight loss") == 1, summary
