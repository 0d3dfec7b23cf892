"""Site-configurable thresholds and switches for the clinical core.

Every value here is *our* choice (not a guideline's) or a site switch; each has a
documented default (CLINICAL.md, "Thresholds we chose"). The HTTP shell fills this from
``BACKPAIN_CDS_*`` variables; tests and the CLI construct it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cds_rules.model import Topic


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """Thresholds and windows the rules use. All windows count back from "now"."""

    fever_celsius: float = 38.0
    fever_window_days: int = 7
    cauda_equina_window_days: int = 14
    long_term_steroid_days: int = 90
    repeat_imaging_window_days: int = 365
    emg_min_leg_symptom_days: int = 21
    weight_loss_percent: float = 5.0
    weight_loss_window_days: int = 182
    fracture_age: int = 70
    # "acp": men > 65, women > 75 instead of a single age (ACP 2011).
    fracture_age_mode: str = "single"
    fracture_age_male: int = 65
    fracture_age_female: int = 75
    acute_back_pain_days: int = 42  # imaging not indicated before 6 weeks (guideline)
    malignancy_age: int = 50  # guideline (ACP 2011)
    myeloma_screen_age: int = 60
    back_pain_context_days: int = 365  # a back-pain diagnosis older than this is not context
    disabled_topics: frozenset[Topic] = field(default_factory=frozenset)

    def enabled(self, topic: Topic) -> bool:
        return topic not in self.disabled_topics


DEFAULT_SETTINGS = RuleSettings()
