"""What a hook call leaves behind: the cards issued (for feedback and snoozes) and its
audit entry, prepared on the request thread and written in batches (:mod:`.writer`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from cds_rules import Card, Finding
from service.db import AuditEvent, IssuedCard, utc
from service.ports import HookCall
from service.store.base import StoreBase, insert_ignore
from service.store.values import CallRecord

# The tables themselves: their rows are written in bulk through Core (executemany), not
# through the ORM's bulk path, which cost a third of the writer's time (issue #15).
AUDIT_TABLE = cast(Table, AuditEvent.__table__)


class CallLog(StoreBase):
    """Issued cards and the audit (the hook path)."""

    def record_call(self, call: HookCall, sent_cards: Sequence[Card],
                    snoozed_cards: Sequence[Card] = ()) -> None:
        """Store the cards sent (for feedback and snoozes) and the audit entry, at once.

        ``snoozed_cards``: the cards :meth:`snoozed_cards` hid from this call.
        """
        self.write_calls([self.prepare_call(call, sent_cards, snoozed_cards)])

    def prepare_call(self, call: HookCall, sent_cards: Sequence[Card],
                     snoozed_cards: Sequence[Card] = ()) -> CallRecord:
        """The rows :meth:`record_call` writes for one call (hashed: no raw identifiers),
        built without touching the database."""
        patient = self.hasher.patient(call.patient_id)
        findings = findings_by_topic(call.evaluation.findings)
        sent = [_card_summary(card, findings) for card in sent_cards]
        suppressed = [_card_summary(card, findings) for card in snoozed_cards]
        quality = call.evaluation.quality.as_dict()
        quality["dataGaps"] = sorted({*quality["dataGaps"], *call.data_gaps})
        issued = [
            {
                "card_uuid": entry["card"],
                "service_id": call.service_id,
                "hook": call.hook,
                "hook_instance": call.hook_instance,
                "topic": entry["topic"],
                "rule_id": entry["ruleId"],
                "rule_version": entry["ruleVersion"],
                "indicator": entry["indicator"],
                "issued_at": utc(call.received_at),
                "patient_hash": patient,
                "client_iss": call.client_iss,
                "fingerprint": self.hasher.fingerprint(findings.get(entry["topic"])),
                "suggestion_uuids": [s.uuid for s in card.suggestions],
            }
            for entry, card in zip(sent, sent_cards, strict=True)
            if entry["card"]
        ]
        audit = {
            "received_at": utc(call.received_at),
            "service_id": call.service_id,
            "hook": call.hook,
            "hook_instance": call.hook_instance,
            "client_iss": call.client_iss,
            "patient_hash": patient,
            "cards": sent,
            "suppressed": suppressed,
            "quality": quality,
            "latency_ms": round(call.latency_ms, 3),
        }
        return CallRecord(issued=issued, audit=audit)

    def write_calls(self, records: Sequence[CallRecord], *, replay: bool = False) -> int:
        """Write the rows of any number of calls in one transaction (two executemany
        INSERTs); how many calls were written. Raises StoreUnavailable.

        ``replay``: the records come from a spool and may already be stored (a batch that
        committed just before its process died): calls already in the audit (same
        hookInstance and time) are skipped, issued cards are never stored twice anyway.
        """
        if not records:
            return 0
        with self._session("record_call", write=True) as session:
            if replay:
                records = _not_yet_audited(session, records)
            issued = [row for record in records for row in record.issued]
            if issued:
                session.execute(insert_ignore(session, IssuedCard), issued)
            if records:
                session.execute(insert(AUDIT_TABLE), [record.audit for record in records])
        return len(records)


def _not_yet_audited(session: Session, records: Sequence[CallRecord]) -> list[CallRecord]:
    """The records whose call is not in the audit yet (by time, indexed, then
    hookInstance): a replayed spool may hold calls that were written after all.

    Only rows of these calls' hookInstances come back: the other calls of the same
    moment (every worker's and replica's, thousands with a fixed clock) are left in the
    database instead of being read and thrown away batch after batch (#15)."""
    times = [record.audit["received_at"] for record in records]
    instances = list({str(record.audit["hook_instance"]) for record in records})
    present = set(session.execute(
        select(AuditEvent.hook_instance, AuditEvent.received_at)
        .where(AuditEvent.received_at >= min(times), AuditEvent.received_at <= max(times),
               AuditEvent.hook_instance.in_(instances))))
    return [record for record in records
            if (str(record.audit["hook_instance"]), utc(record.audit["received_at"]))
            not in present]


def findings_by_topic(findings: Iterable[Finding]) -> dict[str, Finding]:
    return {finding.topic.value: finding for finding in findings}


def _card_summary(card: Card, findings: dict[str, Finding]) -> dict[str, Any]:
    """What the audit keeps of a card: identity, topic and the rule version behind it."""
    finding = findings.get(card.topic)
    return {
        "card": card.uuid,
        "topic": card.topic,
        "ruleId": finding.rule_id if finding else "",
        "ruleVersion": finding.rule_version if finding else "",
        "indicator": card.indicator,
    }

