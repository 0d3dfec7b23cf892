"""An entry a reader fails on is a fault in the service: counted apart from invalid data,
named on every card, its red flags set aside (never "no red flag" over it), one log line
without the exception's text.

Before, the builder counted such an entry as "dropped as invalid" and nothing else: issue
15's mypyc spike made every ICD-10-coded Condition raise, and the critical card of a G83.4
cauda equina syndrome vanished without a word on any card. The faults are injected (a
reader, the ICD-10 lookup or the build swapped for one that raises): a working service has
none to cause.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from cds_rules import to_json
from cds_rules import valuesets as vs
from cds_rules.catalogue import BY_ID
from cds_rules.engine import HookRequest, evaluate
from cds_rules.model import PatientRecord
from cds_rules.record import build_record
from cds_rules.record import builder as record_builder
from cds_rules.record.conditions import read_condition as real_read_condition
from cds_rules.record.reader_faults import FAULT
from cds_rules.settings import DEFAULT_SETTINGS
from tests.core_fault_support import fail_reader_on
from tests.unit.core.local_entries import ACUTE_NOW, SNOMED, SUBJECT, with_back_pain

NOW = ACUTE_NOW
ICD10 = "http://hl7.org/fhir/sid/icd-10"
SECRET = "9434765919"  # what an exception's text may hold: never logged, never on a card
NOT_READ = "1 entry not read because of a fault in the service (logged for its operators)"


def _ces(resource_id: str = "ces", system: str = SNOMED, code: str = "192970008",
         **changes: Any) -> dict[str, Any]:
    entry = {"resourceType": "Condition", "id": resource_id, "subject": SUBJECT,
             "code": {"coding": [{"system": system, "code": code,
                                  "display": "Cauda equina syndrome"}]},
             "onsetDateTime": "2026-02-27"}
    return {**entry, **changes}


def _request(*entries: dict[str, Any]) -> HookRequest:
    return HookRequest(hook="patient-view", patient_id="p", resources=with_back_pain(*entries))


def _cards(*entries: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["source"]["topic"]["code"]: c
            for c in to_json(evaluate(_request(*entries), NOW).cards)}


def _record(*entries: dict[str, Any]) -> PatientRecord:
    return build_record(_request(*entries), NOW, DEFAULT_SETTINGS)


@pytest.fixture
def fails_on_ces(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Condition reader raises on the entries whose id starts "ces" (the back pain is
    read as before: without it no rule runs). Its text holds a patient identifier."""
    def read_condition(builder: Any, resource: dict[str, Any]) -> bool:
        if str(resource.get("id", "")).startswith("ces"):
            raise TypeError(f"unsupported operand for patient {SECRET}")
        return real_read_condition(builder, resource)
    monkeypatch.setitem(record_builder._HANDLERS, "Condition", read_condition)


@pytest.fixture
def icd_lookup_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """The spike's fault: every ICD-10 (WHO or CM) and OPCS-4 lookup raises TypeError."""
    def _icd_matches(*_args: object) -> object:
        raise TypeError("unsupported operand type(s) for -: 'frozenset' and 'dict_keys'")
    monkeypatch.setattr(vs, "_icd_matches", _icd_matches)
    vs._matches_of_text.cache_clear()  # answers remembered before the fault


def test_without_a_fault_the_cauda_equina_diagnosis_is_critical() -> None:
    """The baseline the faults below are measured against."""
    for entry in (_ces(), _ces(system=ICD10, code="G83.4")):
        assert _cards(entry)["cauda-equina"]["indicator"] == "critical"
        assert _record(entry).quality.reader_faults == 0


@pytest.mark.usefixtures("fails_on_ces")
def test_a_fault_is_counted_apart_from_invalid_data_and_its_red_flag_set_aside() -> None:
    record = _record(_ces())
    assert (record.quality.reader_faults, record.quality.skipped_invalid) == (1, 0)
    assert record.quality.resources_used == 2  # the Patient and the back pain
    (flag,) = record.unreadable_red_flags
    assert (flag.concept, flag.detail, flag.source) == ("cauda_equina_syndrome", FAULT,
                                                        "Condition/ces")
    assert record.quality.as_dict()["readerFaults"] == 1


