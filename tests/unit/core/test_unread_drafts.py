"""A draft order the service could not read is what the clinician is ordering: never a
reason for silence (PATHWAY.md 2; IMG-01 1.8.0, EMG-02 1.7.0).

Before, a draft spine MRI with an impossible date or an id with a space was dropped as
invalid and nothing else: with no back pain recorded the call had no context, so a new
urinary retention in the same record gave no cauda equina card on order-sign (a readable
draft gave the critical card), and with back pain the order got no card at all, as though
it had been checked. Now the draft still gives the call its context, the red-flag checks
run, and the order gets "Decide on the draft ... without this service" unless a red-flag
card speaks; every card says which draft was not read and where it is malformed.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from cds_rules import to_json
from cds_rules.engine import HookRequest, evaluate
from cds_rules.record import build_record, codes
from cds_rules.record import builder as record_builder
from cds_rules.settings import DEFAULT_SETTINGS, RuleSettings
from tests.unit.core.local_entries import ACUTE_NOW, SNOMED, SUBJECT, with_back_pain

NOW = ACUTE_NOW
PATIENT = {"resourceType": "Patient", "id": "p", "birthDate": "1960-05-01"}
LUMBAR_MRI = "394451000119106"  # MRI of lumbar spine without contrast (value set spine_mri)
RETENTION = {"resourceType": "Condition", "id": "ur", "subject": SUBJECT,
             "code": {"coding": [{"system": SNOMED, "code": "267064002",
                                  "display": "Retention of urine"}]},
             "onsetDateTime": "2026-02-27"}
NOT_READ = "Decide on the draft spine imaging without this service: it could not read the order"
CES = "Same-day emergency assessment and emergency MRI: possible cauda equina syndrome"


CPT = "http://www.ama-assn.org/go/cpt"
ORDER = "https://backpain-cds.org/fhir/CodeSystem/order"


def _draft(code: str = LUMBAR_MRI, display: str = "MRI of lumbar spine without contrast",
           system: str = SNOMED, **changes: Any) -> dict[str, Any]:
    entry = {"resourceType": "ServiceRequest", "id": "sr-1", "status": "draft",
             "intent": "order", "subject": SUBJECT,
             "code": {"coding": [{"system": system, "code": code, "display": display}]}}
    return {**entry, **changes}


def _emg_draft(**changes: Any) -> dict[str, Any]:
    return _draft(code="95886", display="Needle EMG with NCS", system=CPT, **changes)


def _physio_draft(**changes: Any) -> dict[str, Any]:
    return _draft(code="physiotherapy-referral", display="Referral to physiotherapy",
                  system=ORDER, **changes)


MALFORMED = {"an impossible date": {"authoredOn": "2026-02-30"},
             "an id with a space": {"id": "sr 1"}}


def _cards(*entries: dict[str, Any], drafts: tuple[dict[str, Any], ...],
           hook: str = "order-sign", selections: tuple[str, ...] = (),
           settings: RuleSettings = DEFAULT_SETTINGS) -> list[dict[str, Any]]:
    request = HookRequest(hook=hook, patient_id="p", resources=entries, draft_orders=drafts,
                          selections=selections)
    return to_json(evaluate(request, NOW, settings).cards)


def _summaries(cards: list[dict[str, Any]]) -> list[str]:
    return [c["summary"] for c in cards]


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
@pytest.mark.parametrize("malformed", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_draft_still_lets_the_red_flag_checks_run(hook: str,
                                                              malformed: dict[str, Any]
                                                              ) -> None:
    """The finding: no back pain recorded, a new retention, a malformed draft lumbar MRI:
    no card at all before; the critical card now, naming the draft as not read."""
    valid = _cards(PATIENT, RETENTION, drafts=(_draft(),), hook=hook)
    assert _summaries(valid) == [CES]
    (card,) = _cards(PATIENT, RETENTION, drafts=(_draft(**malformed),), hook=hook)
    assert (card["indicator"], card["summary"]) == ("critical", CES)
    where = "authoredOn" if "authoredOn" in malformed else "id"
    assert ("1 draft order malformed, so checked by no rule: MRI of lumbar spine without "
            f"contrast (ServiceRequest entry: malformed {where}); no advice for or against "
            "it is given") in card["detail"]


def test_with_back_pain_the_malformed_order_gets_a_card_not_silence() -> None:
    """Back pain under 6 weeks: a readable draft MRI is "remove it" (ACR variant 1); a
    malformed one was no card; now an info card that says it was not checked, offering
    nothing for deletion."""
    (valid,) = _cards(*with_back_pain(), drafts=(_draft(),))
    assert valid["summary"].startswith("Remove the draft spine imaging")
    (card,) = _cards(*with_back_pain(), drafts=(_draft(authoredOn="2026-02-30"),))
    assert (card["indicator"], card["summary"]) == ("info", NOT_READ)
    assert "MRI of lumbar spine without contrast (draft order) — not read — " \
           "`ServiceRequest/sr-1`" in card["detail"]
    assert "could not be read (ServiceRequest: malformed authoredOn), so no rule advised " \
           "for or against it" in card["detail"]
    assert "Decide on the order as you would without decision support" in card["detail"]
    assert not card.get("suggestions")
    assert card["source"]["topic"]["code"] == "imaging-not-indicated"


def test_an_invalid_id_is_never_quoted() -> None:
    secret = "9434765919 Smith"
    (card,) = _cards(*with_back_pain(), drafts=(_draft(id=secret),))
    assert card["summary"] == NOT_READ
    assert secret not in str(card)
    assert "`ServiceRequest/(malformed id)`" in card["detail"]


def test_a_red_flag_card_speaks_instead() -> None:
    """A red-flag card the site shows carries its own imaging: IMG-01 stands down, the
    draft is named on that card's line."""
    cards = _cards(*with_back_pain(RETENTION), drafts=(_draft(authoredOn="2026-02-30"),))
    assert _summaries(cards) == [CES]


