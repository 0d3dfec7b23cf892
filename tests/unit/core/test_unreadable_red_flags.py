"""A red flag in an entry that is not valid FHIR R4 is named on every card, never passed over.

An entry the rules read is validated first, and one that fails (an impossible date such as
"2026-02-30", an id with a space) is dropped whole: before, a retention of urine coded in
such an Observation left the patient with the conservative card's "No red flag recorded",
and no card said an entry was not read. Now its red flags are kept aside: every card names
the entry and where it is invalid, and the conservative card leads with "Check <sign> in
the chart" (CONS-01 2.7.0). Whether such an entry should fire its family is a clinical
decision left to the safety officer (the CHANGELOG says so).
"""

from __future__ import annotations

from typing import Any

import pytest

from cds_rules import to_json
from cds_rules.catalogue import BY_ID
from cds_rules.engine import HookRequest, evaluate
from cds_rules.record import build_record
from cds_rules.settings import DEFAULT_SETTINGS
from tests.unit.core.local_entries import ACUTE_NOW, SNOMED, SUBJECT, with_back_pain

NOW = ACUTE_NOW
BACK_PAIN = with_back_pain()[1]
NOT_READ = "naming a red flag, malformed, so read by no rule"


def _retention(**changes: Any) -> dict[str, Any]:
    entry = {"resourceType": "Observation", "id": "retention", "status": "final",
             "subject": SUBJECT, "effectiveDateTime": "2026-02-27T09:00:00Z",
             "code": {"coding": [{"system": SNOMED, "code": "267064002",
                                  "display": "Retention of urine"}]}}
    return {**entry, **changes}


def _ces_diagnosis(**changes: Any) -> dict[str, Any]:
    entry = {"resourceType": "Condition", "id": "ces", "subject": SUBJECT,
             "code": {"coding": [{"system": SNOMED, "code": "192970008",
                                  "display": "Cauda equina syndrome"}]},
             "onsetDateTime": "2026-02-27"}
    return {**entry, **changes}


def _temperature(celsius: float, when: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "temp", "status": "final", "subject": SUBJECT,
            "effectiveDateTime": when,
            "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
            "valueQuantity": {"value": celsius, "unit": "Cel",
                              "system": "http://unitsofmeasure.org", "code": "Cel"}}


def _cards(*resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    request = HookRequest(hook="patient-view", patient_id="p",
                          resources=with_back_pain(*resources))
    return {c["source"]["topic"]["code"]: c for c in to_json(evaluate(request, NOW).cards)}


@pytest.mark.parametrize(("entry", "where"), [
    (_retention(effectiveDateTime="2026-02-30T10:00:00Z"), "effectiveDateTime"),
    (_retention(id="retention 1"), "id"),
    (_ces_diagnosis(onsetDateTime="21/11/2026"), "onsetDateTime"),
    (_ces_diagnosis(clinicalStatus={"coding": "active"}), "clinicalStatus.coding"),
    (_retention(code={"coding": {"system": SNOMED, "code": "267064002",
                                 "display": "Retention of urine"}}), "code.coding"),
], ids=["impossible-date", "id-with-a-space", "date-as-written", "status-not-a-list",
        "one-coding-not-a-list"])
def test_an_invalid_red_flag_entry_is_named_not_passed_over(entry: dict[str, Any],
                                                            where: str) -> None:
    cards = _cards(entry)
    assert set(cards) == {"conservative-care"}  # no rule read it: not a red-flag card
    card = cards["conservative-care"]
    codings = entry["code"]["coding"]
    sign = (codings[0] if isinstance(codings, list) else codings)["display"]
    assert card["summary"].startswith(f"Check {sign} in the chart")
    assert "No red flag recorded" not in card["summary"] + card["detail"]
    assert f"1 entry {NOT_READ}: {sign} ({entry['resourceType']} entry: malformed {where})" \
        in card["detail"]
    assert f"CONS-01 v{BY_ID['CONS-01'].version}" in card["detail"]


def test_a_valid_red_flag_fires_and_its_card_names_the_invalid_one_too() -> None:
    cards = _cards(_retention(), _ces_diagnosis(id="ces 2"))
    assert cards["cauda-equina"]["indicator"] == "critical"
    assert f"{NOT_READ}: Cauda equina syndrome (Condition entry: malformed id)" \
        in cards["cauda-equina"]["detail"]


def test_an_uncoded_red_flag_in_an_invalid_entry_is_named() -> None:
    words = {"resourceType": "Condition", "id": "words", "subject": SUBJECT,
             "code": {"text": "New urinary retention"}, "onsetDateTime": "2026-02-31"}
    card = _cards(words)["conservative-care"]
    assert card["summary"].startswith('Check Uncoded entry "New urinary retention" in the chart')
    assert "malformed onsetDateTime" in card["detail"]


@pytest.mark.parametrize("entry", [
    _retention(effectiveDateTime="2026-02-30T10:00:00Z", status="entered-in-error"),
    _retention(effectiveDateTime="2026-02-30T10:00:00Z", status="cancelled"),
    _ces_diagnosis(onsetDateTime="21/11/2026", verificationStatus={"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
        "code": "refuted"}]}),
], ids=["entered-in-error", "cancelled", "refuted"])
def test_an_invalid_entry_that_names_no_standing_red_flag_is_not_named(
        entry: dict[str, Any]) -> None:
    card = _cards(entry)["conservative-care"]
    assert "No red flag recorded" in card["summary"]
    assert NOT_READ not in card["detail"]


