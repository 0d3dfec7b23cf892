"""Back pain or leg symptoms in an entry the service could not read are the call's context
all the same (PATHWAY.md 2; CONS-01 2.12.0, IMG-01 1.8.0, IMG-03 2.11.0, IMG-04 1.7.0,
EMG-02 1.7.0).

Before, only what a red-flag family reads was set aside from an entry that is not valid
FHIR (record/unreadable.py). A low back pain or a sciatica with an impossible onset date
was dropped and nothing else: the call had no back-pain context, and a new urinary
retention beside it gave no card at all (with the back pain valid: the critical cauda
equina card). A malformed sciatica (on both sides, a cauda equina sign) let the
conservative card say "no red flag recorded", and an EMG/NCS order be called "not
indicated for back pain without leg symptoms".
"""

from __future__ import annotations

from typing import Any

import pytest

from cds_rules import to_json
from cds_rules.engine import HookRequest, evaluate
from cds_rules.record import build_record
from cds_rules.settings import DEFAULT_SETTINGS
from tests.core_fault_support import fail_reader_on
from tests.unit.core.local_entries import ACUTE_NOW, SNOMED, SUBJECT

NOW = ACUTE_NOW
PATIENT = {"resourceType": "Patient", "id": "p", "birthDate": "1960-05-01"}
CES = "Same-day emergency assessment and emergency MRI: possible cauda equina syndrome"
LBP, SCIATICA, CES_DIAGNOSIS = "279039007", "23056005", "192970008"
BACK_PAIN_LINE = ("1 entry naming a red flag, back pain or leg symptoms, malformed, so not read "
                  "as written")


def _condition(resource_id: str, code: str, display: str, onset: str = "2026-02-20",
               **changes: Any) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": resource_id, "subject": SUBJECT,
            "code": {"coding": [{"system": SNOMED, "code": code, "display": display}]},
            "onsetDateTime": onset, **changes}


RETENTION = _condition("ur", "267064002", "Retention of urine", "2026-02-27")


def _cards(*entries: dict[str, Any], hook: str = "patient-view",
           drafts: tuple[dict[str, Any], ...] = ()) -> list[dict[str, Any]]:
    request = HookRequest(hook=hook, patient_id="p", resources=(PATIENT, *entries),
                          draft_orders=drafts)
    return to_json(evaluate(request, NOW).cards)


@pytest.mark.parametrize(("code", "display"), [(LBP, "Low back pain"), (SCIATICA, "Sciatica")])
@pytest.mark.parametrize("malformed", [{"onsetDateTime": "2026-02-30"}, {"id": "lbp 1"}],
                         ids=["impossible date", "id with a space"])
def test_a_malformed_back_pain_does_not_silence_a_red_flag_beside_it(
        code: str, display: str, malformed: dict[str, Any]) -> None:
    """The finding: no card at all, where a valid back pain gives the critical card."""
    valid = _condition("lbp", code, display)
    assert [c["summary"] for c in _cards(valid, RETENTION)] == [CES]
    (card,) = _cards({**valid, **malformed}, RETENTION)
    assert (card["indicator"], card["summary"]) == ("critical", CES)
    assert f"{BACK_PAIN_LINE}: {display} (Condition entry: malformed" in card["detail"]


def test_a_malformed_back_pain_alone_is_checked_first() -> None:
    """The red-flag checks ran on the rest and found none; the back pain is named, and the
    card asks for it to be checked, never "no red flag recorded" over it: its onset is
    unknown, and the checks that read back pain beside another finding could not."""
    (card,) = _cards(_condition("lbp", LBP, "Low back pain", "2025-01-01T10:00:00+25:00"))
    assert card["summary"] == "Check Low back pain in the chart: the service could not read it"
    assert "- Low back pain — not read — `Condition/lbp`" in card["detail"]  # no date read
    assert "so it is read as one with no date. Its onset is unknown to the service" \
        in card["detail"]
    assert f"{BACK_PAIN_LINE}: Low back pain (Condition entry: malformed" in card["detail"]
    assert not card.get("suggestions")  # no physiotherapy referral: duration unknown


@pytest.mark.parametrize(("code", "display"), [("233985008", "Abdominal aortic aneurysm"),
                                               ("95570007", "Kidney stone")])