def test_a_malformed_emg_draft_gets_the_electrodiagnostic_card() -> None:
    (valid,) = _cards(*with_back_pain(), drafts=(_emg_draft(),))
    assert valid["summary"].startswith("Remove the draft EMG/NCS")
    (card,) = _cards(*with_back_pain(), drafts=(_emg_draft(authoredOn="2026-02-30"),))
    assert card["summary"] == ("Decide on the draft EMG/NCS without this service: it could "
                               "not read the order")
    assert card["source"]["topic"]["code"] == "electrodiagnostic-testing"
    assert not card.get("suggestions")


def test_a_malformed_draft_of_something_else_gives_no_context() -> None:
    """A draft no rule reads (a physiotherapy referral is read, but is no context) leaves
    a record without back pain silent, as a readable one does."""
    physio = _physio_draft(authoredOn="2026-02-30")
    record = build_record(HookRequest(hook="order-sign", patient_id="p",
                                      resources=(PATIENT, RETENTION), draft_orders=(physio,)),
                          NOW, DEFAULT_SETTINGS)
    (unread,) = record.unread_drafts  # kept (a card would name it), but no context
    assert unread.kinds == frozenset({"physiotherapy"})
    assert _cards(PATIENT, RETENTION, drafts=(physio,)) == []


def test_order_select_counts_only_the_selected_unread_draft() -> None:
    """On order-select with selections, only what the clinician is choosing counts; an
    unread draft without an id cannot be shown not to be it."""
    malformed = _draft(authoredOn="2026-02-30")
    assert _cards(PATIENT, RETENTION, drafts=(malformed,), hook="order-select",
                  selections=("ServiceRequest/other",)) == []
    assert _summaries(_cards(PATIENT, RETENTION, drafts=(malformed,), hook="order-select",
                             selections=("ServiceRequest/sr-1",))) == [CES]
    no_id = {k: v for k, v in malformed.items() if k != "id"}
    assert _summaries(_cards(PATIENT, RETENTION, drafts=(no_id,), hook="order-select",
                             selections=("ServiceRequest/other",))) == [CES]


def test_a_site_switch_still_silences_the_advice_not_the_red_flags() -> None:
    off = RuleSettings(disabled_topics=frozenset({"imaging-not-indicated"}))
    malformed = _draft(authoredOn="2026-02-30")
    assert _cards(*with_back_pain(), drafts=(malformed,), settings=off) == []
    assert _summaries(_cards(PATIENT, RETENTION, drafts=(malformed,), settings=off)) == [CES]