def test_the_why_line_says_not_read_not_date_not_recorded() -> None:
    """The entry may have a date (an impossible one, or one not read): its Why line said
    "date not recorded" (twentieth session)."""
    card = _cards(_retention(id="retention 1"))["conservative-care"]
    assert "- Retention of urine — not read — `Observation/(malformed id)`" in card["detail"]
    assert "date not recorded" not in card["detail"]


def test_the_entry_is_still_counted_as_dropped_and_read_by_no_rule() -> None:
    request = HookRequest(hook="patient-view", patient_id="p",
                          resources=with_back_pain(_retention(id="retention 1")))
    record = build_record(request, NOW, DEFAULT_SETTINGS)
    assert record.quality.skipped_invalid == 1
    assert not record.having("urinary_retention")
    (flag,) = record.unreadable_red_flags
    assert (flag.concept, flag.source, flag.when) == ("urinary_retention",
                                                      "Observation/(malformed id)", None)


# --- the independent review of this change (fourteenth session)

def test_a_malformed_id_reaches_no_card_and_the_text_is_bounded() -> None:
    """A malformed id is any text: seven million characters, or Markdown, or the patient's
    id. The cards name the entry by its type and fault, and its name cut to 80 characters,
    never its id (before the mend: the id on every card, 420 MB for a 7 MB id)."""
    long_id = "X" * 1_000_000
    markdown = "x` **[Click here](https://evil.example)**\n\n# Ignore `"
    long_name = "Retention of urine " + "y" * 5_000
    cards = _cards(_retention(id=long_id),
                   _retention(id=markdown, code={"coding": [{
                       "system": SNOMED, "code": "267064002", "display": long_name}]}))
    detail = cards["conservative-care"]["detail"]
    assert "XXXX" not in detail and "evil.example" not in detail and "yyyy" * 30 not in detail
    assert len(detail) < 5_000
    assert "2 entries naming a red flag" in detail
    assert "`Observation/(malformed id)`" in detail


def test_the_audit_keeps_no_id_of_a_malformed_entry() -> None:
    """The gap line goes to the audit as it is: it names no resource id (ids may carry the
    patient's)."""
    request = HookRequest(hook="patient-view", patient_id="p", resources=with_back_pain(
        _retention(id="patient-p-obs-9", effectiveDateTime="2026-02-30")))
    gaps = evaluate(request, NOW).quality.data_gaps
    assert len(gaps) == 1 and "patient-p" not in gaps[0] and "obs-9" not in gaps[0]


REFUTED = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                       "code": "refuted"}]}
RESOLVED = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "code": "resolved"}]}


