"""Statuses: which Condition, Observation and medication statuses make no fact, or a past one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cds_rules.fhir_time import (
    parse_datetime,
    period_start,
)
from cds_rules.model import FactStatus
from cds_rules.record.codes import codings_of
from cds_rules.record.negation import presence

CONDITION_HISTORY = {"inactive", "remission", "resolved"}
CONDITION_REFUTED = {"refuted", "entered-in-error"}
OBSERVATION_IGNORED = {"entered-in-error", "cancelled"}
MEDICATION_IGNORED = {"entered-in-error", "cancelled", "draft", "not-taken", "intended"}


def status_code(resource: dict[str, Any], name: str) -> str | None:
    """A status that may be a code string or a CodeableConcept (Condition)."""
    value = resource.get(name)
    if isinstance(value, str):
        return value.strip().lower()
    for coding in codings_of(value):
        if isinstance(coding.get("code"), str):
            return str(coding["code"]).strip().lower()
    return None


def abated(condition: dict[str, Any], now: datetime) -> bool:
    if condition.get("abatementBoolean") is True or isinstance(
            condition.get("abatementString"), str):
        return True
    end = parse_datetime(condition.get("abatementDateTime")) or period_start(
        condition.get("abatementPeriod"))
    return end is not None and end <= now


def entry_status(resource: dict[str, Any], now: datetime,
                 sentences: bool = True) -> FactStatus | None:
    """How an entry read for its words counts: None when refuted, entered in error,
    cancelled or stated absent (``sentences=False``: by a coded no, ``valueBoolean`` false
    or an answer word only, when the value is free text read part by part with its own
    denials, :mod:`cds_rules.uncoded`); HISTORY when resolved, inactive, in remission or abated (a
    resolved cancer is still a cancer history); CURRENT otherwise."""
    if resource["resourceType"] == "Condition":
        if status_code(resource, "verificationStatus") in CONDITION_REFUTED:
            return None
        if status_code(resource, "clinicalStatus") in CONDITION_HISTORY or abated(resource, now):
            return FactStatus.HISTORY
        return FactStatus.CURRENT
    if status_code(resource, "status") in OBSERVATION_IGNORED \
            or presence(resource, sentences) is False:
        return None
    return FactStatus.CURRENT