def test_a_red_flag_read_beside_unread_back_pain_fires_as_beside_a_valid_one(
        code: str, display: str) -> None:
    """The fourth and fifth reviews (HIGH): a back pain kept as context only let the
    conservative card say "no red flag recorded" beside an aneurysm, and then, set aside,
    the aneurysm's critical card was lost whenever another card fired: the checks that
    need back pain beside another finding could not read it. Read as a back pain with no
    date (which cannot be excluded as new), they fire as over a valid one."""
    valid = _condition("lbp", LBP, "Low back pain")
    finding = _condition("other", code, display, "2019-06-01")
    expected = [(c["indicator"], c["summary"]) for c in _cards(valid, finding)]
    cards = _cards({**valid, "onsetDateTime": "2026-02-30"}, finding)
    assert [(c["indicator"], c["summary"]) for c in cards] == expected
    assert f"{BACK_PAIN_LINE}: Low back pain" in cards[0]["detail"]


def test_a_malformed_duplicate_back_pain_is_checked_first_too() -> None:
    """Beside a back pain read: the unread one may be older (an onset that changes every
    judgement of time): no reassurance over it either."""
    (card,) = _cards(_condition("lbp", LBP, "Low back pain"),
                     _condition("lbp-2", LBP, "Low back pain", "2026-02-30"))
    assert card["summary"] == "Check Low back pain in the chart: the service could not read it"
    assert BACK_PAIN_LINE in card["detail"]


def test_no_acute_judgement_beside_a_back_pain_of_unknown_onset() -> None:
    """The fourth review (MEDIUM): a new back pain beside a chronic one with a malformed id
    gave "Remove the draft spine imaging: back pain under 6 weeks"."""
    mri = {"resourceType": "ServiceRequest", "id": "mri", "status": "draft", "intent": "order",
           "subject": SUBJECT, "code": {"coding": [{"system": SNOMED,
                                                     "code": "394451000119106"}]}}
    cards = _cards(_condition("new", LBP, "Low back pain", "2026-02-26"),
                   _condition("old lbp", LBP, "Low back pain", "2019-01-01"), hook="order-sign",
                   drafts=(mri,))
    (card,) = [c for c in cards if c["source"]["topic"]["code"] == "imaging-not-indicated"]
    assert card["summary"].startswith("Check Low back pain in the chart before deciding on "
                                      "spine imaging")


def test_a_malformed_sciatica_is_checked_first() -> None:
    """A sciatica on both sides is a cauda equina sign, and the side of one that could not
    be read is unknown: never "no red flag recorded" over it."""
    (card,) = _cards(_condition("lbp", LBP, "Low back pain"),
                     _condition("sci", SCIATICA, "Sciatica", "2026-02-30"))
    assert card["summary"] == "Check Sciatica in the chart: the service could not read it"
    assert "Its onset is unknown to the service" in card["detail"]


def test_an_emg_order_over_a_malformed_sciatica_is_not_called_without_leg_symptoms() -> None:
    """The third review of the twentieth session: "Remove the draft EMG/NCS: not indicated
    for back pain without leg symptoms" (with its deletion) over the leg symptoms. Read as
    a sciatica with no date, it is a leg symptom: no advice against the order."""
    emg = {"resourceType": "ServiceRequest", "id": "emg", "status": "draft", "intent": "order",
           "subject": SUBJECT, "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt",
                                                     "code": "95886"}]}}
    back_pain = _condition("lbp", LBP, "Low back pain")
    assert [c["summary"] for c in _cards(back_pain, hook="order-sign", drafts=(emg,))] == [
        "Remove the draft EMG/NCS: not indicated for back pain without leg symptoms"]
    cards = _cards(back_pain, _condition("sci", SCIATICA, "Sciatica", "2026-02-30"),
                   hook="order-sign", drafts=(emg,))
    assert not any(c["summary"].startswith("Remove the draft EMG") for c in cards)


def test_a_cancer_history_with_an_unread_leg_symptom_keeps_its_emergency() -> None:
    """The fifth review (MEDIUM): a malformed leg numbness beside a cancer history dropped
    the acute oncology card to a warning."""
    cancer = _condition("ca", "363346000", "Malignant neoplastic disease", "2018-01-01")
    numbness = _condition("numb", "309537005", "Numbness of lower limb", "2026-02-27")
    back_pain = _condition("lbp", LBP, "Low back pain")
    expected = [(c["indicator"], c["summary"]) for c in _cards(back_pain, cancer, numbness)]
    cards = _cards(back_pain, cancer, {**numbness, "id": "numb 1"})
    assert [(c["indicator"], c["summary"]) for c in cards] == expected


def test_a_malformed_cauda_equina_diagnosis_alone_is_not_silent() -> None:
    """With no back pain coded, a cauda equina syndrome with an impossible date gave no
    card: a red flag set aside, but no context to give a card on."""
    (card,) = _cards(_condition("ces", CES_DIAGNOSIS, "Cauda equina syndrome", "2026-02-30"))
    assert card["summary"] == ("Check Cauda equina syndrome in the chart: a red-flag entry "
                               "the service could not read")