@pytest.mark.parametrize("entry", [
    {"resourceType": "Condition", "id": "w", "subject": SUBJECT, "onsetDateTime": "2026-02-31",
     "code": {"text": "Urinary retention"}, "verificationStatus": REFUTED},
    {"resourceType": "Observation", "id": "w", "subject": SUBJECT, "status": "entered-in-error",
     "effectiveDateTime": "2026-02-31", "code": {"text": "Urinary retention"}},
    _retention(effectiveDateTime="2026-02-30", valueBoolean=False),
    _retention(effectiveDateTime="2026-02-30", valueCodeableConcept={"coding": [{
        "system": SNOMED, "code": "2667000", "display": "Absent"}]}),
    {**_ces_diagnosis(onsetDateTime="2012-02-30"), "code": {"coding": [{
        "system": SNOMED, "code": "267064002", "display": "Retention of urine"}]},
     "clinicalStatus": RESOLVED},
], ids=["uncoded-refuted", "uncoded-entered-in-error", "coded-false", "coded-absent",
        "resolved-symptom"])
def test_an_entry_that_says_the_sign_is_not_there_is_not_named(entry: dict[str, Any]) -> None:
    card = _cards(entry)["conservative-care"]
    assert "No red flag recorded" in card["summary"]
    assert NOT_READ not in card["detail"]


def test_a_resolved_history_is_still_named() -> None:
    cancer = {**_ces_diagnosis(onsetDateTime="2012-02-30"), "clinicalStatus": RESOLVED,
              "code": {"coding": [{"system": SNOMED, "code": "363346000",
                                   "display": "Malignant neoplastic disease"}]}}
    assert "Check Malignant neoplastic disease in the chart" \
        in _cards(cancer)["conservative-care"]["summary"]


@pytest.mark.parametrize(("code", "display"), [
    ("64859006", "Osteoporosis"),
    ("95566004", "Renal colic"),
], ids=["osteoporosis", "renal-colic"])
def test_a_risk_factor_a_red_flag_family_reads_is_named(code: str, display: str) -> None:
    entry = {**_ces_diagnosis(id="rf 1"), "code": {"coding": [{
        "system": SNOMED, "code": code, "display": display}]}}
    assert _cards(entry)["conservative-care"]["summary"].startswith(f"Check {display}")


def test_a_weak_red_flag_is_still_listed_beside_the_unreadable_one() -> None:
    """The review: a weak red flag (here night pain, which fires no rule on its own) led the
    card before the unreadable entry took its place; now both are there."""
    night_pain = {"resourceType": "Condition", "id": "np", "subject": SUBJECT,
                  "code": {"coding": [{
                      "system": "https://backpain-cds.org/fhir/CodeSystem/local-finding",
                      "code": "night-pain", "display": "Back pain at night or at rest"}]},
                  "onsetDateTime": "2026-02-26"}
    young = {"resourceType": "Patient", "id": "p", "birthDate": "1996-05-01"}  # no MAL-01

    def cards(*entries: dict[str, Any]) -> dict[str, Any]:
        request = HookRequest(hook="patient-view", patient_id="p",
                              resources=(young, BACK_PAIN, night_pain, *entries))
        return {c["source"]["topic"]["code"]: c for c in to_json(evaluate(request, NOW).cards)}

    assert "re-assess: Back pain at night" in cards()["conservative-care"]["summary"]
    card = cards(_retention(effectiveDateTime="2019-02-30"))["conservative-care"]
    assert card["summary"].startswith("Check Retention of urine in the chart")
    assert "Back pain at night or at rest" in card["detail"]


def test_a_measured_fever_is_still_listed_beside_the_unreadable_one() -> None:
    """CONS-01 2.15.0: a temperature of 38.6 °C yesterday, without a risk factor for
    infection, is named on the check-first card as on the card it would have led."""
    fever = _temperature(38.6, "2026-02-27T18:00:00Z")
    assert "re-assess: fever (38.6 Cel)" in _cards(fever)["conservative-care"]["summary"]
    card = _cards(fever, _retention(effectiveDateTime="2019-02-30"))["conservative-care"]
    assert card["summary"].startswith("Check Retention of urine in the chart")
    assert "`Observation/temp`" in card["detail"]
    assert "A fever (coded, or a temperature at or above 38.0 °C) met no rule" \
        in card["detail"]


