"""FHIR times in all their forms -> aware UTC datetimes (CLINICAL.md safety principle 5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cds_rules.fhir_time import (
    add_age,
    as_utc,
    duration_of,
    first_time,
    parse_datetime,
    period_start,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-03", datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-03-05", datetime(2026, 3, 5, tzinfo=UTC)),
        ("2026-03-05T10:20:30Z", datetime(2026, 3, 5, 10, 20, 30, tzinfo=UTC)),
        ("2026-03-05T10:20:30.123Z", datetime(2026, 3, 5, 10, 20, 30, 123000, tzinfo=UTC)),
        ("2026-03-05T10:20:30+02:00", datetime(2026, 3, 5, 8, 20, 30, tzinfo=UTC)),
        ("2026-03-05T23:30:00-05:00", datetime(2026, 3, 6, 4, 30, tzinfo=UTC)),
        ("2026-03-05T10:20:30", datetime(2026, 3, 5, 10, 20, 30, tzinfo=UTC)),  # no zone: UTC
        ("2026-03-05T10:20", datetime(2026, 3, 5, 10, 20, tzinfo=UTC)),
        ("2026-03-05 10:20", datetime(2026, 3, 5, 10, 20, tzinfo=UTC)),
        (" 2026-03-05 ", datetime(2026, 3, 5, tzinfo=UTC)),
    ],
)
def test_parse_datetime_reads_every_fhir_form(text, expected):
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "junk", ["", "2026-13-01", "2026-02-30", "yesterday", "20260305", "2026-3-5", None, 5, [], {}]
)
def test_parse_datetime_gives_none_for_junk(junk):
    assert parse_datetime(junk) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("0001-01-01T00:00:00+14:00", datetime.min.replace(tzinfo=UTC)),
    ("0001-01-01T13:59:59+14:00", datetime.min.replace(tzinfo=UTC)),
    ("9999-12-31T23:59:59-12:00", datetime.max.replace(tzinfo=UTC)),
    ("0001-01-01T14:00:00+14:00", datetime.min.replace(tzinfo=UTC)),  # exactly the start
])
def test_a_zone_offset_past_the_calendars_end_is_that_end(text, expected):
    """Converting to UTC overflowed (OverflowError, not ValueError): the entry's reader
    raised and the entry was lost. A "no date" sentinel so written is the calendar's end."""
    assert parse_datetime(text) == expected


def test_naive_and_foreign_datetimes_become_utc():
    assert as_utc(datetime(2026, 1, 1, 12)) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    plus_two = timezone(timedelta(hours=2))
    assert as_utc(datetime(2026, 1, 1, 12, tzinfo=plus_two)) == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert parse_datetime(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)


def test_period_start_falls_back_to_end():
    assert period_start({"start": "2026-01-02"}) == datetime(2026, 1, 2, tzinfo=UTC)
    assert period_start({"end": "2026-01-05"}) == datetime(2026, 1, 5, tzinfo=UTC)
    assert period_start({}) is None
    assert period_start("2026") is None


def test_first_time_takes_the_first_readable_field():
    resource = {"effectiveDateTime": "garbage", "effectivePeriod": {"start": "2026-02"},
                "issued": "2026-03-01T00:00:00Z"}
    assert first_time(resource, "effectiveDateTime", "effectivePeriod", "issued") == datetime(
        2026, 2, 1, tzinfo=UTC
    )
    assert first_time({"issued": "2026-03-01T00:00:00Z"}, "effectiveDateTime", "issued") == (
        datetime(2026, 3, 1, tzinfo=UTC)
    )


def test_age_and_duration_quantities():
    birth = datetime(1970, 1, 1, tzinfo=UTC)
    onset = add_age(birth, {"value": 50, "unit": "years", "system": "http://unitsofmeasure.org",
                            "code": "a"})
    assert onset is not None and onset.year == 2020
    assert add_age(birth, {"value": 6, "code": "mo"}).month == 7  # type: ignore[union-attr]
    assert add_age(None, {"value": 50, "code": "a"}) is None
    assert add_age(birth, {"value": 50, "code": "parsecs"}) is None
    assert add_age(birth, {"value": True, "code": "a"}) is None
    assert duration_of({"value": 2, "code": "wk"}) == timedelta(days=14)
    assert duration_of({"value": -1, "code": "d"}) is None
    assert duration_of({"value": 1e300, "code": "a"}) is None


@given(st.text(max_size=40))
def test_parse_datetime_never_raises(text):
    result = parse_datetime(text)
    assert result is None or result.tzinfo is not None
