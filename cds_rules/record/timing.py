"""Times: the request time, the windows older readings fall out of, and a Condition's onset."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from cds_rules.fhir_time import (
    add_age,
    first_time_floating,
    first_time_span,
    latest_instant,
    parse_datetime,
)
from cds_rules.record.state import Builder


def require_aware(now: object) -> datetime:
    """``now`` if it is a timezone-aware datetime; no clock in the core, so no default."""
    if not isinstance(now, datetime):
        raise TypeError(f"now must be a timezone-aware datetime, not {type(now).__name__}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime (it has no timezone)")
    return now


# Quantity concepts that every rule reads only within a window of RuleSettings, by the
# name of that window: body temperatures only within the fever window (context
# fever_within_window), body weights only within the weight-loss window (weight_loss).
# Pain scores and MRC grades are read as whole series (pain not improving since the first
# score, grades falling from any earlier value), and findings, conditions and medications
# keep all their dates. A rule that reads one of these concepts further back must add its
# window here.
RECENT_ORDER = "(recent order)"  # a cutoff key: not a concept
_WINDOWED_READINGS = {"body_temperature": "fever_window_days",
                      "body_weight": "weight_loss_window_days",
                      # MAL-02: a blood result stands NG12's step down only this recently
                      "fbc_result": "recent_order_days",
                      "calcium_result": "recent_order_days",
                      # a done lab test or referral counts only this recently (orders.py)
                      RECENT_ORDER: "recent_order_days"}
_CUTOFF_MARGIN = timedelta(days=1)


def reading_cutoffs(settings: object, now: datetime) -> dict[str, datetime]:
    """Per windowed concept, the time before which a reading cannot change any rule: ``now``
    minus its window, minus a day's margin. The record builder skips such an Observation
    before validating it (the costly step: Synthea patients carry decades of vitals)."""
    cutoffs: dict[str, datetime] = {}
    for concept, name in _WINDOWED_READINGS.items():
        days = getattr(settings, name, None)
        if isinstance(days, int) and not isinstance(days, bool) and 0 <= days < 100_000:
            try:
                cutoffs[concept] = now - timedelta(days=days) - _CUTOFF_MARGIN
            except OverflowError:
                continue
    return cutoffs


def too_old(builder: Builder, resource: dict[str, Any], concepts: set[str]) -> bool:
    """True when every concept of the Observation has a window and its time (the latest
    moment a partial date may mean) is before all of their cutoffs."""
    cutoffs = [builder.cutoffs.get(concept) for concept in concepts]
    if not cutoffs or None in cutoffs:
        return False
    _, latest, _ = _observation_span(resource, builder)
    return latest is not None and all(latest < cutoff for cutoff in cutoffs if cutoff)


OBSERVATION_TIMES = ("effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued")


class ObservedTime(NamedTuple):
    """An Observation's time as its facts carry it (``with_latest``'s arguments)."""

    when: datetime | None  # its start: what orders the facts and what a card prints
    latest: datetime | None  # the last instant it may mean or, over a period, extend to
    floating: bool  # ``when`` was sent without a zone
    start_latest: datetime | None  # over a period: the last instant its start may mean


def observation_time(observation: dict[str, Any], builder: Builder) -> ObservedTime:
    """When an Observation was made: its first readable time (a Period's start, else its
    end), and how late it may be. Over an ``effectivePeriod`` that runs on after its start,
    until the period's end: a temperature of 39 °C, the maximum of a monitoring period that
    ended 6 days ago, is a fever of the last week, not only of the period's first day. An
    end certainly after the record's horizon (the service's clock and its tolerance) is not read: a
    "no end" sentinel ("9999-12-31") or a period planned ahead says nothing of when the value
    held (a review: a retention from 2024 "to 9999" became a new, critical one); such an
    Observation is read by its start, as before. An end that may be before the clock (a
    partial one, "2026-11" this November) counts until the clock at most."""
    when, latest, start_latest = _observation_span(observation, builder)
    floating = first_time_floating(observation, *OBSERVATION_TIMES)
    return ObservedTime(when, latest, floating, start_latest)


def _observation_span(observation: dict[str, Any], builder: Builder
                      ) -> tuple[datetime | None, datetime | None, datetime | None]:
    """(when, latest, start_latest) of :func:`observation_time`, without asking whether the
    time came without a zone (``too_old`` needs only how late it may be)."""
    when, latest = first_time_span(observation, *OBSERVATION_TIMES)
    if "effectivePeriod" not in observation:  # most Observations: a dateTime
        return when, latest, None
    end = _period_end(observation, when, builder.record.horizon)
    if end is None or latest is None or end <= latest:
        return when, latest, None
    return when, end, latest


def _period_end(observation: dict[str, Any], when: datetime | None, horizon: datetime
                ) -> datetime | None:
    """The last instant the end of the ``effectivePeriod`` whose start dates the Observation
    may mean ("2026-11": the end of November), at most ``horizon``; None when its time is
    not such a start, or the end is unreadable, before the start (a malformed period widens
    nothing) or certainly after ``horizon``."""
    period = observation.get("effectivePeriod")
    if when is None or not isinstance(period, dict) or "end" not in period \
            or parse_datetime(observation.get("effectiveDateTime")) is not None \
            or parse_datetime(period.get("start")) != when:
        return None
    first, last = parse_datetime(period.get("end")), latest_instant(period.get("end"))
    if first is None or last is None or last < when or first > horizon:
        return None
    return min(last, horizon)


def condition_time(condition: dict[str, Any], birth: datetime | None
                   ) -> tuple[datetime | None, datetime | None, bool]:
    """(first, last) instant the onset may mean (a partial date keeps its precision), and
    whether it was sent without a zone (``fhir_time.floating``)."""
    when, latest = first_time_span(condition, "onsetDateTime", "onsetPeriod")
    if when is not None:
        return when, latest, first_time_floating(condition, "onsetDateTime", "onsetPeriod")
    when = add_age(birth, condition.get("onsetAge"))
    if when is None and isinstance(condition.get("onsetRange"), dict):
        when = add_age(birth, condition["onsetRange"].get("low"))
    if when is not None:
        return when, when, False
    when, latest = first_time_span(condition, "recordedDate")
    return when, latest or when, first_time_floating(condition, "recordedDate")


def entry_times(builder: Builder, entry: dict[str, Any]
                ) -> tuple[datetime | None, datetime | None, bool, datetime | None]:
    """An entry's time as its coded facts would have it: (when, latest, floating,
    start_latest): a Condition by its onset, an Observation over a period until its end
    (:func:`observation_time`), a procedure or a medicine by its own time, anything else by
    its first Observation-like time."""
    if entry["resourceType"] == "Condition":
        return (*condition_time(entry, builder.record.birth_date), None)
    if entry["resourceType"] == "Observation":
        return observation_time(entry, builder)
    fields = _OWN_TIMES.get(entry["resourceType"], OBSERVATION_TIMES)
    when, latest = first_time_span(entry, *fields)
    return when, latest, first_time_floating(entry, *fields), None


def dated_at(entry: dict[str, Any], moment: str) -> dict[str, Any]:
    """``entry`` (a procedure, a medicine, a report) with its time as ``moment``: a note's
    own time (``Annotation.time``), written later than the entry began
    (record/entry_notes)."""
    fields = _OWN_TIMES.get(entry["resourceType"], OBSERVATION_TIMES)
    return {**{k: v for k, v in entry.items() if k not in fields}, fields[0]: moment}


# The time of an entry whose notes are read (record/entry_notes), by type; a report's (and
# any other's) is an Observation's (effective[x], issued)
_OWN_TIMES = {
    "Procedure": ("performedDateTime", "performedPeriod"),
    "MedicationRequest": ("authoredOn",),
    "MedicationStatement": ("effectiveDateTime", "effectivePeriod", "dateAsserted"),
}