# --- not read for a fault in the service


def _failing_draft_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    real = record_builder.read_draft_order

    def read_draft_order(builder: Any, resource: dict[str, Any]) -> bool:
        real(builder, resource)  # what it read must be undone
        raise TypeError("injected")
    monkeypatch.setattr(record_builder, "read_draft_order", read_draft_order)


def test_a_faulted_draft_gives_context_and_is_named_on_the_fault_line(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    _failing_draft_reader(monkeypatch)
    request = HookRequest(hook="order-sign", patient_id="p", resources=(PATIENT, RETENTION),
                          draft_orders=(_draft(),))
    record = build_record(request, NOW, DEFAULT_SETTINGS)
    assert not record.orders  # undone: a half-read draft reaches no rule
    (unread,) = record.unread_drafts
    assert (unread.kinds, unread.detail) == (frozenset({"spine_mri"}), "a fault in the service")
    assert not record.unreadable_red_flags  # a draft names no red flag: not "an unread entry"
    with caplog.at_level(logging.WARNING):
        (card,) = to_json(evaluate(request, NOW).cards)
    assert card["summary"] == CES
    assert ("1 entry not read because of a fault in the service (logged for its operators): "
            "draft MRI of lumbar spine without contrast (ServiceRequest entry)") in card["detail"]
    assert "draft order malformed" not in card["detail"]  # one line for it, not two
    (with_back_pain_card,) = _cards(*with_back_pain(), drafts=(_draft(),))
    assert with_back_pain_card["summary"] == NOT_READ
    assert "(ServiceRequest: a fault in the service)" in with_back_pain_card["detail"]


def test_a_faulted_draft_whose_codes_cannot_be_looked_up_is_an_order_of_unknown_kind(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A double fault (the reader and the code lookup): the draft may be the spine MRI,
    so it gives the call its context, and one card says a draft order was not read,
    calling it by its own name but not by a kind it may not be."""
    def order_hits(concept: object) -> list[Any]:
        raise TypeError("injected")
    monkeypatch.setattr(codes, "order_hits", order_hits)
    monkeypatch.setattr("cds_rules.record.orders.order_hits", order_hits)
    assert _summaries(_cards(PATIENT, RETENTION, drafts=(_draft(),))) == [CES]
    (card,) = _cards(*with_back_pain(), drafts=(_draft(),))
    assert card["summary"] == ("Decide on the draft order without this service: it could "
                               "not read the order")
    assert "The draft MRI of lumbar spine without contrast could not be read " \
           "(ServiceRequest: a fault in the service)" in card["detail"]


# --- the first independent review (twentieth session)

MALFORMED_RETENTION = {**RETENTION, "onsetDateTime": "2026-02-30"}


@pytest.mark.parametrize("resources", [with_back_pain(MALFORMED_RETENTION),
                                       (PATIENT, MALFORMED_RETENTION)],
                         ids=["with back pain", "no back pain"])
def test_an_unreadable_red_flag_is_checked_first_whatever_the_draft(
        resources: tuple[dict[str, Any], ...]) -> None:
    """HIGH: with a malformed retention, a valid draft MRI gave "Check Retention of urine
    in the chart before deciding on spine imaging"; a malformed one gave "Decide on the
    draft ... the red-flag checks ran on the rest of the record", the retention only in
    the footer."""
    for draft in (_draft(), _draft(authoredOn="2026-02-30")):
        (card,) = _cards(*resources, drafts=(draft,))
        assert card["summary"] == ("Check Retention of urine in the chart before deciding "
                                   "on spine imaging: entry unreadable")


def test_an_entry_not_read_is_checked_first_before_an_unread_emg_order(
        monkeypatch: pytest.MonkeyPatch) -> None:
    radiculopathy = {"resourceType": "Condition", "id": "radic", "subject": SUBJECT,
                     "code": {"coding": [{"system": SNOMED, "code": "72274001"}]}}
    from tests.core_fault_support import fail_reader_on
    fail_reader_on(monkeypatch, "Condition", "radic")
    cards = _cards(*with_back_pain(radiculopathy), drafts=(_emg_draft(authoredOn="2026-02-30"),))
    emg = [c for c in cards if c["source"]["topic"]["code"] == "electrodiagnostic-testing"]
    assert [c["summary"] for c in emg] == [
        "Check an unread Condition entry in the chart before deciding on EMG/NCS: entry "
        "unreadable"]


@pytest.mark.parametrize("code", [
    [{"coding": [{"system": SNOMED, "code": LUMBAR_MRI}]}],  # a list of CodeableConcepts
    {"coding": {"system": SNOMED, "code": LUMBAR_MRI}},  # one Coding where a list belongs
], ids=["code as a list", "coding as an object"])
def test_a_draft_whose_code_is_of_the_wrong_shape_is_still_the_order(code: Any) -> None:
    """HIGH: such a draft was passed over before it was validated: no card, and not even
    counted as invalid."""
    draft = {**_draft(), "code": code}
    request = HookRequest(hook="order-sign", patient_id="p", resources=(PATIENT, RETENTION),
                          draft_orders=(draft,))
    record = build_record(request, NOW, DEFAULT_SETTINGS)
    assert record.quality.skipped_invalid == 1
    (unread,) = record.unread_drafts
    assert unread.kinds == frozenset({"spine_mri"})
    assert _summaries(to_json(evaluate(request, NOW).cards)) == [CES]


def test_a_hidden_red_flag_card_does_not_silence_the_unread_order() -> None:
    """MEDIUM: a 75-year-old's fracture card, hidden by the site's switch, made IMG-01
    stand down, and the malformed draft was named on no card."""
    old = {**PATIENT, "birthDate": "1950-05-01"}
    resources = (old, *with_back_pain()[1:])
    (fracture,) = _cards(*resources, drafts=(_draft(),))  # the control: the switch hides it
    assert fracture["source"]["topic"]["code"] == "fracture"
    off = RuleSettings(disabled_topics=frozenset({"fracture"}))
    (card,) = _cards(*resources, drafts=(_draft(authoredOn="2026-02-30"),), settings=off)
    assert card["summary"] == NOT_READ


def test_a_fault_while_setting_aside_a_draft_stops_nothing_else(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """MEDIUM: the set-aside itself raising escaped the reader's guard and ended the
    build: no card, the drafts after it unread."""
    _failing_draft_reader(monkeypatch)

    def label_of(*args: Any) -> str:
        raise TypeError("injected")
    monkeypatch.setattr("cds_rules.record.orders.label_of", label_of)
    request = HookRequest(hook="order-sign", patient_id="p", resources=(PATIENT, RETENTION),
                          draft_orders=(_draft(), _emg_draft(id="emg")))
    record = build_record(request, NOW, DEFAULT_SETTINGS)
    assert record.quality.reader_faults == 2
    assert len(record.unread_drafts) == 2
    assert evaluate(request, NOW).cards[0].summary == CES


def test_a_draft_without_an_id_is_not_said_to_have_a_malformed_one() -> None:
    no_id = {k: v for k, v in _draft(authoredOn="2026-02-30").items() if k != "id"}
    (card,) = _cards(*with_back_pain(), drafts=(no_id,))
    assert "`ServiceRequest/(no id)`" in card["detail"]


def test_a_malformed_draft_is_counted_invalid_and_not_used() -> None:
    record = build_record(HookRequest(hook="order-sign", patient_id="p",
                                      resources=with_back_pain(),
                                      draft_orders=(_draft(authoredOn="2026-02-30"),)),
                          NOW, DEFAULT_SETTINGS)
    assert (record.quality.skipped_invalid, record.quality.resources_used) == (1, 2)
    assert not record.orders


def test_a_faulted_draft_no_rule_reads_is_counted_not_kept(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _failing_draft_reader(monkeypatch)
    physio = _draft(code="91251008", display="Physical therapy procedure")  # no value set's
    record = build_record(HookRequest(hook="order-sign", patient_id="p",
                                      resources=with_back_pain(), draft_orders=(physio,)),
                          NOW, DEFAULT_SETTINGS)
    assert record.quality.reader_faults == 1
    assert not record.unread_drafts


def test_a_broken_surrogate_in_its_name_is_mended_before_a_card_quotes_it() -> None:
    """The name comes from an entry that failed validation, so validation did not mend
    it: a card quoting a lone surrogate could not be written as UTF-8."""
    broken = _draft(display="MRI \ud800 lumbar", authoredOn="2026-02-30")
    (card,) = _cards(*with_back_pain(), drafts=(broken,))
    assert card["summary"] == NOT_READ
    assert "MRI \ufffd lumbar (draft order)" in card["detail"]
    card["detail"].encode("utf-8")  # raises on a lone surrogate


# --- the second independent review (twentieth session)

def test_a_read_draft_with_nothing_said_of_it_does_not_hide_an_unread_one() -> None:
    """MEDIUM: a valid draft MRI on chronic back pain with management (IMG-01 says nothing
    of it) beside a malformed one: no card, the malformed draft named nowhere."""
    chronic = {"resourceType": "Condition", "id": "lbp", "subject": SUBJECT,
               "code": {"coding": [{"system": SNOMED, "code": "279039007"}]},
               "onsetDateTime": "2025-06-01"}
    physio = {"resourceType": "Procedure", "id": "pt", "status": "completed",
              "subject": SUBJECT, "performedDateTime": "2026-02-01",
              "code": {"coding": [{"system": ORDER, "code": "physiotherapy-referral"}]}}
    resources = ({**PATIENT, "birthDate": "1980-05-01"}, chronic, physio)
    assert _cards(*resources, drafts=(_draft(),)) == []  # the control: nothing to say
    (card,) = _cards(*resources, drafts=(_draft(), _draft(id="sr-2", authoredOn="2026-02-30")))
    assert card["summary"] == ("Decide on the draft spine imaging without this service: it "
                               "could not read one of the orders")
    assert "1 draft order malformed" in card["detail"]


def test_advice_on_a_read_draft_still_leads_beside_an_unread_one() -> None:
    """Back pain under 6 weeks: "remove" the valid draft (deleting it only); the malformed
    one is named on the card's line."""
    (card,) = _cards(*with_back_pain(), drafts=(_draft(), _draft(id="sr-2",
                                                                 authoredOn="2026-02-30")))
    assert card["summary"].startswith("Remove the draft spine imaging")
    (delete,) = [a for s in card["suggestions"] for a in s["actions"] if a["type"] == "delete"]
    assert delete["resourceId"] == "ServiceRequest/sr-1"
    assert "1 draft order malformed" in card["detail"]


@pytest.mark.parametrize("draft", [_emg_draft(), _emg_draft(authoredOn="2026-02-30")],
                         ids=["read", "malformed"])
def test_an_unreadable_red_flag_is_checked_first_before_an_emg_order(
        draft: dict[str, Any]) -> None:
    """MEDIUM: over a malformed retention, a malformed EMG draft gave "Decide ... the
    red-flag checks ran on the rest of the record" (a valid one, "Remove the draft
    EMG/NCS"), the retention only in the footer."""
    (card,) = _cards(PATIENT, MALFORMED_RETENTION, drafts=(draft,))
    assert card["summary"] == ("Check Retention of urine in the chart before deciding on "
                               "EMG/NCS: entry unreadable")
    assert "if it records a red flag, its pathway applies now" in card["detail"]
    assert not any(a["type"] == "delete" for s in card.get("suggestions", ())
                   for a in s["actions"])


def test_an_unread_medicine_is_not_said_to_record_leg_symptoms(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.core_fault_support import fail_reader_on
    fail_reader_on(monkeypatch, "MedicationRequest")
    medicine = {"resourceType": "MedicationRequest", "id": "rx", "status": "active",
                "intent": "order", "subject": SUBJECT, "authoredOn": "2026-02-01",
                "medicationCodeableConcept": {"text": "naproxen 500 mg"}}
    cards = _cards(*with_back_pain(medicine), drafts=(_emg_draft(),))
    (card,) = [c for c in cards if c["source"]["topic"]["code"] == "electrodiagnostic-testing"]
    assert card["summary"].startswith("Check an unread MedicationRequest entry in the chart")
    assert "may record leg symptoms" not in card["detail"]
