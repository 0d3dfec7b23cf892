"""Coded reasons a clinician can give for overriding a card (CDS Hooks ``overrideReasons``).

``snoozes``: whether the persistence layer should stop showing the same card for this
patient for a while when this reason is chosen (critical cards are snoozed for a shorter
time by the shell; that policy is not the core's).
"""

from __future__ import annotations

from dataclasses import dataclass

from cds_rules.model import OVERRIDE_REASON_SYSTEM
from cds_rules.wire import Coding, written_once


@dataclass(frozen=True, slots=True)
class ReasonChoice:
    """One reason in our catalogue (named apart from the wire's :class:`OverrideReason`,
    which is a reason as an EHR sends it back)."""

    code: str
    display: str
    snoozes: bool

    def coding(self) -> Coding:
        return Coding(system=OVERRIDE_REASON_SYSTEM, code=self.code, display=self.display)


OVERRIDE_REASONS: tuple[ReasonChoice, ...] = (
    ReasonChoice("already-assessed", "Already assessed: snooze", True),
    ReasonChoice("patient-declined", "Patient declined: snooze", True),
    ReasonChoice("managed-elsewhere", "Managed by another team: snooze", True),
    ReasonChoice("not-applicable", "Not applicable to this patient", False),
    ReasonChoice("disagree-with-guideline", "Disagree with the recommendation", False),
)

SNOOZE_REASON_CODES: frozenset[str] = frozenset(r.code for r in OVERRIDE_REASONS if r.snoozes)
BY_CODE: dict[str, ReasonChoice] = {r.code: r for r in OVERRIDE_REASONS}


def codings() -> tuple[Coding, ...]:
    """The override reasons as wire Codings (each with a display, as the spec requires)."""
    return _CODINGS


# Written once for every response (wire.written_once): the same five on every card.
_CODINGS: tuple[Coding, ...] = written_once(tuple(r.coding() for r in OVERRIDE_REASONS))
