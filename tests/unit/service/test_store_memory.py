"""Issued cards, feedback, snoozes, audit and retention through the Store API, on both
databases (the HTTP endpoint is tested in test_feedback.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from cds_rules import Card, Fact, Topic
from service.db import AuditEvent, Feedback, IssuedCard, Snooze
from service.store import (
    FeedbackItem,
    InvalidFeedback,
    SnoozeMemory,
    Store,
    UnknownCards,
)
from tests.store_support import *  # noqa: F403  (fixtures)
from tests.store_support import (
    PATIENT,
    RETENTION,
    SADDLE,
    SERVICE,
    T0,
    WEAK,
    FakeClock,
    answer,
    finding,
    hook_call,
    override,
)


def topics(cards: Sequence[Card]) -> list[str]:
    return sorted(c.topic for c in cards)


def count(store: Store, model: type[Any]) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.fixture
def memory(store: Store) -> SnoozeMemory:
    return SnoozeMemory(store)


def test_issued_cards_are_recorded_with_rule_version_and_hashed_patient(
        store: Store, memory: SnoozeMemory) -> None:
    ces = finding(Topic.CAUDA_EQUINA, RETENTION, SADDLE, indicator="critical")
    call = hook_call(ces, at=T0)
    core = list(call.evaluation.cards)
    (sent,) = answer(memory, call)
    assert replace(sent, uuid=core[0].uuid) == core[0]  # the same card, its issued uuid
    with store.engine.connect() as conn:
        card = conn.execute(select(IssuedCard)).one()
        audit = conn.execute(select(AuditEvent)).one()
    assert card.card_uuid == sent.uuid != core[0].uuid
    assert (card.topic, card.rule_id, card.rule_version, card.indicator) == (
        "cauda-equina", "CAUDA-EQUINA-01", "1.0.0", "critical")
    assert card.suggestion_uuids == [sent.suggestions[0].uuid]
    assert len(card.fingerprint) == 2
    assert card.patient_hash == store.hasher.patient(PATIENT) != PATIENT
    assert card.issued_at == T0
    assert audit.client_iss == "https://ehr.example.org"
    assert audit.cards[0]["ruleVersion"] == "1.0.0" and audit.suppressed == []
    assert audit.quality["skippedInvalid"] == 2
    assert audit.quality["otherPatientDropped"] == 1
    assert audit.quality["dataGaps"] == ["Observation"]
    assert audit.latency_ms == 12.5


def test_snooze_hides_the_topic_for_that_patient_until_it_expires(
        store: Store, memory: SnoozeMemory, clock: FakeClock) -> None:
    fracture = finding(Topic.FRACTURE, SADDLE)
    imaging = finding(Topic.IMAGING_NOT_INDICATED)
    first = hook_call(fracture, imaging, at=T0)
    answer(memory, first)
    clock.now = T0 + timedelta(minutes=1)
    result = store.add_feedback(SERVICE, [override(first.evaluation.cards[0],
                                                   "already-assessed", clock.now)])
    assert (result.stored, result.snoozes) == (1, 1)

    later = hook_call(fracture, imaging, at=T0 + timedelta(days=29))
    assert topics(answer(memory, later)) == ["imaging-not-indicated"]
    # another patient, and another service (hook) for the same patient
    assert topics(answer(memory, hook_call(fracture, at=T0 + timedelta(days=1),
                                           patient="someone-else"))) == ["fracture"]
    assert topics(answer(memory, hook_call(fracture, at=T0 + timedelta(days=1),
                                           service="back-pain-order-select"))) == []
    expired = hook_call(fracture, imaging, at=T0 + timedelta(days=30, minutes=2))
    assert topics(answer(memory, expired)) == ["fracture", "imaging-not-indicated"]

    with store.engine.connect() as conn:
        audits = conn.execute(select(AuditEvent).order_by(AuditEvent.received_at)).all()
    suppressed = [[s["topic"] for s in a.suppressed] for a in audits]
    assert suppressed == [[], [], ["fracture"], ["fracture"], []]


def test_a_new_fact_breaks_the_snooze(store: Store, memory: SnoozeMemory,
                                      clock: FakeClock) -> None:
    before = finding(Topic.CAUDA_EQUINA, RETENTION)
    first = hook_call(before, at=T0)
    answer(memory, first)
    store.add_feedback(SERVICE, [override(first.evaluation.cards[0], "already-assessed", T0)])

    same = hook_call(before, at=T0 + timedelta(hours=1))
    assert answer(memory, same) == []
    worse = hook_call(finding(Topic.CAUDA_EQUINA, RETENTION, SADDLE), at=T0 + timedelta(hours=2))
    assert topics(answer(memory, worse)) == ["cauda-equina"]
    # fewer facts than the snoozed card saw: nothing new, still snoozed
    assert answer(memory, hook_call(finding(Topic.CAUDA_EQUINA), at=T0 + timedelta(hours=3))) == []


def test_a_new_sign_in_the_same_entrys_words_breaks_the_snooze(
        store: Store, memory: SnoozeMemory) -> None:
    """One note's words named a retention, then a saddle anaesthesia too (the same entry,
    the same time, the same uncoded concept): the second sign was the same digest, so the
    snoozed card stayed hidden (the twenty-sixth session's note, service/store/keys.py)."""
    words = Fact("uncoded:cauda-equina", 'Uncoded entry "note"', "Observation/n1",
                 "Observation", when=T0 - timedelta(days=1), detail="urinary retention")
    first = hook_call(finding(Topic.CAUDA_EQUINA, words), at=T0)
    answer(memory, first)
    store.add_feedback(SERVICE, [override(first.evaluation.cards[0], "already-assessed", T0)])
    assert answer(memory, hook_call(finding(Topic.CAUDA_EQUINA, words),
                                    at=T0 + timedelta(hours=1))) == []
    more = finding(Topic.CAUDA_EQUINA, words, replace(words, detail="saddle anaesthesia"))
    assert topics(answer(memory, hook_call(more, at=T0 + timedelta(hours=2)))) == [
        "cauda-equina"]


def test_a_coded_facts_digest_is_unchanged_by_its_detail(store: Store) -> None:
    """Snoozes stored before a sign in words counted its detail keep matching: a coded
    fact's digest does not read the detail."""
    assert store.hasher.fact(RETENTION) == store.hasher.fact(replace(RETENTION, detail="x"))


def test_a_changed_value_breaks_the_snooze(store: Store, memory: SnoozeMemory) -> None:
    deficit = finding(Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT, WEAK)
    first = hook_call(deficit, at=T0)
    answer(memory, first)
    store.add_feedback(SERVICE, [override(first.evaluation.cards[0], "managed-elsewhere", T0)])
    assert answer(memory, hook_call(deficit, at=T0 + timedelta(days=1))) == []
    weaker = finding(Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT, replace(WEAK, value=2.0))
    assert len(answer(memory, hook_call(weaker, at=T0 + timedelta(days=1)))) == 1


def test_critical_cards_snooze_for_24_hours_at_most(store: Store, memory: SnoozeMemory,
                                                    clock: FakeClock) -> None:
    ces = finding(Topic.CAUDA_EQUINA, RETENTION, indicator="critical")
    first = hook_call(ces, at=T0)
    answer(memory, first)
    clock.now = T0
    store.add_feedback(SERVICE, [override(first.evaluation.cards[0], "patient-declined", T0)])
    with store.engine.connect() as conn:
        snooze = conn.execute(select(Snooze)).one()
    assert snooze.expires_at - snooze.created_at == timedelta(hours=24)
    assert answer(memory, hook_call(ces, at=T0 + timedelta(hours=23, minutes=59))) == []
    assert len(answer(memory, hook_call(ces, at=T0 + timedelta(hours=24)))) == 1


def test_overrides_without_a_snooze_reason_do_not_snooze(store: Store,
                                                         memory: SnoozeMemory) -> None:
    fracture = finding(Topic.FRACTURE, SADDLE)
    first = hook_call(fracture, at=T0)
    answer(memory, first)
    card = first.evaluation.cards[0]
    result = store.add_feedback(SERVICE, [
        override(card, "not-applicable", T0),
        override(card, None, T0 + timedelta(seconds=1), comment="seen in clinic"),
        FeedbackItem(card=card.uuid, outcome="overridden", outcome_timestamp=T0,
                     reason_system="http://other.example/reasons", reason_code="already-assessed"),
    ])
    assert (result.stored, result.snoozes) == (3, 0)
    assert len(answer(memory, hook_call(fracture, at=T0 + timedelta(hours=1)))) == 1


def test_feedback_is_stored_once(store: Store, memory: SnoozeMemory) -> None:
    call = hook_call(finding(Topic.FRACTURE, SADDLE), at=T0)
    answer(memory, call)
    card = call.evaluation.cards[0]
    accepted = FeedbackItem(card=card.uuid, outcome="accepted", outcome_timestamp=T0,
                            accepted_suggestions=(card.suggestions[0].uuid,))
    snoozing = override(card, "already-assessed", T0, comment="discussed")
    first = store.add_feedback(SERVICE, [accepted, snoozing])
    again = store.add_feedback(SERVICE, [accepted, snoozing])
    assert (first.stored, first.duplicates, first.snoozes) == (2, 0, 1)
    assert (again.stored, again.duplicates, again.snoozes) == (0, 2, 0)
    # same timestamp, different reason: a different entry
    assert store.add_feedback(SERVICE, [override(card, "not-applicable", T0)]).stored == 1
    assert (count(store, Feedback), count(store, Snooze)) == (3, 1)


def test_feedback_on_cards_never_issued_by_this_service_is_refused_whole(
        store: Store, memory: SnoozeMemory) -> None:
    call = hook_call(finding(Topic.FRACTURE, SADDLE), at=T0)
    answer(memory, call)
    card = call.evaluation.cards[0]
    never = replace(card, uuid=str(uuid.uuid4()))
    with pytest.raises(UnknownCards) as refused:
        store.add_feedback(SERVICE, [override(card, "not-applicable", T0),
                                     override(never, "not-applicable", T0)])
    assert refused.value.cards == (never.uuid,)
    with pytest.raises(UnknownCards):
        store.add_feedback("back-pain-order-sign", [override(card, "not-applicable", T0)])
    with pytest.raises(InvalidFeedback):
        store.add_feedback(SERVICE, [FeedbackItem(
            card=card.uuid, outcome="accepted", outcome_timestamp=T0,
            accepted_suggestions=(str(uuid.uuid4()),))])
    assert count(store, Feedback) == 0


def test_purge_keeps_recent_audit_and_live_snoozes(store: Store, memory: SnoozeMemory,
                                                   clock: FakeClock) -> None:
    old = hook_call(finding(Topic.FRACTURE, SADDLE), at=T0 - timedelta(days=401))
    answer(memory, old)
    recent = hook_call(finding(Topic.FRACTURE, SADDLE), at=T0 - timedelta(days=1))
    answer(memory, recent)
    clock.now = T0 - timedelta(days=40)
    store.add_feedback(SERVICE, [override(old.evaluation.cards[0], "already-assessed", clock.now)])
    clock.now = T0 - timedelta(days=1)
    store.add_feedback(SERVICE, [override(recent.evaluation.cards[0], "already-assessed",
                                          clock.now)])
    store.claim_jti("spent", T0 - timedelta(minutes=1))
    store.claim_jti("live", T0 + timedelta(minutes=1))

    assert store.purge(400, now=T0) == {"audit_event": 1, "seen_jti": 1, "snooze": 1}
    assert (count(store, AuditEvent), count(store, Snooze)) == (1, 1)
    assert count(store, IssuedCard) == 2  # governance keeps what was issued
    assert store.claim_jti("live", T0 + timedelta(minutes=1)) is False


def test_only_the_cards_sent_are_issued_and_only_hidden_ones_are_suppressed(
        store: Store, memory: SnoozeMemory) -> None:
    call = hook_call(finding(Topic.FRACTURE, SADDLE), finding(Topic.MALIGNANCY), at=T0)
    assert memory.suppress_snoozed(call) == []
    memory.record_call(call, call.evaluation.cards[:1], [])
    with store.engine.connect() as conn:
        audit = conn.execute(select(AuditEvent)).one()
    assert [c["topic"] for c in audit.cards] == ["fracture"]
    assert audit.suppressed == []
    assert count(store, IssuedCard) == 1


def test_the_audit_keeps_no_text_of_the_record_in_its_data_gaps(
        store: Store, memory: SnoozeMemory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cards name an entry the service could not read by its own text, for the
    clinician to find it; that text is the sender's free text and may hold anything (a
    name, an NHS number), so the pseudonymised audit keeps our concept names instead."""
    import json

    from cds_rules.engine import HookRequest, evaluate
    from tests.core_fault_support import fail_reader_on
    from tests.unit.core.local_entries import ACUTE_NOW, SNOMED, SUBJECT, with_back_pain
    secret = "for J Smith NHS 943 476 5919"

    def entry(resource_id: str, code: str, **changes: Any) -> dict[str, Any]:
        return {"resourceType": "Condition", "id": resource_id, "subject": SUBJECT,
                "code": {"coding": [{"system": SNOMED, "code": code}],
                         "text": f"{resource_id} {secret}"}, **changes}
    malformed = entry("retention", "267064002", onsetDateTime="2026-02-30")
    faulted = entry("ces", "192970008", onsetDateTime="2026-02-27")
    ahead = entry("foot-drop", "6077001", onsetDateTime="2027-06-01")
    draft = {"resourceType": "ServiceRequest", "id": "sr-1", "status": "draft",
             "intent": "order", "subject": SUBJECT, "authoredOn": "2026-02-30",
             "code": {"coding": [{"system": SNOMED, "code": "394451000119106"}],
                      "text": f"MRI {secret}"}}
    fail_reader_on(monkeypatch, "Condition", "ces")
    evaluation = evaluate(HookRequest(hook="order-sign", patient_id="p",
                                      resources=with_back_pain(malformed, faulted, ahead),
                                      draft_orders=(draft,)), ACUTE_NOW)
    gaps = evaluation.quality.data_gaps
    assert len(gaps) == 4 and all(secret in gap for gap in gaps)  # the cards' lines
    assert secret in evaluation.cards[0].detail
    call = replace(hook_call(at=T0), evaluation=evaluation)
    answer(memory, call)
    with store.engine.connect() as conn:
        audit = conn.execute(select(AuditEvent)).one()
    assert secret not in json.dumps(audit.quality)
    assert sorted(audit.quality["dataGaps"])[:4] == sorted([
        "1 draft order malformed, so checked by no rule: spine_mri (ServiceRequest entry: "
        "malformed authoredOn); no advice for or against it is given",
        "1 entry naming a red flag, malformed, so read by no rule: urinary_retention "
        "(Condition entry: malformed onsetDateTime); check it in the chart",
        "1 entry not read because of a fault in the service (logged for its operators): "
        "1 Condition entry; what it records is read by no rule; check the chart",
        "1 red-flag entry (foot_drop) dated more than 15 minutes after the service's clock, "
        "not counted as new: check the date",
    ])
