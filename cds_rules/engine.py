"""One evaluation: resources -> patient record -> rule families -> findings -> cards.

PLACEHOLDER: the signatures below are the contract the HTTP shell, the samples and the
CLI code against. The clinical-core work replaces the body of :func:`evaluate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cds_rules.model import DataQuality, Finding
from cds_rules.settings import DEFAULT_SETTINGS, RuleSettings


@dataclass(frozen=True, slots=True)
class HookRequest:
    """What the core needs from a CDS Hooks call, already resolved by the shell.

    ``resources``: every FHIR R4 resource (JSON dicts) from prefetch/fetch, flattened out
    of their Bundles, plus nothing else; the core drops other patients' resources itself.
    ``draft_orders``: the resources of context.draftOrders (order-select / order-sign).
    ``selections``: context.selections (order-select), e.g. ["ServiceRequest/1"].
    ``data_gaps``: human-readable names of data that could not be obtained.
    """

    hook: str
    patient_id: str
    resources: tuple[dict[str, Any], ...] = ()
    draft_orders: tuple[dict[str, Any], ...] = ()
    selections: tuple[str, ...] = ()
    encounter_id: str | None = None
    data_gaps: tuple[str, ...] = ()


@dataclass(slots=True)
class Evaluation:
    """The result: findings (for audit/snooze), wire cards (plain dicts), data quality."""

    findings: list[Finding] = field(default_factory=list)
    cards: list[dict[str, Any]] = field(default_factory=list)
    system_actions: list[dict[str, Any]] = field(default_factory=list)
    quality: DataQuality = field(default_factory=DataQuality)


def evaluate(
    request: HookRequest, now: datetime, settings: RuleSettings = DEFAULT_SETTINGS
) -> Evaluation:
    """Evaluate one hook call. ``now`` must be timezone-aware."""
    return Evaluation()
