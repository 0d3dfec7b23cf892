"""The record builder's fast path (:mod:`cds_rules.record.structure`) against the reference.

The reference validates every resource the record reads with its ``fhir.resources`` R4B
model (:func:`cds_rules.validation.validated`, :func:`~cds_rules.record.builder.
reference_record`); the fast path answers without pydantic when it is sure. They must
agree exactly: the same read elements (or None) per resource, the same records and the
same dropped counts, on every scenario, on mutated resources and on edge values at every
element. The official R4 examples and the Synthea patients:
tests/integration/test_record_fast_path_corpora.py.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fhir_samples
from benchmarks.inputs import synthea_resources
from cds_rules.engine import HookRequest
from cds_rules.record import build_record, structure
from cds_rules.record.builder import reference_record
from cds_rules.settings import DEFAULT_SETTINGS, RuleSettings
from cds_rules.validation import MODELS
from cds_rules.validation import validated as reference_validated
from tests.conftest import SYNTHEA_DIR
from tests.helpers import subject_patient_id

# every reading kept, so that old vitals and panels are validated too
EVERY_READING = RuleSettings.model_construct(  # past the plausible range: unchecked
    fever_window_days=99_999, weight_loss_window_days=99_999, recent_order_days=99_999)
NOW = fhir_samples.load_all()[0].now


def test_scenarios_give_identical_records():
    scenarios = fhir_samples.load_all()
    assert len(scenarios) > 100
    for scenario in scenarios:
        request = scenario.hook_request()
        fast = build_record(request, scenario.now, DEFAULT_SETTINGS)
        reference = reference_record(request, scenario.now, DEFAULT_SETTINGS)
        assert fast == reference, scenario.id


# ------------------------------------------------------------------------ mutations


def _shape_key(node: Any) -> Any:
    """The structure of a value with its leaves reduced to their types."""
    if isinstance(node, dict):
        return tuple(sorted((k, _shape_key(v)) for k, v in node.items()))
    if isinstance(node, list):
        return tuple(sorted({_shape_key(v) for v in node}, key=repr))
    return type(node).__name__


def _seeds() -> list[dict[str, Any]]:
    """Readable resources of every type the record reads, from the scenarios and one Synthea
    patient, one per shape of their read elements (so that rare shapes are drawn as often
    as the thousandth vital sign)."""
    seeds = [r for s in fhir_samples.load_all() for r in s.patient_resources()
             if r.get("resourceType") in MODELS]
    if SYNTHEA_DIR.is_dir():
        smallest = min(SYNTHEA_DIR.glob("*.json"), key=lambda p: p.stat().st_size)
        seeds += [r for r in synthea_resources(smallest)[1] if r["resourceType"] in MODELS]
    by_shape = {_shape_key(structure.project(r)): r for r in seeds}
    return list(by_shape.values())


SEEDS = _seeds()
BAD_DATES = ["2026-02-30", "2026-13", "2026-01-01T10:00", "2026-01-01T10:00:00",
             "2026-01-01T25:00:00Z", "0000", "2026-01-01T10:00:00.1234567Z",
             "2026-06-30T23:59:60Z", "2026-01-01T10:00:00+15:00", "26-01-01", "2026-1-1",
             " 2026", "2026-01-01 10:00", "9999-12-31T23:59:59-14:00", "1000", "0999"]
BAD_STRINGS = ["", " ", "a\x00b", " x", "x ", "x\ny", "\u200b", "a  b", "Patient/ x", "é"]
NUMBERS = [0, -1, 2**31, -(2**31) - 1, 2**63, 1.5, -0.0, 1e308, 1e-7, math.inf, True, False]
_JUNK = st.one_of(st.sampled_from([None, [], {}, [None], [{}], {"coding": 5}, [1], "text",
                                  {"extension": []}, {"_x": 1}, {"fhir_comments": "c"}]),
                 st.sampled_from(BAD_DATES), st.sampled_from(BAD_STRINGS),
                 st.sampled_from(NUMBERS), st.text(max_size=6),
                 st.recursive(st.one_of(st.none(), st.booleans(), st.integers(),
                                        st.text(max_size=4)),
                              lambda inner: st.one_of(
                                  st.lists(inner, max_size=2),
                                  st.dictionaries(st.text(max_size=6), inner, max_size=2)),
                              max_leaves=5))
JUNK = _JUNK.map(copy.deepcopy)  # fresh each time: a mutation may nest into it


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if prefix:
        yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "resourceType":
                yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


SIBLINGS = ["_status", "_display", "valueString", "valueBoolean", "onsetDateTime",
            "effectivePeriod", "id", "extension", "fhir_comments", "resourceType", "x"]


@st.composite
def point_mutated(draw: st.DrawFn) -> dict[str, Any]:
    """A seed with one or two of the elements the record reads changed: replaced by junk,
    removed, or given an unexpected sibling. One defect at a time is what tells whether
    the fast path itself rejects it (several at once mostly send it to the reference)."""
    resource = structure.project(copy.deepcopy(draw(st.sampled_from(SEEDS))))
    for _ in range(draw(st.integers(1, 2))):
        paths = list(_paths(resource))
        if not paths:
            break
        *parent_path, last = draw(st.sampled_from(paths))
        parent: Any = resource
        for step in parent_path:
            parent = parent[step]
        action = draw(st.sampled_from(["like", "like", "junk", "junk", "remove", "sibling"]))
        if action == "like":  # an odd value of the same JSON type: the edge of each check
            old = parent[last]
            pool = NUMBERS if isinstance(old, int | float) else BAD_DATES + BAD_STRINGS \
                if isinstance(old, str) else [None, [], {}, [None]]
            parent[last] = copy.deepcopy(draw(st.sampled_from(pool)))
        elif action == "junk":
            parent[last] = draw(JUNK)
        elif action == "remove":
            del parent[last]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(SIBLINGS))] = draw(JUNK)
        else:
            parent.append(draw(JUNK))
    return resource


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """A seed with leaves and branches replaced by junk (wrong types, bad dates, odd strings,
    nested garbage), keys dropped or added, lists cut."""
    resource = copy.deepcopy(draw(st.sampled_from(SEEDS)))

    def mutate(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                action = draw(st.sampled_from(["keep", "keep", "recurse", "recurse", "drop",
                                               "junk"]))
                if action == "drop" and key != "resourceType":
                    continue
                out[key] = draw(JUNK) if action == "junk" and key != "resourceType" \
                    else value if action == "keep" else mutate(value)
            if draw(st.integers(0, 9)) == 0:
                out[draw(st.sampled_from(SIBLINGS[:-4]))] = draw(JUNK)
            return out
        if isinstance(node, list):
            return [mutate(v) for v in node[:draw(st.integers(0, len(node)))]]
        if draw(st.integers(0, 3)) == 0:
            return draw(JUNK)
        return node

    return mutate(resource)  # type: ignore[no-any-return]


def test_every_edge_value_at_every_element_validates_alike():
    # exhaustive where hypothesis samples: each element of each seed shape, one at a time,
    # replaced by each odd value of its JSON type, by null, empty and wrong-typed values
    tried = 0
    for seed in SEEDS:
        projected = structure.project(seed)
        for path in list(_paths(projected)):
            *parent_path, last = path
            old: Any = projected
            for step in path:
                old = old[step]
            pool = NUMBERS if isinstance(old, int | float) else BAD_DATES + BAD_STRINGS \
                if isinstance(old, str) else []
            for value in [*pool, None, [], {}, [None], "x", 1, {"x": 1}]:
                resource = copy.deepcopy(projected)
                parent: Any = resource
                for step in parent_path:
                    parent = parent[step]
                parent[last] = copy.deepcopy(value)
                tried += 1
                assert structure.validated(resource) == reference_validated(resource), \
                    (path, value)
    assert tried > 5000


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(point_mutated())
def test_one_defect_validates_alike(resource):
    assert structure.validated(resource) == reference_validated(resource)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_resources_validate_alike(resource):
    assert structure.validated(resource) == reference_validated(resource)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(point_mutated(), mutated()), min_size=1, max_size=5),
       st.lists(point_mutated(), max_size=2))
def test_mutated_resources_give_identical_records(resources, drafts):
    pid = next((subject_patient_id(r) for r in resources if subject_patient_id(r)), "")
    request = HookRequest("patient-view", pid, tuple(resources), tuple(drafts))
    fast = build_record(request, NOW, EVERY_READING)
    assert fast == reference_record(request, NOW, EVERY_READING)
