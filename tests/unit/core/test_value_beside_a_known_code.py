"""A red flag coded in an Observation's value under a code that names something else.

An Observation coded Low back pain (SNOMED CT 279039007) whose value is coded Cauda equina
syndrome (192970008): the value was read only when the code named nothing the value sets
know, so the coded emergency was passed over: with no display, the conservative card ("No
red flag recorded"); with a display, only the uncoded warning of its words (the twenty-first
session's note). So was a component's coded value: a panel "Back pain assessment" whose
component "Bladder" is valued urinary retention gave the conservative card. Each rule
reading a finding from an Observation is one minor on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules import HookRequest, evaluate
from cds_rules.record import build_record
from cds_rules.settings import DEFAULT_SETTINGS

SNOMED = "http://snomed.info/sct"
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
LOW_BACK_PAIN = {"system": SNOMED, "code": "279039007"}
CES = {"system": SNOMED, "code": "192970008"}
RETENTION = {"system": SNOMED, "code": "267064002"}


def _request(*extra: dict[str, Any]) -> HookRequest:
    return HookRequest(hook="patient-view", patient_id="p", resources=(
        {"resourceType": "Patient", "id": "p", "birthDate": "1971-05-01", "gender": "male"},
        {"resourceType": "Condition", "id": "lbp", "subject": {"reference": "Patient/p"},
         "code": {"coding": [LOW_BACK_PAIN]}, "onsetDateTime": "2026-11-15"},
        *extra))


def _observation(code: dict[str, Any], *value: dict[str, Any], **elements: Any
                 ) -> dict[str, Any]:
    observation = {"resourceType": "Observation", "id": "o", "status": "final",
                   "subject": {"reference": "Patient/p"}, "code": {"coding": [code]},
                   "effectiveDateTime": "2026-11-21",
                   "valueCodeableConcept": {"coding": list(value)}}
    observation.update(elements)
    return observation


def _cards(*extra: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c.topic, c.indicator) for c in evaluate(_request(*extra), NOW).cards]


@pytest.mark.parametrize("value", [
    CES, dict(CES, display="Cauda equina syndrome"), RETENTION,
    dict(RETENTION, display="Retention of urine"),
], ids=["ces", "ces-with-display", "retention", "retention-with-display"])
def test_a_red_flag_value_under_a_back_pain_code_is_the_coded_red_flag(
        value: dict[str, Any]) -> None:
    """Before: the conservative card (no display) or only the uncoded warning (display)."""
    assert _cards(_observation(LOW_BACK_PAIN, value)) == [("cauda-equina", "critical")]


def test_the_value_is_read_as_a_coded_fact_with_its_own_code() -> None:
    record = build_record(_request(_observation(LOW_BACK_PAIN, CES)), NOW, DEFAULT_SETTINGS)
    facts = [(f.concept, f.code, f.source) for f in record.facts if f.source == "Observation/o"]
    assert ("cauda_equina_syndrome", "192970008", "Observation/o") in facts
    assert ("low_back_pain", "279039007", "Observation/o") in facts
    assert not [f for f in record.facts if f.concept.startswith("uncoded:")]


def test_a_value_stated_absent_beside_it_is_not_read() -> None:
    absent = {"system": SNOMED, "code": "2667000", "display": "Absent"}
    assert _cards(_observation(LOW_BACK_PAIN, CES, absent)) == [("conservative-care", "info")]


@pytest.mark.parametrize("status", ["entered-in-error", "cancelled"])
def test_an_observation_not_in_force_is_not_read(status: str) -> None:
    assert _cards(_observation(LOW_BACK_PAIN, CES, status=status)) == \
        [("conservative-care", "info")]


def test_a_value_naming_the_codes_own_finding_is_one_fact() -> None:
    """Code and value both urinary retention: one fact, as before."""
    record = build_record(_request(_observation(RETENTION, RETENTION)), NOW, DEFAULT_SETTINGS)
    assert [f.concept for f in record.facts if f.source == "Observation/o"] == \
        ["urinary_retention"]


def test_a_red_flag_value_under_another_red_flag_code_gives_both() -> None:
    """Code urinary retention, value cauda equina syndrome: both are read."""
    record = build_record(_request(_observation(RETENTION, CES)), NOW, DEFAULT_SETTINGS)
    assert sorted(f.concept for f in record.facts if f.source == "Observation/o") == \
        ["cauda_equina_syndrome", "urinary_retention"]


def test_a_quantity_code_with_a_coded_finding_value_reads_the_finding() -> None:
    """Body temperature (LOINC 8310-5) valued Fever (SNOMED CT 386661006): the fever is read
    (no number to read, as before)."""
    temperature = {"system": "http://loinc.org", "code": "8310-5"}
    fever = {"system": SNOMED, "code": "386661006"}
    record = build_record(_request(_observation(temperature, fever)), NOW, DEFAULT_SETTINGS)
    assert [f.concept for f in record.facts if f.source == "Observation/o"] == ["fever"]


def test_a_malformed_observation_is_set_aside_by_its_value_too() -> None:
    """An entry that fails validation is named by the red flag of its value, not only by
    its back-pain code."""
    broken = _observation(LOW_BACK_PAIN, CES, effectiveDateTime="yesterday")
    record = build_record(_request(broken), NOW, DEFAULT_SETTINGS)
    assert "cauda_equina_syndrome" in {f.concept for f in record.unreadable_red_flags}


def test_a_value_under_a_code_of_a_past_history_is_left_to_its_words() -> None:
    """ICD-10-CM Z85.46 (personal history of prostate cancer, a history code) valued spinal
    cord compression: read as a past finding, the rules would not see it at all (they read
    current facts); its display warns, as before (review H1)."""
    history = {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "Z85.46"}
    compression = {"system": SNOMED, "code": "71286001", "display": "Spinal cord compression"}
    record = build_record(_request(_observation(history, compression)), NOW, DEFAULT_SETTINGS)
    assert [f.concept for f in record.facts if f.source == "Observation/o"] == \
        ["cancer", "uncoded:spinal-cord-compression"]
    assert sorted(_cards(_observation(history, compression))) == [
        ("malignancy", "warning"), ("spinal-cord-compression", "warning")]


@pytest.mark.parametrize("code", [
    {"system": "https://backpain-cds.org/fhir/CodeSystem/local-finding",
     "code": "family-history-spondyloarthritis"},
    {"system": SNOMED, "code": "202725007"},  # post-laminectomy syndrome: a past operation
], ids=["family-history", "past-operation"])
def test_a_value_under_another_persons_or_a_past_events_code_is_left_to_its_words(
        code: dict[str, Any]) -> None:
    """A family's spondylitis is not the patient's; a past operation's indication is not a
    present emergency (review M3)."""
    spondylitis = {"system": SNOMED, "code": "9631008"}
    record = build_record(_request(_observation(code, spondylitis, CES)), NOW,
                          DEFAULT_SETTINGS)
    read = [f.concept for f in record.facts if f.source == "Observation/o"]
    assert "axial_spondyloarthritis" not in read and "cauda_equina_syndrome" not in read


@pytest.mark.parametrize("text", ["CES ruled out", "? cauda equina syndrome", "Unlikely",
                                  "Suspected CES - MRI normal"])
def test_a_value_with_words_of_its_own_is_left_to_them(text: str) -> None:
    """Under a known code, a coded value whose text says more than its displays is read as
    before, by its words: the coding must not overrule "ruled out" (review H3)."""
    value = {"coding": [CES], "text": text}
    observation = _observation(LOW_BACK_PAIN)
    observation["valueCodeableConcept"] = value
    assert ("cauda-equina", "critical") not in _cards(observation)


def test_a_value_whose_text_repeats_its_display_is_the_coded_finding() -> None:
    value = {"coding": [dict(CES, display="Cauda equina syndrome")],
             "text": "Cauda equina syndrome"}
    observation = _observation(LOW_BACK_PAIN)
    observation["valueCodeableConcept"] = value
    assert _cards(observation) == [("cauda-equina", "critical")]


def test_a_display_the_coded_rules_do_not_count_keeps_its_uncoded_warning() -> None:
    """A local leg weakness code displayed "Weakness of the leg" under a back pain code: a
    coded leg weakness alone gives no card, its words warn, as before (review M1: the value
    read as coded must not take the words' warning away)."""
    weakness = {"system": "https://backpain-cds.org/fhir/CodeSystem/local-finding",
                "code": "leg-weakness", "display": "Weakness of the leg"}
    assert _cards(_observation(LOW_BACK_PAIN, weakness)) == \
        [("progressive-neurological-deficit", "warning")]


def _panel(component_code: dict[str, Any], *value: dict[str, Any]) -> dict[str, Any]:
    """A back pain assessment panel (words only) with one component valued by ``value``."""
    return {"resourceType": "Observation", "id": "panel", "status": "final",
            "subject": {"reference": "Patient/p"}, "code": {"text": "Back pain assessment"},
            "effectiveDateTime": "2026-11-21",
            "component": [{"code": component_code,
                           "valueCodeableConcept": {"coding": list(value)}}]}


@pytest.mark.parametrize("component_code", [
    {"coding": [{"system": "http://loinc.org", "code": "72133-2"}]},
    {"text": "Bladder"},
    {"coding": [LOW_BACK_PAIN]},
], ids=["unknown-code", "words", "back-pain-code"])
def test_a_red_flag_coded_in_a_components_value_is_read(component_code: dict[str, Any]) -> None:
    """Before: a component was read only by its code, so a coded retention as its answer
    gave the conservative card."""
    assert _cards(_panel(component_code, RETENTION)) == [("cauda-equina", "critical")]


def test_a_components_value_stated_absent_is_not_read() -> None:
    absent = {"system": SNOMED, "code": "2667000"}
    assert _cards(_panel({"text": "Bladder"}, RETENTION, absent)) == \
        [("conservative-care", "info")]


def test_a_coded_card_does_not_say_its_value_was_not_read_as_coded() -> None:
    """The display of a value read as coded is not also an 'uncoded entry' on the card of
    its family (a second review: the critical card said "It was not evaluated as a coded
    red flag")."""
    value = dict(CES, display="Cauda equina syndrome")
    cards = evaluate(_request(_observation(LOW_BACK_PAIN, value)), NOW).cards
    assert [(c.topic, c.indicator) for c in cards] == [("cauda-equina", "critical")]
    assert "not evaluated as a coded red flag" not in cards[0].detail


def test_a_back_pain_valued_under_another_code_does_not_date_the_episode() -> None:
    """A second review: "Type 2 diabetes" valued "Low back pain", dated June, read as coded
    made the episode start in June, so "not improving" (pain 6 then 7 since October) was
    no longer judged and the malignancy warning fell to the myeloma info card."""
    diabetes = {"system": SNOMED, "code": "44054006"}

    def score(id_: str, day: str, value: int) -> dict[str, Any]:
        return {"resourceType": "Observation", "id": id_, "status": "final",
                "subject": {"reference": "Patient/p"}, "effectiveDateTime": day,
                "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]},
                "valueInteger": value}
    resources = (
        {"resourceType": "Patient", "id": "p", "birthDate": "1960-05-01", "gender": "male"},
        {"resourceType": "Condition", "id": "lbp", "subject": {"reference": "Patient/p"},
         "code": {"coding": [LOW_BACK_PAIN]}, "onsetDateTime": "2026-10-01"},
        score("s1", "2026-10-05", 6), score("s2", "2026-11-20", 7),
        _observation(diabetes, LOW_BACK_PAIN, effectiveDateTime="2026-06-01"))
    cards = evaluate(HookRequest(hook="patient-view", patient_id="p", resources=resources),
                     NOW).cards
    assert [(c.topic, c.indicator) for c in cards] == [("malignancy", "warning")]


def test_the_why_line_of_one_entry_names_every_finding_read_from_it() -> None:
    """A second review: a numbness Observation valued discitis gave an infection critical
    whose "Why" named only the numbness (one line per source resource, its first fact)."""
    numbness = {"system": "https://backpain-cds.org/fhir/CodeSystem/local-finding",
                "code": "leg-numbness-tingling", "display": "Numbness or tingling in the leg"}
    discitis = {"system": SNOMED, "code": "2304001", "display": "Intervertebral discitis"}
    cards = evaluate(_request(_observation(numbness, discitis)), NOW).cards
    assert [(c.topic, c.indicator) for c in cards] == [("infection", "critical")]
    assert "- Numbness or tingling in the leg; Intervertebral discitis — 2026-11-21 — " \
           "`Observation/o`" in cards[0].detail
