"""The core's input and output: :class:`HookRequest` in, :class:`Evaluation` out.

Kept apart from the engine so that the record builder and the shell can name them
without importing the engine (no import cycle: ``make lint`` checks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cds_rules.model import DataQuality, Finding
from cds_rules.wire import Action, Card


@dataclass(frozen=True, slots=True)
class HookRequest:
    """What the core needs from a CDS Hooks call, already resolved by the shell.

    ``resources``: every FHIR R4 resource (JSON dicts) from prefetch/fetch, flattened out
    of their Bundles, plus nothing else; the core drops other patients' resources itself.
    ``draft_orders``: the resources of context.draftOrders (order-select / order-sign).
    ``selections``: context.selections (order-select), e.g. ["ServiceRequest/1"].
    ``data_gaps``: human-readable names of data that could not be obtained.
    ``patient_references``: other references that name the patient, such as the
    ``fullUrl`` of its Bundle entry ("urn:uuid:..."), used by resources of that Bundle.
    """

    hook: str
    patient_id: str
    resources: tuple[dict[str, Any], ...] = ()
    draft_orders: tuple[dict[str, Any], ...] = ()
    selections: tuple[str, ...] = ()
    encounter_id: str | None = None
    data_gaps: tuple[str, ...] = ()
    patient_references: tuple[str, ...] = ()


@dataclass(slots=True)
class Evaluation:
    """The result: findings (for audit and snoozes), typed wire cards (most urgent first,
    one per topic), data quality. ``replaced``: topics whose full card could not be built
    and went out as a smaller card of the same topic; ``failed_rules``: ids of the rules
    that raised (their cards ask for a manual assessment). Both are bugs to look at; the
    shell counts them."""

    findings: list[Finding] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    system_actions: list[Action] = field(default_factory=list)
    quality: DataQuality = field(default_factory=DataQuality)
    replaced: list[str] = field(default_factory=list)
    failed_rules: list[str] = field(default_factory=list)
