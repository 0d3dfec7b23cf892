"""Site-configurable thresholds and switches for the clinical core.

Every value here is *our* choice (not a guideline's) or a site switch; each has a
documented default (CLINICAL.md, "Thresholds we chose"). This model is the one declaration
of each threshold: default, plausible range (``ge``/``le``), unit and meaning. The HTTP
shell nests it in its settings and fills it from ``BACKPAIN_CDS_<NAME>`` variables (the
README table is generated from these fields); tests and the CLI construct it directly.
A guideline's value (``guideline=True``) is fixed by its source, not configurable.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cds_rules.model import Topic


def ours(default: Any, description: str, *, ge: float | None = None, le: float | None = None,
         unit: str = "") -> Any:
    """A threshold we chose: configurable, within a plausible range (inclusive)."""
    return Field(default, ge=ge, le=le, description=description,
                 json_schema_extra={"unit": unit} if unit else None)


def guideline(default: int, description: str) -> Any:
    """A guideline's value: the core's constant, not a site setting."""
    return Field(default, description=description, json_schema_extra={"guideline": True})


class RuleSettings(BaseModel):
    """Thresholds and windows the rules use. All windows count back from "now"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fever_celsius: float = ours(38.0, "Fever threshold in degrees Celsius.",
                                ge=37.5, le=40.0, unit="degrees Celsius")
    fever_window_days: int = ours(7, "Fever counts if recorded within these days.", ge=1, le=90)
    cauda_equina_window_days: int = ours(14, "A CES sign is 'new' within these days.",
                                         ge=1, le=365)
    ces_residual_urine_ml: float = ours(200.0, "A post-void residual (bladder scan) of this "
                                        "volume or more, in an entry's words ('PVR 650 "
                                        "ml') or as a quantity under a code naming one, "
                                        "gives the uncoded cauda equina warning (urinary "
                                        "retention); one below it reassures nothing.",
                                        ge=50, le=1000, unit="ml")
    long_term_steroid_days: int = ours(90, "Systemic steroids for at least this long count as "
                                       "long-term.", ge=7, le=730)
    repeat_imaging_window_days: int = ours(365, "A spine MRI/CT within these days makes a new "
                                           "one a repeat.", ge=30, le=3650)
    emg_min_leg_symptom_days: int = ours(21, "Leg symptoms must persist this long before EMG/NCS "
                                         "is suggested.", ge=7, le=365)
    weight_loss_percent: float = ours(5.0, "Weight loss (percent) that counts as significant.",
                                      ge=1, le=50, unit="percent")
    weight_loss_window_days: int = ours(182, "Window for the weight-loss trend.", ge=30, le=730)
    fracture_age: int = ours(70, "Age above which back pain is a fracture risk.",
                             ge=18, le=110, unit="years")
    fracture_age_mode: Literal["single", "acp"] = ours(
        "single", "'single' uses FRACTURE_AGE; 'acp' uses FRACTURE_AGE_MALE / "
        "FRACTURE_AGE_FEMALE (ACP 2011: men > 65, women > 75).")
    fracture_age_male: int = ours(65, "With FRACTURE_AGE_MODE=acp: age above which a man's back "
                                  "pain is a fracture risk.", ge=18, le=110, unit="years")
    fracture_age_female: int = ours(75, "With FRACTURE_AGE_MODE=acp: age above which a woman's "
                                    "back pain is a fracture risk.", ge=18, le=110, unit="years")
    acute_back_pain_days: int = guideline(42, "Imaging not indicated before 6 weeks.")
    malignancy_age: int = guideline(50, "Age of the malignancy red flag (ACP 2011).")
    myeloma_screen_age: int = guideline(60, "Age of the NICE NG12 myeloma blood tests.")
    no_improvement_days: int = guideline(28, "ACP 2011: 'failure to improve after 1 month'.")
    severe_weakness_mrc_grade: int = ours(3, "An MRC muscle grade at or below this is a severe "
                                          "motor deficit.", ge=1, le=4)
    recent_risk_days: int = ours(90, "An infection or spinal procedure this recent is a risk "
                                 "factor for spinal infection.", ge=1, le=730)
    recent_order_days: int = ours(7, "A lab test or referral completed this recently is not "
                                  "suggested again.", ge=1, le=365)
    severe_pain_score: int = ours(7, "A pain score (0-10) at or above this is severe (known "
                                  "aortic aneurysm with severe back pain).", ge=1, le=10)
    spa_max_onset_age: int = guideline(45, "NICE NG65: back pain began before this age.")
    spa_min_duration_days: int = guideline(90, "NICE NG65: lasting longer than 3 months.")
    spa_early_onset_age: int = guideline(35, "NICE NG65: feature 'onset before 35'.")
    # Clinical review, December 2026 (cds_rules/CHANGELOG.md):
    new_diagnosis_days: int = ours(14, "A red-flag diagnosis (cauda equina, cord compression, "
                                   "epidural abscess, discitis, vertebral fracture) recorded "
                                   "within these days is an emergency; older is history (at "
                                   "most a warning).", ge=1, le=365)
    episode_max_days: int = ours(84, "'Pain not improving' (malignancy) is judged only in a "
                                 "back-pain episode that began within these days.", ge=28, le=365)
    myeloma_persistence_days: int = ours(42, "Back pain lasting at least this long at age 60 or "
                                         "over gives the NICE NG12 myeloma blood-test card.",
                                         ge=14, le=365)
    conservative_management_days: int = ours(182, "Physiotherapy or analgesia recorded within "
                                             "these days counts as prior management (ACR "
                                             "variant 2 vs 3).", ge=30, le=730)
    uncoded_text_window_days: int = ours(90, "A current entry whose words (unknown code, "
                                         "text) name a red-flag symptom give a warning when "
                                         "dated within this many days (or undated), or when "
                                         "a Condition still active and older with no spine "
                                         "MRI since; a cancer, osteoporosis, fragility "
                                         "fracture or aortic aneurysm counts at any age.",
                                         ge=1, le=3650)
    clock_skew_minutes: int = ours(15, "An entry dated up to this many minutes after the "
                                   "service's clock counts as now (the EHR's clock may run "
                                   "ahead); a red flag dated later is named on every card as "
                                   "not read.", ge=0, le=1440, unit="minutes")
    disabled_topics: frozenset[Topic] = ours(
        frozenset(), "Comma-separated card topics switched off at this site. A critical card is "
        "shown even when its topic is switched off (an emergency in the record is never "
        "silenced), and so is a card asking for an entry the service could not read to be "
        "checked (conservative care, imaging not indicated, electrodiagnostic testing); a "
        "switched-off red-flag family "
        "still quiets the pathway cards, except such a card.")

    def enabled(self, topic: Topic) -> bool:
        return topic not in self.disabled_topics


def configurable() -> tuple[str, ...]:
    """The fields a site sets (``BACKPAIN_CDS_<NAME>``), in declaration order."""
    return tuple(name for name, info in RuleSettings.model_fields.items()
                 if not (isinstance(info.json_schema_extra, dict)
                         and info.json_schema_extra.get("guideline")))


DEFAULT_SETTINGS = RuleSettings()

# Thresholds that are our choice, not a guideline's: a card that relies on one discloses
# it by its environment variable (``BACKPAIN_CDS_<NAME>``) and value (safety principle 6).
OUR_THRESHOLDS: dict[str, str] = {
    "fever_celsius": "fever threshold (°C)",
    "fever_window_days": "fever counts within (days)",
    "cauda_equina_window_days": "a neurological sign counts as new within (days)",
    "ces_residual_urine_ml": "a post-void residual counts as urinary retention from (ml)",
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
    "clock_skew_minutes": "an entry dated this far after the service's clock counts as now "
                          "(minutes)",
}


def env_name(setting: str) -> str:
    """The environment variable that configures a :class:`RuleSettings` field."""
    return "BACKPAIN_CDS_" + setting.upper()
