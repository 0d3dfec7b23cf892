"""cds_rules.order_check gives fhir.resources' verdict on a suggested ServiceRequest, part by
part, at a fraction of the cost: it must raise exactly when validating the whole resource
with ``fhir.resources.R4B`` raises, for any value a call can put in it (patient and
encounter ids, the facts given as reasons, the time) and for broken resources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cds_rules import order_check
from cds_rules.model import Fact, Recommendation
from cds_rules.order_check import check_service_request
from cds_rules.orders import ORDERS, REASON_REFERENCE_TYPES, proposed_service_request

# Text as EHRs send it, and what breaks a FHIR string: empty, blank, control characters.
TEXT = st.one_of(st.text(max_size=12), st.sampled_from(["", " ", "\x0b", "a b", " x ", "\n"]))
SOURCES = st.one_of(st.builds(lambda t, rest: f"{t}/{rest}",
                              st.sampled_from([*REASON_REFERENCE_TYPES, "Patient"]), TEXT),
                    TEXT)
TIMES = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 1, 1),
                     timezones=st.one_of(st.none(), st.just(UTC),
                                         st.builds(lambda h: timezone(timedelta(hours=h)),
                                                   st.integers(-12, 14))))
JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), TEXT),
                    lambda inner: st.one_of(st.lists(inner, max_size=3),
                                            st.dictionaries(TEXT, inner, max_size=3)),
                    max_leaves=6)


def verdict(check: Any, resource: dict[str, Any]) -> bool:
    try:
        check(resource)
    except ValidationError:
        return False
    return True


def whole(resource: dict[str, Any]) -> None:
    ServiceRequest.model_validate(resource)


@st.composite
def proposals(draw: st.DrawFn) -> dict[str, Any]:
    spec = draw(st.sampled_from(sorted(ORDERS.values(), key=lambda s: s.key)))
    priority = draw(st.sampled_from(["routine", "urgent", "asap", "stat"]))
    reasons = draw(st.lists(st.builds(
        lambda source, display: Fact("any", display, source, "Condition"), SOURCES, TEXT),
        max_size=3))
    return proposed_service_request(
        spec, Recommendation(spec.key, priority), draw(TEXT),
        draw(st.one_of(st.none(), TEXT)), reasons, draw(TIMES))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(proposals())
def test_the_verdict_is_fhir_resources_verdict_for_any_call_values(
        resource: dict[str, Any]) -> None:
    assert verdict(check_service_request, resource) == verdict(whole, resource)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(proposals(), st.sampled_from(["status", "intent", "priority", "code", "category",
                                     "subject", "encounter", "reasonReference", "authoredOn",
                                     "resourceType", "note", "occurrenceDateTime"]), JSON)
def test_the_verdict_is_fhir_resources_verdict_for_broken_resources(
        resource: dict[str, Any], element: str, value: Any) -> None:
    broken = {**resource, element: value}
    assert verdict(check_service_request, broken) == verdict(whole, broken)


@pytest.mark.parametrize("change", [
    {"subject": {"reference": ""}},
    {"subject": {"reference": "Patient/p", "display": ""}},
    {"encounter": {"reference": "\x0b"}},
    {"reasonReference": [{"reference": "Condition/c", "display": ""}]},
    {"authoredOn": "2026-13-01T00:00:00Z"},
    {"authoredOn": "2026-11-01T12:00:00"},  # a time without its zone
    {"priority": ""},
])
def test_what_an_ehr_would_reject_is_rejected_every_time(change: dict[str, Any]) -> None:
    spec = ORDERS["mri-lumbar-without-contrast"]
    good = proposed_service_request(spec, Recommendation(spec.key), "p1", "e1", (),
                                    datetime(2026, 11, 1, tzinfo=UTC))
    check_service_request(good)
    for _ in range(2):  # a shape is remembered only once it passed
        with pytest.raises(ValidationError):
            check_service_request({**good, **change})
    assert not verdict(whole, {**good, **change})


def test_references_are_remembered_only_when_short_and_valid() -> None:
    """A call's suggestions repeat the same references: a valid short one is validated once;
    a long one (a client's junk id) is validated every time and never kept."""
    spec = ORDERS["mri-lumbar-without-contrast"]
    when = datetime(2026, 11, 1, tzinfo=UTC)
    order_check._check_reference_texts.cache_clear()
    check_service_request(proposed_service_request(spec, Recommendation(spec.key), "p1", "e1",
                                                   (), when))
    assert order_check._check_reference_texts.cache_info().currsize == 2  # patient, encounter
    long_id = "p" * 500
    check_service_request(proposed_service_request(spec, Recommendation(spec.key), long_id,
                                                   None, (), when))
    good = proposed_service_request(spec, Recommendation(spec.key), "p1", None, (), when)
    broken = {**good, "subject": {"reference": f"Patient/{long_id}", "display": ""}}
    assert not verdict(whole, broken)
    for _ in range(2):
        with pytest.raises(ValidationError):
            check_service_request(broken)
    assert order_check._check_reference_texts.cache_info().currsize == 2
