"""Hand-built patient records for rule tests: facts as the record builder would make them.

Rules are tested at the level they work on (facts, not FHIR JSON), so each test states
the clinical situation directly: "urinary retention 2 days ago", "MRC 4 then 3".
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from cds_rules import to_json
from cds_rules.engine import Evaluation, evaluate_record
from cds_rules.model import Fact, FactStatus, Order, PatientRecord
from cds_rules.settings import DEFAULT_SETTINGS, RuleSettings

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


def fact(
    concept: str,
    days_ago: float | None = 1,
    *,
    history: bool = False,
    value: float | None = None,
    unit: str | None = None,
    laterality: Any = None,
    worsening: bool = False,
    resource_type: str = "Condition",
    code: str = "",
    detail: str = "",
    display: str = "",
) -> Fact:
    """One fact; ``days_ago=None`` makes it undated."""
    return Fact(
        concept=concept,
        display=display or concept.replace("_", " "),
        source=f"{resource_type}/{concept.replace('_', '-')}-{next(_ids)}",
        resource_type=resource_type,
        code=code,
        when=None if days_ago is None else NOW - timedelta(days=days_ago),
        status=FactStatus.HISTORY if history else FactStatus.CURRENT,
        value=value,
        unit=unit,
        laterality=laterality,
        worsening=worsening,
        detail=detail,
    )


def obs(concept: str, value: float, days_ago: float = 1, unit: str = "", **kw: Any) -> Fact:
    return fact(concept, days_ago, value=value, unit=unit, resource_type="Observation", **kw)


def grade(value: float, days_ago: float, muscle: str = "ankle-dorsiflexion",
          side: str | None = "left") -> Fact:
    return obs("muscle_strength_grade", value, days_ago, unit="{score}", code=muscle,
               laterality=side)


def order(kind: str, state: str, days_ago: float | None = None, ref: str = "") -> Order:
    ref = ref or f"ServiceRequest/{kind}-{next(_ids)}"
    when = None if days_ago is None else NOW - timedelta(days=days_ago)
    return Order(kind=kind, display=kind.replace("_", " "), source=ref, state=state,  # type: ignore[arg-type]
                 when=when, resource_id=ref if state == "draft" else "")


def patient(*facts: Fact, age: int = 45, sex: str = "female",
            orders: tuple[Order, ...] = (), back_pain_days: float | None = 10) -> PatientRecord:
    """A patient of ``age`` with low back pain since ``back_pain_days`` (None: no context)."""
    extra = [] if back_pain_days is None else [fact("low_back_pain", back_pain_days)]
    birth = NOW.replace(year=NOW.year - age) - timedelta(days=30)
    return PatientRecord("pat-1", NOW, birth_date=birth, sex=sex,  # type: ignore[arg-type]
                         facts=[*extra, *facts], orders=list(orders))


def run(record: PatientRecord, hook: str = "patient-view",
        settings: RuleSettings = DEFAULT_SETTINGS, selections: tuple[str, ...] = ()
        ) -> Evaluation:
    return evaluate_record(record, hook, settings, selections)


def topics(evaluation: Evaluation) -> dict[str, str]:
    """topic code -> indicator of each card."""
    return {c["source"]["topic"]["code"]: c["indicator"] for c in to_json(evaluation.cards)}


def card(evaluation: Evaluation, topic: str) -> dict[str, Any]:
    matches = [c for c in to_json(evaluation.cards) if c["source"]["topic"]["code"] == topic]
    assert len(matches) == 1, f"expected one {topic} card, got {topics(evaluation)}"
    return matches[0]


def suggested_orders(card_: dict[str, Any]) -> list[str]:
    """Local/standard codes of every created ServiceRequest (first coding's display)."""
    texts = []
    for suggestion in card_.get("suggestions", []):
        for action in suggestion["actions"]:
            if action["type"] == "create":
                texts.append(action["resource"]["code"]["text"])
    return texts
