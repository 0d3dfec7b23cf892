"""FHIR date/time values -> timezone-aware UTC datetimes, tolerating messy data.

FHIR ``date``, ``dateTime`` and ``instant`` may be partial ("2026", "2026-03") or, in
real feeds, lack the zone the spec requires. A partial date is a period, not a day:
:func:`parse_datetime` gives its first instant and :func:`latest_instant` its last
("2026-02" -> 1 to 28 February; a date without a time -> that whole day), so that a rule
can ask whether the period *may* fall in a window. A time without a zone (invalid FHIR,
sent by real feeds) is read as UTC, and :func:`floating` says so: the record lets such a
time count from up to 14 hours earlier (a wall time in UTC+14), never later. Anything
unreadable gives None: never an exception.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from typing import Any

_DATE_TIME = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:[T ](?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d+))?)?"
    r"(?P<tz>Z|[+-]\d{2}:?\d{2})?)?)?)?$"
)

# Age units (UCUM and common spellings) -> days per unit; a year is 365.25 days.
_AGE_UNIT_DAYS: dict[str, float] = {
    "a": 365.25, "yr": 365.25, "year": 365.25, "years": 365.25, "y": 365.25,
    "mo": 30.4375, "month": 30.4375, "months": 30.4375,
    "wk": 7.0, "week": 7.0, "weeks": 7.0,
    "d": 1.0, "day": 1.0, "days": 1.0,
    "h": 1 / 24, "hour": 1 / 24, "hours": 1 / 24,
}


# The ends of the calendar (a "no date" sentinel such as .NET's DateTime.MinValue), for a
# time whose zone offset would carry it past them.
_CALENDAR_START = datetime.min.replace(tzinfo=UTC)
_CALENDAR_END = datetime.max.replace(tzinfo=UTC)


def parse_datetime(value: object) -> datetime | None:
    """Read a FHIR date/dateTime/instant string (or a datetime) as an aware UTC datetime."""
    if isinstance(value, datetime):
        return as_utc(value)
    if not isinstance(value, str):
        return None
    return _parse_cached(value) if len(value) <= _CACHED_LENGTH else _parse_text(value)


def _parse_text(value: str) -> datetime | None:
    match = _DATE_TIME.match(value.strip())
    if match is None:
        return None
    g = match.groupdict()
    try:
        parsed = datetime(
            int(g["y"]),
            int(g["m"] or 1),
            int(g["d"] or 1),
            int(g["H"] or 0),
            int(g["M"] or 0),
            int(g["S"] or 0),
            int((g["f"] or "0")[:6].ljust(6, "0")),
            tzinfo=UTC,
        )
    except ValueError:  # month 13, 30 February, hour 25 ...
        return None
    tz = g["tz"]
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        try:
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4]))
        except ValueError:
            return None
        try:
            parsed -= sign * offset  # wall time in that zone -> UTC
        except OverflowError:  # "0001-01-01T00:00:00+14:00": the calendar's end, as meant
            return _CALENDAR_START if sign > 0 else _CALENDAR_END
    return parsed


def latest_instant(value: object) -> datetime | None:
    """The last instant a FHIR date/dateTime may mean: the end of the year, month or day it
    names ("2026-02" -> 28 February 23:59:59.999999 UTC); a value with a time is itself."""
    if not isinstance(value, str):
        return parse_datetime(value)
    return _latest_cached(value) if len(value) <= _CACHED_LENGTH else _latest_of_text(value)


def _latest_of_text(value: str) -> datetime | None:
    start = parse_datetime(value)
    if start is None:
        return start
    g = _DATE_TIME.match(value.strip())
    if g is None or g["H"] is not None:
        return start
    try:
        if g["d"] is not None:
            end = start + timedelta(days=1)
        elif g["m"] is not None:
            end = start.replace(year=start.year + start.month // 12,
                                month=start.month % 12 + 1)
        else:
            end = start.replace(year=start.year + 1)
    except (ValueError, OverflowError):  # the period ends after year 9999
        return datetime.max.replace(tzinfo=UTC)
    return end - timedelta(microseconds=1)


# A record reads the same dates again and again (a resource's time, then its latest instant;
# Synthea repeats encounter times): each text is parsed once per process. Both functions
# are pure and datetimes immutable; only texts a date can fit in are kept (no junk pinned).
_CACHED_LENGTH = 64
_parse_cached = functools.lru_cache(maxsize=4096)(_parse_text)
_latest_cached = functools.lru_cache(maxsize=4096)(_latest_of_text)


def as_utc(moment: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def period_start(period: object) -> datetime | None:
    """A Period's start, else its end (a Period with only an end still dates the event)."""
    if not isinstance(period, dict):
        return None
    return parse_datetime(period.get("start")) or parse_datetime(period.get("end"))


def period_end(period: object) -> datetime | None:
    if not isinstance(period, dict):
        return None
    return parse_datetime(period.get("end"))


def duration_of(quantity: object) -> timedelta | None:
    """A FHIR Duration/Age quantity ({value, code|unit}) as a timedelta, or None."""
    if not isinstance(quantity, dict):
        return None
    value = quantity.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    unit = quantity.get("code") or quantity.get("unit")
    per = _AGE_UNIT_DAYS.get(unit.strip().lower()) if isinstance(unit, str) else None
    if per is None or not 0 <= value < 200 * 365.25 / per:
        return None
    return timedelta(days=float(value) * per)


def add_age(birth: datetime | None, age: object) -> datetime | None:
    """Birth date + a FHIR Age (e.g. Condition.onsetAge {value: 52, code: "a"})."""
    span = duration_of(age)
    if birth is None or span is None:
        return None
    try:
        return birth + span
    except OverflowError:
        return None


def floating(value: object) -> bool:
    """A dateTime with a time and no zone ("2026-11-22T22:30:00"): a wall time somewhere, read
    as UTC; charted in Sydney or Berlin it may be hours earlier than that."""
    if not isinstance(value, str) or len(value) > _CACHED_LENGTH:
        return False
    match = _DATE_TIME.match(value.strip())
    return match is not None and match["H"] is not None and match["tz"] is None


def first_time_floating(resource: dict[str, Any], *fields: str) -> bool:
    """Whether the value :func:`first_time` reads from ``fields`` is :func:`floating`."""
    for name in fields:
        raw = resource.get(name)
        if name.endswith("Period"):
            raw = _period_point(raw)
        if parse_datetime(raw) is not None:
            return floating(raw)
    return False


def first_time(resource: dict[str, Any], *fields: str) -> datetime | None:
    """The first readable time among ``fields`` of ``resource``: each is a dateTime/instant
    field or a Period field (names ending in "Period" read start, else end)."""
    return first_time_span(resource, *fields)[0]


def first_time_span(resource: dict[str, Any],
                    *fields: str) -> tuple[datetime | None, datetime | None]:
    """Like :func:`first_time`, with the last instant the same value may mean (its
    :func:`latest_instant`): (None, None) when no field is readable."""
    for name in fields:
        raw = resource.get(name)
        if name.endswith("Period"):
            raw = _period_point(raw)
        moment = parse_datetime(raw)
        if moment is not None:
            return moment, latest_instant(raw) or moment
    return None, None


def _period_point(period: object) -> object:
    """The raw value :func:`period_start` reads: start when readable, else end."""
    if not isinstance(period, dict):
        return None
    start = period.get("start")
    return start if parse_datetime(start) is not None else period.get("end")
