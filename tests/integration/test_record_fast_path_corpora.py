"""The record builder's fast path against the reference on real corpora.

The fast path (:mod:`cds_rules.record.structure`) answers without pydantic when it is sure;
the reference (:func:`~cds_rules.record.builder.reference_record`) validates every resource
the record reads with its ``fhir.resources`` R4B model. They must agree exactly (the same
read elements or None per resource; the same records and dropped counts) on the 5,306
official FHIR R4 examples (npm ``hl7.fhir.r4.examples`` 4.0.1, installed by ``make test``
under tests/fhir_examples from its lockfile) and on every Synthea patient (../shared). Here
rather than in tests/unit because of those external data sets (about 30 s); the scenario,
mutation and edge-value checks are tests/unit/core/test_record_fast_path.py.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks.inputs import NOW, seeded_back_pain, synthea_resources
from cds_rules.engine import HookRequest
from cds_rules.model import PatientRecord
from cds_rules.record import build_record, structure
from cds_rules.record.builder import reference_record
from cds_rules.settings import DEFAULT_SETTINGS, RuleSettings
from cds_rules.validation import MODELS
from cds_rules.validation import validated as reference_validated
from tests.conftest import ROOT, SYNTHEA_DIR, require
from tests.helpers import subject_patient_id

EXAMPLES_DIR = ROOT / "tests" / "fhir_examples" / "node_modules" / "hl7.fhir.r4.examples"
# every reading kept, so that old vitals and panels are validated too
EVERY_READING = RuleSettings.model_construct(  # past the plausible range: unchecked
    fever_window_days=99_999, weight_loss_window_days=99_999, recent_order_days=99_999)


def _both(request: HookRequest, rules: RuleSettings = DEFAULT_SETTINGS,
          ) -> tuple[PatientRecord, PatientRecord]:
    return (build_record(request, NOW, rules), reference_record(request, NOW, rules))


def _nested(resource: Any) -> Iterator[dict[str, Any]]:
    """The resource, its contained resources and (for a Bundle) its entries, recursively."""
    if not isinstance(resource, dict):
        return
    yield resource
    for contained in resource.get("contained") or []:
        yield from _nested(contained)
    if resource.get("resourceType") == "Bundle":
        for entry in resource.get("entry") or []:
            if isinstance(entry, dict):
                yield from _nested(entry.get("resource"))


@functools.cache
def _examples() -> list[dict[str, Any]]:
    require(EXAMPLES_DIR.is_dir(), "hl7.fhir.r4.examples (make test installs it with npm)")
    examples = []
    for path in sorted(EXAMPLES_DIR.glob("*.json")):
        if path.name == "package.json":
            continue
        examples.append(json.loads(path.read_text(encoding="utf-8")))
    return examples


def test_the_official_examples_are_all_there():
    assert len(_examples()) == 5306  # the package's 5,307 files less its package.json


def test_official_examples_validate_alike():
    checked = sure = 0
    for example in _examples():
        for resource in _nested(example):
            if resource.get("resourceType") not in MODELS:
                continue
            checked += 1
            sure += structure.certainly_valid(structure.project(resource))
            assert structure.validated(resource) == reference_validated(resource), \
                (resource.get("resourceType"), resource.get("id"))
    assert checked > 800  # 882 of the types the record reads, with contained and entries
    assert sure > checked * 0.8  # the fast path does carry the load


def test_official_examples_give_identical_records():
    for example in _examples():
        request = HookRequest("patient-view", subject_patient_id(example), (example,),
                              draft_orders=(example,) if example.get("resourceType")
                              in ("ServiceRequest", "MedicationRequest") else ())
        fast, reference = _both(request, EVERY_READING)
        assert fast == reference, (example.get("resourceType"), example.get("id"))
        # no reader raises on the official examples (record/reader_faults)
        assert fast.quality.reader_faults == 0, (example.get("resourceType"), example.get("id"))


@functools.cache
def _synthea() -> list[tuple[str, list[dict[str, Any]]]]:
    require(SYNTHEA_DIR.is_dir(), "../shared/data/synthea-r4")
    patients = []
    for path in sorted(SYNTHEA_DIR.glob("*.json")):
        pid, resources = synthea_resources(path)
        patients.append((pid, resources + seeded_back_pain(pid)))
    return patients


@pytest.mark.parametrize("rules", [DEFAULT_SETTINGS, EVERY_READING], ids=["default", "all"])
def test_synthea_patients_give_identical_records(rules):
    for pid, resources in _synthea():
        fast, reference = _both(HookRequest("patient-view", pid, tuple(resources)), rules)
        assert fast == reference, pid
        assert fast.quality.resources_used > 0
        assert fast.quality.reader_faults == 0, pid