@pytest.mark.usefixtures("fails_on_ces")
def test_no_card_says_no_red_flag_over_it_and_every_card_names_the_fault() -> None:
    cards = _cards(_ces())
    assert set(cards) == {"conservative-care"}  # no rule read it
    card = cards["conservative-care"]
    assert card["summary"].startswith("Check Cauda equina syndrome in the chart")
    assert "No red flag recorded" not in card["summary"] + card["detail"]
    assert (f"{NOT_READ}: Cauda equina syndrome (Condition entry); what it records is read "
            "by no rule; check the chart") in card["detail"]
    assert "malformed" not in card["detail"].split("**What to do**")[0]
    assert SECRET not in str(cards)


@pytest.mark.usefixtures("fails_on_ces")
@pytest.mark.parametrize("fault_first", [False, True])
def test_a_valid_red_flag_still_fires_and_its_card_names_the_fault(fault_first: bool) -> None:
    """Entries before and after the one a reader failed on are read once each (the entries
    are read optimistically, then again one by one once a reader raised)."""
    retention = {"resourceType": "Observation", "id": "retention", "status": "final",
                 "subject": SUBJECT, "effectiveDateTime": "2026-02-27T09:00:00Z",
                 "code": {"coding": [{"system": SNOMED, "code": "267064002"}]}}
    entries = (_ces(), retention) if fault_first else (retention, _ces())
    record = _record(*entries)
    assert [f.concept for f in record.facts].count("urinary_retention") == 1
    assert (record.quality.resources_used, record.quality.reader_faults) == (3, 1)
    card = _cards(*entries)["cauda-equina"]
    assert card["indicator"] == "critical"
    assert NOT_READ in card["detail"]


@pytest.mark.usefixtures("icd_lookup_fails")
def test_the_spikes_fault_names_the_g83_4_diagnosis_by_its_words() -> None:
    """The lookup of every ICD-10 code raises, in the reader and again in the naming: the
    display still names the sign, and the conservative card asks for it to be checked
    (the critical card cannot come back: no rule read the entry)."""
    record = _record(_ces(system=ICD10, code="G83.4"))
    assert (record.quality.reader_faults, record.quality.skipped_invalid) == (1, 0)
    card = _cards(_ces(system=ICD10, code="G83.4"))["conservative-care"]
    assert card["summary"].startswith('Check "Cauda equina syndrome" in the chart')
    assert NOT_READ in card["detail"]


@pytest.mark.usefixtures("fails_on_ces")
def test_a_refuted_entry_is_counted_and_said_but_not_named_a_red_flag() -> None:
    refuted = _ces(verificationStatus={"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
        "code": "refuted"}]})
    record = _record(refuted)
    assert record.quality.reader_faults == 1 and not record.unreadable_red_flags
    card = _cards(refuted)["conservative-care"]
    assert "No red flag recorded" in card["summary"]
    assert NOT_READ in card["detail"]  # still said: what else it holds is read by no rule


