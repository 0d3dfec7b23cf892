"""The plain values the store takes and returns (no database in here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    """One validated feedback entry (the wire schema lives in :mod:`service.feedback`)."""

    card: str
    outcome: str  # accepted | overridden
    outcome_timestamp: datetime
    accepted_suggestions: tuple[str, ...] = ()
    reason_system: str | None = None
    reason_code: str | None = None
    user_comment: str | None = None


@dataclass(frozen=True, slots=True)
class CallRecord:
    """The rows one answered hook call adds: its issued cards and its audit entry."""

    issued: list[dict[str, Any]]
    audit: dict[str, Any]


@dataclass(slots=True)
class FeedbackResult:
    stored: int = 0
    duplicates: int = 0
    snoozes: int = 0


@dataclass(frozen=True, slots=True)
class SnoozePolicy:
    """Which override reasons snooze, and for how long."""

    reason_codes: frozenset[str]
    reason_system: str
    days: int
    critical_hours: int

    def duration(self, indicator: str) -> timedelta:
        period = timedelta(days=self.days)
        if indicator == "critical":
            return min(period, timedelta(hours=self.critical_hours))
        return period

    def snoozes(self, item: FeedbackItem) -> bool:
        return item.outcome == "overridden" and self.is_snooze_reason(item.reason_system,
                                                                      item.reason_code)

    def is_snooze_reason(self, system: str | None, code: str | None) -> bool:
        return code in self.reason_codes and system in (None, "", self.reason_system)


@dataclass(slots=True)
class ReportRow:
    """One line of the governance report: a topic and the rule version that raised it.

    Cards are counted once per outcome (a card accepted twice is one accepted card);
    ``snoozed``: cards overridden with a snooze reason; ``suppressed``: times a snooze hid
    the topic from a later call (from the audit, so within its retention)."""

    topic: str
    rule_id: str
    rule_version: str
    issued: int = 0
    accepted: int = 0
    overridden: int = 0
    overridden_by_reason: dict[str, int] = field(default_factory=dict)
    snoozed: int = 0
    suppressed: int = 0
