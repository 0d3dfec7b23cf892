"""The governance report (per topic and rule version) and retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select

from service.db import AuditEvent, Feedback, IssuedCard, SeenJti, Snooze, utc
from service.store.base import StoreBase, deleted_rows
from service.store.values import ReportRow


class Governance(StoreBase):
    """Reads for the governance report; deletes for retention."""

    def report(self, since: datetime | None = None) -> list[ReportRow]:
        """Per topic and rule version, for cards issued since ``since`` (default: ever)."""
        start = utc(since) if since else datetime.min.replace(tzinfo=UTC)
        rows: dict[tuple[str, str, str], ReportRow] = {}

        def row(topic: str, rule_id: str, rule_version: str) -> ReportRow:
            key = (topic, rule_id, rule_version)
            return rows.setdefault(key, ReportRow(topic, rule_id, rule_version))

        rule = (IssuedCard.topic, IssuedCard.rule_id, IssuedCard.rule_version)
        cards = func.count(IssuedCard.card_uuid.distinct())
        with self._session("report", write=False) as session:
            for topic, rule_id, version, issued in session.execute(
                    select(*rule, cards).where(IssuedCard.issued_at >= start).group_by(*rule)):
                row(topic, rule_id, version).issued = issued
            for topic, rule_id, version, outcome, system, code, n in session.execute(
                    select(*rule, Feedback.outcome, Feedback.reason_system, Feedback.reason_code,
                           cards)
                    .join(Feedback, Feedback.card_uuid == IssuedCard.card_uuid)
                    .where(IssuedCard.issued_at >= start)
                    .group_by(*rule, Feedback.outcome, Feedback.reason_system,
                              Feedback.reason_code)):
                entry = row(topic, rule_id, version)
                if outcome == "accepted":
                    entry.accepted += n
                    continue
                reason = code or "(comment only)"
                entry.overridden_by_reason[reason] = entry.overridden_by_reason.get(reason, 0) + n
                if self.snooze_policy.is_snooze_reason(system, code):
                    entry.snoozed += n
            for topic, rule_id, version, n in session.execute(
                    select(*rule, cards)
                    .join(Feedback, Feedback.card_uuid == IssuedCard.card_uuid)
                    .where(IssuedCard.issued_at >= start, Feedback.outcome == "overridden")
                    .group_by(*rule)):
                row(topic, rule_id, version).overridden = n
            for (hidden,) in session.execute(
                    select(AuditEvent.suppressed).where(AuditEvent.received_at >= start)):
                for card in hidden:
                    row(card["topic"], card["ruleId"], card["ruleVersion"]).suppressed += 1
        return sorted(rows.values(), key=lambda r: (r.topic, r.rule_id, r.rule_version))

    # --- retention -------------------------------------------------------------------

    def purge(self, retention_days: int, now: datetime | None = None) -> dict[str, int]:
        """Delete audit older than ``retention_days``, expired JWT ids and snoozes."""
        now = utc(now) if now else self.clock()
        cutoff = now - timedelta(days=retention_days)
        with self._session("purge", write=True) as session:
            return {
                "audit_event": deleted_rows(session, delete(AuditEvent)
                                        .where(AuditEvent.received_at < cutoff)),
                "seen_jti": deleted_rows(session, delete(SeenJti).where(SeenJti.expires_at <= now)),
                "snooze": deleted_rows(session, delete(Snooze).where(Snooze.expires_at <= now)),
            }