def test_a_fault_of_the_whole_build_keeps_what_was_read_and_says_so(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def _build(builder: Any, request: object) -> None:
        raise RuntimeError(f"broken for {SECRET}")
    monkeypatch.setattr(record_builder, "_build", _build)
    record = _record(_ces())
    assert (record.quality.reader_faults, record.quality.skipped_invalid) == (1, 0)
    assert any(gap.startswith("the record was read only in part because of a fault")
               for gap in record.quality.data_gaps)


@pytest.mark.usefixtures("fails_on_ces")
def test_one_log_line_names_reader_type_and_place_never_the_text(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="cds_rules.record.reader_faults"):
        record = _record(_ces("ces-1"), _ces("ces-2"))
    assert record.quality.reader_faults == 2
    (line,) = [r.getMessage() for r in caplog.records
               if r.name == "cds_rules.record.reader_faults"]
    assert line.startswith("record: 2 entries not read, a reader raised")
    assert "read_condition raised TypeError at test_reader_faults.py:" in line
    assert line.endswith("(x2)")
    assert SECRET not in caplog.text and "ces-1" not in caplog.text


def test_a_reader_fault_is_not_needed_for_invalid_data(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Invalid data is still "dropped as invalid", never a fault: validation answers first."""
    calls: list[str] = []
    real: Callable[..., Any] = record_builder.reader_faults.note_fault
    def spy(*args: Any) -> None:
        calls.append("fault")
        real(*args)
    monkeypatch.setattr(record_builder.reader_faults, "note_fault", spy)
    record = _record(_ces(onsetDateTime="2026-02-30"), _ces("ces 2"))
    assert (record.quality.skipped_invalid, record.quality.reader_faults) == (2, 0)
    assert calls == []


def test_a_draft_order_without_a_resource_type_is_invalid_not_a_fault() -> None:
    """Found by counting faults over the suite: the mutation tests' drafts without a
    ``resourceType`` made the draft reader raise (KeyError). Such a draft is invalid."""
    draft = {"id": "sr-1", "status": "draft", "intent": "order", "subject": SUBJECT,
             "code": {"coding": [{"system": SNOMED, "code": "241646005"}]}}  # MRI lumbar
    record = build_record(HookRequest(hook="order-select", patient_id="p",
                                      resources=with_back_pain(), draft_orders=(draft,)),
                          NOW, DEFAULT_SETTINGS)
    assert (record.quality.skipped_invalid, record.quality.reader_faults) == (1, 0)
    assert not record.orders


# --- the independent review of this change (nineteenth session)

@pytest.mark.usefixtures("icd_lookup_fails")
@pytest.mark.parametrize("hook", ["patient-view", "order-select"])
def test_a_code_only_entry_whose_lookup_fails_is_set_aside_as_itself(hook: str) -> None:
    """HIGH: the spike's fault on a G83.4 with no display: naming it by code raised again,
    no word named it, and the cards said "No red flag recorded" (patient-view) or "Remove
    the draft spine imaging" (order-select). The entry itself is now set aside."""
    import dataclasses

    import fhir_samples
    ces = _ces(system=ICD10, code="G83.4")
    del ces["code"]["coding"][0]["display"]
    if hook == "patient-view":
        cards = _cards(ces)
        (card,) = cards.values()
        assert card["summary"].startswith("Check an unread Condition entry in the chart")
        assert "No red flag recorded" not in card["summary"] + card["detail"]
        return
    scenario = fhir_samples.load("inn-order-select-mri-acute-snomed")
    request = scenario.hook_request()
    subject = {"reference": f"Patient/{scenario.patient_id}"}
    with_it = dataclasses.replace(request, resources=(*request.resources,
                                                      {**ces, "subject": subject}))
    (order_card,) = evaluate(with_it, scenario.now).cards
    assert order_card.summary.startswith("Check an unread Condition entry in the chart")
    assert not any(a.type == "delete" for s in order_card.suggestions for a in s.actions)
    assert "a fault in the service" in (order_card.detail or "")


@pytest.mark.usefixtures("fails_on_ces")
def test_the_check_first_card_says_a_fault_not_a_malformed_date() -> None:
    card = _cards(_ces())["conservative-care"]
    assert "(malformed, such as an impossible date or an id with a space, or a fault in " \
        "the service)" in card["detail"]
    assert f"CONS-01 v{BY_ID['CONS-01'].version}" in card["detail"]


@pytest.mark.usefixtures("fails_on_ces")
def test_a_malformed_entry_and_a_fault_are_each_said_as_what_they_are() -> None:
    malformed = {"resourceType": "Observation", "id": "retention", "status": "final",
                 "subject": SUBJECT, "effectiveDateTime": "2026-02-30T09:00:00Z",
                 "code": {"coding": [{"system": SNOMED, "code": "267064002",
                                      "display": "Retention of urine"}]}}
    detail = _cards(malformed, _ces())["conservative-care"]["detail"]
    assert ("1 entry naming a red flag, malformed, so read by no rule: Retention of urine "
            "(Observation entry: malformed effectiveDateTime); check it in the chart") in detail
    assert f"{NOT_READ}: Cauda equina syndrome (Condition entry)" in detail


def test_a_half_read_entry_is_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """MEDIUM: a reader that raised after reading kept its fact: the critical card fired
    while every card said the entry was read by no rule. What it did is undone."""
    def read_condition(builder: Any, resource: dict[str, Any]) -> bool:
        used = real_read_condition(builder, resource)
        builder.quality.unrecognised_codes += 1
        if resource.get("id") == "ces":
            raise TypeError("after the read")
        builder.quality.unrecognised_codes -= 1
        return used
    monkeypatch.setitem(record_builder._HANDLERS, "Condition", read_condition)
    record = _record(_ces())
    assert not record.having("cauda_equina_syndrome")
    assert (record.quality.reader_faults, record.quality.unrecognised_codes) == (1, 0)
    assert record.quality.resources_used + record.quality.reader_faults == 3
    cards = _cards(_ces())
    assert set(cards) == {"conservative-care"}
    assert cards["conservative-care"]["summary"].startswith("Check Cauda equina syndrome")


def test_a_patient_reader_fault_leaves_no_half_set_patient_and_says_so(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def read_patient(builder: Any, resource: dict[str, Any]) -> bool:
        builder.record.deceased = True  # half read
        raise ValueError("injected")
    monkeypatch.setattr(record_builder, "read_patient", read_patient)
    record = _record()
    assert (record.deceased, record.birth_date, record.quality.reader_faults) == (False, None, 1)
    card = _cards()["conservative-care"]
    assert ("the Patient entry was not read because of a fault in the service (logged for "
            "its operators): check the patient's age and that they are alive before acting "
            "on any card") in card["detail"]


def test_a_medicine_by_reference_is_named_as_a_malformed_one_is(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """MEDIUM: a prednisone given by reference to a Medication was named when malformed,
    not when its reader raised."""
    medication = {"resourceType": "Medication", "id": "pred", "code": {"coding": [{
        "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "8640",
        "display": "predniSONE"}]}}
    request = {"resourceType": "MedicationRequest", "id": "rx", "status": "active",
               "intent": "order", "subject": SUBJECT,
               "medicationReference": {"reference": "Medication/pred"},
               "authoredOn": "2025-06-01"}

    def read_medication(builder: Any, resource: dict[str, Any]) -> bool:
        raise TypeError("injected")
    monkeypatch.setitem(record_builder._HANDLERS, "MedicationRequest", read_medication)
    record = _record(medication, request)
    (flag,) = record.unreadable_red_flags
    assert (flag.concept, flag.display, flag.detail) == ("systemic_corticosteroid",
                                                         "predniSONE", FAULT)


def test_a_draft_order_reader_fault_is_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    def read_draft_order(builder: Any, resource: dict[str, Any]) -> bool:
        raise KeyError("injected")
    monkeypatch.setattr(record_builder, "read_draft_order", read_draft_order)
    draft = {"resourceType": "ServiceRequest", "id": "sr-1", "status": "draft",
             "intent": "order", "subject": SUBJECT,
             "code": {"coding": [{"system": SNOMED, "code": "241646005"}]}}
    record = build_record(HookRequest(hook="order-select", patient_id="p",
                                      resources=with_back_pain(), draft_orders=(draft,)),
                          NOW, DEFAULT_SETTINGS)
    assert (record.quality.reader_faults, record.quality.skipped_invalid) == (1, 0)
    assert not record.orders
    assert f"{NOT_READ}: 1 ServiceRequest entry" in record.quality.data_gaps[-1]


def test_a_resource_type_the_service_does_not_know_is_not_quoted() -> None:
    """LOW: a draft's resourceType is any text the sender wrote (a name, a number): the
    cards and the audit say "Resource"."""
    from cds_rules.record.unreadable import entry_type
    assert entry_type({"resourceType": "ServiceRequest for NHS 943 476 5919"}) == "Resource"
    assert entry_type({"resourceType": "Condition"}) == "Condition"


# --- the second independent review (nineteenth session)

@pytest.mark.usefixtures("icd_lookup_fails")
def test_a_fault_on_the_back_pain_itself_still_gives_a_card() -> None:
    """HIGH: with the back pain coded ICD-10 M54.5 and the lookup failing, no back-pain
    context was left, so no card at all: the faults' lines had nothing to go on."""
    lbp = {"resourceType": "Condition", "id": "lbp-icd", "subject": SUBJECT,
           "code": {"coding": [{"system": ICD10, "code": "M54.5"}]},
           "onsetDateTime": "2026-02-20"}
    patient = {"resourceType": "Patient", "id": "p", "birthDate": "1960-05-01"}
    for entries in ((patient, lbp), (patient, lbp, _ces(system=ICD10, code="G83.4"))):
        request = HookRequest(hook="patient-view", patient_id="p", resources=entries)
        (card,) = to_json(evaluate(request, NOW).cards)
        assert card["summary"].startswith("Check ")
        assert "not read because of a fault in the service" in card["detail"]
    assert card["summary"].startswith('Check "Cauda equina syndrome" in the chart')


@pytest.mark.parametrize("hook", ["patient-view", "order-select"])
def test_a_fault_on_a_measured_value_is_never_passed_over(
        hook: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """MEDIUM: a temperature of 39.2 °C whose reader raised was named nowhere (a measured
    value is no red-flag input), and the cards said "No red flag recorded" or "Remove the
    draft spine imaging" beside an IV drug user. It is set aside as itself."""
    import dataclasses

    import fhir_samples
    scenario = fhir_samples.load("infection-fever-ivdu-celsius")
    request = scenario.hook_request()
    if hook == "order-select":  # the fever and IV drug use beside an acute MRI draft
        order = fhir_samples.load("inn-order-select-mri-acute-snomed")
        subject = {"reference": f"Patient/{order.patient_id}"}
        extra = tuple({**r, "subject": subject} for r in request.resources
                      if r["id"] in ("inf-ivdu-cond-2", "inf-ivdu-obs-3"))
        scenario = order
        request = order.hook_request()
        request = dataclasses.replace(request, resources=(*request.resources, *extra))
    assert [c.topic for c in evaluate(request, scenario.now).cards] == ["infection"]

    fail_reader_on(monkeypatch, "Observation", "inf-ivdu-obs-3")
    (card,) = evaluate(request, scenario.now).cards
    assert card.summary.startswith("Check an unread Observation entry in the chart")
    detail = card.detail or ""
    assert "No red flag recorded" not in card.summary + detail
    assert not any(a.type == "delete" for s in card.suggestions for a in s.actions)
    assert ("An Observation entry could not be read (a fault in the service): what it "
            "records is unknown") in detail


def test_every_change_a_reader_made_before_it_raised_is_undone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The review: undoing orders, set-aside flags, unconvertible units or mended text was
    untested. A reader that does each, then raises."""
    from cds_rules.model import Fact, Order

    def read_condition(builder: Any, resource: dict[str, Any]) -> bool:
        if resource.get("id") != "ces":
            return real_read_condition(builder, resource)
        record = builder.record
        record.orders.append(Order(kind="spine_mri", display="MRI", source="x",
                                   state="completed"))
        record.unreadable_red_flags.append(Fact(concept="cancer", display="x", source="x",
                                                resource_type="Condition"))
        builder.unreadable_entries += 1
        builder.unrecognised_units += 1
        builder.mended[id(resource)] = 1
        record.quality.skipped_invalid += 1
        raise TypeError("injected")
    monkeypatch.setitem(record_builder._HANDLERS, "Condition", read_condition)
    record = _record(_ces())
    assert record.orders == [] and record.quality.skipped_invalid == 0
    assert [f.concept for f in record.unreadable_red_flags] == ["cauda_equina_syndrome"]
    assert record.quality.unrecognised_units == 0
    assert not any("malformed" in gap or "broken UTF-16" in gap
                   for gap in record.quality.data_gaps)


def test_a_fault_that_does_not_come_back_leaves_a_trace(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """The review: a reader that raised once and not when asked again left no trace."""
    raised: list[bool] = []

    def read_condition(builder: Any, resource: dict[str, Any]) -> bool:
        if resource.get("id") == "ces" and not raised:
            raised.append(True)
            raise TypeError(f"once, for {SECRET}")
        return real_read_condition(builder, resource)
    monkeypatch.setitem(record_builder._HANDLERS, "Condition", read_condition)
    with caplog.at_level(logging.WARNING, logger="cds_rules.record.reader_faults"):
        record = _record(_ces())
    assert record.quality.reader_faults == 0 and record.having("cauda_equina_syndrome")
    assert "a reader raised TypeError at test_reader_faults.py:" in caplog.text
    assert "then not when the entries were read again" in caplog.text
    assert SECRET not in caplog.text


# --- the third independent review (nineteenth session)

def _icd_patient(*entries: dict[str, Any], birth: str = "1986-05-01",
                 **patient: Any) -> HookRequest:
    """A patient without back pain whose diabetes is coded ICD-10 E11.9."""
    diabetes = {"resourceType": "Condition", "id": "dm", "subject": SUBJECT,
                "code": {"coding": [{"system": ICD10, "code": "E11.9"}]}}
    return HookRequest(hook="patient-view", patient_id="p", resources=(
        {"resourceType": "Patient", "id": "p", "birthDate": birth, **patient}, diabetes,
        *entries))


@pytest.mark.usefixtures("icd_lookup_fails")
def test_a_fault_without_back_pain_gives_only_the_check_first_card() -> None:
    """HIGH: an unread entry made the whole record context, and a patient with no back
    pain got a critical cauda equina card for a retention. Now the entry that may have been
    the back pain gets the check-first card alone; a red flag read beside it is listed."""
    retention = {"resourceType": "Observation", "id": "retention", "status": "final",
                 "subject": SUBJECT, "effectiveDateTime": "2026-02-27T09:00:00Z",
                 "code": {"coding": [{"system": SNOMED, "code": "267064002"}]}}
    (card,) = to_json(evaluate(_icd_patient(retention), NOW).cards)
    assert (card["source"]["topic"]["code"], card["indicator"]) == ("conservative-care", "info")
    assert card["summary"] == ("Check an unread Condition entry in the chart; 1 red flag(s) "
                               "recorded, not assessed")
    assert ("No back pain was read, so no rule assessed the 1 red-flag fact(s) recorded (red "
            "flags and the risk factors red-flag rules read, any date); the unread entry may "
            "be the back pain. If it is, their pathways apply now") in card["detail"]
    assert "fired no rule on their own" not in card["detail"]
    assert "If it records a red flag, its pathway applies now." in card["detail"]
    bare = to_json(evaluate(_icd_patient(), NOW).cards)[0]
    assert bare["summary"] == ("Check an unread Condition entry in the chart: the service "
                               "could not read it")
    assert "No back pain was read, and the unread entry may be it." in bare["detail"]


@pytest.mark.usefixtures("icd_lookup_fails")
@pytest.mark.parametrize("patient", [{"birth": "2012-05-01"},
                                     {"deceasedBoolean": True}], ids=["minor", "deceased"])
def test_a_fault_gives_no_card_to_a_minor_or_the_deceased(patient: dict[str, Any]) -> None:
    assert evaluate(_icd_patient(**patient), NOW).cards == []


@pytest.mark.usefixtures("icd_lookup_fails")
def test_a_site_switch_does_not_silence_the_check_first_card() -> None:
    from cds_rules.model import Topic
    settings = DEFAULT_SETTINGS.model_copy(
        update={"disabled_topics": frozenset({Topic.CONSERVATIVE_CARE})})
    (card,) = evaluate(_icd_patient(), NOW, settings).cards
    assert card.summary.startswith("Check an unread Condition entry in the chart")


def test_emg_02_stands_down_over_an_entry_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """MEDIUM: 'Remove the draft EMG/NCS: ... without leg symptoms' over a radiculopathy
    entry whose reader raised (it was the leg symptoms)."""
    import dataclasses

    import fhir_samples
    scenario = fhir_samples.load("emg-order-sign-ncs-axial-pain")
    request = scenario.hook_request()
    topics = [c.topic for c in evaluate(request, scenario.now).cards]
    assert "electrodiagnostic-testing" in topics  # the control: "Remove the draft EMG/NCS"
    subject = {"reference": f"Patient/{scenario.patient_id}"}
    radiculopathy = {"resourceType": "Condition", "id": "radic", "subject": subject,
                     "code": {"coding": [{"system": SNOMED, "code": "72274001"}]}}

    fail_reader_on(monkeypatch, "Condition", "radic")
    with_it = dataclasses.replace(request, resources=(*request.resources, radiculopathy))
    cards = evaluate(with_it, scenario.now).cards
    assert not any(c.summary.startswith("Remove the draft EMG") for c in cards)


# --- the fourth independent review (nineteenth session)

def _report(conclusion: str, **changes: Any) -> dict[str, Any]:
    """A final MRI report whose conclusion is coded (SNOMED CT), and no other back pain."""
    return {"resourceType": "DiagnosticReport", "id": "mri-report", "status": "final",
            "subject": SUBJECT, "effectiveDateTime": "2026-02-27T09:00:00Z",
            "code": {"coding": [{"system": "http://loinc.org", "code": "24590-2"}]},
            "conclusionCode": [{"coding": [{"system": SNOMED, "code": conclusion}]}],
            **changes}


def test_a_faulted_report_that_may_be_the_back_pain_gets_the_check_first_card(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """HIGH: a report concluding cauda equina syndrome, the only back-pain entry, whose
    reader raised: no card at all (only Conditions and Observations were thought able to
    be the back pain)."""
    patient = {"resourceType": "Patient", "id": "p", "birthDate": "1960-05-01"}
    request = HookRequest(hook="patient-view", patient_id="p",
                          resources=(patient, _report("192970008")))
    assert [c.indicator for c in evaluate(request, NOW).cards] == ["critical"]  # control
    fail_reader_on(monkeypatch, "DiagnosticReport")
    (card,) = evaluate(request, NOW).cards
    assert card.summary.startswith("Check Cauda equina syndrome (diagnosis) in the chart")


def test_emg_02_asks_for_a_faulted_report_to_be_checked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    import fhir_samples
    scenario = fhir_samples.load("emg-order-sign-ncs-axial-pain")
    request = scenario.hook_request()
    subject = {"reference": f"Patient/{scenario.patient_id}"}
    report = {**_report("72274001"), "subject": subject}  # concluding radiculopathy
    fail_reader_on(monkeypatch, "DiagnosticReport")
    with_it = dataclasses.replace(request, resources=(*request.resources, report))
    (card,) = evaluate(with_it, scenario.now).cards  # the fifth review: not silence either
    assert card.summary.endswith("in the chart before deciding on EMG/NCS: entry unreadable")
    assert not any(a.type == "delete" for sug in card.suggestions for a in sug.actions)


def test_a_site_switch_does_not_silence_the_check_first_card_beside_back_pain(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """MEDIUM: with back pain read, switching conservative care off silenced the card
    naming a cauda equina syndrome no rule could read."""
    from cds_rules.model import Topic
    settings = DEFAULT_SETTINGS.model_copy(
        update={"disabled_topics": frozenset({Topic.CONSERVATIVE_CARE})})
    assert evaluate(_request(), NOW, settings).cards == []  # the switch, as before
    fail_reader_on(monkeypatch, "Condition", "ces")
    (card,) = evaluate(_request(_ces()), NOW, settings).cards
    assert card.summary.startswith("Check Cauda equina syndrome in the chart")


# --- the fifth independent review (nineteenth session)

@pytest.mark.usefixtures("icd_lookup_fails")
@pytest.mark.parametrize("when", [None, "2025-12-01", "2024-03-01"])
def test_every_red_flag_is_listed_when_no_back_pain_was_read(when: str | None) -> None:
    """HIGH: only red flags of the last 14 days were listed "recorded, not assessed": an
    undated or older retention, a cancer of 2024, were on no card."""
    retention = {"resourceType": "Condition", "id": "ret", "subject": SUBJECT,
                 "code": {"coding": [{"system": SNOMED, "code": "267064002"}]}}
    cancer = {"resourceType": "Condition", "id": "ca", "subject": SUBJECT,
              "code": {"coding": [{"system": SNOMED, "code": "363346000"}]}}
    if when:
        retention["onsetDateTime"] = cancer["onsetDateTime"] = when
    (card,) = to_json(evaluate(_icd_patient(retention, cancer), NOW).cards)
    assert card["summary"].endswith("2 red flag(s) recorded, not assessed")
    assert "Condition/ret" in card["detail"] and "Condition/ca" in card["detail"]


def test_a_hidden_red_flag_card_does_not_silence_the_check_first_card() -> None:
    """MEDIUM: with fracture switched off, an osteoporosis patient's hidden fracture
    warning made the conservative card stand down, and the malformed retention was on no
    card at all."""
    import dataclasses

    import fhir_samples
    from cds_rules.model import Topic
    scenario = fhir_samples.load("fracture-osteoporosis-snomed")
    request = scenario.hook_request()
    subject = {"reference": f"Patient/{scenario.patient_id}"}
    malformed = {"resourceType": "Observation", "id": "ret", "status": "final",
                 "subject": subject, "effectiveDateTime": "2026-02-30T10:00:00Z",
                 "code": {"coding": [{"system": SNOMED, "code": "267064002",
                                      "display": "Retention of urine"}]}}
    with_it = dataclasses.replace(request, resources=(*request.resources, malformed))
    settings = DEFAULT_SETTINGS.model_copy(update={"disabled_topics": frozenset({
        Topic.FRACTURE})})
    (card,) = evaluate(with_it, scenario.now, settings).cards
    assert card.summary.startswith("Check Retention of urine in the chart")


# --- the nineteenth session's "noticed and not done" (twentieth session)

def _emg_request_with_faulted_report(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    import dataclasses

    import fhir_samples
    scenario = fhir_samples.load("emg-order-sign-ncs-axial-pain")
    request = scenario.hook_request()
    subject = {"reference": f"Patient/{scenario.patient_id}"}
    report = {**_report("192970008"), "subject": subject}  # concluding cauda equina
    fail_reader_on(monkeypatch, "DiagnosticReport")
    return dataclasses.replace(request, resources=(*request.resources, report)), scenario.now


def test_a_site_switch_does_not_silence_emg_02s_check_first_card(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With electrodiagnostic testing switched off, an EMG/NCS order over a report the
    service could not read (it concludes cauda equina syndrome) got no card at all:
    EMG-02's check-first card was the only one, and the switch hid it."""
    from cds_rules.model import Topic
    off = DEFAULT_SETTINGS.model_copy(
        update={"disabled_topics": frozenset({Topic.ELECTRODIAGNOSTIC_TESTING})})
    request, now = _emg_request_with_faulted_report(monkeypatch)
    (card,) = evaluate(request, now, off).cards
    assert card.summary.startswith("Check Cauda equina syndrome (diagnosis) in the chart "
                                   "before deciding on EMG/NCS")


def test_a_switched_off_emg_02_still_gives_no_removal_advice() -> None:
    """The switch still hides EMG-02's own advice: only a check-first card passes it."""
    import fhir_samples
    from cds_rules.model import Topic
    off = DEFAULT_SETTINGS.model_copy(
        update={"disabled_topics": frozenset({Topic.ELECTRODIAGNOSTIC_TESTING})})
    scenario = fhir_samples.load("emg-order-sign-ncs-axial-pain")
    malformed = {"resourceType": "Observation", "id": "ret", "status": "final",
                 "subject": {"reference": f"Patient/{scenario.patient_id}"},
                 "effectiveDateTime": "2026-02-30T10:00:00Z",
                 "code": {"coding": [{"system": SNOMED, "code": "386661006"}]}}  # fever
    request = scenario.hook_request()
    assert [c.topic for c in evaluate(request, scenario.now).cards] == [
        "electrodiagnostic-testing"]  # the control: "Remove the draft EMG/NCS"
    assert evaluate(request, scenario.now, off).cards == []
    import dataclasses
    with_it = dataclasses.replace(request, resources=(*request.resources, malformed))
    cards = evaluate(with_it, scenario.now, off).cards
    assert not any(c.summary.startswith("Remove the draft EMG") for c in cards)
