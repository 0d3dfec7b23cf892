"""The whole corpus the core's equivalence tests run over: every ``fhir_samples`` scenario
at its own time, and every Synthea patient as is and with each of the benchmark's
additions (back pain, red flags) at the benchmark's time. A Synthea request's name holds
a "/" (file stem / variant); a scenario's does not."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from benchmarks.inputs import NOW as BENCH_NOW
from benchmarks.inputs import VARIANTS, synthea_files, synthea_resources
from cds_rules.call import HookRequest
from fhir_samples import load_all


def corpus_requests() -> Iterator[tuple[str, HookRequest, datetime]]:
    """(name, request, now) for each request of the corpus."""
    for scenario in load_all():
        yield scenario.id, scenario.hook_request(), scenario.now
    for path in synthea_files():
        patient_id, resources = synthea_resources(path)
        for variant, added in VARIANTS.items():
            request = HookRequest(hook="patient-view", patient_id=patient_id,
                                  resources=(*resources, *added(patient_id)))
            yield f"{path.stem}/{variant}", request, BENCH_NOW
