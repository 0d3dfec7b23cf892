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
    (cards,) = [_cards(*with_back_pain(), drafts=(_draft(),))]
    assert _summaries(cards) == [NOT_READ]
    assert "(ServiceRequest: a fault in the service)" in cards[0]["detail"]


def test_a_faulted_draft_whose_codes_cannot_be_looked_up_may_be_either_order(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A double fault (the reader and the code lookup): the draft may be the spine MRI or
    the EMG/NCS, so both topics say they could not read it."""
    def order_hits(concept: object) -> list[Any]:
        raise TypeError("injected")
    monkeypatch.setattr(codes, "order_hits", order_hits)
    monkeypatch.setattr("cds_rules.record.orders.order_hits", order_hits)
    cards = _cards(*with_back_pain(), drafts=(_draft(),))
    assert sorted(c["source"]["topic"]["code"] for c in cards) == [
        "electrodiagnostic-testing", "imaging-not-indicated"]
    assert [c["summary"].split(" without")[0] for c in cards] == [
        "Decide on the draft spine imaging", "Decide on the draft EMG/NCS"]
    assert all("The draft MRI of lumbar spine without contrast could not be read" in
               c["detail"] for c in cards)
    assert all("(ServiceRequest: a fault in the service)" in c["detail"] for c in cards)


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
