"""Uncoded entries naming a red flag: a warning on the family's topic, never silence,
never critical; negated text, other families' exclusions and resolved entries stay quiet."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules import HookRequest, evaluate, to_json
from cds_rules.model import Topic
from cds_rules.record.negation import closes_negated
from cds_rules.uncoded import suggested

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)
LOCAL = "http://hospital.example.org/fhir/CodeSystem/problems"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Saddle anaesthesia", {Topic.CAUDA_EQUINA}),
        ("saddle anesthesia", {Topic.CAUDA_EQUINA}),
        ("Unable to pass urine since yesterday", {Topic.CAUDA_EQUINA}),
        ("Faecal incontinence", {Topic.CAUDA_EQUINA}),
        ("No saddle anaesthesia", set()),
        ("Patient denies urinary retention", set()),
        ("urinary retention: absent", set()),
        ("No incontinence. Urinary retention noted", {Topic.CAUDA_EQUINA}),
        ("Spinal cord compression", {Topic.SPINAL_CORD_COMPRESSION}),
        ("Cervical myelopathy", {Topic.SPINAL_CORD_COMPRESSION}),
        ("Right foot drop", {Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT}),
        ("Metastatic breast cancer", {Topic.MALIGNANCY}),
        ("Basal cell carcinoma of cheek", set()),
        ("Personal history of other malignant neoplasm of skin", set()),  # Z85.828
        ("Malignant melanoma of skin", {Topic.MALIGNANCY}),
        ("Family history of cancer", set()),
        ("Lumbar discitis", {Topic.INFECTION}),
        ("Epidural abscess", {Topic.INFECTION}),
        ("Osteoporotic wedge fracture T12", {Topic.FRACTURE}),
        ("Known AAA 4.5 cm", {Topic.VISCERAL_OR_VASCULAR}),
        ("Seasonal allergic rhinitis", set()),
        ("Haemoglobin A1c", set()),
        # A denial before the sign, alone or in an "or" list (UNCODED-* 1.6.0 and later):
        ("Spondylosis without myelopathy or radiculopathy, cervical region", set()),  # M47.812
        ("Cervical spondylosis without myelopathy", set()),
        ("Low back pain with no saddle anaesthesia or urinary retention", set()),
        ("No evidence of cauda equina", set()),
        ("Does not have saddle anaesthesia", set()),
        ("Cervical disc disorder with myelopathy", {Topic.SPINAL_CORD_COMPRESSION}),
        ("Urinary retention without overflow", {Topic.CAUDA_EQUINA}),
        ("Low back pain without sciatica, with urinary retention", {Topic.CAUDA_EQUINA}),
        ("No improvement in urinary retention", {Topic.CAUDA_EQUINA}),
        # Each part of a sentence on its own (before: the whole sentence denied):
        ("No incontinence, urinary retention noted", {Topic.CAUDA_EQUINA}),
        ("No leg weakness but new urinary retention", {Topic.CAUDA_EQUINA}),
        ("Denies incontinence, reports saddle numbness", {Topic.CAUDA_EQUINA}),
        ("Without bladder involvement, has saddle anaesthesia", {Topic.CAUDA_EQUINA}),
        ("Foot drop present, urinary retention absent", {Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT}),
        # A verdict that closes the question, not one that keeps it open:
        ("Cauda equina syndrome ruled out", set()),
        ("Cord compression excluded", set()),
        ("Cauda equina syndrome has been excluded", set()),
        ("Cauda equina not ruled out", {Topic.CAUDA_EQUINA}),
        ("Cauda equina syndrome to be ruled out", {Topic.CAUDA_EQUINA}),
        ("Cord compression cannot be excluded", {Topic.SPINAL_CORD_COMPRESSION}),
        ("?Cauda equina syndrome - excluded?", {Topic.CAUDA_EQUINA}),
        # Not the patient's finding, in any family:
        ("Encounter for screening for osteoporosis", set()),  # Z13.820
        ("Family history of aortic aneurysm", set()),
        ("Carcinoma, basal cell", set()),
        # Independent review of the above (December 2026): a denial carried across a comma
        # list, never through a word that asserts, tells the course or changes the subject;
        # screening / family history deny only the sign they govern; a closing verdict
        # denies the last sign only.
        ("No saddle anaesthesia, urinary retention or faecal incontinence", set()),
        # a comma list without "or" keeps its items (the safe side: "No trauma, foot drop")
        ("Denies saddle anaesthesia, urinary retention, faecal incontinence",
         {Topic.CAUDA_EQUINA}),
        ("Denies any saddle anaesthesia, urinary retention or faecal incontinence", set()),
        ("No saddle anaesthesia, no urinary retention, no faecal incontinence", set()),
        ("No urinary retention noted", set()),
        ("Patient has not had urinary retention", set()),
        ("No clinical signs of cord compression", set()),
        ("CES screening: new urinary retention and saddle anaesthesia", {Topic.CAUDA_EQUINA}),
        ("Red flag screening positive: urinary retention", {Topic.CAUDA_EQUINA}),
        ("Family history of ankylosing spondylitis, new urinary retention",
         {Topic.CAUDA_EQUINA}),
        ("MRI not yet done for suspected cauda equina syndrome", {Topic.CAUDA_EQUINA}),
        ("Sent home without catheter despite urinary retention", {Topic.CAUDA_EQUINA}),
        ("Perineum: no sensation - saddle anaesthesia", {Topic.CAUDA_EQUINA}),
        ("Urinary retention - cauda equina syndrome ruled out", {Topic.CAUDA_EQUINA}),
        ("No saddle anaesthesia or retention but new faecal incontinence",
         {Topic.CAUDA_EQUINA}),
        # screening / family history deny only the sign they govern (fourth review: a whole
        # sentence excluded silenced "Family history of cancer, personal history of myeloma")
        # a screen is not the cancer (twenty-second session), a cancer a screen found is
        ("Breast cancer screening", set()),
        ("Screen-detected breast cancer", {Topic.MALIGNANCY}),
        ("Family history of breast cancer", set()),
        ("Family history of cancer, personal history of myeloma", {Topic.MALIGNANCY}),
        ("Screening for cancer found metastatic carcinoma", {Topic.MALIGNANCY}),
        # Second independent review (December 2026): a denial never reaches across a comma
        # into an unrelated item, and a checklist item's own answer denies that item only.
        ("No trauma, foot drop", {Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT}),
        ("Non-smoker, no alcohol, myeloma", {Topic.MALIGNANCY}),
        ("Lives alone, no carers, cauda equina syndrome", {Topic.CAUDA_EQUINA}),
        ("No allergies, osteoporosis on alendronate", {Topic.FRACTURE}),
        ("No other PMH, metastatic breast cancer 2019", {Topic.MALIGNANCY}),
        ("No fever, spinal epidural abscess", {Topic.INFECTION}),
        ("No history of trauma, collapsed vertebra", {Topic.FRACTURE}),
        ("Denies trauma, progressive weakness both legs",
         {Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT}),
        ("Denies saddle anaesthesia, urinary retention 600ml on bladder scan",
         {Topic.CAUDA_EQUINA}),
        ("No leg weakness, urinary retention +", {Topic.CAUDA_EQUINA}),
        ("No fever, faecal incontinence x2 overnight", {Topic.CAUDA_EQUINA}),
        ("No red flags, urinary retention", {Topic.CAUDA_EQUINA}),
        ("Saddle anaesthesia absent, bladder and bowel function normal", set()),
        ("Urinary retention: no, bowels normal", set()),
        ("Saddle anaesthesia: denies, urinary retention: denies, faecal incontinence: denies",
         set()),
        ("Saddle anaesthesia - no, urinary retention - no, faecal incontinence - no", set()),
        ("Cauda equina syndrome ruled out, for physio", set()),
        # Third independent review (December 2026): an answer to another question in the
        # same item, or words after the sign, keep it; history words carry a denial.
        ("Urinary retention - catheter: no", {Topic.CAUDA_EQUINA}),
        ("Urinary retention - previous episodes: none", {Topic.CAUDA_EQUINA}),
        ("Urinary retention (900ml) - no", {Topic.CAUDA_EQUINA}),
        ("Urinary retention - CES excluded", {Topic.CAUDA_EQUINA}),
        ("Foot drop - improvement: nil", {Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT}),
        ("No urinary retention until today", {Topic.CAUDA_EQUINA}),
        ("No urinary retention on admission", {Topic.CAUDA_EQUINA}),
        ("No foot drop prior to fall", {Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT}),
        ("No hx of cancer", set()),
        ("No PMH of cancer", set()),
        ("No previous cancer", set()),
        ("No signs or symptoms of cauda equina", set()),
        ("No symptoms suggestive of cauda equina syndrome", set()),
        ("No back pain or cauda equina syndrome", set()),
        ("No saddle anaesthesia, urinary retention, or faecal incontinence", set()),
        # "and" joins no list (fourth review: "No LOC, foot drop and urinary retention")
        ("Denies saddle anaesthesia, urinary retention and faecal incontinence",
         {Topic.CAUDA_EQUINA}),
        ("No LOC, foot drop and urinary retention", {Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT,
                                                     Topic.CAUDA_EQUINA}),
        ("No trauma or falls, foot drop", {Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT}),
        ("No fever or rigors, epidural abscess", {Topic.INFECTION}),
        ("No fever, night sweats or weight loss, known myeloma", {Topic.MALIGNANCY}),
        # Fifth review (December 2026): a screen's result, a double negation and a flattened
        # checklist keep the sign.
        ("Screening for cauda equina: positive", {Topic.CAUDA_EQUINA}),
        ("Screen for cord compression: positive", {Topic.SPINAL_CORD_COMPRESSION}),
        ("Fear of cancer confirmed on biopsy", {Topic.MALIGNANCY}),
        ("Does not deny urinary retention", {Topic.CAUDA_EQUINA}),
        ("No longer denies urinary retention", {Topic.CAUDA_EQUINA}),
        ("Fever: no\tUrinary retention: present", {Topic.CAUDA_EQUINA}),
        ("Trauma: no  Foot drop: present", {Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT}),
        ("Fever: no Urinary retention: present", {Topic.CAUDA_EQUINA}),
        ("Adenocarcinoma of prostate", {Topic.MALIGNANCY}),
        # Sixth review: a skin-cancer exclusion reads its own item, not the whole list
        ("BCC excised 2019, myeloma 2021", {Topic.MALIGNANCY}),
        ("Skin cancer and prostate cancer", {Topic.MALIGNANCY}),
        ("Non-melanoma skin cancer, myeloma", {Topic.MALIGNANCY}),
        ("Non-melanoma skin cancer", set()),
        ("Plantars upgoing bilaterally", {Topic.SPINAL_CORD_COMPRESSION}),
        ("No chronic urinary retention", set()),
        ("Cauda equina syndrome has been ruled out", set()),
    ],
)
def test_phrases_per_family_with_negation(text: str, expected: set[Topic]) -> None:
    assert {topic for topic, _ in suggested(text, closes_negated)} == expected


def _request(*extra: dict[str, Any]) -> HookRequest:
    resources = [
        {"resourceType": "Patient", "id": "p", "birthDate": "1980-05-01"},
        {"resourceType": "Condition", "id": "lbp", "subject": {"reference": "Patient/p"},
         "code": {"coding": [{"system": "http://snomed.info/sct", "code": "279039007"}]},
         "onsetDateTime": "2026-02-20"},
        *extra,
    ]
    return HookRequest(hook="patient-view", patient_id="p", resources=tuple(resources))


def _condition(text: str, onset: str = "2026-02-28", status: str = "active",
               patient: str = "p") -> dict[str, Any]:
    return {"resourceType": "Condition", "id": "local-1",
            "subject": {"reference": f"Patient/{patient}"},
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": status}]},
            "code": {"coding": [{"system": LOCAL, "code": "X1", "display": text}]},
            "onsetDateTime": onset}


def _cards(*extra: dict[str, Any]) -> list[tuple[str, str, str]]:
    result = evaluate(_request(*extra), NOW)
    return [(c.topic, c.indicator, c.summary) for c in result.cards]


def test_an_uncoded_red_flag_is_a_warning_on_its_topic_and_silences_reassurance() -> None:
    cards = _cards(_condition("Urinary retention"))
    assert cards == [("cauda-equina", "warning",
                      "Check the record: uncoded entry suggests urinary retention")]


def test_the_card_names_the_entry_and_never_goes_critical() -> None:
    result = evaluate(_request(_condition("Cauda equina syndrome")), NOW)
    (card,) = to_json(result.cards)
    assert card["indicator"] == "warning"
    assert 'Uncoded entry "Cauda equina syndrome"' in card["detail"]
    assert "Condition/local-1" in card["detail"]


@pytest.mark.parametrize(
    "entry",
    [
        _condition("No saddle anaesthesia"),
        _condition("Urinary retention", status="resolved"),
        _condition("Urinary retention", patient="someone-else"),
    ],
    ids=["negated", "resolved", "other-patient"],
)
def test_near_misses_stay_quiet(entry: dict[str, Any]) -> None:
    assert [c[0] for c in _cards(entry)] == ["conservative-care"]


def test_a_coded_entry_is_read_by_its_code_not_its_text() -> None:
    coded = _condition("Urinary retention")
    coded["code"]["coding"] = [{"system": "http://snomed.info/sct", "code": "267064002",
                                "display": "Retention of urine"}]
    assert [c[:2] for c in _cards(coded)] == [("cauda-equina", "critical")]


def test_an_observation_stated_absent_does_not_count() -> None:
    obs = {"resourceType": "Observation", "id": "o1", "status": "final",
           "subject": {"reference": "Patient/p"}, "effectiveDateTime": "2026-02-28",
           "code": {"text": "Saddle anaesthesia"}, "valueBoolean": False}
    assert [c[0] for c in _cards(obs)] == ["conservative-care"]
    obs["valueBoolean"] = True
    assert [c[:2] for c in _cards(obs)] == [("cauda-equina", "warning")]


def test_a_loinc_test_name_is_not_a_finding() -> None:
    """LOINC 'Cancer Ag 125' names a test: its name never suggests cancer."""
    obs = {"resourceType": "Observation", "id": "o2", "status": "final",
           "subject": {"reference": "Patient/p"}, "effectiveDateTime": "2026-02-28",
           "code": {"coding": [{"system": "http://loinc.org", "code": "10334-1",
                                "display": "Cancer Ag 125 [Units/volume] in Serum or Plasma"}]},
           "valueQuantity": {"value": 12, "unit": "U/mL"}}
    assert [c[0] for c in _cards(obs)] == ["conservative-care"]


def _ca125(system: str, **value: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "o3", "status": "final",
            "subject": {"reference": "Patient/p"}, "effectiveDateTime": "2026-02-28",
            "code": {"coding": [{"system": system, "code": "10334-1",
                                 "display": "Cancer Ag 125 [Units/volume] in Serum or Plasma"}],
                     "text": "Cancer Ag 125"},
            **(value or {"valueQuantity": {"value": 12, "unit": "U/mL"}})}


@pytest.mark.parametrize("system", ["http://loinc.org/", " http://loinc.org ", "https://loinc.org",
                                    "https://loinc.org/", "urn:oid:2.16.840.1.113883.6.1"])
def test_a_loinc_test_name_is_not_a_finding_however_the_system_is_written(system: str) -> None:
    """The value sets read these spellings as LOINC (UNCODED-* 1.2.0/1.3.0): so does the
    free-text reading, or a malformed URI turns a CA-125 result into a cancer warning."""
    assert [c[0] for c in _cards(_ca125(system))] == ["conservative-care"]


def test_a_loinc_test_with_a_slash_still_has_its_value_read() -> None:
    """Only the test's name is skipped: a value in words naming a red flag still warns."""
    obs = _ca125("http://loinc.org/", valueString="Metastatic ovarian carcinoma")
    assert [c[:2] for c in _cards(obs)] == [("malignancy", "warning")]


