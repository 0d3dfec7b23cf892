"""Facts: one recognised code of a resource as a :class:`~cds_rules.model.Fact`, with its side
and worsening.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from cds_rules import valuesets as vs
from cds_rules.concepts import CONCEPTS
from cds_rules.model import (
    LOCAL_FINDING_SYSTEM,
    Fact,
    FactStatus,
)
from cds_rules.record.codes import (
    Hit,
    Side,
    as_list,
    codings_of,
    concepts_list,
    label_of,
    source_of,
)
from cds_rules.record.laterality import combine_sides

# HL7 v3 ObservationInterpretation: W = worse, NEG/POS, ND/DET (not detected/detected).
V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
_WORSE = {(V3_INTERPRETATION, "W"), (LOCAL_FINDING_SYSTEM, "worsening"),
          (LOCAL_FINDING_SYSTEM, "progressive")}


def is_worsening(resource: dict[str, Any]) -> bool:
    candidates: list[object] = [resource.get("code"), resource.get("severity"),
                                resource.get("valueCodeableConcept")]
    candidates += concepts_list(resource.get("interpretation"))
    for stage in as_list(resource.get("stage")):
        if isinstance(stage, dict):
            candidates.append(stage.get("summary"))
    for ext in as_list(resource.get("extension")):
        if isinstance(ext, dict):
            candidates.append(ext.get("valueCodeableConcept"))
            if isinstance(ext.get("valueCoding"), dict):
                candidates.append({"coding": [ext["valueCoding"]]})
    for concept in candidates:
        for coding in codings_of(concept):
            key = (vs.normalise_system(coding.get("system")), coding.get("code"))
            if key in _WORSE:
                return True
    return False


def make_fact(hit: Hit, resource: dict[str, Any], when: datetime | None, status: FactStatus,
              side: Side | None, detail: str, *, concept_cc: object = None,
              value: float | None = None, unit: str | None = None,
              worsening: bool = False, comparator: str | None = None) -> Fact:
    return Fact(
        concept=hit.concept,
        display=label_of(hit.coding, concept_cc, CONCEPTS.get(hit.concept, hit.concept)),
        source=source_of(resource),
        resource_type=str(resource.get("resourceType", "")),
        system=vs.normalise_system(hit.coding.get("system")),
        code=str(hit.coding.get("code", "")),
        when=when,
        status=FactStatus.HISTORY if hit.history else status,
        value=value,
        unit=unit,
        laterality=combine_sides(side, hit.laterality),
        worsening=worsening,
        detail=detail,
        comparator=comparator,
    )


def with_latest(fact: Fact, latest: datetime | None, floating: bool = False,
                start_latest: datetime | None = None) -> Fact:
    """The fact with the end of its partial date or period (unchanged when the date is
    exact), marked :attr:`Fact.floating` when its time came without a zone; over a period,
    ``start_latest`` is the last instant its start may mean (:attr:`Fact.began_by`)."""
    if floating:
        fact = replace(fact, floating=True)
    if latest is None or latest == fact.when:
        return fact
    if start_latest is not None:
        return replace(fact, when_latest=latest, start_latest=start_latest)
    return replace(fact, when_latest=latest)