def test_no_card_says_remove_the_imaging_over_an_unreadable_red_flag() -> None:
    """The review: an MRI drafted in the first weeks for a patient whose retention entry is
    malformed got "Remove the draft spine imaging: ... no red flag" (IMG-01); the second
    review: standing down left the order with no card at all."""
    import dataclasses

    import fhir_samples

    scenario = fhir_samples.load("inn-order-select-mri-acute-snomed")
    request = scenario.hook_request()
    subject = {"reference": f"Patient/{scenario.patient_id}"}
    malformed = {**_retention(effectiveDateTime="2026-02-30"), "subject": subject}
    cards = {c.topic: c for c in evaluate(request, scenario.now).cards}
    assert cards["imaging-not-indicated"].summary.startswith("Remove the draft")  # control
    with_it = dataclasses.replace(request, resources=(*request.resources, malformed))
    (card,) = evaluate(with_it, scenario.now).cards  # the second review: not silence either
    assert (card.topic, card.indicator) == ("imaging-not-indicated", "info")
    assert card.summary.startswith("Check Retention of urine in the chart before deciding")
    assert not any(a.type == "delete" for s in card.suggestions for a in s.actions)
    assert "Remove the draft" not in card.detail  # the third review: the rule's advice
    assert NOT_READ in card.detail


def test_a_surrogate_in_a_callers_data_gap_is_mended() -> None:
    request = HookRequest(hook="patient-view", patient_id="p", resources=with_back_pain(),
                          data_gaps=("observations (server down \ud83d)",))
    import orjson
    written = orjson.dumps(to_json(evaluate(request, NOW).cards))
    assert "server down \ufffd" in written.decode()


@pytest.mark.parametrize(("status", "named"), [("active", True), ("entered-in-error", False),
                                               ("not-taken", False)])
def test_a_malformed_steroid_prescription_is_named_unless_withdrawn(status: str,
                                                                    named: bool) -> None:
    """A long-term prednisolone order (a fracture risk FRAC-01 reads) with an id holding a
    space: named as any red-flag entry, unless it was never given."""
    import dataclasses

    import fhir_samples

    scenario = fhir_samples.load("fracture-long-term-prednisolone-dmd")
    request = scenario.hook_request()
    assert {(c.topic, c.indicator) for c in evaluate(request, scenario.now).cards} \
        == {("fracture", "warning")}  # the control
    malformed = tuple({**r, "id": "rx 1", "status": status}
                      if r["resourceType"] == "MedicationRequest" else r
                      for r in request.resources)
    cards = evaluate(dataclasses.replace(request, resources=malformed), scenario.now).cards
    (card,) = cards
    assert card.summary.startswith("Check Prednisolone") is named


def test_the_element_at_fault_names_model_elements_only() -> None:
    """The second review: an unknown key is reported by the model as sent, any text (a
    Markdown link, an identifier): the path stops before it."""
    key = "[x](http://e.vil) MRN 1234567"
    entry = _retention(code={"coding": [{"system": SNOMED, "code": "267064002",
                                         "display": "Retention of urine"}], key: 1})
    detail = _cards(entry)["conservative-care"]["detail"]
    assert "e.vil" not in detail and "1234567" not in detail
    assert "(Observation entry: malformed code)" in detail


def test_a_malformed_measurement_is_not_called_a_red_flag() -> None:
    """The second review: a normal temperature with a date as written led the card with
    "Check Body temperature" (every patient of a feed with such dates)."""
    temperature = _temperature(36.8, "27/02/2026")
    assert "No red flag recorded" in _cards(temperature)["conservative-care"]["summary"]


@pytest.mark.parametrize(("status", "named"), [("completed", True), ("not-done", False)])
def test_a_malformed_spinal_procedure_is_named(status: str, named: bool) -> None:
    """A recent spinal procedure (an infection risk INF-01 reads) with an id holding a
    space (the second review: orders set nothing aside)."""
    procedure = {"resourceType": "Procedure", "id": "proc 1", "status": status,
                 "subject": SUBJECT, "performedDateTime": "2026-02-20",
                 "code": {"coding": [{
                     "system": "https://backpain-cds.org/fhir/CodeSystem/local-finding",
                     "code": "spinal-procedure", "display": "Epidural injection"}]}}
    summary = _cards(procedure)["conservative-care"]["summary"]
    assert summary.startswith("Check Epidural injection in the chart") is named