def test_a_faulted_back_pain_lets_every_rule_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not read for a fault in the service, a back pain named by its code is the context
    too: the critical card for the retention beside it (before: the conservative card's
    check-first form alone, the retention "recorded, not assessed")."""
    fail_reader_on(monkeypatch, "Condition", "lbp")
    (card,) = _cards(_condition("lbp", LBP, "Low back pain"), RETENTION)
    assert card["summary"] == CES
    assert "not read because of a fault in the service (logged for its operators): Low back " \
           "pain (Condition entry)" in card["detail"]


def test_an_undo_takes_back_the_back_pain_set_aside(monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader that set a back pain aside and then raised: nothing of it stays but the
    fault's own (record/reader_faults.undo)."""
    from cds_rules.record import builder as record_builder
    real = record_builder._HANDLERS["Condition"]

    def read_then_fail(builder: Any, resource: dict[str, Any]) -> bool:
        real(builder, resource)
        raise TypeError("injected")
    monkeypatch.setitem(record_builder._HANDLERS, "Condition", read_then_fail)
    record = build_record(HookRequest(hook="patient-view", patient_id="p", resources=(
        PATIENT, _condition("lbp", LBP, "Low back pain", "2026-02-30"))), NOW, DEFAULT_SETTINGS)
    (kept,) = record.unreadable_red_flags
    assert (kept.detail, record.quality.skipped_invalid) == ("a fault in the service", 0)


def test_a_faulted_back_pain_still_has_its_words_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fourth review (HIGH): a back pain coded M54.50 whose text names a new urinary
    retention, not read for a fault: its words were no longer read once its code had set
    the back pain aside, and the card reassured."""
    fail_reader_on(monkeypatch, "Condition", "lbp")
    entry = _condition("lbp", LBP, "Low back pain")
    entry["code"]["text"] = "Low back pain with new urinary retention"
    (card,) = _cards(entry)
    assert "urinary retention" in card["summary"] and card["summary"].startswith("Check ")
    assert "No red flag recorded" not in card["detail"]


@pytest.mark.parametrize("patient", [{"birthDate": "2015-01-01"}, {"deceasedBoolean": True}],
                         ids=["minor", "deceased"])
def test_no_card_for_a_minor_or_the_deceased(patient: dict[str, Any]) -> None:
    request = HookRequest(hook="patient-view", patient_id="p", resources=(
        {**PATIENT, **patient}, _condition("lbp", LBP, "Low back pain", "2026-02-30"),
        RETENTION))
    assert evaluate(request, NOW).cards == []


def test_the_audit_names_the_back_pain_by_concept() -> None:
    request = HookRequest(hook="patient-view", patient_id="p", resources=(
        PATIENT, {**_condition("lbp", LBP, "Low back pain", "2026-02-30"),
                  "code": {"coding": [{"system": SNOMED, "code": LBP}],
                           "text": "LBP for J Smith"}}))
    quality = evaluate(request, NOW).quality
    assert any("LBP for J Smith" in gap for gap in quality.data_gaps)
    assert f"{BACK_PAIN_LINE}: low_back_pain (Condition entry: malformed onsetDateTime); " \
           "check it in the chart" in quality.as_dict()["dataGaps"]


def test_the_words_of_a_malformed_back_pain_entry_are_read_for_a_red_flag() -> None:
    """A malformed back pain coded SNOMED CT 279039007 whose text says "with new urinary
    retention": the check-first card names the red flag in its words, not only the back
    pain (before: "Check Low back pain in the chart"), and the entry is counted once."""
    entry = _condition("lbp", LBP, "Low back pain", onsetDateTime="2026-02-30")
    entry["code"]["text"] = "Low back pain with new urinary retention"
    request = HookRequest(hook="patient-view", patient_id="p", resources=(PATIENT, entry))
    evaluation = evaluate(request, NOW)
    (card,) = to_json(evaluation.cards)
    assert card["summary"] == ('Check "Low back pain with new urinary retention" in the chart: '
                               "a red-flag entry the service could not read")
    assert evaluation.quality.data_gaps[0].startswith(BACK_PAIN_LINE)


def test_a_malformed_red_flag_stated_absent_names_nothing_in_its_words() -> None:
    """Its codes name the retention, stated absent: its words are not read instead."""
    entry = {"resourceType": "Observation", "id": "ur", "status": "final", "subject": SUBJECT,
             "effectiveDateTime": "2026-02-30", "valueBoolean": False,
             "code": {"coding": [{"system": SNOMED, "code": "267064002"}],
                      "text": "Urinary retention"}}
    cards = _cards(_condition("lbp", LBP, "Low back pain"), entry)
    assert [c["summary"][:21] for c in cards] == ["Self-management, stay"]