def test_a_test_name_under_an_unknown_system_is_still_read() -> None:
    """A local code is not known to name a test: its words count (never reassure)."""
    assert [c[:2] for c in _cards(_ca125(LOCAL))] == [("malignancy", "warning")]


@pytest.mark.parametrize(
    ("text", "topic"),
    [("Metastatic breast carcinoma", "malignancy"),
     ("Abdominal aortic aneurysm 4.5 cm, surveillance", "visceral-or-vascular")],
)
def test_an_uncoded_history_counts_at_any_age_as_its_coded_history_does(text: str,
                                                                        topic: str) -> None:
    """UNCODED-MAL / -VV 1.2.0: a cancer or a known aneurysm recorded years ago in words is
    still a history; before, past the window the conservative card followed."""
    cards = _cards(_condition(text, onset="2019-04-01"))
    assert [(t, indicator) for t, indicator, _ in cards] == [(topic, "warning")]


def test_an_old_uncoded_symptom_in_an_observation_stays_past_the_window() -> None:
    """An Observation is a finding of its day: read within UNCODED_TEXT_WINDOW_DAYS only,
    as coded findings are (an old active Condition: test_uncoded_words)."""
    observation = {"resourceType": "Observation", "id": "o1", "status": "final",
                   "subject": {"reference": "Patient/p"}, "effectiveDateTime": "2019-04-01",
                   "code": {"coding": [{"system": LOCAL, "code": "X2",
                                        "display": "Saddle numbness"}]}}
    assert "cauda-equina" not in {t for t, _, _ in _cards(observation)}


@pytest.mark.parametrize(("value", "expected"), [
    ("No leg weakness but new urinary retention", "cauda-equina"),
    ("No incontinence, urinary retention noted", "cauda-equina"),
    ("No saddle anaesthesia or retention but new faecal incontinence", "cauda-equina"),
    ("No saddle anaesthesia, urinary retention or faecal incontinence", "conservative-care"),
])
def test_a_free_text_note_is_read_part_by_part(value: str, expected: str) -> None:
    """A history-of-present-illness note (LOINC 10164-2, a test name, not a finding): its
    value is read part by part with each part's own denial, not denied whole by its opening
    'No' (before: the conservative card for the first three)."""
    note = {"resourceType": "Observation", "id": "hpi", "status": "final",
            "subject": {"reference": "Patient/p"}, "effectiveDateTime": "2026-03-01",
            "code": {"coding": [{"system": "http://loinc.org", "code": "10164-2"}]},
            "valueString": value}
    assert [t for t, _, _ in _cards(note)] == [expected]
