"""Coded reasons a clinician can give for overriding a card (CDS Hooks ``overrideReasons``).

``snoozes``: whether the persistence layer should stop showing the same card for this
patient for a while when this reason is chosen (critical cards are snoozed for a shorter
time by the shell; that policy is not the core's).
"""

from __future__ import annotations

from dataclasses import dataclass

from cds_rules.model import OVERRIDE_REASON_SYSTEM
from cds_rules.wire import Coding


@dataclass(frozen=True, slots=True)
class OverrideReason:
    code: str
    display: str
    snoozes: bool

    def coding(self) -> Coding:
        return Coding(system=OVERRIDE_REASON_SYSTEM, code=self.code, display=self.display)


OVERRIDE_REASONS: tuple[OverrideReason, ...] = (
    OverrideReason("already-assessed", "Already assessed: snooze", True),
    OverrideReason("patient-declined", "Patient declined: snooze", True),
    OverrideReason("managed-elsewhere", "Managed by another team: snooze", True),
    OverrideReason("not-applicable", "Not applicable to this patient", False),
    OverrideReason("disagree-with-guideline", "Disagree with the recommendation", False),
)

SNOOZE_REASON_CODES: frozenset[str] = frozenset(r.code for r in OVERRIDE_REASONS if r.snoozes)
BY_CODE: dict[str, OverrideReason] = {r.code: r for r in OVERRIDE_REASONS}


def codings() -> tuple[Coding, ...]:
    """The override reasons as wire Codings (each with a display, as the spec requires)."""
    return _CODINGS


_CODINGS: tuple[Coding, ...] = tuple(r.coding() for r in OVERRIDE_REASONS)
