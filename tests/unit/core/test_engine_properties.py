"""Properties of the whole core over FHIR JSON (record builder + rules + cards), and the
safety principles of CLINICAL.md checked end to end on the sample scenarios."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_rules import to_json
from cds_rules.engine import HookRequest, evaluate
from cds_rules.model import Topic
from cds_rules.settings import DEFAULT_SETTINGS, RuleSettings
from fhir_samples import Scenario, load, load_all

SCENARIOS = load_all()
CRITICAL = [s for s in SCENARIOS if any(i == "critical" for _, i in s.expected)]
PROPS = settings(max_examples=25, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def outcome(request: HookRequest, scenario: Scenario,
            rule_settings: RuleSettings = DEFAULT_SETTINGS) -> set[tuple[str, str]]:
    cards = to_json(evaluate(request, scenario.now, rule_settings).cards)
    return {(c["source"]["topic"]["code"], c["indicator"]) for c in cards}


def critical_topics(result: set[tuple[str, str]]) -> set[str]:
    return {topic for topic, indicator in result if indicator == "critical"}


# Resources that carry nothing the rules read: unknown codes, other patients, other types.
def unrelated_resource(patient_id: str) -> st.SearchStrategy[dict[str, Any]]:
    subject = st.sampled_from([f"Patient/{patient_id}", "Patient/someone-else"])
    code = st.fixed_dictionaries({"coding": st.lists(st.fixed_dictionaries({
        "system": st.sampled_from(["http://loinc.org", "http://snomed.info/sct",
                                   "urn:example:local"]),
        "code": st.from_regex(r"9999[0-9]{3}-[0-9]", fullmatch=True),
    }), min_size=1, max_size=2)})
    condition = st.fixed_dictionaries({
        "resourceType": st.just("Condition"), "id": st.uuids().map(str),
        "subject": subject.map(lambda r: {"reference": r}), "code": code,
        "onsetDateTime": st.sampled_from(["2026-01-01", "2025-06", "2026-11-20T10:00:00Z"]),
    })
    observation = st.fixed_dictionaries({
        "resourceType": st.just("Observation"), "id": st.uuids().map(str),
        "status": st.just("final"), "subject": subject.map(lambda r: {"reference": r}),
        "code": code, "valueQuantity": st.fixed_dictionaries({"value": st.floats(0, 500)}),
        "effectiveDateTime": st.just("2026-11-01T08:00:00+01:00"),
    })
    other = st.fixed_dictionaries({
        "resourceType": st.sampled_from(["Encounter", "AllergyIntolerance", "Immunization",
                                         "Basic"]),
        "id": st.uuids().map(str),
    })
    return st.one_of(condition, observation, other)


@pytest.mark.parametrize("scenario", CRITICAL, ids=lambda s: s.id)
@PROPS
@given(data=st.data())
def test_unrelated_resources_never_remove_a_critical_card(scenario: Scenario, data) -> None:
    request = scenario.hook_request()
    before = critical_topics(outcome(request, scenario))
    extra = data.draw(st.lists(unrelated_resource(scenario.patient_id), max_size=15))
    position = data.draw(st.integers(0, len(request.resources)))
    resources = (*request.resources[:position], *extra, *request.resources[position:])
    after = critical_topics(outcome(dataclasses.replace(request, resources=resources), scenario))
    assert before <= after


@pytest.mark.parametrize("scenario", SCENARIOS[::3], ids=lambda s: s.id)
@PROPS
@given(data=st.data())
def test_order_of_resources_never_changes_the_result(scenario: Scenario, data) -> None:
    request = scenario.hook_request()
    shuffled = data.draw(st.permutations(list(request.resources)))
    drafts = data.draw(st.permutations(list(request.draft_orders)))
    again = dataclasses.replace(request, resources=tuple(shuffled), draft_orders=tuple(drafts))
    assert outcome(again, scenario) == outcome(request, scenario)


JUNK = st.one_of(st.none(), st.just(""), st.just([]), st.just({}), st.integers(),
                 st.floats(allow_nan=True), st.text(max_size=12), st.booleans(),
                 st.just("2026-13-45T99:99"), st.just({"value": "NaN", "unit": "degF"}))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _mutate(resource: dict[str, Any], data) -> dict[str, Any]:
    resource = copy.deepcopy(resource)
    for _ in range(data.draw(st.integers(1, 4))):
        paths = _paths(resource)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent: Any = resource
        for step in path[:-1]:
            parent = parent[step]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]  # truncated: a field missing
        else:
            parent[path[-1]] = copy.deepcopy(data.draw(JUNK))  # never share a drawn object
    return resource


@pytest.mark.parametrize("scenario", SCENARIOS[::2], ids=lambda s: s.id)
@PROPS
@given(data=st.data())
def test_mutated_or_truncated_resources_never_raise(scenario: Scenario, data) -> None:
    request = scenario.hook_request()
    resources = [_mutate(r, data) if data.draw(st.booleans()) else r for r in request.resources]
    drafts = [_mutate(r, data) for r in request.draft_orders]
    if resources and data.draw(st.booleans()):
        resources = resources[: data.draw(st.integers(0, len(resources)))]
    result = evaluate(dataclasses.replace(request, resources=tuple(resources),
                                          draft_orders=tuple(drafts)), scenario.now)
    for card in to_json(result.cards):
        assert card["summary"] and card["indicator"] in ("info", "warning", "critical")
    assert not [g for g in result.quality.data_gaps if g.startswith("rule ")], \
        "a rule raised on messy data"
    assert result.quality.reader_faults == 0, "a reader raised on messy data"  # reader_faults


# --- safety principles, end to end -------------------------------------------------------


def test_critical_is_never_suppressed_by_other_findings_or_drafts() -> None:
    """A CES sign among noise, on an order hook with a draft MRI: still critical, first."""
    ces = load("ces-urinary-retention-snomed-observation")
    acute_draft = load("inn-order-select-mri-acute-snomed")
    request = acute_draft.hook_request()
    merged = dataclasses.replace(
        request,
        resources=(*request.resources,
                   *(dict(r, subject={"reference": f"Patient/{request.patient_id}"})
                     if r.get("resourceType") != "Patient" else None
                     for r in ces.hook_request().resources)),
    )
    merged = dataclasses.replace(merged, resources=tuple(r for r in merged.resources if r))
    cards = to_json(evaluate(merged, ces.now).cards)
    assert cards[0]["source"]["topic"]["code"] == "cauda-equina"
    assert cards[0]["indicator"] == "critical"
    assert "imaging-not-indicated" not in {c["source"]["topic"]["code"] for c in cards}


def test_changing_a_threshold_changes_the_outcome_and_the_card_names_it() -> None:
    scenario = load("nm-fever-fahrenheit-below-threshold")
    request = scenario.hook_request()
    assert "infection" not in {t for t, _ in outcome(request, scenario)}
    lowered = RuleSettings.model_construct(fever_celsius=37.0)  # below the range
    cards = to_json(evaluate(request, scenario.now, lowered).cards)
    infection = [c for c in cards if c["source"]["topic"]["code"] == "infection"]
    assert infection, "a lower fever threshold must make the fever count"
    assert "`BACKPAIN_CDS_FEVER_CELSIUS` = 37" in infection[0]["detail"]


def test_disabled_topic_is_not_shown_but_still_silences_the_pathway() -> None:
    scenario = load("fracture-order-sign-xray-age-over-70")
    request = scenario.hook_request()
    quiet = RuleSettings(disabled_topics=frozenset({Topic.FRACTURE}))
    topics = {t for t, _ in outcome(request, scenario, quiet)}
    assert "fracture" not in topics
    assert "imaging-not-indicated" not in topics


def _with_condition(scenario: Scenario, resource_id: str, **changes: Any) -> HookRequest:
    request = scenario.hook_request()
    resources = tuple(dict(r, **changes) if r.get("id") == resource_id else r
                      for r in request.resources)
    return dataclasses.replace(request, resources=resources)


VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CLIN = "http://terminology.hl7.org/CodeSystem/condition-clinical"


@pytest.mark.parametrize(("field", "code", "system"), [
    ("verificationStatus", "refuted", VER),
    ("verificationStatus", "entered-in-error", VER),
    ("clinicalStatus", "resolved", CLIN),
    ("clinicalStatus", "inactive", CLIN),
])
def test_negated_or_resolved_sign_never_fires(field: str, code: str, system: str) -> None:
    """Safety principle 2, end to end: the same urinary-retention Condition, negated or
    resolved, removes the critical card (and nothing else about the record changes)."""
    scenario = load("ces-urinary-retention-icd10")
    assert ("cauda-equina", "critical") in outcome(scenario.hook_request(), scenario)
    changed = _with_condition(scenario, "ces-icd-retention-cond-2",
                              **{field: {"coding": [{"system": system, "code": code}]}})
    assert "cauda-equina" not in {t for t, _ in outcome(changed, scenario)}
