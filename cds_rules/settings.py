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
    no_improvement_days: int = 28  # guideline (ACP 2011): "failure to improve after 1 month"
    severe_weakness_mrc_grade: int = 3  # ours: MRC grade at or below this is a severe deficit
    recent_risk_days: int = 90  # ours: an infection or spinal procedure this recent is a risk
    recent_order_days: int = 7  # ours: a lab/referral completed this recently is not re-suggested
    severe_pain_score: int = 7  # ours: pain 0-10 at or above this is "severe"
    spa_max_onset_age: int = 45  # guideline (NICE NG65): back pain began before this age
    spa_min_duration_days: int = 90  # guideline (NICE NG65): lasting longer than 3 months
    spa_early_onset_age: int = 35  # guideline (NICE NG65): feature "onset before 35"
    # Clinical review, December 2026 (cds_rules/CHANGELOG.md):
    new_diagnosis_days: int = 14  # ours: a red-flag diagnosis this recent is an emergency
    episode_max_days: int = 84  # ours (review 3.4 b): "not improving" only in an episode this young
    myeloma_persistence_days: int = 42  # ours: NG12 "persistent" back pain, at least (days)
    conservative_management_days: int = 182  # ours (ACR V2): prior management counts within
    uncoded_text_window_days: int = 90  # ours: an uncoded entry naming a red flag counts within
    disabled_topics: frozenset[Topic] = field(default_factory=frozenset)

    def enabled(self, topic: Topic) -> bool:
        return topic not in self.disabled_topics


DEFAULT_SETTINGS = RuleSettings()

# Thresholds that are our choice, not a guideline's: a card that relies on one discloses
# it by its environment variable (``BACKPAIN_CDS_<NAME>``) and value (safety principle 6).
OUR_THRESHOLDS: dict[str, str] = {
    "fever_celsius": "fever threshold (°C)",
    "fever_window_days": "fever counts within (days)",
    "cauda_equina_window_days": "a neurological sign counts as new within (days)",
    "long_term_steroid_days": "systemic steroids count as long-term after (days)",
    "repeat_imaging_window_days": "a spine MRI/CT is recent within (days)",
    "emg_min_leg_symptom_days": "leg symptoms must persist before EMG/NCS (days)",
    "weight_loss_percent": "significant weight loss (%)",
    "weight_loss_window_days": "weight-loss window (days)",
    "fracture_age": "fracture-risk age (years, above)",
    "severe_weakness_mrc_grade": "severe weakness at MRC grade (at or below)",
    "recent_risk_days": "infection or spinal procedure counts as recent within (days)",
    "recent_order_days": "a completed test/referral is reused within (days)",
    "severe_pain_score": "severe pain score (0-10, at or above)",
    "new_diagnosis_days": "a red-flag diagnosis counts as new within (days)",
    "episode_max_days": "'not improving' is judged in an episode begun within (days)",
    "myeloma_persistence_days": "back pain counts as persistent (NG12 myeloma) after (days)",
    "conservative_management_days": "conservative management counts as prior within (days)",
    "uncoded_text_window_days": "an uncoded entry naming a red flag counts within (days)",
}


def env_name(setting: str) -> str:
    """The environment variable that configures a :class:`RuleSettings` field."""
    return "BACKPAIN_CDS_" + setting.upper()