def test_an_unknown_element_is_not_named_by_its_key() -> None:
    """The third review: an unknown key shaped like an element name ("Mrn1234567") passed
    the name check; the path now ends before any element the model does not know."""
    entry = _retention(code={"coding": [{"system": SNOMED, "code": "267064002",
                                         "display": "Retention of urine",
                                         "Mrn1234567": "v"}]})
    detail = _cards(entry)["conservative-care"]["detail"]
    assert "Mrn1234567" not in detail
    assert "(Observation entry: malformed code.coding.0)" in detail


def test_a_check_first_card_gives_no_reassurance_and_no_removal() -> None:
    """The third review: the cards asking to check an unreadable entry carried their rule's
    fixed advice ("Reassure", "Remove the draft imaging order")."""
    card = _cards(_retention(effectiveDateTime="2026-02-30"))["conservative-care"]
    what_to_do = card["detail"].split("**What to do**")[1].split("**")[0]
    assert "Open the entry in the chart" in what_to_do and "emergency MRI" in what_to_do
    assert "Reassure" not in what_to_do and "Safety-net for cauda equina" in what_to_do


def _as_a_list(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry with its one CodeableConcept sent as a list (not valid FHIR R4)."""
    return {**entry, "code": [entry["code"]]}


_EPIDURAL = {"resourceType": "Procedure", "id": "proc-1", "status": "completed",
             "subject": SUBJECT, "performedDateTime": "2026-02-20",
             "code": {"coding": [{
                 "system": "https://backpain-cds.org/fhir/CodeSystem/local-finding",
                 "code": "spinal-procedure", "display": "Epidural injection"}]}}


@pytest.mark.parametrize(("entry", "sign"), [
    (_as_a_list(_retention()), "Retention of urine"),
    (_as_a_list(_ces_diagnosis()), "Cauda equina syndrome"),
    (_as_a_list(_EPIDURAL), "Epidural injection"),
], ids=["observation", "condition", "procedure"])
def test_a_code_sent_as_a_list_names_its_red_flag(entry: dict[str, Any], sign: str) -> None:
    """Before: read as an entry with no code at all ("No red flag recorded"; the CHANGELOG
    of CONS-01 2.7.0 listed it as still silent)."""
    card = _cards(entry)["conservative-care"]
    assert card["summary"].startswith(f"Check {sign} in the chart")
    assert f"1 entry {NOT_READ}: {sign} ({entry['resourceType']} entry: malformed code)" \
        in card["detail"]


@pytest.mark.parametrize(("kind", "status", "named"), [
    ("ServiceRequest", "revoked", False), ("ServiceRequest", "entered-in-error", False),
    ("DiagnosticReport", "cancelled", False), ("DiagnosticReport", "entered-in-error", False),
    ("ServiceRequest", "active", True), ("DiagnosticReport", "final", True),
    ("ServiceRequest", None, True),
])
def test_a_withdrawn_order_or_cancelled_report_is_not_named(kind: str, status: str | None,
                                                            named: bool) -> None:
    """The fifteenth session's review (LOW): a revoked order or a cancelled report whose
    code came as a list naming a red flag was named ("Check Epidural injection in the
    chart"), though nothing was asked for or found; one in force still is (and so is one
    whose status cannot be read)."""
    entry = {"resourceType": kind, "id": "order-1", "subject": SUBJECT, "intent": "order",
             "authoredOn": "2026-02-20", "code": [_EPIDURAL["code"]],
             **({"status": status} if status else {})}
    summary = _cards(entry)["conservative-care"]["summary"]
    assert summary.startswith("Check Epidural injection in the chart") is named


def test_a_list_of_codes_with_nothing_a_red_flag_family_reads_is_not_named() -> None:
    sprain = {"resourceType": "Condition", "id": "sprain", "subject": SUBJECT,
              "code": [{"coding": [{"system": SNOMED, "code": "44465007",
                                    "display": "Sprain of ankle"}]}],
              "onsetDateTime": "2026-02-27"}
    card = _cards(sprain)["conservative-care"]
    assert "No red flag recorded" in card["summary"]
    assert NOT_READ not in card["detail"]


_LBP_CODE = {"coding": [{"system": SNOMED, "code": "279039007", "display": "Low back pain"}]}
_RETENTION_VALUE = {"coding": [{"system": SNOMED, "code": "267064002",
                                "display": "Retention of urine"}]}


@pytest.mark.parametrize(("changes", "named"), [
    ({"valueCodeableConcept": _RETENTION_VALUE}, "Retention of urine"),
    ({"valueString": "new urinary retention"}, 'Uncoded entry "new urinary retention"'),
    ({"component": [{"code": {"text": "new urinary retention"}}]},
     'Uncoded entry "new urinary retention"'),
], ids=["coded-value", "value-in-words", "component-in-words"])
def test_a_list_code_naming_no_red_flag_keeps_what_its_value_names(
        changes: dict[str, Any], named: str) -> None:
    """What such an entry's value or components name is named as before the list codes
    were read (an independent review found a first version quieter here)."""
    entry = {**_retention(code=[_LBP_CODE]), **changes}
    card = _cards(entry)["conservative-care"]
    # the back pain its code names is named too, since the twentieth session
    assert "1 entry naming a red flag, back pain or leg symptoms, malformed, so not read " \
           "as written" in card["detail"] and named in card["detail"]
    assert "Low back pain (Observation entry: malformed code)" in card["detail"]
    assert "No red flag recorded" not in card["summary"]


def test_a_list_code_and_its_value_are_both_named() -> None:
    ces = {"coding": [{"system": SNOMED, "code": "192970008",
                       "display": "Cauda equina syndrome"}]}
    card = _cards(_retention(code=[ces], valueCodeableConcept=_RETENTION_VALUE))
    detail = card["conservative-care"]["detail"]
    assert (f"1 entry {NOT_READ}: Retention of urine (Observation entry: malformed code); "
            "Cauda equina syndrome (Observation entry: malformed code)") in detail


def _mri_report(status: str, **changes: Any) -> dict[str, Any]:
    report = {"resourceType": "DiagnosticReport", "id": "mri-report", "status": status,
              "subject": SUBJECT, "effectiveDateTime": "2026-02-27T09:00:00Z",
              "code": {"coding": [{"system": "http://loinc.org", "code": "24558-9",
                                   "display": "MR Lumbar spine"}]},
              "conclusionCode": [{"coding": [{"system": SNOMED, "code": "192970008",
                                              "display": "Cauda equina syndrome"}]}]}
    return {**report, **changes}


def test_a_malformed_report_names_the_red_flag_it_concludes() -> None:
    """A valid final report concluding cauda equina syndrome fires CES-01; a malformed one
    named nothing (its code, an MRI, is no red flag; review, pre-existing)."""
    assert _cards(_mri_report("final"))["cauda-equina"]["indicator"] == "critical"
    card = _cards(_mri_report("final", id="mri report"))["conservative-care"]
    assert card["summary"].startswith("Check Cauda equina syndrome in the chart")
    assert f"1 entry {NOT_READ}: Cauda equina syndrome (DiagnosticReport entry: malformed id)" \
        in card["detail"]


def test_a_malformed_report_still_registered_concludes_nothing() -> None:
    """A registered report has no findings yet: its conclusion is read from no valid one
    either."""
    card = _cards(_mri_report("registered", id="mri report"))["conservative-care"]
    assert NOT_READ not in card["detail"]


def test_a_malformed_report_is_read_at_its_status_as_a_valid_one_is() -> None:
    """"FINAL" is read as final on the valid path (review: the first version read the raw
    text, so the malformed report named nothing)."""
    card = _cards(_mri_report("FINAL", id="mri report"))["conservative-care"]
    assert card["summary"].startswith("Check Cauda equina syndrome in the chart")


def test_a_concluded_red_flag_is_named_by_its_own_words_not_the_reports() -> None:
    """A conclusion coding without a display is named by its concept, not by the report's
    code text ("Check MR Lumbar spine" said nothing of cauda equina)."""
    report = _mri_report("final", id="mri report",
                         code={"text": "MRI lumbar spine",
                               "coding": [{"system": "http://loinc.org", "code": "24558-9"}]},
                         conclusionCode=[{"coding": [{"system": SNOMED,
                                                      "code": "192970008"}]}])
    summary = _cards(report)["conservative-care"]["summary"]
    assert "MRI lumbar spine" not in summary
    assert summary.startswith("Check Cauda equina syndrome"), summary
